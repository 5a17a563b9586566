import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class InsuranceType(models.TextChoices):
    STATUTORY = "statutory", _("Statutory (GKV)")
    PRIVATE = "private", _("Private (PKV)")
    SELF_PAY = "self_pay", _("Self-pay")


# Practices and visit reasons say which insurance types they take with one flag each, so a
# filter by insurance type is a plain indexed boolean on every database.
INSURANCE_FLAG = {
    InsuranceType.STATUTORY: "accepts_statutory",
    InsuranceType.PRIVATE: "accepts_private",
    InsuranceType.SELF_PAY: "accepts_self_pay",
}


class InsuranceFlags(models.Model):
    accepts_statutory = models.BooleanField(_("statutory (GKV)"), default=True)
    accepts_private = models.BooleanField(_("private (PKV)"), default=True)
    accepts_self_pay = models.BooleanField(_("self-pay"), default=True)

    class Meta:
        abstract = True

    def accepts(self, insurance_type: str) -> bool:
        return bool(getattr(self, INSURANCE_FLAG[InsuranceType(insurance_type)]))

    @property
    def insurance_types(self) -> list[str]:
        return [t.value for t in InsuranceType if self.accepts(t)]


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Specialty(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")

    def __str__(self) -> str:
        return self.name


class Practice(InsuranceFlags):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=5, db_index=True)
    city = models.CharField(_("city"), max_length=100, db_index=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    cancellation_deadline_hours = models.PositiveIntegerField(
        _("cancellation deadline (hours)"),
        default=24,
        validators=[MaxValueValidator(24 * 14)],
        help_text=_("Patients can cancel online until this many hours before the appointment."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("practice")
        verbose_name_plural = _("practices")

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"


class OpeningHours(models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("practice")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="opening_hours_closes_after_opens"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Doctor(models.Model):
    class Verification(models.TextChoices):
        PENDING = "pending", _("Pending")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="doctors", verbose_name=_("practice")
    )
    title = models.CharField(_("title"), max_length=50, blank=True, help_text=_("e.g. Dr. med."))
    name = models.CharField(_("name"), max_length=150)
    specialty = models.ForeignKey(
        Specialty, on_delete=models.PROTECT, related_name="doctors", verbose_name=_("specialty")
    )
    email = models.EmailField(_("email"), blank=True)
    verification_status = models.CharField(
        _("verification"),
        max_length=10,
        choices=Verification.choices,
        default=Verification.PENDING,
        db_index=True,
    )
    verified_at = models.DateTimeField(_("verification decided at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verification decided by"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("doctor")
        verbose_name_plural = _("doctors")

    def __str__(self) -> str:
        return f"{self.title} {self.name}".strip()

    @property
    def is_verified(self) -> bool:
        return self.verification_status == self.Verification.VERIFIED


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        STAFF = "staff", _("Staff")
        DOCTOR = "doctor", _("Doctor")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("practice")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="membership_unique_per_practice")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.practice.name} ({self.get_role_display()})"


class VisitReason(InsuranceFlags):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="visit_reasons", verbose_name=_("practice")
    )
    name = models.CharField(_("name"), max_length=150)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=15, validators=[MinValueValidator(5), MaxValueValidator(480)]
    )
    new_patients_allowed = models.BooleanField(_("new patients may book"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("visit reason")
        verbose_name_plural = _("visit reasons")
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="visit_reason_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class FAQEntry(models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="faq_entries", verbose_name=_("practice")
    )
    question = models.CharField(_("question"), max_length=300)
    answer = models.TextField(_("answer"))
    keywords = models.CharField(
        _("keywords"), max_length=300, blank=True, help_text=_("Comma-separated search words.")
    )
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="de"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")

    def __str__(self) -> str:
        return self.question
