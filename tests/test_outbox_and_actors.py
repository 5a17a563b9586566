"""The outbox and the actors without workers: what reaches which Redis queue, when, and how often;
the actors' queues and retry options; the reminder scan."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bookings.models import Booking, Slot
from bookings.services import booking_cancel
from notifications import tasks
from notifications.models import Delivery
from practices.models import Doctor
from practices.services import doctor_set_verification
from terminfinder.outbox import services as outbox
from terminfinder.outbox import tasks as outbox_tasks
from terminfinder.outbox.models import OutboxMessage
from tests.conftest import make_doctor
from tests.flow import book, make_patients, make_slots, queue_lengths, queued_messages

EMPTY = {"high": 0, "default": 0, "low": 0}


# --- Outbox ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_leaves_no_outbox_row_and_sends_nothing_for_a_rolled_back_booking(quiet_world):
    world = quiet_world
    (slot,) = make_slots(world.a.doctor, 1)
    rows_before = OutboxMessage.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        book(world.a, world.patient, slot)
        raise RuntimeError("something later in the request failed")

    assert not Booking.objects.filter(slot=slot).exists()
    assert OutboxMessage.objects.count() == rows_before
    assert queue_lengths() == EMPTY


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_a_committed_booking_once_to_high(quiet_world):
    world = quiet_world
    (slot,) = make_slots(world.a.doctor, 1)

    booking = book(world.a, world.patient, slot)

    assert queue_lengths() == {**EMPTY, "high": 1}
    row = OutboxMessage.objects.get(args=[str(booking.public_id)])
    assert row.sent_at is not None and row.queue_name == "high"
    (message,) = queued_messages("high")
    assert message["message_id"] == str(row.pk)  # a resend is the same message to the actors
    assert message["actor_name"] == "send_booking_confirmation"
    assert message["args"] == [str(booking.public_id)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_a_cancellation_to_high_and_the_slot_alerts_to_low(quiet_world):
    world = quiet_world

    booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)

    assert queue_lengths() == {**EMPTY, "high": 1, "low": 1}
    assert [m["actor_name"] for m in queued_messages("high")] == ["send_booking_cancellation"]
    (alerts,) = queued_messages("low")
    assert alerts["actor_name"] == "notify_slot_alerts"
    assert alerts["args"][0] == world.a.doctor.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_a_doctor_verification_to_default(quiet_world):
    world = quiet_world
    doctor = make_doctor(world.a.practice, world.specialty, "Neu", verified=False)
    assert queue_lengths() == EMPTY  # a new, pending doctor is no news

    doctor_set_verification(doctor=doctor, status=Doctor.Verification.VERIFIED, decided_by=world.admin)
    doctor_set_verification(doctor=doctor, status=Doctor.Verification.VERIFIED, decided_by=world.admin)

    assert queue_lengths() == {**EMPTY, "default": 1}  # deciding the same again changes nothing
    (message,) = queued_messages("default")
    assert message["actor_name"] == "send_doctor_verification"
    assert message["args"][:2] == [str(doctor.public_id), Doctor.Verification.VERIFIED]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_never_sends_an_outbox_row_twice(quiet_world):
    world = quiet_world
    (slot,) = make_slots(world.a.doctor, 1)
    booking = book(world.a, world.patient, slot)
    row = OutboxMessage.objects.get(args=[str(booking.public_id)])
    assert queue_lengths()["high"] == 1

    assert outbox.outbox_send(ids=[row.pk]) == 0
    assert outbox.outbox_send() == 0
    assert outbox.outbox_relay() == 0
    assert queue_lengths()["high"] == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sends_each_waiting_row_once_when_relays_run_at_the_same_time(quiet_world):
    world = quiet_world
    count = 40
    # As after a Redis outage: the web process stopped trying, the rows wait for the relay.
    outbox._redis_down_until = time.monotonic() + 60
    for patient, slot in zip(make_patients(count), make_slots(world.a.doctor, count), strict=True):
        book(world.a, patient, slot)
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == count
    assert queue_lengths()["high"] == 0

    sent = []
    barrier = threading.Barrier(4)

    def relay():
        try:
            barrier.wait()
            sent.append(outbox.outbox_send(limit=15))
            sent.append(outbox.outbox_send(limit=15))
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sum(sent) == count
    assert queue_lengths()["high"] == count
    ids = [m["message_id"] for m in queued_messages("high")]
    assert len(set(ids)) == count
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0


# --- Actors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "queue"),
    [
        (tasks.send_booking_confirmation, "high"),
        (tasks.send_booking_cancellation, "high"),
        (tasks.send_booking_reminder, "default"),
        (tasks.send_doctor_verification, "default"),
        (tasks.notify_slot_alerts, "low"),
    ],
)
def test_it_gives_each_email_actor_its_queue_and_bounded_retries(actor, queue):
    assert actor.queue_name == queue
    # The production defaults (the workers of the other tests shorten them through the env).
    assert actor.options["max_retries"] == 8
    assert actor.options["min_backoff"] == 10_000
    assert actor.options["max_backoff"] == 3_600_000
    assert actor.options["time_limit"] > 0


@pytest.mark.parametrize(
    ("actor", "queue"),
    [
        (tasks.scan_booking_reminders, "default"),
        (tasks.cleanup, "low"),
        (outbox_tasks.relay_outbox, "high"),
    ],
)
def test_it_puts_the_periodic_jobs_on_their_queues(actor, queue):
    assert actor.queue_name == queue
    assert actor.options["max_retries"] <= 3
    assert actor.options["time_limit"] > 0


# --- Reminder scan -----------------------------------------------------------------------


def _booking(world, patient, *, starts_in: timedelta, created_ago: timedelta, **fields) -> Booking:
    start = timezone.now() + starts_in
    slot = Slot.objects.create(doctor=world.a.doctor, starts_at=start, ends_at=start + timedelta(minutes=15))
    booking = book(world.a, patient, slot)
    Booking.objects.filter(pk=booking.pk).update(created_at=timezone.now() - created_ago, **fields)
    return booking


@pytest.mark.django_db
def test_it_schedules_a_reminder_only_for_bookings_made_more_than_a_day_ahead(world):
    patients = make_patients(5)
    hours = lambda n: timedelta(hours=n)  # noqa: E731
    due = _booking(world, patients[0], starts_in=hours(23), created_ago=hours(2))  # booked 25 h ahead
    # Booked 55 minutes ago, 24.5 h ahead: its confirmation just went out.
    _booking(world, patients[1], starts_in=hours(23.5), created_ago=timedelta(minutes=55))
    # Booked 23 h ahead: the confirmation is the reminder.
    _booking(world, patients[2], starts_in=hours(20), created_ago=hours(3))
    _booking(
        world, patients[3], starts_in=hours(22), created_ago=hours(48),
        status=Booking.Status.CANCELLED, cancelled_by=Booking.CancelledBy.PATIENT, cancelled_at=timezone.now(),
    )
    reminded = _booking(world, patients[4], starts_in=hours(21), created_ago=hours(30))
    Delivery.objects.create(
        kind=Delivery.Kind.BOOKING_REMINDER,
        object_ref=str(reminded.public_id),
        recipient_ref=f"user:{patients[4].pk}",
        status=Delivery.Status.SENT,
    )
    assert queue_lengths() == EMPTY  # the test's transaction is never committed: no outbox sends

    assert tasks.scan_booking_reminders() == 1

    (message,) = queued_messages("default")
    assert message["actor_name"] == "send_booking_reminder"
    assert message["args"] == [str(due.public_id)]
    assert queue_lengths() == {**EMPTY, "default": 1}


@pytest.mark.django_db
def test_it_does_not_enqueue_a_pending_reminder_again_until_its_retries_must_be_over(world):
    patients = make_patients(2)
    retrying = _booking(world, patients[0], starts_in=timedelta(hours=23), created_ago=timedelta(hours=30))
    lost = _booking(world, patients[1], starts_in=timedelta(hours=22), created_ago=timedelta(hours=30))
    for booking, patient, first_attempt_ago in (
        (retrying, patients[0], timedelta(minutes=5)),  # Dramatiq holds its retry
        (lost, patients[1], tasks.EMAIL_RETRY_WINDOW + timedelta(minutes=1)),  # its retry is gone
    ):
        delivery = Delivery.objects.create(
            kind=Delivery.Kind.BOOKING_REMINDER,
            object_ref=str(booking.public_id),
            recipient_ref=f"user:{patient.pk}",
            attempts=1,
            last_error="SMTPServerDisconnected",
        )
        Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - first_attempt_ago)
    assert queue_lengths() == EMPTY

    assert tasks.scan_booking_reminders() == 1
    assert tasks.scan_booking_reminders() == 1  # the next scan, ten minutes later

    messages = queued_messages("default")
    assert [m["args"] for m in messages] == [[str(lost.public_id)], [str(lost.public_id)]]
