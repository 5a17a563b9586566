"""Exactly-once effect for emails: claim, send, mark sent."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from dramatiq import Retry

from .models import Delivery

logger = logging.getLogger(__name__)

# Longer than one SMTP conversation (EMAIL_TIMEOUT), shorter than the broker's redelivery of a
# dead worker's messages, so a redelivered message finds the lease of a killed worker expired.
# Tests shorten it through the env (TERMINFINDER_DELIVERY_LEASE_SECONDS).
LEASE = timedelta(seconds=settings.TERMINFINDER_DELIVERY_LEASE_SECONDS)


class AlreadyHandled(Exception):
    """The delivery was sent (or failed for good) before: nothing to do."""


class PermanentFailure(Exception):
    """Retrying cannot help (the recipient was refused, the object is gone)."""


def delivery_claim(*, kind: str, object_ref: str, recipient_ref: str) -> Delivery:
    """Claim the right to send this email now, or raise AlreadyHandled / Retry."""
    delivery, _ = Delivery.objects.get_or_create(
        kind=kind, object_ref=object_ref, recipient_ref=recipient_ref
    )
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if claimed:
        return delivery
    delivery.refresh_from_db()
    if delivery.status != Delivery.Status.PENDING:
        raise AlreadyHandled
    # Another worker holds the lease right now (a duplicated message): look again after it ran
    # out, then the row is sent, or free to claim if that worker died.
    raise Retry(delay=int(LEASE.total_seconds() * 1000) + 1000)


def delivery_sent(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )


def delivery_release(delivery: Delivery, error: BaseException) -> None:
    """The send failed but may work later: free the claim for the retry."""
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_until=None, last_error=type(error).__name__[:200]
    )


def delivery_failed(delivery: Delivery, error: BaseException) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.FAILED, claimed_until=None, last_error=type(error).__name__[:200]
    )


@contextmanager
def exactly_once(*, kind: str, object_ref: str, recipient_ref: str):
    """Run the block only if this delivery is still to be made; record how it went.

    Yields the claimed Delivery, or None when it was made before (then do nothing).
    Transient errors propagate (the actor retries them); PermanentFailure is recorded and
    swallowed, so the message is not retried.
    """
    try:
        delivery = delivery_claim(kind=kind, object_ref=object_ref, recipient_ref=recipient_ref)
    except AlreadyHandled:
        logger.info("delivery.skip kind=%s object=%s reason=already-handled", kind, object_ref)
        yield None
        return
    try:
        yield delivery
    except PermanentFailure as error:
        delivery_failed(delivery, error.__cause__ or error)
        logger.warning("delivery.failed kind=%s object=%s error=%s", kind, object_ref,
                       type(error.__cause__ or error).__name__)
        return
    except BaseException as error:
        delivery_release(delivery, error)
        raise
    delivery_sent(delivery)
    logger.info("delivery.sent kind=%s object=%s", kind, object_ref)
