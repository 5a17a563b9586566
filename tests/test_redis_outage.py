"""Redis goes away while patients book: every booking succeeds, its message waits in the outbox,
and the relay delivers each confirmation exactly once when Redis is back."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from notifications import tasks
from terminfinder.outbox.models import OutboxMessage
from terminfinder.outbox.services import outbox_relay
from tests import plugin
from tests.flow import book, event_uid, make_patients, make_slots, wait_until
from tests.workers import WorkerGroup

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOKINGS = 50


def test_it_keeps_every_confirmation_while_redis_is_down(quiet_world):
    world = quiet_world
    smtp = plugin.smtp_server
    redis = plugin.redis_server
    if redis is None:
        pytest.skip("needs the harness's own Redis (REDIS_URL was set from outside)")
    patients = make_patients(BOOKINGS)
    slots = make_slots(world.a.doctor, BOOKINGS)
    addresses = {p.email for p in patients}
    confirmations = OutboxMessage.objects.filter(actor_name=tasks.send_booking_confirmation.actor_name).exclude(
        pk__in=list(OutboxMessage.objects.values_list("pk", flat=True))  # the world's own, sent before
    )
    workers = WorkerGroup("high").start()
    try:
        redis.stop()
        try:
            started = time.monotonic()
            bookings = [book(world.a, patient, slot) for patient, slot in zip(patients, slots, strict=True)]
            booking_seconds = time.monotonic() - started
            assert confirmations.filter(sent_at__isnull=True).count() == BOOKINGS
            assert confirmations.filter(sent_at__isnull=False).count() == 0
        finally:
            redis.start()
        # The web process gave up on Redis quickly instead of waiting on it for every booking.
        assert booking_seconds < 20
        assert smtp.received(lambda m: m["To"] in addresses) == []

        assert outbox_relay() == BOOKINGS

        assert confirmations.filter(sent_at__isnull=True).count() == 0
        wait_until(lambda: len(smtp.received(lambda m: m["To"] in addresses)) >= BOOKINGS, timeout=40)
        time.sleep(4)  # a duplicate would arrive right behind
        mails = smtp.received(lambda m: m["To"] in addresses)
    finally:
        workers.stop()
    assert len(mails) == BOOKINGS, workers.output()[-3000:]
    uids = Counter(event_uid(m) for m in mails)
    assert uids == Counter(f"booking-{b.public_id}@terminfinder" for b in bookings)
    assert Counter(m["To"] for m in mails) == Counter(addresses)
