"""Bookings as events for the doctor's calendars (CalDAV push and the ICS feed).

Titles and descriptions carry no health data: no patient, no visit reason, only the booking
code. Times are written with TZID Europe/Berlin (and its VTIMEZONE), so a calendar shows the
wall-clock time of the booking in the week of a DST change too. The UID is the one of the
patient's own event (bookings.ics), stable for the life of the booking. Stored CalDAV objects
carry no METHOD (RFC 4791 4.1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import override
from icalendar import Calendar, Event

from bookings.ics import PRODID, booking_uid
from bookings.models import Booking

UID_SUFFIX = "@terminfinder"


def is_our_uid(uid: str) -> bool:
    return uid.startswith("booking-") and uid.endswith(UID_SUFFIX)


def _event(booking: Booking) -> Event:
    tz = ZoneInfo(settings.TIME_ZONE)
    event = Event()
    event.add("uid", booking_uid(booking))
    # DTSTAMP from the booking, not "now": the same booking gives the same bytes, so a re-push
    # of an unchanged booking is recognised and skipped.
    event.add("dtstamp", booking.cancelled_at or booking.created_at)
    event.add("dtstart", booking.starts_at.astimezone(tz))
    event.add("dtend", booking.ends_at.astimezone(tz))
    event.add("summary", _("Terminfinder appointment %(code)s") % {"code": booking.code})
    event.add("description", _("Booking code %(code)s. Details in Terminfinder.") % {"code": booking.code})
    event.add("status", "CONFIRMED" if booking.is_active else "CANCELLED")
    event.add("transp", "OPAQUE")
    event.add("sequence", 0 if booking.is_active else 1)
    return event


def _calendar(events: Iterable[Event], name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    if name:
        calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar


def booking_event_ics(booking: Booking) -> bytes:
    """The calendar object we PUT for one booking, in German (the practice's language)."""
    with override(settings.LANGUAGE_CODE):
        return _calendar([_event(booking)]).to_ical()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def feed_ics(*, doctor, bookings: Iterable[Booking]) -> bytes:
    with override(settings.LANGUAGE_CODE):
        name = _("Terminfinder: %(doctor)s") % {"doctor": str(doctor)}
        return _calendar([_event(booking) for booking in bookings], name=name).to_ical()


