import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from practices.models import Doctor, InsuranceType, Practice, Specialty, VisitReason, Weekday


class AvailabilityRule(models.Model):
    """A doctor's weekly consulting hours, cut into slots of `slot_minutes`.

    Times are wall-clock times in Europe/Berlin: 08:00 stays 08:00 across DST changes.
    """

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="availability_rules", verbose_name=_("doctor")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length (minutes)"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(480)],
    )
    visit_reasons = models.ManyToManyField(
        VisitReason,
        blank=True,
        related_name="availability_rules",
        verbose_name=_("visit reasons"),
        help_text=_("Leave empty to allow every visit reason of the practice."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["doctor", "weekday", "start_time"]
        verbose_name = _("availability rule")
        verbose_name_plural = _("availability rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="rule_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=F("valid_from")),
                name="rule_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.doctor} · {self.get_weekday_display()} {self.start_time:%H:%M}–{self.end_time:%H:%M}"

    def clean(self) -> None:
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            raise ValidationError({"end_time": _("The end must be after the start.")})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("“Valid until” must not be before “valid from”.")})


class Absence(models.Model):
    """Time a doctor is not available: holidays, training, or busy time from an external calendar."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by the practice")
        CALENDAR = "calendar", _("External calendar")

    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="absences", verbose_name=_("doctor")
    )
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    reason = models.CharField(_("note"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.MANUAL
    )
    # Identifies the block in its source (e.g. an external event UID) so a re-import updates it.
    source_ref = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        indexes = [models.Index(fields=["doctor", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="absence_end_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.doctor} · {self.starts_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must be after the start.")})


class Slot(models.Model):
    """A materialised bookable time of one doctor, made by `slots_generate` from the rules."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="slots", verbose_name=_("doctor")
    )
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    rule = models.ForeignKey(
        AvailabilityRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
        verbose_name=_("rule"),
    )

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        constraints = [
            models.UniqueConstraint(fields=["doctor", "starts_at"], name="slot_unique_start"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="slot_end_after_start"),
        ]
        indexes = [models.Index(fields=["starts_at", "doctor"])]

    def __str__(self) -> str:
        return f"{self.doctor} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Booking(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        CANCELLED = "cancelled", _("Cancelled")

    class CancelledBy(models.TextChoices):
        PATIENT = "patient", _("Patient")
        PRACTICE = "practice", _("Practice")
        SYSTEM = "system", _("System")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slot = models.ForeignKey(
        Slot, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("slot")
    )
    # Copied from the slot so the database can forbid overlapping bookings of one doctor
    # (exclusion constraint on PostgreSQL, see migration 0002).
    doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, related_name="bookings", verbose_name=_("doctor")
    )
    starts_at = models.DateTimeField(_("start"))
    ends_at = models.DateTimeField(_("end"))
    # Null once the patient deleted their account: the practice's record stays, anonymised.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
        verbose_name=_("patient"),
    )
    insurance_type = models.CharField(
        _("insurance"), max_length=20, choices=InsuranceType.choices
    )
    visit_reason = models.ForeignKey(
        VisitReason,
        on_delete=models.PROTECT,
        related_name="bookings",
        verbose_name=_("visit reason"),
    )
    new_patient = models.BooleanField(_("new patient"), default=False)
    note = models.TextField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED, db_index=True
    )
    cancelled_by = models.CharField(
        _("cancelled by"), max_length=10, choices=CancelledBy.choices, blank=True
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True, editable=False)
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        constraints = [
            # The last word against double booking, whatever code path writes.
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status="confirmed"),
                name="booking_one_active_per_slot",
            ),
            models.UniqueConstraint(
                fields=["patient", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="booking_idempotency_key_per_patient",
            ),
            models.CheckConstraint(
                condition=Q(status="confirmed", cancelled_at__isnull=True)
                | Q(status="cancelled", cancelled_at__isnull=False),
                name="booking_cancelled_at_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["doctor", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.code} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def code(self) -> str:
        """A short reference to read out on the phone; carries no personal data."""
        return self.public_id.hex[:8].upper()

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.CONFIRMED

    def gdpr_export(self) -> dict:
        practice = self.doctor.practice
        return {
            "code": self.code,
            "public_id": str(self.public_id),
            "practice": practice.name,
            "address": f"{practice.street}, {practice.postal_code} {practice.city}",
            "doctor": str(self.doctor),
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "visit_reason": self.visit_reason.name,
            "insurance_type": self.insurance_type,
            "new_patient": self.new_patient,
            "note": self.note,
            "status": self.status,
            "cancelled_by": self.cancelled_by,
            "cancelled_at": self.cancelled_at.isoformat() if self.cancelled_at else None,
            "cancellation_reason": self.cancellation_reason,
            "booked_at": self.created_at.isoformat(),
        }

    @classmethod
    def gdpr_anonymise(cls, queryset) -> None:
        """The practice keeps the appointment (its records must stay consistent), not what the
        patient wrote: the note, their own cancellation reason and the idempotency key go."""
        queryset.update(note="", idempotency_key="")
        queryset.filter(cancelled_by=cls.CancelledBy.PATIENT).update(cancellation_reason="")


class SlotAlert(models.Model):
    """A patient's wish to hear when a matching slot frees up or appears."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="slot_alerts",
        verbose_name=_("patient"),
    )
    doctor = models.ForeignKey(
        Doctor,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slot_alerts",
        verbose_name=_("doctor"),
    )
    practice = models.ForeignKey(
        Practice,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slot_alerts",
        verbose_name=_("practice"),
    )
    specialty = models.ForeignKey(
        Specialty,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slot_alerts",
        verbose_name=_("specialty"),
    )
    date_from = models.DateField(_("from"))
    date_until = models.DateField(_("until"))
    visit_reason = models.ForeignKey(
        VisitReason,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="slot_alerts",
        verbose_name=_("visit reason"),
    )
    insurance_type = models.CharField(_("insurance"), max_length=20, choices=InsuranceType.choices)
    is_active = models.BooleanField(_("active"), default=True, db_index=True)
    notified_at = models.DateTimeField(_("last notified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("slot alert")
        verbose_name_plural = _("slot alerts")
        constraints = [
            models.CheckConstraint(
                condition=Q(doctor__isnull=False) | Q(practice__isnull=False) | Q(specialty__isnull=False),
                name="slot_alert_has_target",
            ),
            models.CheckConstraint(
                condition=Q(date_until__gte=F("date_from")), name="slot_alert_date_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id.hex[:8]} · {self.date_from} – {self.date_until}"

    def gdpr_export(self) -> dict:
        return {
            "public_id": str(self.public_id),
            "doctor": str(self.doctor) if self.doctor else None,
            "practice": self.practice.name if self.practice else None,
            "specialty": self.specialty.name if self.specialty else None,
            "visit_reason": self.visit_reason.name if self.visit_reason else None,
            "insurance_type": self.insurance_type,
            "date_from": self.date_from.isoformat(),
            "date_until": self.date_until.isoformat(),
            "is_active": self.is_active,
            "notified_at": self.notified_at.isoformat() if self.notified_at else None,
            "created_at": self.created_at.isoformat(),
        }
