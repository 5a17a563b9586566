"""Writes of the calendars app: connections, pushing bookings, pulling busy time, feeds.

Network calls go through calendars.client (each with a timeout); availability is written
only through bookings.busy (absences with source "calendar"). Logs carry connection ids and
counts, never URLs, credentials or event content.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings.busy import busy_blocks_replace
from bookings.ics import booking_uid
from bookings.models import Booking
from practices.models import Doctor

from . import crypto
from .addresses import address_problem
from .client import CalDAVCalendar, CalendarError, CalendarRefused, Changes, EventConflict, IcsCalendar
from .events import booking_event_ics, content_hash, is_our_uid
from .expand import busy_blocks, href_prefix
from .models import CalendarConnection, CalendarFeed, PushedEvent

logger = logging.getLogger(__name__)

PULL_LEASE = timedelta(minutes=10)
Status = CalendarConnection.Status


# --- Connections -------------------------------------------------------------------------


def connection_set_secret(*, connection: CalendarConnection, secret: str) -> None:
    """Encrypt and store a new secret (the admin form's write-only field)."""
    connection.secret_encrypted = crypto.encrypt(secret)
    if connection.pk:
        CalendarConnection.objects.filter(pk=connection.pk).update(secret_encrypted=connection.secret_encrypted)


def connection_delete(*, connection: CalendarConnection) -> None:
    """Remove a connection and the busy time it imported (its slots come back). Events it
    pushed stay in the external calendar: that calendar belongs to the doctor."""
    doctor = Doctor(pk=connection.doctor_id)
    prefix = connection.block_prefix
    with transaction.atomic():  # no imported busy time left behind without its connection
        connection.delete()
        busy_blocks_replace(doctor=doctor, prefixes=[prefix], blocks=[])
    logger.info("calendars.connection_deleted connection=%s", prefix)


def connection_changed(*, connection: CalendarConnection, previous: CalendarConnection) -> None:
    """After staff edited a connection: a new address (or provider) is another calendar, so what
    came from the old one goes (busy time, sync token, the record of pushed events); a connection
    that no longer pulls keeps no busy time that nothing will ever update."""
    moved = (previous.url, previous.provider) != (connection.url, connection.provider)
    with transaction.atomic():
        if moved:
            CalendarConnection.objects.filter(pk=connection.pk).update(sync_token="", last_full_sync_at=None)
            connection.sync_token, connection.last_full_sync_at = "", None
            PushedEvent.objects.filter(connection=connection).delete()
        if moved or not connection.pulls:
            busy_blocks_replace(doctor=Doctor(pk=connection.doctor_id), prefixes=[connection.block_prefix], blocks=[])
    logger.info("calendars.connection_changed connection=%s moved=%s pulls=%s", connection.pk, moved, connection.pulls)


def calendar_for(connection: CalendarConnection, *, timeout: int | None = None):
    problem = address_problem(connection.url)
    if problem:
        raise CalendarRefused(problem)
    if connection.provider == CalendarConnection.Provider.ICS:
        return IcsCalendar(connection, timeout=timeout)
    try:
        secret = crypto.decrypt(connection.secret_encrypted)
    except crypto.SecretUnreadable:
        raise CalendarError("the stored password cannot be decrypted; enter it again") from None
    return CalDAVCalendar(
        connection,
        secret,
        save_secret=lambda value: connection_set_secret(connection=connection, secret=value),
        timeout=timeout,
    )


def connection_record(*, connection: CalendarConnection, status: str, error: str = "") -> None:
    """Status and last error as staff see them in the admin; a conflict stays until resolved."""
    if status == Status.OK and connection.pushed_events.filter(state=PushedEvent.State.CONFLICT).exists():
        status, error = Status.CONFLICT, error or "an event we wrote was changed in the calendar"
    fields = {"status": status, "last_error": error[:300]}
    if status in (Status.OK, Status.CONFLICT):
        fields["last_sync_at"] = timezone.now()
    CalendarConnection.objects.filter(pk=connection.pk).update(**fields)
    for name, value in fields.items():
        setattr(connection, name, value)
    logger.info("calendars.status connection=%s status=%s", connection.pk, status)


def connection_test(*, connection: CalendarConnection, timeout: int = 5) -> str:
    """One bounded request proving the address and the credentials; '' when all is well."""
    try:
        calendar_for(connection, timeout=timeout).check()
    except CalendarError as error:
        connection_record(connection=connection, status=Status.ERROR, error=str(error))
        return str(error)
    connection_record(connection=connection, status=Status.OK)
    return ""


# --- Push --------------------------------------------------------------------------------


def _event_name(booking: Booking) -> str:
    return f"terminfinder-{booking.public_id}.ics"


def booking_push(*, connection: CalendarConnection, booking: Booking, calendar=None) -> str:
    """Bring the connection's event for `booking` in line with it: create, update or delete.

    Returns what happened ("created", "updated", "deleted", "unchanged", "conflict", "skipped").
    Creation only if absent and updates and deletions only if unchanged since we wrote it, so a
    re-run never makes a second event and an edit made in the calendar is reported, not
    overwritten. One pusher per (connection, booking) at a time: the row lock serialises a
    booking's creation and its quick cancellation.
    """
    if not connection.pushes:
        return "skipped"
    calendar = calendar or calendar_for(connection)
    PushedEvent.objects.get_or_create(
        connection=connection, booking=booking, defaults={"href": calendar.event_href(_event_name(booking))}
    )
    with transaction.atomic():
        pushed = PushedEvent.objects.select_for_update().get(connection=connection, booking=booking)
        booking = Booking.objects.select_related("doctor").get(pk=booking.pk)
        if pushed.state == PushedEvent.State.CONFLICT:
            return "conflict"
        try:
            outcome = _push_locked(calendar, pushed, booking)
        except EventConflict as error:
            pushed.state = PushedEvent.State.CONFLICT
            pushed.save(update_fields=["state", "updated_at"])
            logger.warning("calendars.push_conflict connection=%s booking=%s", connection.pk, booking.public_id)
            connection_record(connection=connection, status=Status.CONFLICT, error=str(error))
            return "conflict"
    logger.info("calendars.push connection=%s booking=%s outcome=%s", connection.pk, booking.public_id, outcome)
    if connection.status != Status.OK:
        connection_record(connection=connection, status=Status.OK)
    return outcome


def _push_locked(calendar, pushed: PushedEvent, booking: Booking) -> str:
    if not booking.is_active:
        etag = pushed.etag
        if not etag and pushed.state == PushedEvent.State.SYNCED:
            # Never noted as written, but an attempt may have died after its PUT: look once.
            existing = calendar.get(pushed.href)
            if existing is not None and booking_uid(booking) in existing.data:
                etag = existing.etag or "*"
        if pushed.state == PushedEvent.State.DELETED or not etag:
            pushed.state = PushedEvent.State.DELETED
            pushed.save(update_fields=["state", "updated_at"])
            return "unchanged"
        calendar.delete(pushed.href, etag)
        pushed.state, pushed.etag, pushed.content_hash = PushedEvent.State.DELETED, "", ""
        pushed.save(update_fields=["state", "etag", "content_hash", "updated_at"])
        return "deleted"
    data = booking_event_ics(booking)
    digest = content_hash(data)
    if pushed.etag and pushed.content_hash == digest and pushed.state == PushedEvent.State.SYNCED:
        return "unchanged"
    if pushed.etag:
        pushed.etag = calendar.update(pushed.href, data, pushed.etag)
        outcome = "updated"
    else:
        try:
            pushed.etag = calendar.create(pushed.href, data)
            outcome = "created"
        except EventConflict:
            # Something is at our address: ours from an attempt that died before we could
            # note its ETag (adopt it), or not ours (a conflict).
            existing = calendar.get(pushed.href)
            if existing is None or booking_uid(booking) not in existing.data:
                raise
            pushed.etag = calendar.update(pushed.href, data, existing.etag)
            outcome = "updated"
    pushed.content_hash, pushed.state = digest, PushedEvent.State.SYNCED
    pushed.save(update_fields=["etag", "content_hash", "state", "updated_at"])
    return outcome


def connection_resolve_conflicts(*, connection: CalendarConnection) -> int:
    """Staff chose Terminfinder's version: each event changed in the calendar is written again
    over the change (or deleted, if its booking was cancelled), conditional on the ETag it has
    now, so an edit made in the meantime is again reported instead of lost."""
    calendar = calendar_for(connection)
    conflicting = PushedEvent.objects.filter(connection=connection, state=PushedEvent.State.CONFLICT)
    resolved = 0
    for pushed in conflicting.select_related("booking"):
        current = calendar.get(pushed.href)
        PushedEvent.objects.filter(pk=pushed.pk, state=PushedEvent.State.CONFLICT).update(
            state=PushedEvent.State.SYNCED, etag=current.etag if current else "", content_hash=""
        )
        if booking_push(connection=connection, booking=pushed.booking, calendar=calendar) != "conflict":
            resolved += 1
    connection_record(connection=connection, status=Status.OK)
    logger.info("calendars.conflicts_resolved connection=%s count=%d", connection.pk, resolved)
    return resolved


def bookings_to_push(*, connection: CalendarConnection):
    """Upcoming confirmed bookings and cancelled ones still in the calendar."""
    now = timezone.now()
    return Booking.objects.filter(doctor_id=connection.doctor_id, ends_at__gt=now).filter(
        Q(status=Booking.Status.CONFIRMED)
        | Q(pushed_events__connection=connection, pushed_events__state=PushedEvent.State.SYNCED)
    ).distinct()


def connection_push_all(*, connection: CalendarConnection) -> dict[str, int]:
    """"Sync now" for pushing: every booking still ahead, once; unchanged ones cost nothing."""
    calendar = calendar_for(connection)
    counts: dict[str, int] = {}
    known = {
        booking_id: (state, content)
        for booking_id, state, content in PushedEvent.objects.filter(connection=connection)
        .exclude(etag="")
        .values_list("booking_id", "state", "content_hash")
    }
    for booking in bookings_to_push(connection=connection).order_by("starts_at").iterator(chunk_size=500):
        # Unchanged since we wrote it: no lock, no request (booking_push would agree).
        if booking.is_active and known.get(booking.pk) == (
            PushedEvent.State.SYNCED, content_hash(booking_event_ics(booking))
        ):
            outcome = "unchanged"
        else:
            outcome = booking_push(connection=connection, booking=booking, calendar=calendar)
        counts[outcome] = counts.get(outcome, 0) + 1
    if counts.get("conflict", 0) == 0:
        connection_record(connection=connection, status=Status.OK)
    logger.info("calendars.push_all connection=%s %s", connection.pk, counts)
    return counts


# --- Pull --------------------------------------------------------------------------------


@dataclass
class PullResult:
    skipped: bool = False
    full: bool = False
    unchanged: bool = False
    fetched: int = 0
    deleted: int = 0
    blocks_created: int = 0
    blocks_updated: int = 0
    blocks_deleted: int = 0
    unreadable: int = 0


def pull_window() -> tuple[datetime, datetime]:
    """Today (Berlin) to the end of the booking horizon: what slots exist for."""
    tz = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    start = datetime.combine(today, time(0), tzinfo=tz)
    end = datetime.combine(today + timedelta(weeks=settings.TERMINFINDER_BOOKING_HORIZON_WEEKS, days=1), time(0), tzinfo=tz)
    return start, end


def _claim(connection: CalendarConnection) -> bool:
    now = timezone.now()
    return bool(
        CalendarConnection.objects.filter(pk=connection.pk)
        .filter(Q(pull_lease_until__isnull=True) | Q(pull_lease_until__lt=now))
        .update(pull_lease_until=now + PULL_LEASE)
    )


def connection_pull(*, connection: CalendarConnection, full: bool = False) -> PullResult:
    """Import the calendar's busy time: incrementally with the sync token, in full when there
    is none, when the server lost it, or once a day (recurring events move into the horizon)."""
    if not connection.pulls:
        return PullResult(skipped=True)
    if not _claim(connection):
        logger.info("calendars.pull_skipped connection=%s reason=running", connection.pk)
        return PullResult(skipped=True)
    try:
        due = connection.last_full_sync_at is None or connection.last_full_sync_at < timezone.now() - timedelta(
            hours=settings.TERMINFINDER_CALENDAR_FULL_PULL_HOURS
        )
        token = "" if (full or due) else connection.sync_token
        changes = calendar_for(connection).changes(token)
        result = _apply(connection, changes)
    finally:
        CalendarConnection.objects.filter(pk=connection.pk).update(pull_lease_until=None)
    if result.unreadable:
        # Keep the old token: the next pull asks for the same objects again.
        connection_record(
            connection=connection,
            status=Status.ERROR,
            error=f"{result.unreadable} calendar object(s) could not be read; their busy time is kept",
        )
    else:
        fields = {"sync_token": changes.token}
        if changes.full:
            fields["last_full_sync_at"] = timezone.now()
        CalendarConnection.objects.filter(pk=connection.pk).update(**fields)
        for name, value in fields.items():
            setattr(connection, name, value)
        connection_record(connection=connection, status=Status.OK)
    logger.info(
        "calendars.pull connection=%s full=%s fetched=%d deleted=%d blocks=+%d~%d-%d",
        connection.pk, result.full, result.fetched, result.deleted,
        result.blocks_created, result.blocks_updated, result.blocks_deleted,
    )
    return result


def _apply(connection: CalendarConnection, changes: Changes) -> PullResult:
    result = PullResult(full=changes.full, unchanged=changes.unchanged)
    if changes.unchanged:
        return result
    start, end = pull_window()
    prefix = connection.block_prefix
    blocks, read = [], []
    for obj in changes.changed:
        found = busy_blocks(connection_prefix=prefix, href=obj.href, data=obj.data, window_start=start, window_end=end)
        if found is None:
            result.unreadable += 1
            continue
        blocks += found
        read.append(obj.href)
    if changes.full and not result.unreadable:
        prefixes = [prefix]
    else:
        # An object that could not be read keeps the busy time imported from it before; a full
        # pull with such an object replaces only what it could read (vanished objects go at the
        # next clean full pull).
        prefixes = [href_prefix(prefix, href) for href in read + changes.deleted]
    result.fetched, result.deleted = len(changes.changed), len(changes.deleted)
    _note_outside_edits(connection, changes)
    if prefixes:
        counts = busy_blocks_replace(doctor=Doctor(pk=connection.doctor_id), prefixes=prefixes, blocks=blocks)
        result.blocks_created, result.blocks_updated, result.blocks_deleted = counts.created, counts.updated, counts.deleted
    return result


def _note_outside_edits(connection: CalendarConnection, changes: Changes) -> None:
    """Our own events come back in the pull: one whose ETag is not the one we wrote, or that
    was deleted while its booking stands, was changed in the calendar. Reported, not undone.

    The rows are locked first: a push holds its row from before its request until its commit,
    so a change we made ourselves a moment ago is seen with its new ETag, not as someone else's.
    """
    etags = {obj.href: obj.etag for obj in changes.changed if is_our_uid_in(obj.data)}
    hrefs = list(etags) + changes.deleted
    if not hrefs:
        return
    with transaction.atomic():
        synced = PushedEvent.objects.select_for_update().filter(
            connection=connection, state=PushedEvent.State.SYNCED, href__in=hrefs
        )
        conflicts = [
            pushed.pk
            for pushed in synced.only("pk", "href", "etag")
            if (etags.get(pushed.href) and etags[pushed.href] != pushed.etag) or pushed.href in changes.deleted
        ]
        if conflicts:
            PushedEvent.objects.filter(pk__in=conflicts).update(state=PushedEvent.State.CONFLICT)
    if conflicts:
        logger.warning("calendars.outside_edit connection=%s events=%d", connection.pk, len(conflicts))


def is_our_uid_in(data: str) -> bool:
    for line in data.splitlines():
        if line.startswith("UID:") and is_our_uid(line[4:].strip()):
            return True
    return False


# --- Feeds -------------------------------------------------------------------------------


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_create(*, doctor: Doctor) -> tuple[CalendarFeed, str]:
    """A new feed for the doctor, revoking the previous one; the token is returned only here."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(doctor=doctor, revoked_at__isnull=True).update(revoked_at=timezone.now())
        feed = CalendarFeed.objects.create(doctor=doctor, token_hash=feed_token_hash(token))
    logger.info("calendars.feed_created feed=%s", feed.public_id)
    return feed, token


def feed_revoke(*, feed: CalendarFeed) -> None:
    CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    logger.info("calendars.feed_revoked feed=%s", feed.public_id)
