"""A rep's working hours in their own timezone: is a rep working, and working-time arithmetic."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.core.sales_events import RepProfile

MINUTES_PER_DAY = 1440
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Schedule:
    """A rep's working window on each of their work days, normalised."""

    zone: tzinfo
    start_minute: int
    end_minute: int
    days: frozenset[int]


@lru_cache(maxsize=512)
def _zone(name: str) -> tzinfo:
    """The IANA zone ``name``; an unknown or malformed name counts as UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _schedule(rep: RepProfile) -> _Schedule | None:
    """The rep's schedule, or None when it contains no working time at all."""
    start = min(max(rep.work_start_minute, 0), MINUTES_PER_DAY)
    end = min(max(rep.work_end_minute, 0), MINUTES_PER_DAY)
    days = frozenset(day for day in rep.work_days if 1 <= day <= 7)
    if start >= end or not days:
        return None
    return _Schedule(_zone(rep.timezone), start, end, days)


def _local(at_ms: int, zone: tzinfo) -> datetime:
    """The naive local wall time of the instant ``at_ms`` in ``zone``."""
    return (_EPOCH + timedelta(milliseconds=at_ms)).astimezone(zone).replace(tzinfo=None)


def _to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_MS


def _wall_to_ms(day: date, minute: int, zone: tzinfo) -> int:
    """The first instant whose local wall time is at or after ``minute`` of ``day``.

    An ambiguous wall time (clocks going back) gives its earlier instant; a wall time that does
    not exist (clocks going forward) gives the transition instant, when the clock jumps past it.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    high = _to_ms(wall.replace(tzinfo=zone, fold=0))
    if _local(high, zone) == wall:
        return high
    # In a gap fold=1 applies the later offset: an instant just before the jump, clock < wall.
    low = _to_ms(wall.replace(tzinfo=zone, fold=1))
    if low >= high:
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if _local(middle, zone) >= wall:
            high = middle
        else:
            low = middle
    return high


@lru_cache(maxsize=8192)  # a pure function of its arguments; computing it is costly (routing)
def _day_interval(day: date, schedule: _Schedule) -> tuple[int, int] | None:
    """The working interval [start, end) of ``day`` in epoch ms, or None on a day off."""
    if day.isoweekday() not in schedule.days:
        return None
    start = _wall_to_ms(day, schedule.start_minute, schedule.zone)
    end = _wall_to_ms(day, schedule.end_minute, schedule.zone)
    return (start, end) if start < end else None


def _intervals_from(schedule: _Schedule, at_ms: int) -> Iterator[tuple[int, int]]:
    """Working intervals in time order, from the local day before ``at_ms`` on (endless)."""
    day = _local(at_ms, schedule.zone).date() - _ONE_DAY
    while True:
        interval = _day_interval(day, schedule)
        if interval is not None:
            yield interval
        day += _ONE_DAY


def is_working(rep: RepProfile, at_ms: int) -> bool:
    """True when ``at_ms`` falls inside the rep's working hours of a work day (local time)."""
    schedule = _schedule(rep)
    if schedule is None:
        return False
    today = _local(at_ms, schedule.zone).date()
    for day in (today - _ONE_DAY, today, today + _ONE_DAY):
        interval = _day_interval(day, schedule)
        if interval is not None and interval[0] <= at_ms < interval[1]:
            return True
    return False


def add_working_time(rep: RepProfile, start_ms: int, duration_ms: int) -> int:
    """The instant at which ``duration_ms`` of the rep's working time has elapsed after
    ``start_ms`` (nights and days off do not count); raise ValueError if the rep never works."""
    if duration_ms < 0:
        raise ValueError(f"duration_ms must be >= 0, got {duration_ms}")
    if duration_ms == 0:
        return start_ms
    schedule = _schedule(rep)
    if schedule is None:
        raise ValueError(f"rep {rep.rep_id!r} has no working time")
    remaining = duration_ms
    for start, end in _intervals_from(schedule, start_ms):
        if end <= start_ms:
            continue
        begin = max(start, start_ms)
        if remaining <= end - begin:
            return begin + remaining
        remaining -= end - begin
    raise AssertionError("unreachable: the interval generator is endless")  # pragma: no cover


def working_time_between(rep: RepProfile, a_ms: int, b_ms: int) -> int:
    """The rep's working time (ms) inside [a_ms, b_ms); 0 when b_ms <= a_ms."""
    schedule = _schedule(rep)
    if schedule is None or b_ms <= a_ms:
        return 0
    total = 0
    for start, end in _intervals_from(schedule, a_ms):
        if start >= b_ms:
            break
        total += max(0, min(end, b_ms) - max(start, a_ms))
    return total
