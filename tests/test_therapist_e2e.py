"""A simulated month: therapists link, rate sessions, get alerts and Monday images."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.rules import default_timing
from bot.wiring import make_engine
from conversations.enrolment import enroll_therapist
from core.records import NewSeries
from faketelegram import FakeUser, SentMessage
from scheduler.engine import Engine
from tests.support import Harness, wait_for_next_message

AMS = ZoneInfo("Europe/Amsterdam")
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)        # Monday 07:00 in Amsterdam
T02, T03, COORDINATOR = 600000002, 600000003, 9001
YOUTHS = {"J-001": (700000001, "T-02"), "J-002": (700000002, "T-02"),
          "J-003": (700000003, "T-03")}
# J-001 answers every week; the third week is a sharp dip (a strict rupture).
J001_WEEKS = ["Goed", "Goed", "Heel slecht", "Goed"]


def rows(bot: Harness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql))


async def setup(bot: Harness) -> Engine:
    bot.clock.now = START
    store = bot.services.store
    for code, chat in (("T-02", T02), ("T-03", T03)):
        invitation = await enroll_therapist(store, code, "nl", bot.clock(),
                                            bot.services.invite_ttl)
        assert invitation is not None
        bot.fake.user(chat).send(f"/start {invitation.token}")
        await bot.fake.settle()
        linked = bot.fake.messages(chat)[-1].text
        assert linked.startswith(f"Je bent gekoppeld als therapeut {code}")
    for code, (uid, therapist) in YOUTHS.items():
        await bot.enrol(bot.fake.user(uid), code, therapist=therapist)
        await store.add_series(NewSeries(
            therapist, (code,), "music", frozenset({1}), time(14 + int(code[-1]), 0),
            timedelta(hours=1), "Europe/Amsterdam", date(2026, 11, 23), None,
            default_timing(bot.settings)), bot.clock())
    engine = make_engine(bot.settings, bot.services)
    engine.coordinator_chats = (COORDINATOR,)
    return engine


async def answer(bot: Harness, youth: FakeUser, label: str) -> None:
    for _ in range(6):
        last = youth.last
        if not last.buttons or "👉" in last.text:
            return
        labels = " ".join(last.button_labels())
        tap = "Klaar" if "Klaar" in labels else "Niks bijzonders" if "Niks" in labels else label
        query = youth.tap(last, tap)
        await wait_for_next_message(youth, query, last)
        await bot.fake.settle(quiet=0.05)


async def run_month(bot: Harness, engine: Engine) -> None:
    seen: dict[int, int] = {}
    week = 0
    end = START + timedelta(days=28)
    while bot.clock() < end:
        bot.clock.advance(timedelta(minutes=15))
        await engine.tick(bot.channel)
        j1 = bot.fake.user(YOUTHS["J-001"][0])
        j3 = bot.fake.user(YOUTHS["J-003"][0])
        for youth in (j1, j3):
            if len(youth.inbox) != seen.get(youth.id, 0):
                if youth is j1:
                    await answer(bot, youth, J001_WEEKS[min(week, 3)])
                    week += youth.last.text.startswith("Dank je wel")
                else:
                    await answer(bot, youth, "Gewoon")
                seen[youth.id] = len(youth.inbox)
        therapist = bot.fake.user(T02)
        for message in therapist.inbox:
            if message.buttons and message.text.startswith("Jouw kijk") and "✔️" not in str(
                    message.buttons):
                for dim in ("band 1", "2", "3"):
                    therapist.tap_data(message, _data(message, dim))
                await bot.fake.settle(quiet=0.05)


def _data(message: SentMessage, label: str) -> str:
    rows_ = message.buttons            # task, goal, bond: the youth's order
    if label == "band 1":
        return rows_[2][3][1]          # bond 4
    if label == "2":
        return rows_[1][3][1]          # goal 4
    return rows_[0][2][1]              # task 3


async def test_a_month_for_two_therapists(bot: Harness) -> None:
    engine = await setup(bot)
    await run_month(bot, engine)
    photos = {chat: [m for m in bot.fake.messages(chat) if m.photo is not None]
              for chat in (T02, T03)}
    # Monday 08:00 images, one per week, each to its own therapist only.
    for chat, code_in, code_out in ((T02, "J-001", "J-003"), (T03, "J-003", "J-001")):
        captions = [m.text for m in photos[chat]]
        assert len(captions) == 4
        assert all(code_out not in c for c in captions)
        assert any(code_in in c or "jongeren" in c for c in captions)
    for youth_uid, _ in YOUTHS.values():
        assert not any(m.photo for m in bot.fake.messages(youth_uid))
    reports = rows(bot, "SELECT therapist_code, state, due_at FROM outbox WHERE kind = "
                        "'report' AND state = 'sent' ORDER BY due_at")
    assert len(reports) == 8
    for _, _, due in reports:
        local = datetime.fromisoformat(due).astimezone(AMS)
        assert (local.weekday(), local.hour, local.minute) == (0, 8, 0)
    # The therapist's own ratings are stored per session.
    ratings = rows(bot, "SELECT youth_code, item, value FROM therapist_ratings")
    assert ("J-001", "bond", "4") in ratings and ("J-002", "task", "3") in ratings
    # Alerts: J-001's strict rupture and J-002's three missed check-ins, to T-02 only.
    alerts = {r[0]: r for r in rows(bot, "SELECT kind, youth_code, therapist_code FROM alerts")}
    assert alerts["rupture"][1:] == ("J-001", "T-02")
    assert alerts["missed"][1:] == ("J-002", "T-02")
    texts = [m.text for m in bot.fake.messages(T02)]
    assert any(t.startswith("⚠️ J-001: Band, doel, taak en medium: het laagste antwoord.")
               for t in texts)
    assert any(t.startswith("⚠️ J-002: 3 check-ins op rij niet ingevuld") for t in texts)
    assert not any("J-00" in m.text and "⚠️" in m.text for m in bot.fake.messages(T03))


async def test_crisis_alert_within_a_minute_ack_and_escalation(bot: Harness) -> None:
    engine = await setup(bot)
    await engine.tick(bot.channel)
    youth = bot.fake.user(YOUTHS["J-003"][0])
    youth.send("ik wil dood")
    await bot.fake.settle()
    assert "113" in youth.last.text
    bot.clock.advance(timedelta(seconds=30))
    await engine.tick(bot.channel)
    alert = bot.fake.messages(T03)[-1]
    assert alert.text.startswith("🚨 Dringend: J-003 schreef iets dat op een crisis kan wijzen "
                                 "('wil dood')")
    assert alert.button_labels() == ["✓ Gezien"]
    assert not any("J-003" in m.text for m in bot.fake.messages(T02))
    # T-02 cannot acknowledge T-03's alert.
    forged = bot.fake.user(T02).tap_data(alert, alert.buttons[0][0][1])
    await bot.fake.settle()
    assert bot.fake.answered[forged] == "Deze melding is niet voor jou."
    # Nobody acknowledges: after the escalation delay (20 minutes) the coordinators hear.
    bot.clock.advance(timedelta(minutes=20))
    await engine.tick(bot.channel)
    assert bot.fake.messages(COORDINATOR)[-1].text.startswith(
        "🚨 J-003: dringende melding (crisis)")
    # A second crisis, acknowledged in time, is not escalated.
    bot.clock.advance(timedelta(minutes=5))
    youth.send("ik wil er een einde aan maken")
    await bot.fake.settle()
    bot.clock.advance(timedelta(seconds=30))
    await engine.tick(bot.channel)
    second = bot.fake.messages(T03)[-1]
    bot.fake.user(T03).tap(second, "Gezien")
    await bot.fake.settle()
    assert "✓ Gezien om" in second.text and not second.buttons
    before = len(bot.fake.messages(COORDINATOR))
    bot.clock.advance(timedelta(hours=5))
    await engine.tick(bot.channel)
    assert len(bot.fake.messages(COORDINATOR)) == before
    acked = rows(bot, "SELECT count(*) FROM alerts WHERE acked_at IS NOT NULL")
    assert acked == [(1,)]


async def test_clients_report_and_rate_commands(bot: Harness) -> None:
    engine = await setup(bot)
    bot.clock.now = START + timedelta(days=1, hours=10)        # Tuesday 17:00
    await engine.tick(bot.channel)
    await answer(bot, bot.fake.user(YOUTHS["J-001"][0]), "Goed")
    therapist = bot.fake.user(T02)
    therapist.send("/clients")
    await bot.fake.settle()
    assert therapist.last.text.splitlines()[0] == "Jouw jongeren (laatste check-in, respons):"
    assert "J-001: 24/11" in therapist.last.text and "J-003" not in therapist.last.text
    therapist.send("/report")
    await bot.fake.settle(quiet=0.5)
    assert therapist.last.photo is not None and therapist.last.text.startswith("Week 2026-W48")
    therapist.send("/rate")
    await bot.fake.settle()
    assert therapist.last.text.startswith("Jouw kijk op de sessie met")
    bot.fake.user(YOUTHS["J-001"][0]).send("/clients")
    await bot.fake.settle()
    assert bot.fake.user(YOUTHS["J-001"][0]).last.text == "Dit commando is alleen voor therapeuten."
