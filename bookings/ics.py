"""A booking as an iCalendar event: the confirmation attachment, the patient's download and,
later, the calendar feeds. No health data: the title names the practice, not the visit reason."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Booking

PRODID = "-//Terminfinder//Terminfinder//DE"


def booking_uid(booking: Booking) -> str:
    """Stable across confirmation, update and cancellation, so calendars match them up."""
    return f"booking-{booking.public_id}@terminfinder"


def booking_calendar(booking: Booking, *, method: str = "REQUEST") -> bytes:
    """METHOD:REQUEST for a confirmed booking, METHOD:CANCEL for a cancelled one."""
    practice = booking.doctor.practice
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", booking_uid(booking))
    event.add("dtstamp", timezone.now())
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", _("Appointment at %(practice)s") % {"practice": practice.name})
    event.add(
        "location",
        vText(f"{practice.name}, {practice.street}, {practice.postal_code} {practice.city}"),
    )
    event.add(
        "description",
        _("Booking code %(code)s. %(doctor)s. To cancel, use Terminfinder: %(url)s")
        % {"code": booking.code, "doctor": str(booking.doctor), "url": settings.TERMINFINDER_BASE_URL},
    )
    organizer = vCalAddress(f"mailto:{practice.email or settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = vText(practice.name)
    event["organizer"] = organizer
    if booking.patient is not None:
        attendee = vCalAddress(f"mailto:{booking.patient.email}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    if method == "CANCEL":
        event.add("status", "CANCELLED")
        event.add("sequence", 1)
    else:
        event.add("status", "CONFIRMED")
        event.add("sequence", 0)
    calendar.add_component(event)
    return calendar.to_ical()
