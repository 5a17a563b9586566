"""Double booking under real concurrency, and the database constraints that are the last word.

The race tests start 20+ threads behind a barrier, each on its own PostgreSQL connection, so the
calls really meet inside the database. The constraint tests write straight through the ORM,
bypassing `booking_create`, to show the database refuses what a careless code path would do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bookings.errors import SlotTaken
from bookings.models import Booking, Slot
from bookings.services import booking_create
from terminfinder.accounts.models import User
from tests.conftest import make_slot

THREADS = 24


def run_together(calls: list[Callable[[], object]]) -> list[tuple[str, object]]:
    """Run every call in its own thread, released at once by a barrier.

    Returns ("ok", result) or ("error", exception) per call, in order. Each thread opens its own
    database connection before the barrier (so connecting does not spread the start) and closes
    it at the end.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, object] | None] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", call())
        except BaseException as exc:  # noqa: BLE001 - every outcome is inspected by the test
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a booking thread hung"
    assert all(outcome is not None for outcome in outcomes)
    return outcomes  # type: ignore[return-value]


def make_patients(count: int):
    # No password: hashing one per patient would make the fixture slow and proves nothing here.
    return [User.objects.create_user(email=f"racer-{i}@example.org") for i in range(count)]


def booking_call(patient, slot: Slot, reason) -> Callable[[], Booking]:
    return lambda: booking_create(
        patient=patient, slot=slot.public_id, visit_reason=reason, insurance_type="statutory"
    )


def assert_one_winner(outcomes):
    winners = [value for kind, value in outcomes if kind == "ok"]
    errors = [value for kind, value in outcomes if kind == "error"]
    unexpected = [exc for exc in errors if not isinstance(exc, SlotTaken)]
    assert not unexpected, f"only SlotTaken may be raised, got {unexpected!r}"
    assert len(winners) == 1, f"{len(winners)} bookings succeeded"
    assert len(errors) == len(outcomes) - 1
    return winners[0]


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_of_many_simultaneous_bookings_of_a_slot_win(world):
    slot = make_slot(world.a.doctor, days=5, hour=11)
    patients = make_patients(THREADS)

    outcomes = run_together([booking_call(p, slot, world.a.reason) for p in patients])

    winner = assert_one_winner(outcomes)
    active = Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED)
    assert list(active.values_list("pk", flat=True)) == [winner.pk]
    assert Booking.objects.filter(slot=slot).count() == 1
    assert winner.patient in patients


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
def test_it_lets_exactly_one_booking_win_across_overlapping_slots_of_one_doctor(world):
    first = make_slot(world.a.doctor, days=5, hour=11, minutes=30)
    # A second slot row of the same doctor, 15 minutes later: 11:15–11:45 overlaps 11:00–11:30.
    second = Slot.objects.create(
        doctor=world.a.doctor,
        starts_at=first.starts_at + timedelta(minutes=15),
        ends_at=first.ends_at + timedelta(minutes=15),
    )
    patients = make_patients(THREADS)
    calls = [
        booking_call(patient, first if i % 2 else second, world.a.reason)
        for i, patient in enumerate(patients)
    ]

    outcomes = run_together(calls)

    winner = assert_one_winner(outcomes)
    active = Booking.objects.filter(doctor=world.a.doctor, slot__in=[first, second])
    assert list(active.values_list("pk", flat=True)) == [winner.pk]


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
def test_it_books_different_doctors_at_the_same_time_in_parallel(world):
    slot_a = make_slot(world.a.doctor, days=5, hour=11)
    slot_b = make_slot(world.b.doctor, days=5, hour=11)
    patient_a, patient_b = make_patients(2)

    outcomes = run_together(
        [booking_call(patient_a, slot_a, world.a.reason), booking_call(patient_b, slot_b, world.b.reason)]
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes


def orm_booking(slot: Slot, reason, patient, **extra) -> Booking:
    """A booking written straight through the ORM, bypassing every check of the service."""
    return Booking.objects.create(
        slot=slot,
        doctor=slot.doctor,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        patient=patient,
        insurance_type="statutory",
        visit_reason=reason,
        **extra,
    )


def overlapping_slot(slot: Slot, shift_minutes: int) -> Slot:
    return Slot.objects.create(
        doctor=slot.doctor,
        starts_at=slot.starts_at + timedelta(minutes=shift_minutes),
        ends_at=slot.ends_at + timedelta(minutes=shift_minutes),
    )


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db
def test_it_refuses_overlapping_active_bookings_of_one_doctor_in_the_database(world):
    first = make_slot(world.a.doctor, days=5, hour=11, minutes=30)
    second = overlapping_slot(first, 15)
    orm_booking(first, world.a.reason, world.patient)

    with pytest.raises(IntegrityError, match="booking_no_overlap_per_doctor"), transaction.atomic():
        orm_booking(second, world.a.reason, world.patient2)

    assert Booking.objects.filter(slot=second).count() == 0


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db
def test_it_allows_a_cancelled_booking_to_overlap_an_active_one(world):
    first = make_slot(world.a.doctor, days=5, hour=11, minutes=30)
    second = overlapping_slot(first, 15)
    orm_booking(first, world.a.reason, world.patient)

    cancelled = orm_booking(
        second,
        world.a.reason,
        world.patient2,
        status=Booking.Status.CANCELLED,
        cancelled_at=timezone.now(),
        cancelled_by=Booking.CancelledBy.PATIENT,
    )

    assert cancelled.pk is not None
    # And once cancelled, the first no longer blocks a new active booking of the overlapping slot.
    Booking.objects.filter(slot=first).update(
        status=Booking.Status.CANCELLED, cancelled_at=timezone.now()
    )
    assert orm_booking(second, world.a.reason, world.patient2).pk is not None


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db
def test_it_allows_back_to_back_bookings_and_other_doctors_at_the_same_time(world):
    first = make_slot(world.a.doctor, days=5, hour=11, minutes=30)
    adjacent = overlapping_slot(first, 30)  # 11:30–12:00 touches 11:00–11:30, no overlap
    other_doctor = make_slot(world.b.doctor, days=5, hour=11, minutes=30)

    orm_booking(first, world.a.reason, world.patient)
    orm_booking(adjacent, world.a.reason, world.patient)
    orm_booking(other_doctor, world.b.reason, world.patient2)

    assert Booking.objects.filter(slot__in=[first, adjacent, other_doctor]).count() == 3


@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db
def test_it_refuses_a_second_confirmed_booking_of_the_same_slot_in_the_database(world):
    # world.a.slot already carries a confirmed booking of world.patient.
    with pytest.raises(IntegrityError), transaction.atomic():
        orm_booking(world.a.slot, world.a.reason, world.patient2)

    assert Booking.objects.filter(slot=world.a.slot).count() == 1


@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db
def test_it_allows_a_new_confirmed_booking_of_a_slot_whose_booking_was_cancelled(world):
    Booking.objects.filter(pk=world.a.booking.pk).update(
        status=Booking.Status.CANCELLED, cancelled_at=timezone.now()
    )

    again = orm_booking(world.a.slot, world.a.reason, world.patient2)

    assert again.status == Booking.Status.CONFIRMED
    assert Booking.objects.filter(slot=world.a.slot).count() == 2


@pytest.mark.postgres
@pytest.mark.usefixtures("fast_password_hashing")
@pytest.mark.django_db(transaction=True)
def test_it_gives_simultaneous_retries_with_one_idempotency_key_the_same_booking(world):
    slot = make_slot(world.a.doctor, days=5, hour=11)

    def retry():
        return booking_create(
            patient=world.patient2,
            slot=slot.public_id,
            visit_reason=world.a.reason,
            insurance_type="statutory",
            idempotency_key="double-click",
        )

    outcomes = run_together([retry for _ in range(THREADS)])

    assert [kind for kind, _ in outcomes] == ["ok"] * THREADS, [v for k, v in outcomes if k == "error"][:3]
    assert len({booking.pk for _, booking in outcomes}) == 1
    assert Booking.objects.filter(idempotency_key="double-click").count() == 1
