"""Reads of the bookings app: each returns a queryset evaluated in a fixed number of queries."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from practices.models import INSURANCE_FLAG, Doctor, InsuranceType, Practice, Specialty, VisitReason

from . import slotgen
from .models import Absence, AvailabilityRule, Booking, Slot


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
        .select_related("doctor__practice", "visit_reason")
        .order_by("starts_at")
    )
