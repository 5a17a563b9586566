"""A backlog on `low` never holds a booking confirmation back: `high` has its own worker group."""

from __future__ import annotations

import time
from datetime import timedelta

import dramatiq
import pytest
from django.utils import timezone

from notifications import tasks
from tests import plugin
from tests.flow import book, event_uid, make_slots, queue_lengths, to, wait_until
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BACKLOG = 2000


def _enqueue_backlog(doctor_id: int) -> None:
    """2,000 slot-alert scans for a window without slots: real work on `low` that sends nothing."""
    start = timezone.now() + timedelta(days=400)
    args = (doctor_id, start.isoformat(), (start + timedelta(hours=1)).isoformat())
    broker = dramatiq.get_broker()
    for _ in range(BACKLOG):
        broker.enqueue(tasks.notify_slot_alerts.message(*args))


def test_it_confirms_a_booking_while_low_holds_a_backlog(quiet_world):
    world = quiet_world
    smtp = plugin.smtp_server
    (slot,) = make_slots(world.a.doctor, 1)
    high = WorkerGroup("high").start()
    low = None
    try:
        _enqueue_backlog(world.b.doctor.pk)
        assert queue_lengths()["low"] == BACKLOG
        low = WorkerGroup("default", "low").start()
        assert wait_until(lambda: queue_lengths()["low"] < BACKLOG - 20, timeout=20), low.output()  # busy

        booked_at = time.monotonic()
        booking = book(world.a, world.patient, slot)
        mails = smtp.wait_for(1, timeout=15, predicate=to(world.patient.email))
        latency = time.monotonic() - booked_at
        low_left = queue_lengths()["low"]
    finally:
        high.stop()
        if low is not None:
            low.stop()
    assert len(mails) == 1, high.output()
    assert event_uid(mails[0]) == f"booking-{booking.public_id}@terminfinder"
    # Not a tight timing: the point is that the confirmation went out while most of the earlier
    # `low` messages were still waiting, so it did not queue behind them.
    assert latency < 5, latency
    assert low_left > BACKLOG // 2, low_left
