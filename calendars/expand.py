"""From calendar objects to busy blocks: recurring events expanded over a window (with their
moved and cancelled instances, recurring-ical-events), our own events ignored, free
(TRANSPARENT) and cancelled events skipped, all-day events blocking whole local days, floating
times read as Europe/Berlin."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from django.conf import settings
from icalendar import Calendar

from bookings.busy import BusyBlock

from .events import is_our_uid

logger = logging.getLogger(__name__)


def _key(value: str, length: int) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:length]


def href_prefix(connection_prefix: str, href: str) -> str:
    """The source_ref prefix of every block that came from one calendar object."""
    return f"{connection_prefix}{_key(href, 16)}:"


def _instant(value, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    return datetime.combine(value, time(0), tzinfo=tz)


def _is_all_day(value) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def busy_blocks(
    *, connection_prefix: str, href: str, data: str, window_start: datetime, window_end: datetime
) -> list[BusyBlock] | None:
    """The busy blocks of one calendar object; None when it cannot be read (the caller keeps
    what was imported from it before: an error page is not an empty calendar)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    try:
        calendar = Calendar.from_ical(data)
        occurrences = list(recurring_ical_events.of(calendar).between(window_start, window_end))
    except Exception as error:  # noqa: BLE001 - one unreadable object must not stop the pull
        logger.warning("calendars.unreadable_object error=%s", type(error).__name__)
        return None
    prefix = href_prefix(connection_prefix, href)
    blocks = {}
    for event in occurrences:
        if event.name != "VEVENT":
            continue
        uid = str(event.get("UID", ""))
        if is_our_uid(uid):
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        start_value = event.decoded("DTSTART")
        if "DTEND" in event:
            end_value = event.decoded("DTEND")
        elif "DURATION" in event:
            end_value = start_value + event.decoded("DURATION")
        else:
            end_value = start_value + (timedelta(days=1) if _is_all_day(start_value) else timedelta(0))
        # An all-day event covers its local days: from midnight to midnight in Berlin.
        starts_at, ends_at = _instant(start_value, tz), _instant(end_value, tz)
        if ends_at <= starts_at:
            continue
        ref = f"{prefix}{_key(uid, 12)}:{starts_at.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"
        blocks[ref] = BusyBlock(ref=ref, starts_at=starts_at, ends_at=ends_at)
    return list(blocks.values())
