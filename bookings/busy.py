"""Busy time imported from outside (external calendars) as absences with source "calendar".

A bookings service like those in services.py: consumers hand over blocks, the core owns how
they become absences and how slots follow. Kept apart only to keep services.py readable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from practices.models import Doctor

from .models import Absence
from .services import slots_regenerate_around


@dataclass(frozen=True)
class BusyBlock:
    """Busy time from an outside source; `ref` identifies it there (stable across imports)."""

    ref: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class BusyBlocksResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0


def busy_blocks_replace(
    *, doctor: Doctor, prefixes: Iterable[str], blocks: Iterable[BusyBlock]
) -> BusyBlocksResult:
    """Make the doctor's imported busy time under `prefixes` exactly `blocks`.

    Blocks are absences with source "calendar": new ones are created, moved ones updated, and
    those under a prefix that are no longer given are deleted. Then the slots of every day that
    changed are cut again: covered free slots go (booked ones stay, bookings are never touched),
    uncovered ones come back, and new slots announce themselves (`slots_created`) so slot alerts
    fire. Each given block's ref must start with one of the prefixes.
    """
    prefixes = [prefix for prefix in prefixes if prefix]
    if not prefixes:
        raise ValueError("busy_blocks_replace needs at least one non-empty prefix")
    wanted = {block.ref: block for block in blocks if block.ends_at > block.starts_at}
    stray = [ref for ref in wanted if not any(ref.startswith(prefix) for prefix in prefixes)]
    if stray:
        raise ValueError(f"{len(stray)} busy block(s) outside the given prefixes")
    query = Q()
    for prefix in prefixes:
        query |= Q(source_ref__startswith=prefix)
    result = BusyBlocksResult()
    touched: list[tuple[datetime, datetime]] = []
    with transaction.atomic():
        existing = {
            row.source_ref: row
            for row in Absence.objects.select_for_update()
            .filter(query, doctor=doctor, source=Absence.Source.CALENDAR)
            .only("pk", "source_ref", "starts_at", "ends_at")
        }
        gone = [row for ref, row in existing.items() if ref not in wanted]
        if gone:
            Absence.objects.filter(pk__in=[row.pk for row in gone]).delete()
            touched += [(row.starts_at, row.ends_at) for row in gone]
            result.deleted = len(gone)
        moved = []
        for ref, block in wanted.items():
            row = existing.get(ref)
            if row is not None and (row.starts_at, row.ends_at) != (block.starts_at, block.ends_at):
                touched += [(row.starts_at, row.ends_at), (block.starts_at, block.ends_at)]
                row.starts_at, row.ends_at = block.starts_at, block.ends_at
                moved.append(row)
        if moved:
            Absence.objects.bulk_update(moved, ["starts_at", "ends_at"], batch_size=500)
            result.updated = len(moved)
        new = [
            Absence(
                doctor=doctor,
                starts_at=block.starts_at,
                ends_at=block.ends_at,
                source=Absence.Source.CALENDAR,
                source_ref=ref,
            )
            for ref, block in wanted.items()
            if ref not in existing
        ]
        if new:
            Absence.objects.bulk_create(new, batch_size=500)
            touched += [(row.starts_at, row.ends_at) for row in new]
            result.created = len(new)
    for starts_at, ends_at in _day_ranges(touched):
        slots_regenerate_around(doctor=doctor, starts_at=starts_at, ends_at=ends_at)
    return result


def _day_ranges(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The intervals merged where they share or touch a local day: one slot run per stretch."""
    tz = ZoneInfo(settings.TIME_ZONE)
    merged: list[list] = []
    for starts_at, ends_at in sorted(intervals):
        first = timezone.localtime(starts_at, tz).date()
        last = timezone.localtime(ends_at, tz).date()
        if merged and first <= merged[-1][3] + timedelta(days=1):
            if last > merged[-1][3]:
                merged[-1][1], merged[-1][3] = ends_at, last
            continue
        merged.append([starts_at, ends_at, first, last])
    return [(starts_at, ends_at) for starts_at, ends_at, _, _ in merged]
