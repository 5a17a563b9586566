"""The SMTP server refuses mail for a while (4xx): the worker retries with growing delays and the
email arrives once, after the server recovers."""

from __future__ import annotations

import time

import pytest

from notifications.models import Delivery
from tests import plugin
from tests.flow import book, event_uid, make_slots, to, wait_until
from tests.workers import FAST_ENV, WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_it_delivers_after_a_temporary_refusal_with_growing_delays(quiet_world):
    world = quiet_world
    smtp = plugin.smtp_server
    (slot,) = make_slots(world.a.doctor, 1)
    smtp.refuse_with = "451 4.3.0 Try again later"
    workers = WorkerGroup("high").start()
    try:
        booking = book(world.a, world.patient, slot)
        # FAST_ENV: backoff 300 ms doubling (with up to 2x jitter), capped at 3 s.
        assert wait_until(lambda: smtp.refused >= 4, timeout=25), workers.output()
        refusals = list(smtp.refusals)
        assert smtp.received(to(world.patient.email)) == []
        smtp.refuse_with = None
        mails = smtp.wait_for(1, timeout=15, predicate=to(world.patient.email))
        time.sleep(1.5)
        mails = smtp.received(to(world.patient.email))
    finally:
        workers.stop()

    assert len(mails) == 1, workers.output()
    assert event_uid(mails[0]) == f"booking-{booking.public_id}@terminfinder"
    gaps = [later - earlier for earlier, later in zip(refusals, refusals[1:])]
    # Retry n waits min_backoff * 2**n * (1 to 2), plus ~0.1 s of polling: the first gap is
    # 0.3-0.6 s, the third 1.2-2.4 s. Neighbouring gaps may overlap by jitter; these two cannot.
    min_backoff = int(FAST_ENV["TERMINFINDER_EMAIL_MIN_BACKOFF_MS"]) / 1000
    assert gaps[0] >= min_backoff * 0.9, gaps
    assert gaps[2] > gaps[0], gaps
    assert gaps[2] >= 4 * min_backoff * 0.95, gaps
    delivery = Delivery.objects.get(kind=Delivery.Kind.BOOKING_CONFIRMATION, object_ref=str(booking.public_id))
    assert delivery.status == Delivery.Status.SENT
    assert delivery.attempts == len(smtp.refusals) + 1
