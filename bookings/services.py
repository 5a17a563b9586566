"""Writes of the bookings app. Every change to slots and bookings goes through here."""

from __future__ import annotations

import bisect
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from practices.models import Doctor, Membership, VisitReason
from practices.tenancy import has_role, is_platform_admin

from . import slotgen
from .errors import BookingClosed, BookingNotAllowed, InvalidBooking, SlotTaken
from .models import Absence, AvailabilityRule, Booking, Slot, SlotAlert
from .signals import slots_created

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 500
IDEMPOTENCY_KEY_MAX_LENGTH = 100


# --- Slots -------------------------------------------------------------------------------


@dataclass
class SlotGenerationResult:
    doctors: int = 0
    created: int = 0
    deleted: int = 0


def slots_generate(
    *,
    date_from: date,
    date_until: date,
    doctors: Iterable[Doctor] | None = None,
    progress: Callable[[Doctor], None] | None = None,
) -> SlotGenerationResult:
    """Make the stored slots match the rules minus absences for the days date_from..date_until.

    Idempotent: a second run changes nothing. Free future slots that no longer match are
    removed; slots that carry a booking (even a cancelled one) and past slots are kept.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    first = max(date_from, today)
    if date_until < first:
        return SlotGenerationResult()
    range_start = slotgen.wall_to_utc(first, datetime.min.time(), tz)
    range_end = slotgen.wall_to_utc(date_until + timedelta(days=1), datetime.min.time(), tz)
    now = timezone.now()

    doctor_list = list(doctors) if doctors is not None else list(Doctor.objects.order_by("pk"))
    windows: dict[int, list[slotgen.RuleWindow]] = defaultdict(list)
    for rule in AvailabilityRule.objects.filter(doctor__in=[d.pk for d in doctor_list]):
        windows[rule.doctor_id].append(
            slotgen.RuleWindow(
                rule_id=rule.pk,
                weekday=rule.weekday,
                start=rule.start_time,
                end=rule.end_time,
                slot_minutes=rule.slot_minutes,
                valid_from=rule.valid_from,
                valid_until=rule.valid_until,
            )
        )

    result = SlotGenerationResult()
    for doctor in doctor_list:
        created, deleted = _slots_sync_doctor(
            doctor=doctor,
            windows=windows.get(doctor.pk, []),
            first=first,
            last=date_until,
            range_start=max(range_start, now),
            range_end=range_end,
            tz=tz,
        )
        result.doctors += 1
        result.created += created
        result.deleted += deleted
        if progress:
            progress(doctor)
    return result


def _slots_sync_doctor(
    *,
    doctor: Doctor,
    windows: list[slotgen.RuleWindow],
    first: date,
    last: date,
    range_start: datetime,
    range_end: datetime,
    tz: ZoneInfo,
) -> tuple[int, int]:
    busy = list(
        Absence.objects.filter(
            doctor=doctor, starts_at__lt=range_end, ends_at__gt=range_start
        ).values_list("starts_at", "ends_at")
    )
    wanted = [
        interval
        for interval in slotgen.slot_intervals(windows, first, last, tz)
        if interval[0] >= range_start and not slotgen.overlaps(interval[0], interval[1], busy)
    ]
    wanted_keys = {(start, end): rule_id for start, end, rule_id in wanted}

    with transaction.atomic():
        existing = list(
            Slot.objects.filter(doctor=doctor, starts_at__gte=range_start, starts_at__lt=range_end)
            .annotate(has_booking=Exists(Booking.objects.filter(slot=OuterRef("pk"))))
            .values_list("pk", "starts_at", "ends_at", "rule_id", "has_booking")
        )
        stale = [
            pk
            for pk, start, end, rule_id, has_booking in existing
            if not has_booking and wanted_keys.get((start, end), -1) != rule_id
        ]
        deleted = 0
        if stale:
            # A booking may have arrived since the read above: never delete a booked slot.
            deleted, _ = (
                Slot.objects.filter(pk__in=stale)
                .exclude(Exists(Booking.objects.filter(slot=OuterRef("pk"))))
                .delete()
            )
        stale_set = set(stale)
        kept = sorted((start, end) for pk, start, end, _, _ in existing if pk not in stale_set)
        kept_starts = [start for start, _ in kept]
        new_slots = []
        for start, end, rule_id in wanted:
            i = bisect.bisect_left(kept_starts, end)
            # Only the kept slot starting right before `end` can overlap: kept slots never overlap.
            if i and kept[i - 1][1] > start:
                continue
            new_slots.append(Slot(doctor=doctor, starts_at=start, ends_at=end, rule_id=rule_id))
        Slot.objects.bulk_create(new_slots, ignore_conflicts=True, batch_size=500)
        if new_slots:
            slots_created.send(
                sender=Slot,
                doctor_id=doctor.pk,
                starts_from=new_slots[0].starts_at,
                starts_until=new_slots[-1].starts_at,
            )
    return len(new_slots), deleted


def slots_regenerate_around(*, doctor: Doctor, starts_at: datetime, ends_at: datetime) -> None:
    """Re-run generation for the days an absence touched, so slots hide or come back."""
    tz = ZoneInfo(settings.TIME_ZONE)
    slots_generate(
        date_from=timezone.localtime(starts_at, tz).date(),
        date_until=timezone.localtime(ends_at, tz).date(),
        doctors=[doctor],
    )


# --- Bookings ----------------------------------------------------------------------------


def booking_create(
    *,
    patient,
    slot: Slot | UUID | str,
    visit_reason: VisitReason,
    insurance_type: str,
    new_patient: bool = False,
    note: str = "",
    idempotency_key: str = "",
) -> Booking:
    """Book a slot for a patient; the one way a booking comes to be.

    One transaction, one lock taken as late as possible, then re-check, then write. The
    database constraints stay the last word whatever happens in between.
    """
    # Who is asking comes first: a replayed key must not hand a booking to a deactivated account,
    # and an anonymous user cannot be looked up by key at all.
    if not (patient and patient.is_authenticated and patient.is_active):
        raise BookingNotAllowed()
    idempotency_key = (idempotency_key or "").strip()
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise InvalidBooking(_("The idempotency key is too long (at most 100 characters)."))
    if idempotency_key:
        earlier = Booking.objects.filter(patient=patient, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidBooking(
            _("The note is too long (at most %(count)d characters).") % {"count": NOTE_MAX_LENGTH}
        )

    slot_lookup = {"pk": slot.pk} if isinstance(slot, Slot) else {"public_id": slot}
    try:
        with transaction.atomic():
            return _booking_create_locked(
                patient=patient,
                slot_lookup=slot_lookup,
                visit_reason=visit_reason,
                insurance_type=insurance_type,
                new_patient=new_patient,
                note=note,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if idempotency_key:
            earlier = Booking.objects.filter(patient=patient, idempotency_key=idempotency_key).first()
            if earlier is not None:
                return earlier
        # The constraints caught what the re-check could not see (a write outside the service).
        raise SlotTaken() from None


def _booking_create_locked(
    *, patient, slot_lookup, visit_reason, insurance_type, new_patient, note, idempotency_key
) -> Booking:
    try:
        slot_ref = Slot.objects.values("pk", "doctor_id").get(**slot_lookup)
    except (Slot.DoesNotExist, ValueError, ValidationError):
        raise BookingClosed(_("This appointment does not exist (any more).")) from None
    if connection.vendor == "postgresql":
        # Serialise bookings per doctor: this also covers overlapping slots, which a lock on the
        # slot row alone would not. SQLite serialises every write transaction anyway.
        Doctor.objects.select_for_update().filter(pk=slot_ref["doctor_id"]).first()
    try:
        slot = (
            Slot.objects.select_for_update(of=("self",))
            .select_related("doctor__practice", "rule")
            .get(pk=slot_ref["pk"])
        )
    except Slot.DoesNotExist:
        # slots_generate removed the free slot between the read above and the lock.
        raise BookingClosed(_("This appointment does not exist (any more).")) from None
    if idempotency_key:
        # A simultaneous retry (a double click) waited for the lock above: its twin's booking
        # is visible now and is the answer, not "slot taken".
        earlier = Booking.objects.filter(patient=patient, idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    _booking_check(
        slot=slot,
        visit_reason=visit_reason,
        insurance_type=insurance_type,
        new_patient=new_patient,
    )
    active = Booking.objects.filter(status=Booking.Status.CONFIRMED)
    if active.filter(slot=slot).exists() or active.filter(
        doctor_id=slot.doctor_id, starts_at__lt=slot.ends_at, ends_at__gt=slot.starts_at
    ).exists():
        raise SlotTaken()
    with transaction.atomic():
        booking = Booking.objects.create(
            slot=slot,
            doctor_id=slot.doctor_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            patient=patient,
            insurance_type=insurance_type,
            visit_reason=visit_reason,
            new_patient=new_patient,
            note=note,
            idempotency_key=idempotency_key,
        )
    logger.info("booking.created booking=%s slot=%s", booking.public_id, slot.public_id)
    return booking


def _booking_check(*, slot: Slot, visit_reason: VisitReason, insurance_type: str, new_patient: bool):
    doctor = slot.doctor
    practice = doctor.practice
    if not doctor.is_verified or not practice.is_active:
        raise BookingClosed(_("This doctor cannot be booked online at the moment."))
    if slot.starts_at <= timezone.now():
        raise BookingClosed(_("This appointment is in the past."))
    if Absence.objects.filter(
        doctor=doctor, starts_at__lt=slot.ends_at, ends_at__gt=slot.starts_at
    ).exists():
        raise SlotTaken()
    if insurance_type not in practice.insurance_types:
        raise InvalidBooking(_("The practice does not accept this type of insurance."))
    if visit_reason.practice_id != practice.pk or not visit_reason.is_active:
        raise InvalidBooking(_("This visit reason is not offered by the practice."))
    if insurance_type not in visit_reason.insurance_types:
        raise InvalidBooking(_("This visit reason is not offered for this type of insurance."))
    if new_patient and not visit_reason.new_patients_allowed:
        raise InvalidBooking(_("This visit reason is for existing patients of the practice only."))
    if visit_reason.duration_minutes > slot.minutes:
        raise InvalidBooking(_("This visit reason needs a longer appointment than this slot."))
    if slot.rule is not None:
        allowed = set(slot.rule.visit_reasons.values_list("pk", flat=True))
        if allowed and visit_reason.pk not in allowed:
            raise InvalidBooking(_("This visit reason cannot be booked at this time."))


def booking_cancel(
    *,
    booking: Booking,
    cancelled_by: str,
    actor=None,
    reason: str = "",
) -> Booking:
    """Cancel a booking. A patient may cancel until the practice's deadline; the practice and
    the system at any time. Cancelling a cancelled booking changes nothing. The slot is free
    again at once: only confirmed bookings hold it."""
    reason = (reason or "").strip()[:300]
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("doctor__practice")
            .get(pk=booking.pk)
        )
        practice = booking.doctor.practice
        if cancelled_by == Booking.CancelledBy.PATIENT:
            if actor is None or booking.patient_id != actor.pk:
                raise BookingNotAllowed()
        elif cancelled_by == Booking.CancelledBy.PRACTICE:
            if not (
                is_platform_admin(actor)
                or has_role(actor, practice.pk, {Membership.Role.OWNER, Membership.Role.STAFF})
            ):
                raise BookingNotAllowed()
        elif cancelled_by != Booking.CancelledBy.SYSTEM:
            raise ValueError(f"Unknown canceller {cancelled_by!r}")

        if not booking.is_active:
            return booking
        now = timezone.now()
        if cancelled_by == Booking.CancelledBy.PATIENT:
            deadline = booking.starts_at - timedelta(hours=practice.cancellation_deadline_hours)
            if now > deadline:
                raise BookingClosed(
                    _(
                        "The online cancellation deadline for this appointment has passed. "
                        "Please call the practice."
                    )
                )
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_by = cancelled_by
        booking.cancelled_at = now
        booking.cancellation_reason = reason
        booking.save(
            update_fields=["status", "cancelled_by", "cancelled_at", "cancellation_reason"]
        )
    logger.info("booking.cancelled booking=%s by=%s", booking.public_id, cancelled_by)
    return booking


# --- Absences ----------------------------------------------------------------------------


def absence_save(*, absence: Absence, previous: tuple[datetime, datetime] | None = None) -> Absence:
    """Store an absence and re-cut the slots of the days it covers (and covered before)."""
    with transaction.atomic():
        absence.full_clean()
        absence.save()
    slots_regenerate_around(doctor=absence.doctor, starts_at=absence.starts_at, ends_at=absence.ends_at)
    if previous:
        slots_regenerate_around(doctor=absence.doctor, starts_at=previous[0], ends_at=previous[1])
    return absence


def absence_delete(*, absence: Absence) -> None:
    doctor, starts_at, ends_at = absence.doctor, absence.starts_at, absence.ends_at
    absence.delete()
    slots_regenerate_around(doctor=doctor, starts_at=starts_at, ends_at=ends_at)


# --- Slot alerts -------------------------------------------------------------------------


def slot_alerts_mark_notified(*, alerts: list[SlotAlert]) -> None:
    SlotAlert.objects.filter(pk__in=[a.pk for a in alerts]).update(notified_at=timezone.now())


def slot_alerts_expire() -> int:
    """End alerts whose date window has passed."""
    return SlotAlert.objects.filter(is_active=True, date_until__lt=timezone.localdate()).update(
        is_active=False
    )


SLOT_ALERT_MAX_DAYS = 90


def slot_alert_create(
    *,
    patient,
    insurance_type: str,
    date_from: date,
    date_until: date,
    doctor: Doctor | None = None,
    specialty=None,
    visit_reason: VisitReason | None = None,
) -> SlotAlert:
    """Ask to hear when a slot of this doctor (or specialty) frees up or appears."""
    if not (patient and patient.is_authenticated and patient.is_active):
        raise BookingNotAllowed()
    if doctor is None and specialty is None:
        raise InvalidBooking(_("Choose a doctor or a specialty."))
    if date_until < date_from or date_from < timezone.localdate():
        raise InvalidBooking(_("Choose a period that lies ahead."))
    if (date_until - date_from).days > SLOT_ALERT_MAX_DAYS:
        raise InvalidBooking(_("An alert covers at most %(count)d days.") % {"count": SLOT_ALERT_MAX_DAYS})
    if visit_reason is not None and (doctor is None or visit_reason.practice_id != doctor.practice_id):
        raise InvalidBooking(_("This visit reason is not offered by the practice."))
    alert = SlotAlert.objects.create(
        patient=patient,
        doctor=doctor,
        practice=doctor.practice if doctor else None,
        specialty=specialty if doctor is None else doctor.specialty,
        visit_reason=visit_reason,
        insurance_type=insurance_type,
        date_from=date_from,
        date_until=date_until,
    )
    logger.info("slot_alert.created alert=%s", alert.public_id)
    return alert


def slot_alert_end(*, alert: SlotAlert, patient=None, signed_link: bool = False) -> SlotAlert:
    """End an alert; ending an ended alert changes nothing. The patient ends it from their page,
    or anyone holding the signed unsubscribe link from an alert email (`signed_link=True`)."""
    if not signed_link and alert.patient_id != getattr(patient, "pk", None):
        raise BookingNotAllowed()
    SlotAlert.objects.filter(pk=alert.pk, is_active=True).update(is_active=False)
    alert.is_active = False
    logger.info("slot_alert.ended alert=%s", alert.public_id)
    return alert
