"""Receivers only dispatch: each writes an outbox row in the sender's transaction."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from bookings.models import Booking
from terminfinder.outbox.services import outbox_dispatch

from . import tasks
from .selectors import push_connection_ids


@receiver(post_save, sender=Booking, dispatch_uid="calendars.booking_saved")
def booking_saved(sender, instance: Booking, created: bool, update_fields=None, **kwargs):
    booked = created and instance.status == Booking.Status.CONFIRMED
    cancelled = bool(update_fields) and "status" in update_fields and instance.status == Booking.Status.CANCELLED
    if booked or cancelled:
        for connection_id in push_connection_ids(doctor_id=instance.doctor_id):
            outbox_dispatch(tasks.push_booking, connection_id, str(instance.public_id))
