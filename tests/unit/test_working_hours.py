"""Working hours across timezones and DST, and working-time arithmetic (examples and properties)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.sales_events import RepProfile
from streams.core.working_hours import add_working_time, is_working, working_time_between

HOUR = 3_600_000
DAY = 24 * HOUR
ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney",
         "America/Sao_Paulo", "Pacific/Chatham", "Mars/Olympus_Mons"]


def rep(timezone: str = "UTC", start: int = 540, end: int = 1080,
        days: tuple[int, ...] = (1, 2, 3, 4, 5)) -> RepProfile:
    return RepProfile("e-1", 0, "r-1", True, ("P",), (), work_start_minute=start,
                      work_end_minute=end, work_days=days, timezone=timezone)


def ms(text: str, zone: str = "UTC") -> int:
    """Epoch ms of a local wall time such as '2024-03-11 09:00' (fold 0)."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    return int(local.timestamp() * 1000)


def test_inside_and_outside_hours_utc() -> None:
    r = rep()
    assert is_working(r, ms("2024-03-11 09:00"))  # Monday, start is inclusive
    assert is_working(r, ms("2024-03-11 17:59")) and is_working(r, ms("2024-03-11 18:00") - 1)
    assert not is_working(r, ms("2024-03-11 18:00"))  # end is exclusive
    assert not is_working(r, ms("2024-03-11 08:59"))
    assert not is_working(r, ms("2024-03-09 12:00"))  # Saturday


@pytest.mark.parametrize(
    ("zone", "utc_time", "working"),
    [
        ("America/New_York", "2024-03-08 14:00", True),  # Fri 9:00 EST (UTC-5)
        ("America/New_York", "2024-03-11 13:00", True),  # Mon 9:00 EDT (UTC-4) after DST
        ("America/New_York", "2024-03-11 12:59", False),
        ("America/New_York", "2024-03-11 22:00", False),  # Mon 18:00 EDT
        ("Europe/Berlin", "2024-07-01 07:00", True),  # 9:00 CEST
        ("Europe/Berlin", "2024-07-01 06:59", False),
        ("Asia/Kolkata", "2024-07-01 03:30", True),  # 9:00 IST (UTC+5:30)
        ("Asia/Kolkata", "2024-07-01 03:29", False),
        ("Australia/Sydney", "2024-07-01 22:59", False),  # Mon 8:59 AEST
        ("Australia/Sydney", "2024-07-01 23:00", True),  # Tue 9:00 AEST, Monday evening in UTC
        ("Mars/Olympus_Mons", "2024-07-01 09:00", True),  # unknown zone: UTC
        ("Mars/Olympus_Mons", "2024-07-01 18:00", False),
        ("", "2024-07-01 09:00", True),
    ],
)
def test_local_time_decides(zone: str, utc_time: str, working: bool) -> None:
    assert is_working(rep(zone), ms(utc_time)) is working


def test_new_york_spring_forward_day_has_23_hours() -> None:
    # 2024-03-10: 02:00 EST jumps to 03:00 EDT.
    always = rep("America/New_York", 0, 1440, (1, 2, 3, 4, 5, 6, 7))
    start, end = ms("2024-03-10 00:00", "America/New_York"), ms("2024-03-11 00:00",
                                                                "America/New_York")
    assert working_time_between(always, start, end) == 23 * HOUR
    assert add_working_time(always, start, 23 * HOUR) == end
    # Work 00:00-12:00 is 11 real hours on that day.
    mornings = rep("America/New_York", 0, 720, (7,))
    assert working_time_between(mornings, start, end) == 11 * HOUR


def test_a_window_starting_inside_the_gap_starts_when_the_clock_jumps() -> None:
    # Work 02:30-04:00 local on the spring-forward Sunday: 02:30 never happens, so 03:00 EDT.
    r = rep("America/New_York", 150, 240, (7,))
    jump = ms("2024-03-10 07:00")  # 03:00 EDT
    assert not is_working(r, jump - 1)
    assert is_working(r, jump) and is_working(r, jump + HOUR - 1)
    assert not is_working(r, jump + HOUR)
    assert working_time_between(r, jump - DAY, jump + DAY) == HOUR


def test_new_york_fall_back_day_has_25_hours() -> None:
    # 2024-11-03: 02:00 EDT falls back to 01:00 EST; 00:00-06:00 is 7 real hours.
    r = rep("America/New_York", 0, 360, (7,))
    start = ms("2024-11-03 00:00", "America/New_York")
    assert working_time_between(r, start, start + DAY) == 7 * HOUR
    assert add_working_time(r, start, 7 * HOUR) == ms("2024-11-03 11:00")  # 06:00 EST


def test_add_working_time_skips_the_weekend() -> None:
    r = rep()
    friday_5pm = ms("2024-03-08 17:00")
    assert add_working_time(r, friday_5pm, HOUR) == ms("2024-03-08 18:00")  # ends at close
    assert add_working_time(r, friday_5pm, 2 * HOUR) == ms("2024-03-11 10:00")
    saturday = ms("2024-03-09 12:00")
    assert add_working_time(r, saturday, 30 * 60_000) == ms("2024-03-11 09:30")


def test_add_working_time_across_dst_in_new_york() -> None:
    r = rep("America/New_York")
    friday_5pm = ms("2024-03-08 17:00", "America/New_York")
    monday_10am = ms("2024-03-11 10:00", "America/New_York")
    assert add_working_time(r, friday_5pm, 2 * HOUR) == monday_10am
    assert monday_10am - friday_5pm == 64 * HOUR  # 65 wall-clock hours, one skipped


def test_working_time_between_a_week() -> None:
    r = rep("Europe/Berlin")
    monday = ms("2024-07-01 00:00", "Europe/Berlin")
    assert working_time_between(r, monday, monday + 7 * DAY) == 5 * 9 * HOUR
    assert working_time_between(r, monday + DAY, monday) == 0
    assert working_time_between(r, monday, monday) == 0


def test_zero_and_invalid_durations() -> None:
    r = rep()
    saturday = ms("2024-03-09 12:00")
    assert add_working_time(r, saturday, 0) == saturday
    with pytest.raises(ValueError, match="duration_ms"):
        add_working_time(r, saturday, -1)


@pytest.mark.parametrize("never", [rep(days=()), rep(start=600, end=600), rep(days=(0, 8))])
def test_a_rep_who_never_works(never: RepProfile) -> None:
    at = ms("2024-03-11 12:00")
    assert not is_working(never, at)
    assert working_time_between(never, at, at + 7 * DAY) == 0
    with pytest.raises(ValueError, match="no working time"):
        add_working_time(never, at, HOUR)


schedules = st.builds(
    lambda zone, start, length, days: rep(zone, start, min(1440, start + length), days),
    st.sampled_from(ZONES),
    st.integers(0, 1439),
    st.integers(1, 1440),
    st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True).map(
        lambda days: tuple(sorted(days))),
)
instants = st.integers(ms("2020-01-01 00:00"), ms("2030-12-31 00:00"))


@settings(max_examples=300, deadline=None)
@given(schedules, instants, st.integers(0, 30 * DAY))
def test_working_time_between_inverts_add_working_time(r: RepProfile, a: int, d: int) -> None:
    end = add_working_time(r, a, d)
    assert end >= a
    assert working_time_between(r, a, end) == d
    if d > 0:
        assert is_working(r, end - 1)  # the last counted millisecond was working time


@settings(max_examples=300, deadline=None)
@given(schedules, instants, st.integers(0, 10 * DAY), st.integers(0, 10 * DAY))
def test_working_time_is_additive(r: RepProfile, a: int, x: int, y: int) -> None:
    assert working_time_between(r, a, a + x + y) == (
        working_time_between(r, a, a + x) + working_time_between(r, a + x, a + x + y))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["UTC", "Asia/Kolkata", "Mars/Olympus_Mons"]), schedules, instants)
def test_is_working_matches_the_wall_clock_without_dst(zone: str, r: RepProfile, at: int) -> None:
    r = replace(r, timezone=zone)
    tz = UTC if zone.startswith("Mars") else ZoneInfo(zone)
    local = datetime.fromtimestamp(at / 1000, tz)
    minute = local.hour * 60 + local.minute
    expected = (local.isoweekday() in r.work_days
                and r.work_start_minute <= minute < r.work_end_minute)
    assert is_working(r, at) is expected
