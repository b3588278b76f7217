"""The console's pure rules: the week view, the state of an alert, the overview filter."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from core.compliance import Compliance
from core.console_pages import (
    AlertState,
    SessionMark,
    alert_state,
    filter_overview,
    for_therapist,
    for_unit,
    monday_of,
    week_bounds,
    week_sessions,
)
from core.schedule import Change, Series, Timing

TZ = "Europe/Amsterdam"
TIMING = Timing(timedelta(minutes=10), timedelta(hours=4), timedelta(hours=24))
MONDAY = date(2030, 1, 7)


def series(sid: int = 1, days: frozenset[int] = frozenset({0, 3}), paused: bool = False,
           youths: tuple[str, ...] = ("J-001",), therapist: str = "T-01") -> Series:
    return Series(sid, youths, therapist, "music", days, time(14, 0), timedelta(hours=1), TZ,
                  date(2030, 1, 1), None, paused, TIMING)


def shown(changes: list[Change], s: Series | None = None) -> list[tuple[str, str, str]]:
    start, end = week_bounds(MONDAY, TZ)
    return [(w.original.isoformat(), w.start.strftime("%a %H:%M"), w.mark.value)
            for w in week_sessions([s or series()], changes, start, end)]


@pytest.mark.parametrize(("changes", "paused", "expected"), [
    ([], False, [("2030-01-07", "Mon 13:00", "planned"), ("2030-01-10", "Thu 13:00",
                                                         "planned")]),
    ([Change(1, date(2030, 1, 7), True, None)], False,
     [("2030-01-07", "Mon 13:00", "cancelled"), ("2030-01-10", "Thu 13:00", "planned")]),
    # moved within the week: shown once, where it now takes place
    ([Change(1, date(2030, 1, 10), False, datetime(2030, 1, 11, 10, 0))], False,
     [("2030-01-07", "Mon 13:00", "planned"), ("2030-01-10", "Fri 09:00", "moved")]),
    # moved out of the week: shown on its old day as moved
    ([Change(1, date(2030, 1, 10), False, datetime(2030, 1, 15, 10, 0))], False,
     [("2030-01-07", "Mon 13:00", "planned"), ("2030-01-10", "Thu 13:00", "moved")]),
    # moved into the week from the week before
    ([Change(1, date(2030, 1, 3), False, datetime(2030, 1, 8, 10, 0))], False,
     [("2030-01-07", "Mon 13:00", "planned"), ("2030-01-03", "Tue 09:00", "moved"),
      ("2030-01-10", "Thu 13:00", "planned")]),
    ([], True, [("2030-01-07", "Mon 13:00", "paused"), ("2030-01-10", "Thu 13:00",
                                                       "paused")]),
])
def test_week_view_marks_what_changed(changes: list[Change], paused: bool,
                                      expected: list[tuple[str, str, str]]) -> None:
    assert shown(changes, series(paused=paused)) == expected


def test_week_view_filters_by_therapist_and_unit() -> None:
    start, end = week_bounds(MONDAY, TZ)
    a = series(1, frozenset({0}), youths=("J-001",), therapist="T-01")
    b = series(2, frozenset({1}), youths=("J-002", "J-003"), therapist="T-02")
    week = week_sessions([a, b], [], start, end)
    assert [w.series.id for w in for_therapist(week, "T-02")] == [2]
    units = {"J-001": "W-1", "J-002": "W-2", "J-003": "W-1"}
    assert [w.series.id for w in for_unit(week, units, "W-1")] == [1, 2]
    assert [w.series.id for w in for_unit(week, units, "W-2")] == [2]
    assert for_unit(week, units, "W-9") == []


def test_monday_of() -> None:
    assert monday_of(date(2030, 1, 13)) == MONDAY == monday_of(MONDAY)


NOW = datetime(2030, 1, 7, 12, tzinfo=UTC)


@pytest.mark.parametrize(("acked", "escalate", "expected"), [
    (None, None, AlertState.OPEN),
    (None, NOW + timedelta(minutes=5), AlertState.OPEN),
    (None, NOW, AlertState.ESCALATED),
    (None, NOW - timedelta(hours=1), AlertState.ESCALATED),
    (NOW - timedelta(minutes=1), NOW - timedelta(hours=1), AlertState.ACKNOWLEDGED),
    (NOW, None, AlertState.ACKNOWLEDGED),
])
def test_alert_state(acked: datetime | None, escalate: datetime | None,
                     expected: AlertState) -> None:
    assert alert_state(acked, escalate, NOW) is expected


def row(code: str, therapist: str) -> Compliance:
    return Compliance(code, therapist, True, False, False, 3, 3, 3, 0, 0)


@pytest.mark.parametrize(("unit", "therapist", "expected"), [
    (None, None, ["J-001", "J-002", "J-003"]),
    ("", "", ["J-001", "J-002", "J-003"]),
    ("W-1", None, ["J-001", "J-003"]),
    (None, "T-02", ["J-002", "J-003"]),
    ("W-1", "T-02", ["J-003"]),
    ("W-9", None, []),
])
def test_overview_filter(unit: str | None, therapist: str | None,
                         expected: list[str]) -> None:
    rows = [row("J-001", "T-01"), row("J-002", "T-02"), row("J-003", "T-02")]
    units = {"J-001": "W-1", "J-002": None, "J-003": "W-1"}
    assert [r.youth_code for r in filter_overview(rows, units, unit, therapist)] == expected


PAGES = ("schedule", "overview", "alerts", "alert_list", "audit", "caseload", "youth",
         "export")


def test_every_word_on_the_pages_is_in_the_catalogue_in_both_languages() -> None:
    """Each t("web....") of the page templates and each NAV label exists in nl and en."""
    import re  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from core.texts import message_keys, say  # noqa: PLC0415
    from web.routes import ROUTE_MODULES  # noqa: PLC0415

    folder = Path(__file__).parent.parent / "web" / "templates"
    keys = set()
    for name in PAGES:
        text = (folder / f"{name}.html").read_text(encoding="utf-8")
        keys |= {k for k in re.findall(r"""t\(["'](web\.[a-z_.]+)["']""", text)
                 if not k.endswith(".")}
    keys |= {f"web.{item.label_key}" for module in ROUTE_MODULES
             for item in getattr(module, "NAV", [])}
    from core.analytics import ALL_DIMENSIONS, MEAN, Rule  # noqa: PLC0415
    from web.routes_schedule import DONE  # noqa: PLC0415

    keys |= {f"web.sched.done.{d}" for d in DONE} | {
        f"web.sched.mark.{m}" for m in SessionMark} | {
        f"web.al.state.{s}" for s in AlertState} | {
        f"web.al.kind.{k}" for k in ("crisis", "text", "talk", "rupture", "missed")} | {
        f"web.al.role.{r}" for r in ("therapist", "unit", "coordinator")} | {
        f"web.al.delivery.{d}" for d in ("pending", "sent", "blocked", "failed")} | {
        f"web.cl.rule.{r}" for r in Rule} | {
        f"web.cl.dim.{d}" for d in (*ALL_DIMENSIONS, MEAN)} | {
        f"web.al.done.{d}" for d in ("acked", "already", "not_yours")} | {
        f"web.cl.done.{d}" for d in ("rated", "not_held", "refused")} | {
        "web.sched.unit", "web.sched.youth"}
    assert len(keys) > 100
    assert sorted(keys - message_keys()) == []
    assert all(say("en", k, **dict.fromkeys(("day", "hours", "zone", "n", "when", "who",
                                              "label", "codes", "code", "max", "dimension",
                                              "rule"), "x"))
               for k in keys)


def alert(reason: str | None, therapist: str = "T-02", unit: str | None = "W-1") -> Any:
    from core.records import Alert  # noqa: PLC0415

    return Alert(1, "ref", "crisis" if reason else "rupture", "J-001", therapist, "",
                 NOW, None, unit, reason)


@pytest.mark.parametrize(("reason", "therapist", "units", "coordinator", "expected"), [
    (None, "T-02", frozenset(), False, "therapist"),          # own rupture alert
    (None, "T-03", frozenset(), False, None),                 # another therapist's
    (None, None, frozenset({"W-1"}), True, None),             # not urgent: therapist only
    ("text", "T-02", frozenset(), False, "therapist"),
    ("text", "T-03", frozenset({"W-1"}), False, "unit"),      # the unit's own contact
    ("talk", None, frozenset({"W-2"}), False, None),          # another unit
    ("text", None, frozenset(), True, "coordinator"),         # every coordinator
    ("text", "T-02", frozenset({"W-1"}), True, "therapist"),  # therapist first
])
def test_who_may_acknowledge(reason: str | None, therapist: str | None,
                             units: frozenset[str], coordinator: bool,
                             expected: str | None) -> None:
    from conversations.alert_actions import ack_role  # noqa: PLC0415

    assert ack_role(alert(reason), therapist_code=therapist, unit_codes=units,
                    coordinator=coordinator) == expected
