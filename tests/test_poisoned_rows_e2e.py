"""No single row can stop the engine: poison planted straight into the database.

A phone window wholly inside quiet hours, a contact sealed with another key (with an
unconfirmed question waiting for it), an outbox row with a malformed field and a series
row that cannot be read. Start-up still succeeds, the other youths still get their
check-in, a crisis text still reaches the therapist, and each bad row is recorded with
its reason. The real Application over HTTP, a real SQLite file, a virtual clock.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.rules import default_timing
from bot.wiring import make_engine
from conversations import usecases
from conversations.enrolment import enroll_therapist
from core.identity import ContactCipher, new_key
from core.records import NewSeries
from tests.support import Harness

START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)       # Monday 07:00 in Amsterdam
AFTER_SESSION = datetime(2026, 11, 23, 14, 20, tzinfo=UTC)  # 15:20, check-ins due 15:15
THERAPIST, OTHER_THERAPIST = 600000002, 600000003
YOUTHS = {"J-001": 700000001, "J-002": 700000002, "J-003": 700000003,
          "J-004": 700000004, "J-005": 700000005, "J-006": 700000006}
INTRO = "Hoi! 👋 Een paar vragen over je "


def sql(bot: Harness, statement: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(statement, params))


async def clinic(bot: Harness) -> None:
    bot.clock.now = START
    store = bot.services.store
    for therapist, chat in (("T-02", THERAPIST), ("T-03", OTHER_THERAPIST)):
        invitation = await enroll_therapist(store, therapist, "nl", bot.clock(),
                                            bot.services.invite_ttl)
        assert invitation is not None
        bot.fake.user(chat).send(f"/start {invitation.token}")
        await bot.fake.settle()
    for code, uid in YOUTHS.items():
        therapist = "T-03" if code == "J-006" else "T-02"
        await bot.enrol(bot.fake.user(uid), code, therapist=therapist)
        await store.add_series(NewSeries(
            therapist, (code,), "music", frozenset({0}), time(14, 0), timedelta(hours=1),
            "Europe/Amsterdam", date(2026, 11, 23), None, default_timing(bot.settings)),
            bot.clock())


async def poison(bot: Harness) -> None:
    # J-004: a question recorded but not sent, then the contact re-sealed with another key.
    outgoing = await usecases.start_checkin(bot.services, "J-004", "manual-1", None)
    assert outgoing is not None
    other = ContactCipher(new_key().encode()).seal(YOUTHS["J-004"])
    pseudonym = bot.services.pseudonym(YOUTHS["J-004"])
    sql(bot, "UPDATE contacts SET chat_id_enc = ? WHERE pseudonym = ?", other, pseudonym)
    # T-03 (J-006's therapist): their contact too.
    other = ContactCipher(new_key().encode()).seal(OTHER_THERAPIST)
    pseudonym = bot.services.pseudonym(OTHER_THERAPIST)
    sql(bot, "UPDATE contacts SET chat_id_enc = ? WHERE pseudonym = ?", other, pseudonym)
    # J-005: a phone window wholly inside quiet hours (21:30-08:00), past the CLI's check.
    sql(bot, "UPDATE youths SET unit = 'W-9' WHERE code = 'J-005'")
    sql(bot, "INSERT INTO phone_windows (scope, scope_code, weekdays, start_time, end_time)"
             " VALUES ('unit', 'W-9', '0,1,2,3,4,5,6', '22:00', '23:00')")
    # An outbox row whose expiry is not a date, due before everything else.
    sql(bot, "INSERT INTO outbox (dedupe_key, kind, youth_code, occurrence_key, session_end,"
             " due_at, expires_at, state, scheduled_at) VALUES ('checkin:bad:J-001',"
             " 'checkin', 'J-001', 'bad', ?, ?, 'never', 'pending', ?)",
        START.isoformat(), START.isoformat(), START.isoformat())
    # A series whose start time is not a time.
    sql(bot, "INSERT INTO series (therapist_code, discipline, weekdays, start_time,"
             " duration_minutes, timezone, first_date, send_after_minutes,"
             " remind_after_minutes, expire_after_minutes, created_at) VALUES ('T-02',"
             " 'music', '0', '25:99', 60, 'Europe/Amsterdam', '2026-11-23', 15, 180, 1440, ?)",
        START.isoformat())


async def test_poisoned_rows_stop_neither_checkins_nor_a_crisis_alert(bot: Harness) -> None:
    await clinic(bot)
    await poison(bot)
    engine = make_engine(bot.settings, bot.services)
    await engine.startup()                       # must not raise
    assert await bot.resend_unsent() == 0         # J-004's question: skipped, not fatal

    bot.clock.now = AFTER_SESSION
    report = await engine.tick(bot.channel)
    await bot.fake.settle(expect_response=False)
    for code in ("J-001", "J-002", "J-003", "J-006"):
        assert INTRO in bot.fake.user(YOUTHS[code]).last.text, code
    assert all(INTRO not in m.text for code in ("J-004", "J-005")
               for m in bot.fake.user(YOUTHS[code]).inbox)
    assert report.failed == 3  # J-004, T-03's rating and report (the bad row: on read)

    reasons = dict(sql(bot, "SELECT youth_code || ' ' || occurrence_key, last_error FROM outbox"
                            " WHERE kind = 'checkin' AND state IN ('failed', 'expired')"))
    assert reasons["J-001 bad"].startswith("unreadable row")
    assert reasons["J-004 s4:2026-11-23"] == ("the contact cannot be opened with the configured"
                                              " contact key")
    assert reasons["J-005 s5:2026-11-23"] == "no phone window before expiry"
    assert sql(bot, "SELECT kind, state, last_error FROM outbox WHERE therapist_code = 'T-03'"
                    " AND kind IN ('rating', 'report') AND state != 'pending' ORDER BY kind") == [
        (kind, "failed", "the contact cannot be opened with the configured contact key")
        for kind in ("rating", "report")]

    youth = bot.fake.user(YOUTHS["J-002"])
    seen = len(youth.inbox)
    youth.send("ik wil zelfmoord plegen")
    await bot.fake.settle()
    assert any("113" in m.text for m in youth.inbox[seen:]), "the help numbers"
    bot.clock.advance(timedelta(minutes=1))
    await engine.tick(bot.channel)
    await bot.fake.settle(expect_response=False)
    alert = bot.fake.messages(THERAPIST)[-1].text
    assert "J-002" in alert and "🚨" in alert
