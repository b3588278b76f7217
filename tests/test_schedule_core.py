"""Schedules, windows and dispatch decisions: pure and table-driven, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.delivery import (
    NEVER,
    Dispatch,
    Kind,
    Reachability,
    Window,
    decide_dispatch,
    next_allowed,
    plan_for,
    window_problem,
)
from core.schedule import Change, Series, Timing, occurrences, series_problems

AMS = "Europe/Amsterdam"
TIMING = Timing(timedelta(minutes=15), timedelta(hours=3), timedelta(hours=24))


def weekly(*, start: time = time(14, 0), weekdays: frozenset[int] = frozenset({1}),
           first: date = date(2026, 3, 1), last: date | None = None, sid: int = 1,
           youths: tuple[str, ...] = ("J-014",), paused: bool = False) -> Series:
    return Series(sid, youths, "T-02", "music", weekdays, start, timedelta(minutes=60), AMS,
                  first, last, paused, TIMING)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("window_start", "window_end", "expected_utc_hours"), [
    # spring forward on Sunday 29 March 2026: Tuesday 24 March is CET, 31 March is CEST
    (utc(2026, 3, 20), utc(2026, 4, 4), [13, 12]),
    # fall back on Sunday 25 October 2026
    (utc(2026, 10, 19), utc(2026, 11, 1), [12, 13]),
])
def test_weekly_session_stays_at_local_time_across_dst(
    window_start: datetime, window_end: datetime, expected_utc_hours: list[int]
) -> None:
    found = occurrences(weekly(), [], window_start, window_end)
    assert [o.start.hour for o in found] == expected_utc_hours
    assert len({o.key for o in found}) == len(found)


def test_cancel_and_move_one_occurrence() -> None:
    series = weekly()
    changes = [Change(1, date(2026, 3, 24), True, None),
               Change(1, date(2026, 3, 31), False, datetime(2026, 4, 2, 10, 0))]
    found = occurrences(series, changes, utc(2026, 3, 20), utc(2026, 4, 10))
    assert [(o.key, o.start) for o in found] == [
        ("s1:2026-03-31:moved-20260402T1000", utc(2026, 4, 2, 8)),
        ("s1:2026-04-07", utc(2026, 4, 7, 12)),
    ]


def test_paused_and_ended_series_have_no_occurrences() -> None:
    assert occurrences(weekly(paused=True), [], utc(2026, 3, 1), utc(2026, 5, 1)) == []
    ended = weekly(last=date(2026, 3, 10))
    assert [o.key for o in occurrences(ended, [], utc(2026, 3, 1), utc(2026, 5, 1))] == [
        "s1:2026-03-03", "s1:2026-03-10"]


@pytest.mark.parametrize(("series", "existing", "expected"), [
    (weekly(), [], []),
    (weekly(start=time(2, 30), weekdays=frozenset({6})), [],
     ["02:30 does not exist on 2026-03-29", "02:30 happens twice on 2026-10-25"]),
    (weekly(start=time(2, 30), weekdays=frozenset({6}), last=date(2026, 6, 1)), [],
     ["02:30 does not exist on 2026-03-29"]),
    (weekly(start=time(2, 30), weekdays=frozenset({6}), first=date(2026, 10, 1),
            last=date(2026, 12, 31)), [],
     ["02:30 happens twice on 2026-10-25"]),
    (weekly(first=date(2026, 5, 1), last=date(2026, 4, 1)), [], ["is before the first date"]),
    (weekly(weekdays=frozenset()), [], ["choose at least one weekday"]),
    (weekly(sid=2, start=time(14, 30)), [weekly()], ["overlaps series 1 for J-014 on tue"]),
    (weekly(sid=2, start=time(15, 0)), [weekly()], []),
    (weekly(sid=2, youths=("J-015",)), [weekly()], []),
])
def test_series_validation(series: Series, existing: list[Series], expected: list[str]) -> None:
    problems = series_problems(series, existing, date(2026, 3, 1))
    assert len(problems) == len(expected)
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


QUIET = Reachability(AMS, (), time(21, 30), time(8, 0))
WARD = Reachability(AMS, (Window(frozenset(range(7)), time(16, 0), time(18, 0)),
                          Window(frozenset({5, 6}), time(10, 0), time(12, 0))),
                    time(21, 30), time(8, 0))


@pytest.mark.parametrize(("rules", "moment", "expected"), [
    (QUIET, utc(2026, 11, 24, 13, 0), utc(2026, 11, 24, 13, 0)),       # 14:00 local: fine
    (QUIET, utc(2026, 11, 24, 21, 0), utc(2026, 11, 25, 7, 0)),        # 22:00 -> 08:00
    (QUIET, utc(2026, 11, 24, 6, 0), utc(2026, 11, 24, 7, 0)),         # 07:00 -> 08:00
    (WARD, utc(2026, 11, 24, 13, 0), utc(2026, 11, 24, 15, 0)),        # 14:00 -> 16:00
    (WARD, utc(2026, 11, 24, 17, 30), utc(2026, 11, 25, 15, 0)),       # 18:30 -> next 16:00
    (WARD, utc(2026, 11, 28, 7, 0), utc(2026, 11, 28, 9, 0)),          # Sat 08:00 -> 10:00
])
def test_next_allowed(rules: Reachability, moment: datetime, expected: datetime) -> None:
    assert next_allowed(moment, rules) == expected


def test_plan_waits_for_the_window_or_records_a_miss() -> None:
    (occ,) = occurrences(weekly(), [], utc(2026, 11, 24), utc(2026, 11, 25))
    checkin, reminder = plan_for(occ, "J-014", QUIET)      # session ends 15:00 local
    assert (checkin.kind, checkin.due_at) == (Kind.CHECKIN, utc(2026, 11, 24, 14, 15))
    assert (reminder.kind, reminder.due_at) == (Kind.REMINDER, utc(2026, 11, 24, 17, 15))
    assert reminder.due_at - checkin.due_at == TIMING.remind_after
    assert checkin.expires_at == utc(2026, 11, 25, 14, 15)
    (ward_checkin,) = plan_for(occ, "J-014", WARD)  # reminder would fall after expiry
    assert ward_checkin.due_at == utc(2026, 11, 24, 15, 0) and not ward_checkin.missed
    late = Reachability(AMS, (Window(frozenset({0}), time(16), time(18)),), time(21, 30),
                        time(8))
    (missed,) = plan_for(occ, "J-014", late)
    assert missed.missed


@pytest.mark.parametrize(("now", "expected"), [
    (utc(2026, 11, 24, 12, 0), Dispatch.WAIT),       # not yet due
    (utc(2026, 11, 24, 13, 20), Dispatch.SEND),      # due, 14:20 local
    (utc(2026, 11, 24, 22, 0), Dispatch.WAIT),       # back up at 23:00 local: wait till 08:00
    (utc(2026, 11, 25, 13, 0), Dispatch.SEND),       # downtime, still inside expiry
    (utc(2026, 11, 25, 13, 15), Dispatch.EXPIRE),    # too late: missed, not sent
])
def test_dispatch_after_downtime(now: datetime, expected: Dispatch) -> None:
    decision = decide_dispatch(utc(2026, 11, 24, 13, 15), utc(2026, 11, 25, 13, 15), now, QUIET)
    assert decision.action is expected


EVERY_DAY = frozenset(range(7))


@pytest.mark.parametrize(("start", "end", "quiet", "refused"), [
    (time(22, 0), time(23, 0), (time(21, 30), time(8, 0)), "wholly inside the quiet hours"),
    (time(21, 30), time(23, 59), (time(21, 30), time(8, 0)), "wholly inside the quiet hours"),
    (time(6, 0), time(8, 0), (time(21, 30), time(8, 0)), "wholly inside the quiet hours"),
    (time(0, 0), time(7, 0), (time(0, 0), time(7, 0)), "wholly inside the quiet hours"),
    (time(21, 0), time(23, 0), (time(21, 30), time(8, 0)), None),   # 21:00-21:30 is usable
    (time(7, 0), time(9, 0), (time(21, 30), time(8, 0)), None),     # 08:00-09:00 is usable
    (time(16, 0), time(18, 0), (time(21, 30), time(8, 0)), None),
    (time(22, 0), time(23, 0), (time(0, 0), time(0, 0)), None),     # no quiet hours at all
    (time(18, 0), time(16, 0), (time(21, 30), time(8, 0)), "must start before it ends"),
])
def test_window_problem(start: time, end: time, quiet: tuple[time, time],
                        refused: str | None) -> None:
    problem = window_problem(Window(EVERY_DAY, start, end), *quiet)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem
        assert start.strftime("%H:%M") in problem and end.strftime("%H:%M") in problem
        assert "\n" not in problem


def test_a_window_inside_quiet_hours_is_never_reachable_and_never_raises() -> None:
    dead = Reachability(AMS, (Window(EVERY_DAY, time(22, 0), time(23, 0)),),
                        time(21, 30), time(8, 0))
    assert next_allowed(utc(2026, 11, 24, 13, 0), dead) == NEVER
    decision = decide_dispatch(utc(2026, 11, 24, 13, 0), utc(2026, 11, 25, 13, 0),
                               utc(2026, 11, 24, 13, 0), dead)
    assert decision.action is Dispatch.EXPIRE
    session = occurrences(weekly(), [], utc(2026, 11, 23), utc(2026, 11, 30))[0]
    planned = plan_for(session, "J-014", dead)
    assert [(p.kind, p.missed) for p in planned] == [(Kind.CHECKIN, True)]
    assert planned[0].due_at < planned[0].expires_at, "recorded at its nominal time"
