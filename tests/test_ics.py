"""The "add to calendar" event: stable UID, no visit reason or patient name in what calendars show."""

from icalendar import Calendar

from bookings.ics import booking_calendar
from bookings.services import booking_cancel


def event_of(data: bytes):
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_it_describes_the_booking_without_the_visit_reason(world):
    booking = world.a.booking

    calendar, event = event_of(booking_calendar(booking))

    assert str(calendar["PRODID"]) == "-//Terminfinder//Terminfinder//DE"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"booking-{booking.public_id}@terminfinder"
    assert event.decoded("DTSTART") == booking.starts_at
    assert event.decoded("DTEND") == booking.ends_at
    assert str(event["SUMMARY"]) in {"Termin bei Praxis Alpha", "Appointment at Praxis Alpha"}
    assert "Hauptstraße 1" in str(event["LOCATION"])
    assert booking.code in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == f"mailto:{world.a.practice.email}"
    assert str(event["ATTENDEE"]) == f"mailto:{world.patient.email}"
    assert str(event["STATUS"]) == "CONFIRMED"
    text = booking_calendar(booking).decode()
    assert world.a.reason.name not in text
    assert world.patient.full_name not in text


def test_it_keeps_the_uid_and_marks_a_cancellation(world):
    booking = world.a.booking
    before = event_of(booking_calendar(booking))[1]

    booking = booking_cancel(booking=booking, cancelled_by="system")
    calendar, after = event_of(booking_calendar(booking, method="CANCEL"))

    assert str(after["UID"]) == str(before["UID"])
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(after["STATUS"]) == "CANCELLED"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
