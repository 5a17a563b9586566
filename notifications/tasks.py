"""Notification actors. Each takes ids, loads, claims its delivery, renders, sends.

Delivery is at least once (Dramatiq) and the effect exactly once (notifications.delivery).
Transient failures retry with bounded exponential backoff; permanent ones are recorded and not
retried; a message out of retries lands in its queue's dead letters (see the queues page).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlencode

import dramatiq
from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from dramatiq.middleware import CurrentMessage
from dramatiq_crontab import cron

from bookings.ics import booking_calendar
from bookings.models import Booking, SlotAlert
from bookings.selectors import slot_alerts_matching, slots_free
from bookings.services import slot_alerts_expire, slot_alerts_mark_notified
from practices.models import Doctor
from terminfinder.outbox.services import outbox_cleanup
from terminfinder.queues import DEFAULT, HIGH, LOW

from .delivery import exactly_once
from .emails import send_email
from .models import Delivery

logger = logging.getLogger(__name__)

EMAIL_OPTIONS = {
    "max_retries": settings.TERMINFINDER_EMAIL_MAX_RETRIES,
    "min_backoff": settings.TERMINFINDER_EMAIL_MIN_BACKOFF_MS,
    "max_backoff": settings.TERMINFINDER_EMAIL_MAX_BACKOFF_MS,
    "time_limit": 120_000,
}
UNSUBSCRIBE_SALT = "terminfinder.slot-alert.unsubscribe"
ALERT_QUIET_HOURS = 6
REMINDER_LEAD = timedelta(hours=24)
# How long a failed email can still be retried by Dramatiq: every backoff at its jittered
# maximum, plus each attempt's time limit. A reminder still pending after this lost its message.
EMAIL_RETRY_WINDOW = timedelta(
    milliseconds=sum(
        min(2 * EMAIL_OPTIONS["min_backoff"] * 2**attempt, EMAIL_OPTIONS["max_backoff"])
        for attempt in range(EMAIL_OPTIONS["max_retries"])
    )
    + (EMAIL_OPTIONS["max_retries"] + 1) * EMAIL_OPTIONS["time_limit"]
)


def _booking(public_id: str) -> Booking | None:
    booking = (
        Booking.objects.select_related("doctor__practice", "doctor__specialty", "patient", "visit_reason")
        .filter(public_id=public_id)
        .first()
    )
    if booking is None:
        # Gone (e.g. the patient deleted their data): nothing to send, nothing to retry.
        logger.info("notification.skip booking=%s reason=gone", public_id)
    return booking


def _booking_context(booking: Booking) -> dict:
    return {
        "booking": booking,
        "practice": booking.doctor.practice,
        "doctor": booking.doctor,
        "starts_at": timezone.localtime(booking.starts_at),
        "ends_at": timezone.localtime(booking.ends_at),
        "code": booking.code,
    }


def _calendar(booking: Booking, method: str, language: str) -> bytes:
    """The ICS attachment in the recipient's language (its title and description are text)."""
    with translation.override(language if language in dict(settings.LANGUAGES) else "de"):
        return booking_calendar(booking, method=method)


def _email_patient(booking: Booking, *, kind: str, template: str, ics_method: str | None = None) -> None:
    """One email about an active booking to its patient, at most once."""
    patient = booking.patient
    with exactly_once(
        kind=kind, object_ref=str(booking.public_id), recipient_ref=f"user:{patient.pk}"
    ) as delivery:
        if delivery is None:
            return
        attachments = []
        if ics_method:
            attachments.append(
                ("termin.ics", _calendar(booking, ics_method, patient.language), f"text/calendar; method={ics_method}")
            )
        send_email(
            to=patient.email,
            template=template,
            context=_booking_context(booking),
            language=patient.language,
            attachments=attachments,
        )


@dramatiq.actor(queue_name=HIGH, **EMAIL_OPTIONS)
def send_booking_confirmation(booking_public_id: str) -> None:
    booking = _booking(booking_public_id)
    if booking is None or booking.patient is None or not booking.is_active:
        return
    _email_patient(
        booking, kind=Delivery.Kind.BOOKING_CONFIRMATION, template="booking_confirmation", ics_method="REQUEST"
    )


@dramatiq.actor(queue_name=HIGH, **EMAIL_OPTIONS)
def send_booking_cancellation(booking_public_id: str) -> None:
    booking = _booking(booking_public_id)
    if booking is None or booking.is_active:
        return
    practice = booking.doctor.practice
    context = _booking_context(booking)
    recipients = []
    if booking.patient is not None:
        recipients.append((f"user:{booking.patient_id}", booking.patient.email, booking.patient.language, False))
    if booking.cancelled_by == Booking.CancelledBy.PATIENT and practice.email:
        recipients.append((f"practice:{practice.pk}", practice.email, "de", True))
    for recipient_ref, address, language, for_practice in recipients:
        with exactly_once(
            kind=Delivery.Kind.BOOKING_CANCELLATION,
            object_ref=str(booking.public_id),
            recipient_ref=recipient_ref,
        ) as delivery:
            if delivery is None:
                continue
            send_email(
                to=address,
                template="booking_cancellation",
                context={**context, "for_practice": for_practice},
                language=language,
                attachments=[("termin.ics", _calendar(booking, "CANCEL", language), "text/calendar; method=CANCEL")],
            )


@dramatiq.actor(queue_name=DEFAULT, **EMAIL_OPTIONS)
def send_booking_reminder(booking_public_id: str) -> None:
    booking = _booking(booking_public_id)
    if booking is None or booking.patient is None or not booking.is_active:
        return
    if booking.starts_at <= timezone.now():
        return
    _email_patient(booking, kind=Delivery.Kind.BOOKING_REMINDER, template="booking_reminder")


@cron("*/10 * * * *")
@dramatiq.actor(queue_name=DEFAULT, max_retries=3, time_limit=300_000)
def scan_booking_reminders() -> int:
    """Find bookings due for their reminder (24 h ahead) and send one message each.

    A periodic scan instead of messages delayed by days: nothing to lose when Redis restarts,
    and a moved or cancelled booking needs no message to be withdrawn.
    """
    now = timezone.now()
    due = list(
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            patient__isnull=False,
            starts_at__gt=now + timedelta(hours=1),
            starts_at__lte=now + REMINDER_LEAD,
            created_at__lte=now - timedelta(hours=1),
        ).values_list("public_id", "created_at", "starts_at")
    )
    # Booked less than a day ahead: the confirmation is the reminder.
    ids = [str(pid) for pid, created, starts in due if starts - created >= REMINDER_LEAD]
    # A pending delivery is in Dramatiq's hands (claimed, or waiting for its retry): enqueueing
    # it again every scan only piles up duplicates. Only once its retries must be over is it
    # sent again, so a retry lost with a Redis restart (or dead-lettered) still gets its reminder.
    done = set(
        Delivery.objects.filter(kind=Delivery.Kind.BOOKING_REMINDER, object_ref__in=ids)
        .exclude(status=Delivery.Status.PENDING, created_at__lt=now - EMAIL_RETRY_WINDOW)
        .values_list("object_ref", flat=True)
    )
    todo = [pid for pid in ids if pid not in done]
    for pid in todo:
        send_booking_reminder.send(pid)
    return len(todo)


def _book_url(alert: SlotAlert, slot) -> str:
    """The doctor's week view at the first free slot, filtered as the alert asked."""
    query = {"insurance": alert.insurance_type, "week": timezone.localdate(slot.starts_at).isoformat()}
    if alert.visit_reason_id:
        query["reason"] = str(alert.visit_reason.public_id)
    path = reverse("bookings:doctor-slots", args=[slot.doctor.public_id])
    return f"{settings.TERMINFINDER_BASE_URL}{path}?{urlencode(query)}"


def unsubscribe_token(alert: SlotAlert) -> str:
    return signing.dumps(str(alert.public_id), salt=UNSUBSCRIBE_SALT)


@dramatiq.actor(queue_name=LOW, **EMAIL_OPTIONS)
def notify_slot_alerts(doctor_id: int, starts_from: str, starts_until: str) -> None:
    """A slot freed up or new slots appeared: tell the oldest matching alerts (first N).

    Which alerts hear about this event is decided once and stored as deliveries under the
    message id, so a redelivered message sends to the same people and no one else.
    """
    event = CurrentMessage.get_current_message().message_id
    kind = Delivery.Kind.SLOT_ALERT
    if not Delivery.objects.filter(kind=kind, object_ref=event).exists():
        slots = list(
            slots_free(
                doctor=Doctor(pk=doctor_id),
            ).filter(
                starts_at__gte=datetime.fromisoformat(starts_from),
                starts_at__lte=datetime.fromisoformat(starts_until),
            ).select_related("rule")[:500]
        )
        quiet = timezone.now() - timedelta(hours=ALERT_QUIET_HOURS)
        with transaction.atomic():
            chosen = slot_alerts_matching(
                slots=slots, limit=settings.TERMINFINDER_SLOT_ALERT_BATCH, quiet_since=quiet
            )
            Delivery.objects.bulk_create(
                [Delivery(kind=kind, object_ref=event, recipient_ref=str(alert.public_id)) for alert, _ in chosen],
                ignore_conflicts=True,
            )
            slot_alerts_mark_notified(alerts=[alert for alert, _ in chosen])
    pending = Delivery.objects.filter(kind=kind, object_ref=event, status=Delivery.Status.PENDING)
    for recipient_ref in pending.values_list("recipient_ref", flat=True):
        alert = SlotAlert.objects.select_related("patient").filter(public_id=recipient_ref).first()
        with exactly_once(kind=kind, object_ref=event, recipient_ref=recipient_ref) as delivery:
            if delivery is None or alert is None or not alert.is_active:
                continue
            slots = list(
                slots_free(
                    doctor=Doctor(pk=doctor_id),
                    insurance_type=alert.insurance_type,
                    visit_reason=alert.visit_reason,
                    # The same days _alert_fits chose the alert for: no slot outside them in the email.
                    date_from=alert.date_from,
                    date_until=alert.date_until,
                )
                .filter(
                    starts_at__gte=datetime.fromisoformat(starts_from),
                    starts_at__lte=datetime.fromisoformat(starts_until),
                )
                .select_related("rule")[:3]
            )
            if not slots:
                continue  # taken again in the meantime: no email about a slot that is gone
            unsubscribe_url = settings.TERMINFINDER_BASE_URL + reverse(
                "notifications:alert-unsubscribe", args=[unsubscribe_token(alert)]
            )
            send_email(
                to=alert.patient.email,
                template="slot_alert",
                context={
                    "alert": alert,
                    "slots": [timezone.localtime(slot.starts_at) for slot in slots],
                    "doctor": slots[0].doctor,
                    "practice": slots[0].doctor.practice,
                    "book_url": _book_url(alert, slots[0]),
                    "unsubscribe_url": unsubscribe_url,
                },
                language=alert.patient.language,
                # RFC 8058: the one-click header only means something next to List-Unsubscribe.
                headers={
                    "List-Unsubscribe": f"<{unsubscribe_url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )


@dramatiq.actor(queue_name=DEFAULT, **EMAIL_OPTIONS)
def send_doctor_verification(doctor_public_id: str, status: str, decided_at: str) -> None:
    doctor = Doctor.objects.select_related("practice").filter(public_id=doctor_public_id).first()
    if doctor is None:
        return
    address = doctor.email or doctor.practice.email
    if not address:
        logger.info("notification.skip doctor=%s reason=no-address", doctor_public_id)
        return
    with exactly_once(
        kind=Delivery.Kind.DOCTOR_VERIFICATION,
        object_ref=f"{doctor_public_id}:{status}:{decided_at}",
        recipient_ref=f"doctor:{doctor.pk}",
    ) as delivery:
        if delivery is None:
            return
        send_email(
            to=address,
            template="doctor_verification",
            context={"doctor": doctor, "practice": doctor.practice, "verified": status == Doctor.Verification.VERIFIED},
            language="de",
        )


@cron("30 3 * * *")
@dramatiq.actor(queue_name=LOW, max_retries=3, time_limit=600_000)
def cleanup() -> None:
    """Expired alerts end; delivery records after 90 days and sent outbox rows after 7 go."""
    expired = slot_alerts_expire()
    cutoff = timezone.now() - timedelta(days=90)
    deliveries, _ = Delivery.objects.filter(created_at__lt=cutoff).exclude(status=Delivery.Status.PENDING).delete()
    outbox = outbox_cleanup(older_than_days=7)
    logger.info("cleanup alerts_expired=%d deliveries=%d outbox=%d", expired, deliveries, outbox)
