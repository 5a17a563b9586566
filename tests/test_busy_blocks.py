"""bookings.busy: imported busy time as absences; the calendars app writes availability only
through here."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bookings.busy import BusyBlock, busy_blocks_replace
from bookings.models import Absence
from tests.calendar_support import calendar_doctor, hidden_starts, local  # noqa: F401 - fixture


def block(ref, day, hour, minutes=60):
    start = local(day, hour)
    return BusyBlock(ref=ref, starts_at=start, ends_at=start + timedelta(minutes=minutes))


def test_it_creates_moves_and_removes_blocks_under_a_prefix_only(calendar_doctor):
    day = timezone.localdate() + timedelta(days=3)
    busy_blocks_replace(doctor=calendar_doctor, prefixes=["x:1:"], blocks=[block("x:1:a", day, 9), block("x:1:b", day, 11)])
    busy_blocks_replace(doctor=calendar_doctor, prefixes=["x:2:"], blocks=[block("x:2:a", day, 10, 30)])

    result = busy_blocks_replace(doctor=calendar_doctor, prefixes=["x:1:"], blocks=[block("x:1:a", day, 10)])

    assert (result.created, result.updated, result.deleted) == (0, 1, 1)
    refs = set(Absence.objects.filter(doctor=calendar_doctor).values_list("source_ref", flat=True))
    assert refs == {"x:1:a", "x:2:a"}
    assert hidden_starts(calendar_doctor) == {local(day, 10), local(day, 10, 30)}


def test_it_refuses_a_block_outside_the_given_prefixes(calendar_doctor):
    day = timezone.localdate() + timedelta(days=3)

    with pytest.raises(ValueError):
        busy_blocks_replace(doctor=calendar_doctor, prefixes=["x:1:"], blocks=[block("y:1:a", day, 9)])

    assert not Absence.objects.filter(doctor=calendar_doctor).exists()


def test_it_leaves_manual_absences_alone(calendar_doctor):
    day = timezone.localdate() + timedelta(days=3)
    manual = Absence.objects.create(doctor=calendar_doctor, starts_at=local(day, 9), ends_at=local(day, 10), source_ref="x:1:a")

    busy_blocks_replace(doctor=calendar_doctor, prefixes=["x:1:"], blocks=[])

    assert Absence.objects.filter(pk=manual.pk).exists()
