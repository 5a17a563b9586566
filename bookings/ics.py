"""One booking as an iCalendar event: the confirmation and cancellation attachments, the
patient's "add to calendar" download and, later, the calendar feeds.

No visit reason and no patient name in the title or description: an event is copied into
calendars the practice does not control (DESIGN.md, GDPR). The UID is stable, so a later
CANCEL (or an updated REQUEST) replaces the same event.
"""

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


def booking_calendar(booking: Booking, method: str = "REQUEST") -> bytes:
    """METHOD:REQUEST (email), PUBLISH (download) or CANCEL; a cancelled booking is CANCELLED."""
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
    event.add("location", vText(f"{practice.name}, {practice.street}, {practice.postal_code} {practice.city}"))
    event.add(
        "description",
        _("Booking code %(code)s. %(doctor)s. To cancel, use Terminfinder: %(url)s")
        % {"code": booking.code, "doctor": str(booking.doctor), "url": settings.TERMINFINDER_BASE_URL}
        + (f"\n{practice.phone}" if practice.phone else ""),
    )
    if practice.email:
        organizer = vCalAddress(f"mailto:{practice.email}")
        organizer.params["cn"] = vText(practice.name)
        event.add("organizer", organizer)
    if booking.patient is not None:
        attendee = vCalAddress(f"mailto:{booking.patient.email}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee)
    cancelled = method == "CANCEL" or not booking.is_active
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", 1 if cancelled else 0)
    calendar.add_component(event)
    return calendar.to_ical()
