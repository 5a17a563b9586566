"""Transactional dispatch: every app sends its task messages through here.

`outbox_dispatch` writes a row in the caller's transaction and sends it once that transaction
commits. If Redis is down then, the row waits and `outbox_relay` (run by the scheduler every 20
seconds, and by `manage.py outbox_relay`) sends it later. A rolled-back transaction leaves no
row and sends nothing. Rows are sent under a row lock (skip locked), so two senders never send
the same row; a crash between enqueue and commit can send a row twice, with the same message
id, and the actors' delivery records absorb that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import timedelta

import dramatiq
from django.db import connection, transaction
from django.utils import timezone
from dramatiq import Message

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# After a failed send, the web process stops trying Redis for this long and leaves the rows to
# the relay, so a Redis outage does not add a connect timeout to every request.
BACKOFF_SECONDS = 10.0
_redis_down_until = 0.0
_lock = threading.Lock()


def outbox_dispatch(actor: dramatiq.Actor, *args, **kwargs) -> OutboxMessage:
    """Record a message for `actor` in the current transaction; send it after commit."""
    row = OutboxMessage.objects.create(
        actor_name=actor.actor_name, queue_name=actor.queue_name, args=list(args), kwargs=kwargs
    )
    transaction.on_commit(lambda: outbox_send(ids=[row.pk]), robust=True)
    return row


def _message(row: OutboxMessage) -> Message:
    return Message(
        queue_name=row.queue_name,
        actor_name=row.actor_name,
        args=tuple(row.args),
        kwargs=row.kwargs,
        options={},
        message_id=str(row.pk),
        message_timestamp=int(row.created_at.timestamp() * 1000),
    )


def outbox_send(*, ids: Iterable | None = None, limit: int = 500) -> int:
    """Send unsent rows (the given ones, or the oldest `limit`); return how many were sent."""
    global _redis_down_until
    if ids is not None and time.monotonic() < _redis_down_until:
        return 0
    broker = dramatiq.get_broker()
    sent = 0
    with transaction.atomic():
        rows = OutboxMessage.objects.filter(sent_at__isnull=True).order_by("created_at")
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        for row in rows[:limit]:
            try:
                broker.enqueue(_message(row))
            except Exception as error:  # noqa: BLE001 - any broker failure leaves the row for later
                OutboxMessage.objects.filter(pk=row.pk).update(
                    send_attempts=row.send_attempts + 1, last_error=type(error).__name__[:300]
                )
                with _lock:
                    _redis_down_until = time.monotonic() + BACKOFF_SECONDS
                logger.warning("outbox.send_failed message=%s error=%s", row.pk, type(error).__name__)
                break
            OutboxMessage.objects.filter(pk=row.pk).update(
                sent_at=timezone.now(), send_attempts=row.send_attempts + 1, last_error=""
            )
            sent += 1
    if sent and ids is None:
        logger.info("outbox.relayed count=%d", sent)
    return sent


def outbox_relay(*, limit: int = 500) -> int:
    """Send every row still unsent, in batches; the scheduler's periodic job."""
    global _redis_down_until
    _redis_down_until = 0.0
    total = 0
    while True:
        sent = outbox_send(limit=limit)
        total += sent
        if sent < limit:
            return total


def outbox_backlog() -> dict:
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    oldest = unsent.order_by("created_at").values_list("created_at", flat=True).first()
    return {"unsent": unsent.count(), "oldest": oldest}


def outbox_cleanup(*, older_than_days: int = 7) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted
