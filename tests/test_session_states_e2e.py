"""One truth per session: cancelled and 'no session' are never missed, and a session
belongs to the therapist who held it (issue 13). The real bot, fake Telegram, virtual clock."""

from __future__ import annotations

import argparse
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.rules import default_timing
from bot.schedule_cli import _change
from bot.wiring import make_engine
from conversations.enrolment import enroll_therapist
from conversations.reporting import weekly_report
from core.analytics import Rule, State
from core.compliance import render_overview
from core.records import NewSeries
from faketelegram import FakeUser
from scheduler.engine import Engine
from tests.support import Harness, wait_for_next_message

START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)        # Monday 07:00 in Amsterdam
T02, T03, YOUTH = 600000002, 600000003, 700000001


def rows(bot: Harness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql))


async def link(bot: Harness, code: str, chat: int) -> None:
    invitation = await enroll_therapist(bot.services.store, code, "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    bot.fake.user(chat).send(f"/start {invitation.token}")
    await bot.fake.settle()


async def series(bot: Harness, therapist: str, weekday: int) -> None:
    await bot.services.store.add_series(NewSeries(
        therapist, ("J-001",), "music", frozenset({weekday}), time(15, 0),
        timedelta(hours=1), "Europe/Amsterdam", date(2026, 11, 23), None,
        default_timing(bot.settings)), bot.clock())


async def answer(bot: Harness, youth: FakeUser, bond: str, rest: str = "Goed") -> None:
    """Answer the open check-in: `bond` on the bond item, `rest` on the other items."""
    for _ in range(8):
        last = youth.last
        if not last.buttons or "👉" in last.text:
            return
        labels = " ".join(last.button_labels())
        tap = ("Klaar" if "Klaar" in labels else "Niks bijzonders" if "Niks" in labels
               else bond if "veilig" in last.text else rest)   # the bond item (v2)
        query = youth.tap(last, tap)
        await wait_for_next_message(youth, query, last)
        await bot.fake.settle(quiet=0.05)


async def run_until(bot: Harness, engine: Engine, end: datetime, on_checkin: Any = None,
                    step: timedelta = timedelta(minutes=30)) -> None:
    youth = bot.fake.user(YOUTH)
    seen = len(youth.inbox)
    while bot.clock() < end:
        bot.clock.advance(step)
        await engine.tick(bot.channel)
        if (len(youth.inbox) != seen and on_checkin is not None and youth.last.buttons
                and "Hoi!" in youth.last.text):
            await on_checkin(youth)
        seen = len(youth.inbox)


async def clients(bot: Harness, chat: int) -> str:
    bot.fake.user(chat).send("/clients")
    await bot.fake.settle()
    return bot.fake.user(chat).last.text


async def test_a_cancelled_session_is_cancelled_everywhere_and_never_missed(
        bot: Harness) -> None:
    bot.clock.now = START
    await link(bot, "T-02", T02)
    await bot.enrol(bot.fake.user(YOUTH), "J-001", therapist="T-02")
    await series(bot, "T-02", 0)
    engine = make_engine(bot.settings, bot.services)
    await engine.tick(bot.channel)
    # the coordinator cancels the second Monday, through the CLI's own code path
    await _change(argparse.Namespace(action="cancel", series=1, date="2026-11-30", to=None),
                  bot.services, bot.settings)
    # three Mondays go by; the youth answers none: missed, cancelled, missed
    await run_until(bot, engine, datetime(2026, 12, 9, 6, 0, tzinfo=UTC),
                    step=timedelta(hours=1))
    report = await weekly_report(bot.services.store, "T-02", "2026-W50", "Europe/Amsterdam",
                                 "nl", until=bot.clock())
    (panel,) = report.panels
    assert [p.state for p in panel.points] == [State.MISSED, State.CANCELLED, State.MISSED]
    assert panel.missed_in_a_row == 2 and panel.response_rate == 0.0
    assert report.images[0].marks["cancelled"] == 1 and report.images[0].missed_markers == 2
    assert "J-001: nog geen, 0%, 1 afgezegd" in await clients(bot, T02)
    (row,) = await bot.services.store.compliance(bot.clock())
    assert (row.missed, row.cancelled, row.missed_in_a_row) == (2, 1, 2)
    overview = render_overview([row], missed_after=bot.settings.alerts.missed_in_a_row)
    assert "gemist" not in overview.splitlines()[1] and "✓" in overview.splitlines()[1]
    # a cancelled session never counts toward missed-in-a-row (threshold 3): no alert
    assert rows(bot, "SELECT count(*) FROM alerts WHERE kind = 'missed'") == [(0,)]


async def test_i_had_no_session_closes_the_checkin_kindly(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth, "J-001", therapist="T-02")
    await bot.checkin("J-001", occurrence="s1")
    first = youth.last
    assert first.button_labels()[-1] == "🚫 Ik had geen therapie"
    query = youth.tap(first, "Ik had geen therapie")
    await wait_for_next_message(youth, query, first)
    await bot.fake.settle()
    assert youth.last.text.startswith("Oké, dan was er geen sessie.")
    assert not youth.last.buttons and "👉 🚫 Ik had geen therapie" in youth.inbox[-2].text
    assert rows(bot, "SELECT youth_code, occurrence_key, marked_by FROM sessions_not_held"
                ) == [("J-001", "s1", "youth")]
    assert rows(bot, "SELECT count(*) FROM answers") == [(0,)]
    bot.clock.advance(timedelta(days=3))          # long past its expiry: still not missed
    (row,) = await bot.services.store.compliance(bot.clock())
    assert (row.missed, row.not_held, row.completed) == (0, 1, 0)
    report = await weekly_report(bot.services.store, "T-02", "2026-W48", "Europe/Amsterdam",
                                 "nl", until=bot.clock())
    assert [p.state for p in report.panels[0].points] == [State.NOT_HELD]
    assert report.images[0].marks["not_held"] == 1


async def test_sessions_belong_to_their_therapist_and_a_floor_on_bond_alerts(
        bot: Harness) -> None:
    """J-001 is enrolled with T-02 and also has drama with T-03 on Wednesdays. In the third
    week, bond with T-03 falls to the lowest answer while goal and task stay 'Goed'."""
    bot.clock.now = START
    await link(bot, "T-02", T02)
    await link(bot, "T-03", T03)
    await bot.enrol(bot.fake.user(YOUTH), "J-001", therapist="T-02")
    await series(bot, "T-02", 0)
    await series(bot, "T-03", 2)
    engine = make_engine(bot.settings, bot.services)
    wednesdays = 0

    async def on_checkin(youth: FakeUser) -> None:
        nonlocal wednesdays
        if bot.clock().weekday() == 2:
            wednesdays += 1
            await answer(bot, youth, "Heel slecht" if wednesdays == 3 else "Goed")
        else:
            await answer(bot, youth, "Goed")

    await run_until(bot, engine, datetime(2026, 12, 11, 6, 0, tzinfo=UTC), on_checkin)
    assert wednesdays == 3
    store = bot.services.store
    t02 = await weekly_report(store, "T-02", "2026-W50", "Europe/Amsterdam", "nl",
                              until=bot.clock())
    t03 = await weekly_report(store, "T-03", "2026-W50", "Europe/Amsterdam", "nl",
                              until=bot.clock())
    (mine,), (theirs,) = t02.panels, t03.panels
    assert {p.when.weekday() for p in mine.points} == {0} and len(mine.points) == 3
    assert {p.when.weekday() for p in theirs.points} == {2} and len(theirs.points) == 3
    assert mine.ruptures == () and not any(f.alerting for f in mine.flags)
    assert {(r.rule, r.dimension) for r in theirs.ruptures if r.index == 2} >= {
        (Rule.FLOOR, "bond")}
    # the alert goes to T-03 only, and says what fired and what to do
    assert rows(bot, "SELECT kind, youth_code, therapist_code FROM alerts") == [
        ("rupture", "J-001", "T-03")]
    texts = [m.text for m in bot.fake.messages(T03)]
    assert any(t.startswith("⚠️ J-001: Band: het laagste antwoord.")
               and t.endswith("Bespreek het in de volgende sessie.") for t in texts), texts
    assert not any("⚠️" in m.text for m in bot.fake.messages(T02))
    assert "J-001" in await clients(bot, T03)


async def test_the_therapist_marks_a_session_that_did_not_take_place(bot: Harness) -> None:
    bot.clock.now = START
    await link(bot, "T-02", T02)
    await bot.enrol(bot.fake.user(YOUTH), "J-001", therapist="T-02")
    await series(bot, "T-02", 0)
    engine = make_engine(bot.settings, bot.services)
    therapist = bot.fake.user(T02)
    while not any(m.text.startswith("Jouw kijk") for m in therapist.inbox):
        bot.clock.advance(timedelta(minutes=30))
        await engine.tick(bot.channel)
        assert bot.clock() < START + timedelta(days=2), "no rating request came"
    request = next(m for m in therapist.inbox if m.text.startswith("Jouw kijk"))
    assert request.button_labels()[-1] == "🚫 Sessie ging niet door"
    therapist.tap(request, "Sessie ging niet door")
    await bot.fake.settle()
    assert rows(bot, "SELECT youth_code, marked_by FROM sessions_not_held") == [
        ("J-001", "therapist")]
    bot.clock.advance(timedelta(days=3))          # long past the check-in's expiry
    (row,) = await bot.services.store.compliance(bot.clock())
    assert (row.missed, row.not_held, row.missed_in_a_row) == (0, 1, 0)
    assert "1 geen sessie" in await clients(bot, T02)
