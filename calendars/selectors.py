"""Reads of the calendars app."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from bookings.models import Booking

from .models import CalendarConnection, CalendarFeed

FEED_PAST_DAYS = 30


def push_connection_ids(*, doctor_id: int) -> list[int]:
    """The doctor's connections that receive bookings."""
    return list(
        CalendarConnection.objects.filter(
            doctor_id=doctor_id,
            is_active=True,
            direction__in=[CalendarConnection.Direction.PUSH, CalendarConnection.Direction.BOTH],
        )
        .exclude(provider=CalendarConnection.Provider.ICS)
        .values_list("pk", flat=True)
    )


def pull_connection_ids() -> list[int]:
    return list(
        CalendarConnection.objects.filter(
            is_active=True,
            direction__in=[CalendarConnection.Direction.PULL, CalendarConnection.Direction.BOTH],
        ).values_list("pk", flat=True)
    )


def feed_by_token_hash(*, token_hash: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.select_related("doctor__practice")
        .filter(token_hash=token_hash, revoked_at__isnull=True)
        .first()
    )


def feed_bookings(*, feed: CalendarFeed) -> QuerySet[Booking]:
    """The doctor's confirmed bookings from a month back on: a subscriber drops what is gone."""
    since = timezone.now() - timedelta(days=FEED_PAST_DAYS)
    return Booking.objects.filter(
        doctor_id=feed.doctor_id, status=Booking.Status.CONFIRMED, ends_at__gte=since
    ).order_by("starts_at")
