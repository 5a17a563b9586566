"""Periodic jobs of the bookings core."""

from datetime import timedelta

import dramatiq
from django.conf import settings
from django.utils import timezone
from dramatiq_crontab import cron

from terminfinder.queues import LOW

from .services import slots_generate


@cron("15 2 * * *")
@dramatiq.actor(queue_name=LOW, max_retries=3, time_limit=1_800_000)
def generate_slots_ahead() -> None:
    """Keep the booking horizon filled: each night one more day of slots appears."""
    today = timezone.localdate()
    slots_generate(
        date_from=today,
        date_until=today + timedelta(weeks=settings.TERMINFINDER_BOOKING_HORIZON_WEEKS),
    )
