"""Receivers only dispatch: each writes an outbox row in the sender's transaction."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from bookings.models import Booking
from bookings.signals import slots_created
from practices.models import Doctor
from terminfinder.outbox.services import outbox_dispatch

from . import tasks


@receiver(post_save, sender=Booking, dispatch_uid="notifications.booking_saved")
def booking_saved(sender, instance: Booking, created: bool, update_fields=None, **kwargs):
    if created and instance.status == Booking.Status.CONFIRMED:
        outbox_dispatch(tasks.send_booking_confirmation, str(instance.public_id))
    elif update_fields and "status" in update_fields and instance.status == Booking.Status.CANCELLED:
        outbox_dispatch(tasks.send_booking_cancellation, str(instance.public_id))
        outbox_dispatch(
            tasks.notify_slot_alerts,
            instance.doctor_id,
            instance.starts_at.isoformat(),
            instance.starts_at.isoformat(),
        )


@receiver(slots_created, dispatch_uid="notifications.slots_created")
def new_slots(sender, doctor_id: int, starts_from, starts_until, **kwargs):
    outbox_dispatch(tasks.notify_slot_alerts, doctor_id, starts_from.isoformat(), starts_until.isoformat())


@receiver(post_save, sender=Doctor, dispatch_uid="notifications.doctor_saved")
def doctor_saved(sender, instance: Doctor, created: bool, update_fields=None, **kwargs):
    if (
        update_fields
        and "verification_status" in update_fields
        and instance.verification_status != Doctor.Verification.PENDING
        and instance.verified_at is not None
    ):
        outbox_dispatch(
            tasks.send_doctor_verification,
            str(instance.public_id),
            instance.verification_status,
            instance.verified_at.isoformat(),
        )
