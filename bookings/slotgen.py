"""Pure computation of slot times from weekly rules: wall-clock rules in, UTC intervals out.

Rules speak wall-clock time in the practice's zone (08:00 is 08:00 in summer and winter).
Slots are cut in absolute time from the start of each rule's window to its end, so on the
night of a DST change a window 01:00–04:00 yields exactly the hours that really exist:
two hours in March, four in October. No slot ever straddles a change wrongly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class RuleWindow:
    rule_id: int
    weekday: int
    start: time
    end: time
    slot_minutes: int
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)


def _exists(wall: datetime, tz: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall


def wall_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time; a time skipped by a DST change moves to the first
    instant after the gap, an ambiguous one takes its first occurrence."""
    wall = datetime.combine(day, at)
    while not _exists(wall, tz):
        wall += timedelta(minutes=1)
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


def daterange(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def slot_intervals(
    windows: Iterable[RuleWindow], first: date, last: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime, int]]:
    """(start, end, rule_id) in UTC for every slot of the windows on days first..last.

    Where two rules overlap, the earlier-starting slot wins and overlapping ones are dropped.
    """
    windows = list(windows)
    found: list[tuple[datetime, datetime, int]] = []
    for day in daterange(first, last):
        for window in windows:
            if not window.applies_on(day):
                continue
            start = wall_to_utc(day, window.start, tz)
            end = wall_to_utc(day, window.end, tz)
            step = timedelta(minutes=window.slot_minutes)
            while start + step <= end:
                found.append((start, start + step, window.rule_id))
                start += step
    found.sort()
    result: list[tuple[datetime, datetime, int]] = []
    for interval in found:
        if result and interval[0] < result[-1][1]:
            continue
        result.append(interval)
    return result


def overlaps(start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]) -> bool:
    return any(b_start < end and start < b_end for b_start, b_end in busy)
