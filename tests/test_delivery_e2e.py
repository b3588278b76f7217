"""A week of sessions on a virtual clock: the real Application, engine and database."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.rules import default_timing, delivery_rules
from core.delivery import Window
from core.records import NewSeries, PhoneWindow
from core.schedule import Change
from faketelegram import Fault
from scheduler.engine import Engine
from tests.support import Harness, running_bot, wait_for_next_message

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)   # 07:00 in Amsterdam
INTRO = "Hoi! 👋 Een paar vragen over je "
REMINDER = "Nog even over je therapie van vandaag"
IDS = {"J-001": 700000001, "J-002": 700000002, "J-003": 700000003}


def rows(bot: Harness, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql, params))


async def setup_clinic(bot: Harness) -> Engine:
    bot.clock.now = MONDAY
    for code, user_id in IDS.items():
        await bot.enrol(bot.fake.user(user_id), code)
    store, timing = bot.services.store, default_timing(bot.settings)

    def series(youths: tuple[str, ...], days: set[int], at: time, discipline: Any) -> NewSeries:
        return NewSeries("T-02", youths, discipline, frozenset(days), at, timedelta(hours=1),
                         "Europe/Amsterdam", date(2026, 11, 23), None, timing)

    await store.add_series(series(("J-001",), {0, 3}, time(14, 0), "music"), bot.clock())
    await store.add_series(series(("J-002",), {1}, time(10, 0), "drama"), bot.clock())
    await store.add_series(series(("J-001", "J-003"), {2}, time(15, 0), "dance"), bot.clock())
    await store.set_unit("J-002", "W-1")
    await store.add_window(PhoneWindow("unit", "W-1", Window(frozenset(range(7)), time(16),
                                                             time(18))))
    return Engine(bot.services, delivery_rules(bot.settings), coordinator_chats=(9001,))


async def answer_everything(bot: Harness, user_id: int) -> None:
    """J-001 is keen: answers each question as it arrives."""
    youth = bot.fake.user(user_id)
    for _ in range(8):
        last = youth.last
        if last.buttons and "👉" not in last.text:
            label = "Klaar" if "Klaar" in " ".join(last.button_labels()) else (
                "Iets leuks" if "Iets leuks" in " ".join(last.button_labels()) else "Goed")
            query = youth.tap(last, label)
            await wait_for_next_message(youth, query, last)
            await bot.fake.settle(quiet=0.05)
        else:
            return


async def run_week(bot: Harness, engine: Engine, step: timedelta = timedelta(minutes=5),
                   days: int = 7) -> dict[int, list[tuple[datetime, str]]]:
    """Tick every `step` of virtual time; note when each new message reached whom."""
    seen = {uid: len(bot.fake.user(uid).inbox) for uid in IDS.values()}
    arrivals: dict[int, list[tuple[datetime, str]]] = {uid: [] for uid in IDS.values()}
    end = bot.clock() + timedelta(days=days)
    while bot.clock() < end:
        bot.clock.advance(step)
        await engine.tick(bot.channel)
        for uid in IDS.values():
            inbox = bot.fake.user(uid).inbox
            arrivals[uid] += [(bot.clock(), m.text) for m in inbox[seen[uid]:]]
            if uid == IDS["J-001"] and len(inbox) > seen[uid]:
                await answer_everything(bot, uid)
                inbox = bot.fake.user(uid).inbox
            seen[uid] = len(inbox)
    return arrivals


async def test_a_week_of_sessions_one_checkin_each_no_night_messages(bot: Harness) -> None:
    engine = await setup_clinic(bot)
    arrivals = await run_week(bot, engine)
    checkins = {code: [t for t, text in arrivals[uid] if text.startswith(INTRO)]
                for code, uid in IDS.items()}
    reminders = {code: [t for t, text in arrivals[uid] if text.startswith(REMINDER)]
                 for code, uid in IDS.items()}
    # J-001: Mon 23, Thu 26 (music) and Wed 25 (dance, group): three sessions, all answered.
    assert [t.astimezone(AMS).strftime("%a %H:%M") for t in checkins["J-001"]] == [
        "Mon 15:15", "Wed 16:15", "Thu 15:15"]
    assert reminders["J-001"] == []
    # J-003 only in the Wednesday group; never answers: one reminder three hours later.
    assert [t.astimezone(AMS).strftime("%a %H:%M") for t in checkins["J-003"]] == ["Wed 16:15"]
    assert [t.astimezone(AMS).strftime("%a %H:%M") for t in reminders["J-003"]] == [
        "Wed 19:15"]
    # J-002's ward allows phones 16:00-18:00: the 11:15 check-in waits until 16:00, and the
    # reminder would fall after expiry, so there is none.
    assert [t.astimezone(AMS).strftime("%a %H:%M") for t in checkins["J-002"]] == ["Tue 16:00"]
    # It arrives hours later, so it names the session: which therapy, and when.
    (first_j2,) = [text for _, text in arrivals[IDS["J-002"]] if text.startswith(INTRO)]
    assert first_j2.startswith("Hoi! 👋 Een paar vragen over je dramatherapie van vanochtend.")
    (first_j1,) = [text for t, text in arrivals[IDS["J-001"]]
                   if text.startswith(INTRO) and t.weekday() == 0]
    assert "je muziektherapie van vanmiddag" in first_j1
    assert reminders["J-002"] == []
    for uid, items in arrivals.items():
        for moment, _ in items:
            local = moment.astimezone(AMS).time()
            assert time(8) <= local < time(21, 30), f"message at night for {uid}: {moment}"
    states = Counter(r[0] for r in rows(bot, "SELECT state FROM outbox"))
    assert states["sending"] == 0 and states["pending"] > 0   # next week is planned already
    keys = rows(bot, "SELECT dedupe_key, count(*) FROM outbox GROUP BY dedupe_key "
                     "HAVING count(*) > 1")
    assert keys == []
    completed = rows(bot, "SELECT count(*) FROM checkins WHERE status = 'complete'")
    assert completed == [(3,)]


async def test_cancel_move_and_pause_change_pending_messages(bot: Harness) -> None:
    engine = await setup_clinic(bot)
    store = bot.services.store
    await engine.tick(bot.channel)
    await store.add_change(Change(1, date(2026, 11, 23), True, None), bot.clock())
    await store.cancel_pending("s1:2026-11-23", "session cancelled", bot.clock())
    await store.add_change(Change(1, date(2026, 11, 26), False, datetime(2026, 11, 27, 9, 0)),
                           bot.clock())
    await store.cancel_pending("s1:2026-11-26", "session moved", bot.clock())
    await store.set_series_paused(2, True)
    await store.cancel_pending("s2", "series paused", bot.clock())
    await engine.replan()
    arrivals = await run_week(bot, engine, step=timedelta(minutes=15))
    j1 = [t.astimezone(AMS).strftime("%a %H:%M") for t, text in arrivals[IDS["J-001"]]
          if text.startswith(INTRO)]
    assert j1 == ["Wed 16:15", "Fri 10:15"]
    assert not [t for t, text in arrivals[IDS["J-002"]] if text.startswith(INTRO)]
    await store.set_series_paused(2, False)
    assert await engine.replan() > 0


async def test_telegram_faults_429_5xx_timeout_and_403(bot: Harness) -> None:
    engine = await setup_clinic(bot)
    bot.fake.faults += [Fault("sendMessage", 429, "Too Many Requests: retry after 1",
                              retry_after=1),
                        Fault("sendMessage", 502, "Bad Gateway")]
    bot.clock.now = datetime(2026, 11, 23, 14, 15, tzinfo=UTC)     # Mon 15:15: J-001 due
    await engine.tick(bot.channel)      # 429 is retried by the rate limiter, then 502
    j1 = bot.fake.user(IDS["J-001"])
    assert not any(m.text.startswith(INTRO) for m in j1.inbox)
    assert rows(bot, "SELECT state, last_error FROM outbox WHERE occurrence_key = "
                     "'s1:2026-11-23' AND kind = 'checkin'") == [
        ("pending", "network: Bad Gateway")]
    bot.clock.advance(timedelta(seconds=31))
    await engine.tick(bot.channel)
    assert sum(m.text.startswith(INTRO) for m in j1.inbox) == 1

    # A timeout is ambiguous: recorded as sent and never asked again.
    bot.fake.faults.append(Fault("sendMessage", 500, "slow", delay=2.5))
    bot.clock.now = datetime(2026, 11, 25, 15, 15, tzinfo=UTC)     # Wed 16:15: group
    bot.fake.blocked.add(IDS["J-003"])
    await engine.tick(bot.channel)
    for _ in range(30):
        bot.clock.advance(timedelta(minutes=1))
        await engine.tick(bot.channel)
    group = rows(bot, "SELECT youth_code, state, last_error FROM outbox WHERE occurrence_key"
                      " = 's3:2026-11-25' AND kind = 'checkin' ORDER BY youth_code")
    assert group == [("J-001", "sent", "timed out; may not have arrived"),
                     ("J-003", "blocked", "the youth blocked the bot")]
    assert sum(m.text.startswith(INTRO) and "dans" in m.text.lower()
               for m in j1.inbox) <= 1
    notice = bot.fake.messages(9001)[-1].text
    assert "J-003 heeft de bot geblokkeerd" in notice
    assert rows(bot, "SELECT unreachable_at IS NOT NULL FROM youths WHERE code = 'J-003'") == [
        (1,)]


@pytest.mark.parametrize(("down_for", "sent"), [(timedelta(hours=2), 1),
                                                (timedelta(hours=30), 0)])
async def test_catch_up_after_downtime(bot: Harness, down_for: timedelta, sent: int) -> None:
    engine = await setup_clinic(bot)
    await engine.tick(bot.channel)                     # plan while it is Monday morning
    bot.clock.now = datetime(2026, 11, 23, 14, 15, tzinfo=UTC) + down_for
    await engine.tick(bot.channel)                     # the bot comes back
    j1 = bot.fake.user(IDS["J-001"])
    assert sum(m.text.startswith(INTRO) for m in j1.inbox) == sent
    state = rows(bot, "SELECT state FROM outbox WHERE occurrence_key = 's1:2026-11-23' "
                      "AND kind = 'checkin'")
    assert state == [("sent" if sent else "expired",)]


async def test_compliance_overview_marks_who_needs_attention(bot: Harness) -> None:
    engine = await setup_clinic(bot)
    await run_week(bot, engine, step=timedelta(minutes=15), days=14)
    by_code = {r.youth_code: r for r in await bot.services.store.compliance(bot.clock())}
    assert by_code["J-001"].completed == by_code["J-001"].sessions == 6
    assert by_code["J-003"].missed == 2 and by_code["J-003"].missed_in_a_row == 2
    assert by_code["J-002"].sent == 2 and by_code["J-002"].completed == 0


async def test_overview_in_telegram_is_for_coordinators_only(tmp_path: Path) -> None:
    coordinator, stranger = 600000001, 600000002
    async with running_bot(tmp_path, extra_toml=f"[coordinators]\ntelegram_ids = "
                                                f"[{coordinator}]\n") as bot:
        await setup_clinic(bot)
        bot.fake.user(stranger).send("/overview")
        await bot.fake.settle()
        assert bot.fake.messages(stranger)[-1].text == "Dit commando is alleen voor coördinatoren."
        bot.fake.user(IDS["J-001"]).send("/overview")
        await bot.fake.settle()
        assert "J-002" not in bot.fake.user(IDS["J-001"]).last.text
        bot.fake.user(coordinator).send("/overview")
        await bot.fake.settle()
        table = bot.fake.messages(coordinator)[-1].text
        assert "J-001" in table and "J-002" in table and "jongere" in table
