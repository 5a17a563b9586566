"""Helpers for the tests of the asynchronous flow (outbox → Redis → workers → SMTP)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import dramatiq
from django.utils import timezone
from icalendar import Calendar

from bookings.models import Booking, Slot
from bookings.services import booking_create
from notifications import monitoring
from terminfinder.accounts.models import User
from terminfinder.outbox import services as outbox_services
from tests import plugin


def flush_queues() -> None:
    """Drop everything Dramatiq keeps in Redis: queues, delayed and dead messages, the acks
    and heartbeats of (killed) workers. Only the broker's namespace, nothing else."""
    broker = dramatiq.get_broker()
    keys = list(broker.client.scan_iter(match=f"{broker.namespace}:*", count=1000))
    if keys:
        broker.client.delete(*keys)
    # A failed send in an earlier test must not make outbox_send skip Redis in this one.
    outbox_services._redis_down_until = 0.0


def reset_async_state() -> None:
    flush_queues()
    plugin.smtp_server.clear()


def queue_lengths() -> dict[str, int]:
    """Ready messages per queue (LLEN of Dramatiq's list), read through the monitoring module."""
    return {q.name: q.ready for q in monitoring.queue_stats()}


def queued_messages(queue: str) -> list[dict]:
    """The ready messages of a queue, oldest first, as Dramatiq stores them."""
    broker = dramatiq.get_broker()
    client, ns = broker.client, broker.namespace
    ids = client.lrange(f"{ns}:{queue}", 0, -1)
    if not ids:
        return []
    return [json.loads(raw) for raw in client.hmget(f"{ns}:{queue}.msgs", ids) if raw is not None]


def wait_until(condition, timeout: float = 30.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def make_patients(count: int, prefix: str = "p", **extra) -> list[User]:
    """Patients without a password (hashing 50 of them would take longer than the test)."""
    return [User.objects.create_user(email=f"{prefix}{i:03d}@example.org", **extra) for i in range(count)]


def make_slots(doctor, count: int, *, days: int = 5, minutes: int = 30) -> list[Slot]:
    """`count` back-to-back slots from `days` days ahead (clear of the world's slot and absence)."""
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return Slot.objects.bulk_create(
        [
            Slot(
                doctor=doctor,
                starts_at=start + timedelta(minutes=minutes * i),
                ends_at=start + timedelta(minutes=minutes * (i + 1)),
            )
            for i in range(count)
        ]
    )


def book(tenant, patient, slot: Slot) -> Booking:
    return booking_create(patient=patient, slot=slot, visit_reason=tenant.reason, insurance_type="statutory")


def to(address: str):
    return lambda mail: mail["To"] == address


def calendars(mail) -> list[Calendar]:
    return [
        Calendar.from_ical(part.get_payload(decode=True))
        for part in mail.iter_attachments()
        if part.get_content_type() == "text/calendar"
    ]


def event_uid(mail) -> str | None:
    """The UID of the (single) event in the mail's calendar attachment."""
    for calendar in calendars(mail):
        for event in calendar.walk("VEVENT"):
            return str(event["UID"])
    return None


def body(mail, subtype: str) -> str:
    part = mail.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None and part.get_content_subtype() == subtype else ""
