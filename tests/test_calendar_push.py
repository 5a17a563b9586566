"""Pushing bookings to a real CalDAV server (Radicale): one event per booking with a stable
UID, written with conditional requests, no health data in it, right wall-clock time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from bookings.models import Booking, Slot
from bookings.services import booking_cancel
from calendars import tasks
from calendars.models import CalendarConnection, PushedEvent
from calendars.services import connection_push_all
from terminfinder.outbox.models import OutboxMessage
from tests.calendar_support import BERLIN, connection, make_connection, radicale, upstream  # noqa: F401
from tests.services import free_port

UID = "booking-{}@terminfinder"


def our_events(upstream, booking):
    return [event for event in upstream.events() if str(event["UID"]) == UID.format(booking.public_id)]


def pushed(connection, booking) -> PushedEvent:
    return PushedEvent.objects.get(connection=connection, booking=booking)


def test_it_dispatches_a_push_when_a_booking_is_made_or_cancelled(world, connection):
    before = OutboxMessage.objects.filter(actor_name="push_booking").count()

    booking_cancel(booking=world.a.booking, cancelled_by="system")

    rows = OutboxMessage.objects.filter(actor_name="push_booking").order_by("pk")
    assert rows.count() == before + 1
    assert rows.last().args == [connection.pk, str(world.a.booking.public_id)]
    assert rows.last().queue_name == "default"


def test_it_creates_one_event_with_a_stable_uid_and_no_health_data(world, connection, upstream):
    booking = world.a.booking

    assert tasks.push_booking.fn(connection.pk, str(booking.public_id)) == "created"

    [event] = our_events(upstream, booking)
    with translation.override("de"):
        title = gettext("Terminfinder appointment %(code)s") % {"code": booking.code}
    assert str(event["SUMMARY"]) == title
    assert event.decoded("DTSTART") == booking.starts_at
    text = event.to_ical().decode()
    for private in (world.patient.full_name, world.patient.email, world.a.reason.name, booking.note or "§"):
        assert private not in text
    assert "ATTENDEE" not in text
    assert pushed(connection, booking).etag
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.OK


def test_it_leaves_no_duplicate_after_three_syncs_in_a_row(world, connection, upstream):
    outcomes = [connection_push_all(connection=connection) for _ in range(3)]

    assert outcomes[0] == {"created": 1}
    assert outcomes[1] == outcomes[2] == {"unchanged": 1}
    assert len(our_events(upstream, world.a.booking)) == 1
    assert len(upstream.events()) == 1


def test_it_updates_the_same_event_when_the_booking_changes(world, connection, upstream):
    booking = world.a.booking
    tasks.push_booking.fn(connection.pk, str(booking.public_id))
    href = pushed(connection, booking).href
    Booking.objects.filter(pk=booking.pk).update(ends_at=booking.ends_at + timedelta(minutes=15))

    assert tasks.push_booking.fn(connection.pk, str(booking.public_id)) == "updated"

    [event] = our_events(upstream, booking)
    assert event.decoded("DTEND") == booking.ends_at + timedelta(minutes=15)
    assert pushed(connection, booking).href == href


def test_it_deletes_the_event_when_the_booking_is_cancelled(world, connection, upstream):
    booking = world.a.booking
    tasks.push_booking.fn(connection.pk, str(booking.public_id))

    booking_cancel(booking=booking, cancelled_by="system")
    assert tasks.push_booking.fn(connection.pk, str(booking.public_id)) == "deleted"

    assert our_events(upstream, booking) == []
    assert pushed(connection, booking).state == PushedEvent.State.DELETED
    # A redelivered message changes nothing.
    assert tasks.push_booking.fn(connection.pk, str(booking.public_id)) == "unchanged"


def test_it_reports_an_upstream_edit_instead_of_overwriting_it(world, connection, upstream):
    booking = world.a.booking
    tasks.push_booking.fn(connection.pk, str(booking.public_id))
    href = pushed(connection, booking).href
    edited = upstream.get(href).to_ical().decode().replace("SUMMARY:", "SUMMARY:Moved by the doctor – ")
    upstream.put(href.rsplit("/", 1)[1], edited)

    booking_cancel(booking=booking, cancelled_by="system")
    assert tasks.push_booking.fn(connection.pk, str(booking.public_id)) == "conflict"

    [event] = our_events(upstream, booking)
    assert str(event["SUMMARY"]).startswith("Moved by the doctor")
    assert pushed(connection, booking).state == PushedEvent.State.CONFLICT
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.CONFLICT
    assert "changed in the calendar" in connection.last_error

    # Staff decide for Terminfinder's version: the cancelled booking's event goes after all.
    assert tasks.resolve_conflicts.fn(connection.pk) == 1
    assert our_events(upstream, booking) == []
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.OK


def test_it_notices_in_the_pull_that_its_event_was_edited_upstream(world, upstream):
    from calendars.services import connection_pull

    connection = make_connection(world.a.doctor, upstream.url)
    booking = world.a.booking
    connection_pull(connection=connection)
    tasks.push_booking.fn(connection.pk, str(booking.public_id))
    connection_pull(connection=connection)  # our own write comes back unchanged: no conflict
    assert pushed(connection, booking).state == PushedEvent.State.SYNCED
    href = pushed(connection, booking).href
    edited = upstream.get(href).to_ical().decode().replace("SUMMARY:", "SUMMARY:Edited ")
    upstream.put(href.rsplit("/", 1)[1], edited)

    connection_pull(connection=connection)

    assert pushed(connection, booking).state == PushedEvent.State.CONFLICT
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.CONFLICT


def test_it_adopts_its_own_event_left_by_an_attempt_that_died(world, connection, upstream):
    booking = world.a.booking
    tasks.push_booking.fn(connection.pk, str(booking.public_id))
    PushedEvent.objects.filter(connection=connection).delete()  # the ETag was never noted

    assert tasks.push_booking.fn(connection.pk, str(booking.public_id)) in {"updated", "unchanged"}

    assert len(our_events(upstream, booking)) == 1


def test_it_deletes_its_own_event_left_by_an_attempt_that_died_when_the_booking_is_cancelled(world, connection, upstream):
    booking = world.a.booking
    tasks.push_booking.fn(connection.pk, str(booking.public_id))
    PushedEvent.objects.filter(connection=connection).update(etag="")  # the ETag was never noted

    booking_cancel(booking=booking, cancelled_by="system")
    assert tasks.push_booking.fn(connection.pk, str(booking.public_id)) == "deleted"

    assert our_events(upstream, booking) == []


def next_dst_change(after: datetime) -> datetime:
    day = timezone.localtime(after, BERLIN).replace(hour=12, minute=0, second=0, microsecond=0)
    offset = day.utcoffset()
    while True:
        day = (day + timedelta(days=1)).astimezone(BERLIN).replace(hour=12)
        if day.utcoffset() != offset:
            return day


@pytest.mark.parametrize("days_after_change", [0, 1])
def test_it_writes_a_booking_in_a_dst_week_at_its_wall_clock_time(world, connection, upstream, days_after_change):
    day = next_dst_change(timezone.now() + timedelta(days=2)).date() + timedelta(days=days_after_change)
    start = datetime(day.year, day.month, day.day, 10, 0, tzinfo=BERLIN)
    slot = Slot.objects.create(doctor=world.a.doctor, starts_at=start, ends_at=start + timedelta(minutes=30))
    booking = Booking.objects.create(
        slot=slot, doctor=world.a.doctor, starts_at=slot.starts_at, ends_at=slot.ends_at,
        patient=world.patient, insurance_type="statutory", visit_reason=world.a.reason,
    )

    tasks.push_booking.fn(connection.pk, str(booking.public_id))

    [event] = our_events(upstream, booking)
    starts = event.decoded("DTSTART")
    assert starts.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == f"{day:%Y-%m-%d} 10:00"
    assert starts == booking.starts_at
    assert event["DTSTART"].params.get("TZID") == "Europe/Berlin"


def test_it_retries_an_unreachable_server_and_shows_it(world):
    connection = make_connection(world.a.doctor, f"http://127.0.0.1:{free_port()}/doctor/praxis/")

    with pytest.raises(Exception) as raised:
        tasks.push_booking.fn(connection.pk, str(world.a.booking.public_id))

    assert type(raised.value).__name__ == "CalendarUnreachable"
    assert "127.0.0.1" not in str(raised.value)
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ERROR  # called directly: the last attempt
    assert connection.last_error


def test_it_shows_a_wrong_password_without_retrying(world, upstream):
    connection = make_connection(world.a.doctor, upstream.url, secret="not-the-password")

    assert tasks.push_booking.fn(connection.pk, str(world.a.booking.public_id)) is None

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ERROR
    assert "not authorised" in connection.last_error
    assert "not-the-password" not in connection.last_error


def test_it_never_logs_credentials_or_event_content(world, connection, upstream, caplog):
    import base64
    import logging

    from calendars.services import connection_pull, connection_test
    from tests.calendar_support import USER, local, vcalendar, vevent

    caplog.set_level(logging.DEBUG)
    password = upstream.server.users[USER]
    day = timezone.localdate() + timedelta(days=5)
    upstream.put("secret-meeting.ics", vcalendar(vevent("m", local(day, 9), local(day, 10), "DESCRIPTION:Therapie Frau X\r\n")))

    tasks.push_booking.fn(connection.pk, str(world.a.booking.public_id))
    connection_pull(connection=connection)
    connection_test(connection=make_connection(world.a.doctor, upstream.url, secret="wrong-secret-123"))

    logged = caplog.text
    basic = base64.b64encode(f"{USER}:{password}".encode()).decode()
    for secret in (password, basic, "wrong-secret-123", "Therapie Frau X"):
        assert secret not in logged
    assert f"connection={connection.pk}" in logged
