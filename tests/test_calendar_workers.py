"""Calendar sync end to end with real workers: booking → outbox → Redis → `default` worker →
Radicale; the calendar server going away and coming back (retries, status); an upstream event
→ `low` worker → hidden slots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.models import Slot
from bookings.services import booking_cancel, booking_create
from calendars import tasks
from calendars.models import CalendarConnection
from tests.calendar_support import Upstream, calendar_doctor, hidden_starts, local, make_connection, vcalendar, vevent  # noqa: F401
from tests.flow import wait_until
from tests.services import RadicaleServer
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FAST_RETRIES = {
    "TERMINFINDER_CALENDAR_MIN_BACKOFF_MS": "300",
    "TERMINFINDER_CALENDAR_MAX_BACKOFF_MS": "1000",
    "TERMINFINDER_CALENDAR_MAX_RETRIES": "30",
}


@pytest.fixture
def own_radicale():
    """A Radicale of this test alone: the test stops and restarts it."""
    server = RadicaleServer().start()
    yield server
    server.stop(remove_data=True)


@pytest.fixture
def workers(quiet_world):
    group = WorkerGroup("default", "low", threads=2, env=FAST_RETRIES).start()
    yield group
    group.stop()


def status(connection) -> str:
    return CalendarConnection.objects.values_list("status", flat=True).get(pk=connection.pk)


def test_it_pushes_retries_through_an_outage_and_pulls_with_real_workers(
    quiet_world, calendar_doctor, own_radicale, workers
):
    world = quiet_world
    upstream = Upstream(own_radicale)
    connection = make_connection(calendar_doctor, upstream.url, secret=own_radicale.users["doctor"])
    uid = None

    def ours():
        return [e for e in upstream.events() if str(e["UID"]) == uid]

    # Push: the booking's commit sends the message; the worker writes the event.
    day = timezone.localdate() + timedelta(days=4)
    slot = Slot.objects.get(doctor=calendar_doctor, starts_at=local(day, 10))
    booking = booking_create(patient=world.patient, slot=slot, visit_reason=world.a.reason, insurance_type="statutory")
    uid = f"booking-{booking.public_id}@terminfinder"
    assert wait_until(lambda: len(ours()) == 1, timeout=30), workers.output()[-3000:]

    # Outage: the cancellation cannot reach the server; it is retried and shown meanwhile.
    own_radicale.stop()
    booking_cancel(booking=booking, cancelled_by="system")
    assert wait_until(lambda: status(connection) == CalendarConnection.Status.RETRYING, timeout=30)
    own_radicale.start()
    assert wait_until(lambda: ours() == [], timeout=30), workers.output()[-3000:]
    assert wait_until(lambda: status(connection) == CalendarConnection.Status.OK, timeout=10)

    # Pull: an event entered in the calendar hides the slots it covers.
    upstream.put("meeting.ics", vcalendar(vevent("meeting", local(day, 9), local(day, 10))))
    tasks.pull_connection.send(connection.pk)
    assert wait_until(lambda: hidden_starts(calendar_doctor) == {local(day, 9), local(day, 9, 30)}, timeout=30)
    assert "meeting" not in workers.output() and own_radicale.users["doctor"] not in workers.output()
