"""booking_create re-checks everything under its lock; booking_cancel follows the deadline and roles.

Personas come from the `world` fixture: owner, staff and doctor-member of practice A, staff and
owner of practice B, a platform admin, and two patients. world.a.slot is booked by world.patient.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from bookings import selectors
from bookings.errors import BookingClosed, BookingError, BookingNotAllowed, InvalidBooking, SlotTaken
from bookings.models import Absence, Booking, Slot
from bookings.services import booking_cancel, booking_create
from practices.models import Doctor, VisitReason
from tests.conftest import make_slot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def book(world, slot, *, patient=None, reason=None, insurance_type="statutory", **extra) -> Booking:
    return booking_create(
        patient=patient or world.patient2,
        slot=slot.public_id if isinstance(slot, Slot) else slot,
        visit_reason=reason or world.a.reason,
        insurance_type=insurance_type,
        **extra,
    )


@pytest.fixture
def free_slot(world) -> Slot:
    return make_slot(world.a.doctor, days=4, hour=10, minutes=30)


def assert_refused(error, call):
    before = Booking.objects.count()
    with pytest.raises(error) as caught:
        call()
    assert type(caught.value) is error
    assert Booking.objects.count() == before, "a refused booking left a row behind"
    return caught.value


# --- booking_create: the happy path ------------------------------------------------------


def test_it_books_a_free_slot_and_copies_the_time_and_doctor(world, free_slot):
    booking = book(world, free_slot, note="  Rückenschmerzen  ", new_patient=True)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.slot == free_slot
    assert booking.doctor == world.a.doctor
    assert (booking.starts_at, booking.ends_at) == (free_slot.starts_at, free_slot.ends_at)
    assert booking.patient == world.patient2
    assert booking.new_patient is True
    assert booking.note == "Rückenschmerzen"


def test_it_accepts_the_slot_object_as_well_as_its_public_id(world, free_slot):
    booking = booking_create(
        patient=world.patient2, slot=free_slot, visit_reason=world.a.reason, insurance_type="private"
    )

    assert booking.slot_id == free_slot.pk


# --- booking_create: the re-checks ---------------------------------------------------------


def test_it_refuses_a_doctor_who_is_not_verified(world, free_slot):
    Doctor.objects.filter(pk=world.a.doctor.pk).update(verification_status=Doctor.Verification.PENDING)

    assert_refused(BookingClosed, lambda: book(world, free_slot))


def test_it_refuses_a_practice_that_is_not_active(world, free_slot):
    world.a.practice.is_active = False
    world.a.practice.save()

    assert_refused(BookingClosed, lambda: book(world, free_slot))


def test_it_refuses_a_slot_in_the_past(world):
    past = make_slot(world.a.doctor, days=-1, hour=10)

    assert_refused(BookingClosed, lambda: book(world, past))


def test_it_refuses_a_slot_that_started_a_minute_ago(world):
    start = timezone.now() - timedelta(minutes=1)
    running = Slot.objects.create(doctor=world.a.doctor, starts_at=start, ends_at=start + timedelta(minutes=30))

    assert_refused(BookingClosed, lambda: book(world, running))


@pytest.mark.parametrize("slot_ref", [uuid.uuid4(), str(uuid.uuid4()), "not-a-uuid", ""])
def test_it_refuses_an_unknown_slot_as_closed(world, slot_ref):
    assert_refused(BookingClosed, lambda: book(world, slot_ref))


def test_it_refuses_a_slot_deleted_since_the_patient_saw_it(world, free_slot):
    public_id = free_slot.public_id
    free_slot.delete()

    assert_refused(BookingClosed, lambda: book(world, public_id))


def test_it_refuses_a_slot_deleted_between_its_first_read_and_the_lock(world, free_slot, monkeypatch):
    # slots_generate removes a free slot that no longer matches the rules: here it does so right
    # after booking_create read the slot and before it takes the lock.
    read_slot = Slot.objects.values

    class ReadThenVanish:
        def __init__(self, queryset):
            self.queryset = queryset

        def get(self, **lookup):
            found = self.queryset.get(**lookup)
            Slot.objects.filter(pk=found["pk"]).delete()
            return found

    monkeypatch.setattr(Slot.objects, "values", lambda *fields: ReadThenVanish(read_slot(*fields)))

    assert_refused(BookingClosed, lambda: book(world, free_slot))


def test_it_refuses_a_visit_reason_of_another_practice(world, free_slot):
    error = assert_refused(InvalidBooking, lambda: book(world, free_slot, reason=world.b.reason))
    assert error.http_status == 400


def test_it_refuses_an_inactive_visit_reason(world, free_slot):
    world.a.reason.is_active = False
    world.a.reason.save()

    assert_refused(InvalidBooking, lambda: book(world, free_slot))


def test_it_refuses_a_visit_reason_the_rule_of_the_slot_does_not_allow(world, free_slot):
    other = VisitReason.objects.create(practice=world.a.practice, name="Impfung", duration_minutes=10)
    world.a.rule.visit_reasons.set([other])
    Slot.objects.filter(pk=free_slot.pk).update(rule=world.a.rule)

    assert_refused(InvalidBooking, lambda: book(world, free_slot, reason=world.a.reason))
    assert book(world, free_slot, reason=other).visit_reason == other


def test_it_allows_every_visit_reason_when_the_rule_names_none(world, free_slot):
    Slot.objects.filter(pk=free_slot.pk).update(rule=world.a.rule)

    assert book(world, free_slot).slot_id == free_slot.pk


def test_it_refuses_a_visit_reason_longer_than_the_slot(world, free_slot):
    world.a.reason.duration_minutes = 31
    world.a.reason.save()

    assert_refused(InvalidBooking, lambda: book(world, free_slot))
    world.a.reason.duration_minutes = 30
    world.a.reason.save()
    assert book(world, free_slot).pk


def test_it_refuses_an_insurance_type_the_practice_does_not_accept(world, free_slot):
    world.a.practice.accepts_private = False
    world.a.practice.save()

    assert_refused(InvalidBooking, lambda: book(world, free_slot, insurance_type="private"))


def test_it_refuses_an_insurance_type_the_visit_reason_does_not_accept(world, free_slot):
    world.a.reason.accepts_self_pay = False
    world.a.reason.save()

    assert_refused(InvalidBooking, lambda: book(world, free_slot, insurance_type="self_pay"))
    assert book(world, free_slot, insurance_type="statutory").pk


def test_it_refuses_an_insurance_type_that_does_not_exist(world, free_slot):
    assert_refused(InvalidBooking, lambda: book(world, free_slot, insurance_type="gold"))


def test_it_refuses_a_new_patient_where_the_visit_reason_is_for_existing_patients(world, free_slot):
    world.a.reason.new_patients_allowed = False
    world.a.reason.save()

    assert_refused(InvalidBooking, lambda: book(world, free_slot, new_patient=True))
    assert book(world, free_slot, new_patient=False).pk


def test_it_refuses_a_slot_overlapped_by_an_absence(world, free_slot):
    Absence.objects.create(
        doctor=world.a.doctor,
        starts_at=free_slot.starts_at + timedelta(minutes=29),
        ends_at=free_slot.ends_at + timedelta(hours=2),
    )

    error = assert_refused(SlotTaken, lambda: book(world, free_slot))
    assert error.http_status == 409


def test_it_ignores_an_absence_that_only_touches_the_slot(world, free_slot):
    Absence.objects.create(
        doctor=world.a.doctor, starts_at=free_slot.ends_at, ends_at=free_slot.ends_at + timedelta(hours=1)
    )

    assert book(world, free_slot).pk


def test_it_refuses_a_taken_slot(world):
    assert_refused(SlotTaken, lambda: book(world, world.a.slot))
    assert Booking.objects.get(slot=world.a.slot).patient == world.patient


def test_it_refuses_a_slot_that_overlaps_a_booking_of_the_same_doctor(world):
    overlapping = Slot.objects.create(
        doctor=world.a.doctor,
        starts_at=world.a.slot.starts_at + timedelta(minutes=15),
        ends_at=world.a.slot.ends_at + timedelta(minutes=15),
    )

    assert_refused(SlotTaken, lambda: book(world, overlapping))


def test_it_refuses_a_note_that_is_too_long(world, free_slot):
    assert_refused(InvalidBooking, lambda: book(world, free_slot, note="x" * 501))


@pytest.mark.parametrize("idempotency_key", ["", "key-1"])
@pytest.mark.parametrize("who", ["anonymous", "inactive"])
def test_it_refuses_a_patient_who_is_not_signed_in_or_not_active(world, free_slot, who, idempotency_key):
    if who == "anonymous":
        patient = AnonymousUser()
    else:
        patient = world.patient2
        patient.is_active = False
        patient.save()

    assert_refused(
        BookingNotAllowed, lambda: book(world, free_slot, patient=patient, idempotency_key=idempotency_key)
    )


def test_it_refuses_a_deactivated_patient_even_for_a_key_used_before(world, free_slot):
    book(world, free_slot, idempotency_key="key-1")
    world.patient2.is_active = False
    world.patient2.save()

    assert_refused(BookingNotAllowed, lambda: book(world, free_slot, idempotency_key="key-1"))


# --- booking_create: idempotency --------------------------------------------------------------


def test_it_returns_the_first_booking_for_a_repeated_idempotency_key(world, free_slot):
    first = book(world, free_slot, idempotency_key="tab-1-click-1")

    again = book(world, free_slot, idempotency_key="tab-1-click-1")

    assert again.pk == first.pk
    assert Booking.objects.filter(patient=world.patient2, slot=free_slot).count() == 1
    assert Booking.objects.filter(idempotency_key="tab-1-click-1").count() == 1


def test_it_returns_the_first_booking_even_when_the_retry_names_another_slot(world, free_slot):
    first = book(world, free_slot, idempotency_key="retry")
    other = make_slot(world.a.doctor, days=4, hour=14)

    again = book(world, other, idempotency_key="retry")

    assert again.pk == first.pk
    assert not Booking.objects.filter(slot=other).exists()


def test_it_keeps_idempotency_keys_apart_per_patient(world, free_slot):
    other = make_slot(world.a.doctor, days=4, hour=14)
    first = book(world, free_slot, patient=world.patient2, idempotency_key="same")

    second = book(world, other, patient=world.patient, idempotency_key="same")

    assert second.pk != first.pk
    assert second.patient == world.patient


def test_it_books_again_without_an_idempotency_key(world, free_slot):
    other = make_slot(world.a.doctor, days=4, hour=14)

    first = book(world, free_slot)
    second = book(world, other)

    assert first.pk != second.pk


# --- booking_cancel -------------------------------------------------------------------------


def assert_unchanged(booking: Booking):
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.cancelled_at is None
    assert booking.cancelled_by == ""


def test_it_lets_the_patient_cancel_before_the_deadline_and_frees_the_slot(world):
    booking = world.a.booking
    assert world.a.slot not in selectors.slots_free(doctor=world.a.doctor)

    cancelled = booking_cancel(
        booking=booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient, reason="  krank "
    )

    cancelled.refresh_from_db()
    assert cancelled.status == Booking.Status.CANCELLED
    assert cancelled.cancelled_by == Booking.CancelledBy.PATIENT
    assert cancelled.cancelled_at is not None
    assert cancelled.cancellation_reason == "krank"
    assert world.a.slot in selectors.slots_free(doctor=world.a.doctor)
    rebooked = book(world, world.a.slot, patient=world.patient2)
    assert rebooked.patient == world.patient2
    assert Booking.objects.filter(slot=world.a.slot, status=Booking.Status.CONFIRMED).get() == rebooked


def test_it_refuses_the_patient_after_the_deadline_and_changes_nothing(world):
    # world.a.booking starts in about three days; a four-day deadline has passed.
    world.a.practice.cancellation_deadline_hours = 96
    world.a.practice.save()

    with pytest.raises(BookingClosed):
        booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)

    assert_unchanged(world.a.booking)
    assert world.a.slot not in selectors.slots_free(doctor=world.a.doctor)


def test_it_lets_the_patient_cancel_up_to_the_deadline_exactly(world):
    booking = world.a.booking
    hours_left = (booking.starts_at - timezone.now()).total_seconds() / 3600
    world.a.practice.cancellation_deadline_hours = int(hours_left) - 1
    world.a.practice.save()

    booking_cancel(booking=booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_it_refuses_another_patient(world):
    with pytest.raises(BookingNotAllowed) as caught:
        booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient2)

    assert caught.value.http_status == 403
    assert_unchanged(world.a.booking)


def test_it_refuses_a_patient_cancelling_as_the_practice(world):
    with pytest.raises(BookingNotAllowed):
        booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PRACTICE, actor=world.patient)

    assert_unchanged(world.a.booking)


@pytest.mark.parametrize("persona", ["owner_a", "staff_a", "admin"])
def test_it_lets_the_practice_cancel_at_any_time(world, persona):
    world.a.practice.cancellation_deadline_hours = 24 * 14  # long past for the patient
    world.a.practice.save()

    booking_cancel(
        booking=world.a.booking, cancelled_by=Booking.CancelledBy.PRACTICE, actor=getattr(world, persona)
    )

    world.a.booking.refresh_from_db()
    assert world.a.booking.status == Booking.Status.CANCELLED
    assert world.a.booking.cancelled_by == Booking.CancelledBy.PRACTICE


def test_it_lets_the_practice_cancel_a_booking_that_already_began(world):
    start = timezone.now() - timedelta(minutes=5)
    slot = Slot.objects.create(doctor=world.a.doctor, starts_at=start, ends_at=start + timedelta(minutes=30))
    booking = Booking.objects.create(
        slot=slot,
        doctor=world.a.doctor,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        patient=world.patient,
        insurance_type="statutory",
        visit_reason=world.a.reason,
    )

    booking_cancel(booking=booking, cancelled_by=Booking.CancelledBy.PRACTICE, actor=world.staff_a)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


@pytest.mark.parametrize("persona", ["staff_b", "owner_b", "doctor_a", "patient2"])
def test_it_refuses_the_practice_cancellation_by_anyone_but_staff_of_the_practice(world, persona):
    with pytest.raises(BookingNotAllowed):
        booking_cancel(
            booking=world.a.booking, cancelled_by=Booking.CancelledBy.PRACTICE, actor=getattr(world, persona)
        )

    assert_unchanged(world.a.booking)


def test_it_refuses_a_practice_cancellation_without_an_actor(world):
    with pytest.raises(BookingNotAllowed):
        booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PRACTICE, actor=None)

    assert_unchanged(world.a.booking)


def test_it_treats_cancelling_twice_as_a_no_op(world):
    booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)
    world.a.booking.refresh_from_db()
    first = (world.a.booking.status, world.a.booking.cancelled_by, world.a.booking.cancelled_at)

    again = booking_cancel(
        booking=world.a.booking, cancelled_by=Booking.CancelledBy.PRACTICE, actor=world.staff_a, reason="doppelt"
    )

    again.refresh_from_db()
    assert (again.status, again.cancelled_by, again.cancelled_at) == first
    assert again.cancellation_reason == ""


def test_it_treats_a_patients_second_cancel_after_the_deadline_as_a_no_op(world):
    booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)
    world.a.practice.cancellation_deadline_hours = 24 * 14
    world.a.practice.save()

    again = booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=world.patient)

    assert again.status == Booking.Status.CANCELLED


def test_it_refuses_an_unknown_canceller(world):
    with pytest.raises(ValueError):
        booking_cancel(booking=world.a.booking, cancelled_by="doctor", actor=world.staff_a)

    assert_unchanged(world.a.booking)


# --- the typed errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (SlotTaken, 409, "slot_taken"),
        (BookingClosed, 400, "booking_closed"),
        (InvalidBooking, 400, "invalid_booking"),
        (BookingNotAllowed, 403, "not_allowed"),
    ],
)
def test_it_gives_each_booking_error_its_http_status(error, status, code):
    assert issubclass(error, BookingError)
    assert error.http_status == status
    assert error.code == code
    assert str(error()) == str(error.default_message)
    assert error("Custom").message == "Custom"
