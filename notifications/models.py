from django.db import models
from django.utils.translation import gettext_lazy as _


class Delivery(models.Model):
    """One email of one kind about one object to one recipient: sent at most once.

    A worker claims the row with a conditional update and a short lease before it talks to the
    SMTP server, and marks it sent afterwards. A redelivered or duplicated message finds it sent
    (or claimed) and sends nothing; a worker killed mid-send leaves a lease that runs out, so the
    redelivered message sends it then.
    """

    class Kind(models.TextChoices):
        BOOKING_CONFIRMATION = "booking_confirmation", _("Booking confirmation")
        BOOKING_CANCELLATION = "booking_cancellation", _("Booking cancellation")
        BOOKING_REMINDER = "booking_reminder", _("Appointment reminder")
        SLOT_ALERT = "slot_alert", _("Slot alert")
        DOCTOR_VERIFICATION = "doctor_verification", _("Doctor verification")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed permanently")

    kind = models.CharField(max_length=40, choices=Kind.choices)
    # The object the email is about, e.g. "<booking public id>" or "<slot id>:<alert id>".
    object_ref = models.CharField(max_length=200)
    # A stable, non-personal reference to the recipient (user pk, "practice:<pk>", ...): the
    # address itself is looked up when sending, so this table holds no email addresses.
    recipient_ref = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_ref", "recipient_ref"], name="delivery_once_per_recipient"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_ref} → {self.recipient_ref}"
