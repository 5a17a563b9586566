"""Reads of the bookings app: each returns a queryset evaluated in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from practices.models import INSURANCE_FLAG, Doctor, InsuranceType, Practice, Specialty, VisitReason

from . import slotgen
from .models import Absence, AvailabilityRule, Booking, Slot, SlotAlert


def slots_free(
    *,
    practice: Practice | None = None,
    doctor: Doctor | None = None,
    specialty: Specialty | None = None,
    city: str = "",
    postal_code: str = "",
    insurance_type: str = "",
    visit_reason: VisitReason | None = None,
    new_patient: bool = False,
    date_from: date | None = None,
    date_until: date | None = None,
) -> QuerySet[Slot]:
    """Bookable slots matching the filters, soonest first, with doctor and practice loaded.

    One query however many slots match: every condition is a join or an EXISTS subquery.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    slots = Slot.objects.filter(
        starts_at__gt=now,
        doctor__verification_status=Doctor.Verification.VERIFIED,
        doctor__practice__is_active=True,
    ).exclude(
        # Any confirmed booking of the doctor overlapping the slot, not only one of this slot:
        # booking_create refuses those as taken, so listing them would only disappoint.
        Exists(
            Booking.objects.filter(
                doctor=OuterRef("doctor"),
                status=Booking.Status.CONFIRMED,
                starts_at__lt=OuterRef("ends_at"),
                ends_at__gt=OuterRef("starts_at"),
            )
        )
    ).exclude(
        Exists(
            Absence.objects.filter(
                doctor=OuterRef("doctor"),
                starts_at__lt=OuterRef("ends_at"),
                ends_at__gt=OuterRef("starts_at"),
            )
        )
    )
    if practice is not None:
        slots = slots.filter(doctor__practice=practice)
    if doctor is not None:
        slots = slots.filter(doctor=doctor)
    if specialty is not None:
        slots = slots.filter(doctor__specialty=specialty)
    if city:
        slots = slots.filter(doctor__practice__city__iexact=city.strip())
    if postal_code:
        slots = slots.filter(doctor__practice__postal_code__startswith=postal_code.strip())
    if insurance_type:
        flag = INSURANCE_FLAG[InsuranceType(insurance_type)]
        slots = slots.filter(**{f"doctor__practice__{flag}": True})
    if visit_reason is not None:
        slots = slots.filter(
            doctor__practice=visit_reason.practice_id,
            ends_at__gte=F("starts_at") + timedelta(minutes=visit_reason.duration_minutes),
        ).filter(
            Q(rule__isnull=True)
            | ~Exists(AvailabilityRule.visit_reasons.through.objects.filter(availabilityrule=OuterRef("rule")))
            | Exists(
                AvailabilityRule.visit_reasons.through.objects.filter(
                    availabilityrule=OuterRef("rule"), visitreason=visit_reason.pk
                )
            )
        )
        if (
            not visit_reason.is_active
            or (insurance_type and not visit_reason.accepts(insurance_type))
            or (new_patient and not visit_reason.new_patients_allowed)
        ):
            slots = slots.none()
    if date_from:
        slots = slots.filter(starts_at__gte=slotgen.wall_to_utc(date_from, time(0, 0), tz))
    if date_until:
        slots = slots.filter(
            starts_at__lt=slotgen.wall_to_utc(date_until + timedelta(days=1), time(0, 0), tz)
        )
    return slots.select_related("doctor__practice", "doctor__specialty").order_by(
        "starts_at", "doctor_id"
    )


def bookings_for_patient(*, patient) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(patient=patient)
        .select_related("doctor__practice", "doctor__specialty", "visit_reason")
        .order_by("starts_at")
    )


@dataclass
class DoctorSlots:
    """A search hit: one doctor, the visit reason the slots fit (if one was asked for) and the
    next free slots."""

    doctor: Doctor
    visit_reason: VisitReason | None
    slots: list[Slot] = field(default_factory=list)

    @property
    def practice(self) -> Practice:
        return self.doctor.practice


def visit_reasons_matching(
    *, text: str, insurance_type: str = "", practice: Practice | None = None
) -> QuerySet[VisitReason]:
    """Active visit reasons of active practices whose German or English name contains `text`."""
    reasons = VisitReason.objects.filter(is_active=True, practice__is_active=True).filter(
        Q(name__icontains=text.strip()) | Q(name_en__icontains=text.strip())
    )
    if insurance_type:
        reasons = reasons.filter(**{INSURANCE_FLAG[InsuranceType(insurance_type)]: True})
    if practice is not None:
        reasons = reasons.filter(practice=practice)
    return reasons.select_related("practice").order_by("practice__name", "name")


def doctors_with_next_slots(
    *,
    specialty: Specialty | None = None,
    place: str = "",
    insurance_type: str = "",
    reason_text: str = "",
    date_from: date | None = None,
    days: int = 14,
    per_doctor: int = 3,
    max_doctors: int = 20,
    max_reasons: int = 20,
) -> list[DoctorSlots]:
    """Doctors with free slots in `days` days from `date_from`, each with its next few slots.

    `place` is a postal code (prefix, digits only) or a city. With `reason_text`, only slots that
    fit a matching visit reason count: one query per matching reason (at most `max_reasons`),
    one query without.
    """
    date_from = date_from or timezone.localdate()
    place = place.strip()
    location = {"postal_code": place} if place.isdigit() else {"city": place}
    common = dict(
        specialty=specialty,
        insurance_type=insurance_type,
        date_from=date_from,
        date_until=date_from + timedelta(days=days - 1),
        **location,
    )
    if reason_text.strip():
        reasons = list(visit_reasons_matching(text=reason_text, insurance_type=insurance_type)[:max_reasons])
        queries = [(reason, slots_free(visit_reason=reason, **common)) for reason in reasons]
    else:
        queries = [(None, slots_free(**common))]

    hits: dict[tuple[int, int | None], DoctorSlots] = {}
    full = 0  # hits with per_doctor slots: once all max_doctors are full, no later slot counts
    for reason, slots in queries:
        if full >= max_doctors:
            break
        for slot in slots.iterator(chunk_size=500):
            key = (slot.doctor_id, reason.pk if reason else None)
            hit = hits.get(key)
            if hit is None:
                if len(hits) >= max_doctors:
                    continue
                hit = hits[key] = DoctorSlots(doctor=slot.doctor, visit_reason=reason)
            if len(hit.slots) < per_doctor:
                hit.slots.append(slot)
                if len(hit.slots) == per_doctor:
                    full += 1
                    if full >= max_doctors:
                        break
    return sorted(hits.values(), key=lambda hit: (hit.slots[0].starts_at, hit.doctor.name))


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def slots_by_day(slots, first_day: date, days: int = 7) -> list[tuple[date, list[Slot]]]:
    """The slots grouped by their Europe/Berlin day, one entry per day even when it is empty."""
    tz = ZoneInfo(settings.TIME_ZONE)
    grouped: dict[date, list[Slot]] = {first_day + timedelta(days=i): [] for i in range(days)}
    for slot in slots:
        day = timezone.localtime(slot.starts_at, tz).date()
        if day in grouped:
            grouped[day].append(slot)
    return list(grouped.items())


def booking_for_patient(*, patient, public_id) -> Booking | None:
    return bookings_for_patient(patient=patient).filter(public_id=public_id).first()


def bookings_upcoming_and_past(*, patient) -> tuple[list[Booking], list[Booking]]:
    now = timezone.now()
    bookings = list(bookings_for_patient(patient=patient))
    upcoming = [b for b in bookings if b.is_active and b.starts_at > now]
    past = [b for b in bookings if not (b.is_active and b.starts_at > now)]
    past.sort(key=lambda b: b.starts_at, reverse=True)
    return upcoming, past


def slot_alerts_for_patient(*, patient) -> QuerySet[SlotAlert]:
    return (
        SlotAlert.objects.filter(patient=patient, is_active=True)
        .select_related("doctor__practice", "practice", "specialty", "visit_reason")
        .order_by("date_from", "created_at")
    )


def slot_alerts_matching(
    *, slots: list[Slot], limit: int, quiet_since=None
) -> list[tuple[SlotAlert, list[Slot]]]:
    """The oldest active alerts that one of `slots` (free, bookable) fits, each with its fitting
    slots, at most `limit` alerts. Alerts notified after `quiet_since` wait their turn."""
    if not slots or limit <= 0:
        return []
    tz = ZoneInfo(settings.TIME_ZONE)
    doctors = {slot.doctor_id: slot.doctor for slot in slots}
    days = [timezone.localtime(slot.starts_at, tz).date() for slot in slots]
    candidates = SlotAlert.objects.filter(
        Q(doctor__in=doctors)
        | Q(doctor__isnull=True, practice__in={d.practice_id for d in doctors.values()})
        | Q(doctor__isnull=True, practice__isnull=True, specialty__in={d.specialty_id for d in doctors.values()}),
        is_active=True,
        date_from__lte=max(days),
        date_until__gte=min(days),
        patient__is_active=True,
    ).select_related("patient", "visit_reason").order_by("created_at", "pk")
    if quiet_since is not None:
        candidates = candidates.filter(Q(notified_at__isnull=True) | Q(notified_at__lt=quiet_since))
    rule_reasons = _rule_reasons({slot.rule_id for slot in slots if slot.rule_id})
    found = []
    for alert in candidates.iterator(chunk_size=200):
        fitting = [slot for slot in slots if _alert_fits(alert, slot, tz, rule_reasons)]
        if fitting:
            found.append((alert, fitting))
            if len(found) >= limit:
                break
    return found


def _rule_reasons(rule_ids: set[int]) -> dict[int, set[int]]:
    reasons: dict[int, set[int]] = {rule_id: set() for rule_id in rule_ids}
    for rule_id, reason_id in AvailabilityRule.visit_reasons.through.objects.filter(
        availabilityrule_id__in=rule_ids
    ).values_list("availabilityrule_id", "visitreason_id"):
        reasons[rule_id].add(reason_id)
    return reasons


def _alert_fits(alert: SlotAlert, slot: Slot, tz, rule_reasons: dict[int, set[int]]) -> bool:
    doctor = slot.doctor
    practice = doctor.practice
    day = timezone.localtime(slot.starts_at, tz).date()
    if not alert.date_from <= day <= alert.date_until:
        return False
    if alert.doctor_id and alert.doctor_id != doctor.pk:
        return False
    if alert.practice_id and alert.practice_id != practice.pk:
        return False
    if alert.specialty_id and alert.specialty_id != doctor.specialty_id:
        return False
    if not practice.accepts(alert.insurance_type):
        return False
    reason = alert.visit_reason
    if reason is not None:
        allowed = rule_reasons.get(slot.rule_id, set())
        if (
            reason.practice_id != practice.pk
            or not reason.is_active
            or not reason.accepts(alert.insurance_type)
            or reason.duration_minutes > slot.minutes
            or (allowed and reason.pk not in allowed)
        ):
            return False
    return True
