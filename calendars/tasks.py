"""Calendar actors: ids in, service call, done. Push on `default`, pull on `low`.

A calendar server that cannot be reached is retried with bounded exponential backoff and shown
as "retrying" (then "error" once the retries are used up); a refusal (wrong password, no such
calendar) is shown at once and not retried. Messages name ids only.
"""

from __future__ import annotations

import logging

import dramatiq
from django.conf import settings
from dramatiq.middleware import CurrentMessage
from dramatiq_crontab import cron

from bookings.models import Booking
from terminfinder.queues import DEFAULT, LOW

from .client import CalendarError, CalendarUnreachable
from .models import CalendarConnection
from .selectors import pull_connection_ids

logger = logging.getLogger(__name__)

CALENDAR_OPTIONS = {
    "max_retries": settings.TERMINFINDER_CALENDAR_MAX_RETRIES,
    "min_backoff": settings.TERMINFINDER_CALENDAR_MIN_BACKOFF_MS,
    "max_backoff": settings.TERMINFINDER_CALENDAR_MAX_BACKOFF_MS,
    "time_limit": 600_000,
}


def _last_attempt() -> bool:
    message = CurrentMessage.get_current_message()
    if message is None:  # called directly (tests, shell): no retries to come
        return True
    return message.options.get("retries", 0) >= CALENDAR_OPTIONS["max_retries"]


def _connection(connection_id: int) -> CalendarConnection | None:
    connection = CalendarConnection.objects.filter(pk=connection_id, is_active=True).first()
    if connection is None:
        logger.info("calendars.skip connection=%s reason=gone", connection_id)
    return connection


def _run(connection: CalendarConnection, work):
    from .services import connection_record

    try:
        return work()
    except CalendarUnreachable as error:
        last = _last_attempt()
        connection_record(
            connection=connection,
            status=CalendarConnection.Status.ERROR if last else CalendarConnection.Status.RETRYING,
            error=str(error),
        )
        logger.warning("calendars.unreachable connection=%s last_attempt=%s", connection.pk, last)
        raise CalendarUnreachable(f"connection {connection.pk}: {error}") from None
    except CalendarError as error:
        connection_record(connection=connection, status=CalendarConnection.Status.ERROR, error=str(error))
        logger.warning("calendars.refused connection=%s", connection.pk)
        return None


@dramatiq.actor(queue_name=DEFAULT, **CALENDAR_OPTIONS)
def push_booking(connection_id: int, booking_public_id: str) -> str | None:
    from .services import booking_push

    connection = _connection(connection_id)
    booking = Booking.objects.filter(public_id=booking_public_id).first()
    if connection is None or booking is None:
        return None
    return _run(connection, lambda: booking_push(connection=connection, booking=booking))


@dramatiq.actor(queue_name=DEFAULT, **CALENDAR_OPTIONS)
def push_connection(connection_id: int) -> dict | None:
    from .services import connection_push_all

    connection = _connection(connection_id)
    if connection is None:
        return None
    return _run(connection, lambda: connection_push_all(connection=connection))


@dramatiq.actor(queue_name=DEFAULT, **CALENDAR_OPTIONS)
def resolve_conflicts(connection_id: int) -> int | None:
    from .services import connection_resolve_conflicts

    connection = _connection(connection_id)
    if connection is None:
        return None
    return _run(connection, lambda: connection_resolve_conflicts(connection=connection))


@dramatiq.actor(queue_name=LOW, **CALENDAR_OPTIONS)
def pull_connection(connection_id: int, full: bool = False):
    from .services import connection_pull

    connection = _connection(connection_id)
    if connection is None:
        return None
    return _run(connection, lambda: connection_pull(connection=connection, full=full))


@cron("*/15 * * * *")
@dramatiq.actor(queue_name=LOW, max_retries=3, time_limit=300_000)
def pull_all_connections() -> int:
    """The periodic pull: one message per pulling connection (each incremental, cheap)."""
    ids = pull_connection_ids()
    for connection_id in ids:
        pull_connection.send(connection_id)
    return len(ids)
