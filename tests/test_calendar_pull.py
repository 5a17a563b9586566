"""Pulling busy time from a real CalDAV server (Radicale) and a published ICS file: single,
recurring (with a moved and a cancelled instance) and all-day events hide exactly the slots
they overlap; deleting them upstream frees those slots and fires slot alerts."""

from __future__ import annotations

import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from bookings.models import Absence, Booking
from bookings.services import booking_create
from calendars import tasks
from calendars.client import CalendarRefused
from calendars.models import CalendarConnection
from calendars.services import connection_changed, connection_pull
from terminfinder.outbox.models import OutboxMessage
from tests.calendar_support import (  # noqa: F401 - fixtures
    calendar_doctor,
    hidden_starts,
    local,
    make_connection,
    radicale,
    upstream,
    vcalendar,
    vevent,
)


@pytest.fixture
def pulling(calendar_doctor, upstream) -> CalendarConnection:
    return make_connection(calendar_doctor, upstream.url, direction="pull")


def days(n: int):
    return timezone.localdate() + timedelta(days=n)


def put_the_three_kinds(upstream):
    """A single event, a weekly series (4 weeks: the 2nd cancelled, the 3rd moved to 11:00), an
    all-day event, plus what must not block: a free (transparent) event and a cancelled one."""
    d1, d2, d3 = days(3), days(8), days(5)
    upstream.put("single.ics", vcalendar(vevent("single", local(d1, 10), local(d1, 11))))
    series = vevent(
        "weekly", local(d2, 9), local(d2, 9, 30),
        f"RRULE:FREQ=WEEKLY;COUNT=4\r\nEXDATE;TZID=Europe/Berlin:{local(d2 + timedelta(days=7), 9):%Y%m%dT%H%M%S}\r\n",
    )
    moved = vevent(
        "weekly", local(d2 + timedelta(days=14), 11), local(d2 + timedelta(days=14), 11, 30),
        f"RECURRENCE-ID;TZID=Europe/Berlin:{local(d2 + timedelta(days=14), 9):%Y%m%dT%H%M%S}\r\n",
    )
    upstream.put("weekly.ics", vcalendar(series, moved))
    upstream.put("allday.ics", vcalendar(vevent("allday", d3, d3 + timedelta(days=1))))
    upstream.put("free.ics", vcalendar(vevent("free", local(d1, 11), local(d1, 12), "TRANSP:TRANSPARENT\r\n")))
    upstream.put("cancelled.ics", vcalendar(vevent("gone", local(d1, 9), local(d1, 10), "STATUS:CANCELLED\r\n")))
    whole_day = {local(d3, h, m) for h in (9, 10, 11) for m in (0, 30)}
    return {
        local(d1, 10), local(d1, 10, 30),
        local(d2, 9), local(d2 + timedelta(days=14), 11), local(d2 + timedelta(days=21), 9),
        *whole_day,
    }


def test_it_hides_exactly_the_slots_the_imported_events_overlap(pulling, upstream):
    expected = put_the_three_kinds(upstream)

    result = connection_pull(connection=pulling)

    assert result.full and result.fetched == 5
    assert hidden_starts(pulling.doctor) == expected
    assert Absence.objects.filter(doctor=pulling.doctor, source=Absence.Source.CALENDAR).count() == 5
    pulling.refresh_from_db()
    assert pulling.status == CalendarConnection.Status.OK and pulling.sync_token


def test_it_frees_the_slots_and_fires_slot_alerts_when_the_events_are_deleted_upstream(pulling, upstream):
    put_the_three_kinds(upstream)
    connection_pull(connection=pulling)
    alerts_before = OutboxMessage.objects.filter(actor_name="notify_slot_alerts").count()

    for name in ("single.ics", "weekly.ics", "allday.ics"):
        upstream.delete(name)
    result = connection_pull(connection=pulling)

    assert not result.full and result.deleted == 3 and result.fetched == 0
    assert hidden_starts(pulling.doctor) == set()
    assert not Absence.objects.filter(doctor=pulling.doctor, source=Absence.Source.CALENDAR).exists()
    alerts = OutboxMessage.objects.filter(actor_name="notify_slot_alerts").order_by("pk")[alerts_before:]
    assert alerts and all(row.args[0] == pulling.doctor_id for row in alerts)


def test_it_fetches_only_the_one_change_on_an_incremental_run(pulling, upstream):
    for i in range(20):
        day = days(2 + i)
        upstream.put(f"e{i}.ics", vcalendar(vevent(f"e{i}", local(day, 9), local(day, 9, 30))))
    assert connection_pull(connection=pulling).fetched == 20
    day = days(2)
    upstream.put("e0.ics", vcalendar(vevent("e0", local(day, 11), local(day, 11, 30))))

    result = connection_pull(connection=pulling)

    assert (result.full, result.fetched, result.deleted) == (False, 1, 0)
    assert (result.blocks_created, result.blocks_updated, result.blocks_deleted) == (1, 0, 1)
    assert local(day, 11) in hidden_starts(pulling.doctor)
    assert local(day, 9) not in hidden_starts(pulling.doctor)
    assert connection_pull(connection=pulling).fetched == 0


def test_it_falls_back_to_a_full_pull_when_the_server_forgot_the_token(pulling, upstream):
    day = days(4)
    upstream.put("a.ics", vcalendar(vevent("a", local(day, 9), local(day, 10))))
    connection_pull(connection=pulling)
    CalendarConnection.objects.filter(pk=pulling.pk).update(sync_token="http://radicale.org/ns/sync/unknown")
    pulling.refresh_from_db()
    upstream.delete("a.ics")

    result = connection_pull(connection=pulling)

    assert result.full
    assert hidden_starts(pulling.doctor) == set()


def test_it_ignores_its_own_pushed_events(pulling, upstream):
    day = days(4)
    upstream.put("ours.ics", vcalendar(vevent("booking-0e7c@terminfinder", local(day, 9), local(day, 10))))

    connection_pull(connection=pulling)

    assert hidden_starts(pulling.doctor) == set()


def test_it_refuses_a_booking_of_a_slot_a_block_covers_but_keeps_booked_slots(world, pulling, upstream):
    from bookings.models import Slot

    day = days(6)
    booked_slot = Slot.objects.get(doctor=pulling.doctor, starts_at=local(day, 9))
    booking = booking_create(
        patient=world.patient, slot=booked_slot, visit_reason=world.a.reason, insurance_type="statutory"
    )
    upstream.put("busy.ics", vcalendar(vevent("busy", local(day, 9), local(day, 12))))

    connection_pull(connection=pulling)

    assert Slot.objects.filter(pk=booked_slot.pk).exists()
    assert Booking.objects.get(pk=booking.pk).is_active
    assert {local(day, h, m) for h in (9, 10, 11) for m in (0, 30)} <= hidden_starts(pulling.doctor)


def test_it_shows_the_server_down_in_the_status(calendar_doctor):
    from tests.services import free_port

    connection = make_connection(calendar_doctor, f"http://127.0.0.1:{free_port()}/doctor/x/", direction="pull")

    with pytest.raises(Exception, match="connection"):
        tasks.pull_connection.fn(connection.pk)

    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ERROR
    assert "ConnectionError" in connection.last_error or "Timeout" in connection.last_error
    assert connection.pull_lease_until is None


class IcsHandler(BaseHTTPRequestHandler):
    body = b""
    etag = '"v1"'
    requests = 0

    def do_GET(self):  # noqa: N802
        type(self).requests += 1
        if self.headers.get("If-None-Match") == self.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.send_header("ETag", self.etag)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def ics_server():
    """A published Outlook calendar: a local HTTP server handing out one .ics file."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), IcsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_it_imports_a_published_outlook_calendar_and_skips_an_unchanged_one(calendar_doctor, ics_server):
    day = days(9)
    IcsHandler.body = vcalendar(
        vevent("o1", local(day, 9), local(day, 10)), vevent("o2", local(day, 11), local(day, 11, 30))
    ).encode()
    url = f"http://127.0.0.1:{ics_server.server_port}/owa/calendar/published.ics"
    connection = make_connection(calendar_doctor, url, provider="ics", direction="pull")

    first = connection_pull(connection=connection)
    second = connection_pull(connection=connection)

    assert first.full and hidden_starts(calendar_doctor) == {local(day, 9), local(day, 9, 30), local(day, 11)}
    assert second.unchanged
    IcsHandler.etag, IcsHandler.body = '"v2"', vcalendar().encode()
    connection_pull(connection=connection)
    assert hidden_starts(calendar_doctor) == set()


def test_it_refuses_to_book_a_slot_an_imported_event_covers(world, pulling, upstream):
    from bookings.errors import BookingError
    from bookings.models import Slot

    day = days(7)
    slot = Slot.objects.get(doctor=pulling.doctor, starts_at=local(day, 10))
    upstream.put("busy.ics", vcalendar(vevent("busy", local(day, 10), local(day, 11))))
    connection_pull(connection=pulling)

    with pytest.raises(BookingError):
        booking_create(patient=world.patient, slot=slot.public_id, visit_reason=world.a.reason, insurance_type="statutory")


OUTLOOK = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:Microsoft Exchange Server 2010\r
BEGIN:VTIMEZONE\r
TZID:W. Europe Standard Time\r
BEGIN:STANDARD\r
DTSTART:16010101T030000\r
TZOFFSETFROM:+0200\r
TZOFFSETTO:+0100\r
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:16010101T020000\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0200\r
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r
END:DAYLIGHT\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:040000008200E00074C5B7101A82E008\r
DTSTAMP:20260101T000000Z\r
DTSTART;TZID=W. Europe Standard Time:{day}T100000\r
DTEND;TZID=W. Europe Standard Time:{day}T110000\r
SUMMARY:Besprechung\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.mark.parametrize("broken", [b"<html><body>Proxy error</body></html>", b"", b"BEGIN:VCALENDAR\r\nBEGIN:VEV"])
def test_it_keeps_the_busy_time_when_the_calendar_cannot_be_read(calendar_doctor, ics_server, broken):
    day = days(9)
    IcsHandler.etag, IcsHandler.body = '"v1"', vcalendar(vevent("o1", local(day, 9), local(day, 10))).encode()
    url = f"http://127.0.0.1:{ics_server.server_port}/owa/calendar/published.ics"
    connection = make_connection(calendar_doctor, url, provider="ics", direction="pull")
    connection_pull(connection=connection)
    assert hidden_starts(calendar_doctor) == {local(day, 9), local(day, 9, 30)}

    IcsHandler.etag, IcsHandler.body = '"v2"', broken
    result = connection_pull(connection=connection)

    assert result.unreadable == 1
    assert hidden_starts(calendar_doctor) == {local(day, 9), local(day, 9, 30)}
    connection.refresh_from_db()
    assert connection.status == CalendarConnection.Status.ERROR
    assert "could not be read" in connection.last_error


def test_it_refuses_a_calendar_file_over_the_size_limit_and_keeps_the_busy_time(calendar_doctor, ics_server, settings):
    day = days(9)
    IcsHandler.etag, IcsHandler.body = '"v1"', vcalendar(vevent("o1", local(day, 9), local(day, 10))).encode()
    url = f"http://127.0.0.1:{ics_server.server_port}/owa/calendar/published.ics"
    connection = make_connection(calendar_doctor, url, provider="ics", direction="pull")
    connection_pull(connection=connection)
    settings.TERMINFINDER_CALENDAR_MAX_ICS_BYTES = 2_000_000
    IcsHandler.etag, IcsHandler.body = '"v2"', b"BEGIN:VCALENDAR\r\n" + b"X" * 3_000_000

    with pytest.raises(CalendarRefused, match="larger than 2 MB"):
        connection_pull(connection=connection)

    assert hidden_starts(calendar_doctor) == {local(day, 9), local(day, 9, 30)}


def test_a_connection_that_stops_pulling_leaves_no_busy_time_behind(pulling, upstream):
    day = days(4)
    upstream.put("busy.ics", vcalendar(vevent("busy", local(day, 9), local(day, 10))))
    connection_pull(connection=pulling)
    assert hidden_starts(pulling.doctor) == {local(day, 9), local(day, 9, 30)}
    previous = CalendarConnection.objects.get(pk=pulling.pk)

    pulling.direction = CalendarConnection.Direction.PUSH
    pulling.save()
    connection_changed(connection=pulling, previous=previous)

    assert hidden_starts(pulling.doctor) == set()


def test_a_new_calendar_address_starts_afresh(pulling, upstream):
    day = days(4)
    upstream.put("busy.ics", vcalendar(vevent("busy", local(day, 9), local(day, 10))))
    connection_pull(connection=pulling)
    previous = CalendarConnection.objects.get(pk=pulling.pk)
    assert previous.sync_token

    pulling.url = pulling.url.rstrip("/") + "-other/"
    pulling.save()
    connection_changed(connection=pulling, previous=previous)

    pulling.refresh_from_db()
    assert (pulling.sync_token, pulling.last_full_sync_at) == ("", None)
    assert hidden_starts(pulling.doctor) == set()


def test_it_reads_outlooks_windows_time_zone_names(calendar_doctor, ics_server):
    day = days(10)
    IcsHandler.etag, IcsHandler.body = '"outlook"', OUTLOOK.format(day=f"{day:%Y%m%d}").encode()
    url = f"http://127.0.0.1:{ics_server.server_port}/owa/calendar/x/reachcalendar.ics"
    connection = make_connection(calendar_doctor, url, provider="ics", direction="pull")

    connection_pull(connection=connection)

    assert hidden_starts(calendar_doctor) == {local(day, 10), local(day, 10, 30)}


def test_it_leaves_no_duplicate_busy_time_after_three_full_pulls_in_a_row(pulling, upstream):
    expected = put_the_three_kinds(upstream)

    for _ in range(3):
        connection_pull(connection=pulling, full=True)

    assert Absence.objects.filter(doctor=pulling.doctor, source=Absence.Source.CALENDAR).count() == 5
    assert hidden_starts(pulling.doctor) == expected


def test_it_schedules_a_pull_of_every_pulling_connection(world, pulling, upstream):
    from dramatiq_crontab import scheduler

    from tests.flow import queued_messages

    make_connection(world.a.doctor, upstream.url, direction="push")

    assert tasks.pull_all_connections.fn() == 1

    [message] = queued_messages("low")
    assert (message["actor_name"], message["args"]) == ("pull_connection", [pulling.pk])
    [job] = [job for job in scheduler.get_jobs() if job.name == "pull_all_connections"]
    assert "minute='*/15'" in str(job.trigger)
