"""A crisis text whose flag cannot be stored still reaches the unit and the therapist.

The database is made to refuse by a trigger (as a full disk or a busy timeout would):
first only the crisis flag (the youth's sealed text), then the alerts as well (the crisis
text's and "I want to talk now"'s), until the trigger is dropped. The real Application
over HTTP against the fake Telegram, a real SQLite file and the virtual clock; the
delivery engine is ticked by hand.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.wiring import make_engine
from core.records import NewAlert
from storage.held_alerts import HeldAlertsFile
from tests.support import Harness, running_bot
from tests.test_crisis_route_e2e import (
    FIRST_LINE,
    YOUTH,
    link_therapist,
    link_unit,
    rows,
    tick,
    urgent,
    youth_on_unit,
)

CRISIS_TEXT = "ik wil dood"
UNIT_ALERT = ("🚨 Dringend: J-014 (afdeling W-1) schreef iets dat op een crisis kan wijzen. "
              "Zorg dat nu iemand naar J-014 toe gaat. Tik op ✓ Gezien als je het oppakt.")
THERAPIST_ALERT = "🚨 Dringend: J-014 schreef iets dat op een crisis kan wijzen ('"
TALK_ALERT = ("🙋 Dringend: J-014 (afdeling W-1) tikte op 'Ik wil nu praten'. Zorg dat nu "
              "iemand naar J-014 toe gaat. Tik op ✓ Gezien als je het oppakt.")
TALK_HINT = "Wil je nu met iemand praten? Tik dan op de knop."


def refuse_inserts(bot: Harness, table: str) -> None:
    with sqlite3.connect(bot.database) as conn:
        conn.execute(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table}"
                     " BEGIN SELECT RAISE(ABORT, 'disk full'); END")


def accept_inserts(bot: Harness, table: str) -> None:
    with sqlite3.connect(bot.database) as conn:
        conn.execute(f"DROP TRIGGER refuse_{table}")


def nothing_private_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert CRISIS_TEXT not in caplog.text
    assert str(YOUTH) not in caplog.text


async def test_flag_refused_the_alert_alone_is_stored_and_delivered(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as bot:
        phone = await link_unit(bot)
        therapist = await link_therapist(bot)
        youth = await youth_on_unit(bot)
        engine = make_engine(bot.settings, bot.services)
        refuse_inserts(bot, "crisis_flags")

        youth.send(CRISIS_TEXT)
        await bot.fake.settle()
        # The reply is the one a stored flag gets: help numbers, route, the talk button.
        assert youth.last.text.splitlines()[0] == FIRST_LINE
        assert youth.last.text.endswith(
            "Ik stuur nu een bericht naar de groepsleiding en naar je therapeut.\n" + TALK_HINT)
        assert youth.last.button_labels() == ["🙋 Ik wil nu praten"]
        assert rows(bot, "SELECT count(*) FROM crisis_flags") == [(0,)]
        assert rows(bot, "SELECT youth_code, reason FROM alerts") == [("J-014", "text")]
        assert "CRISIS FLAG NOT STORED for J-014" in caplog.text

        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone) == [UNIT_ALERT]
        assert [t[:len(THERAPIST_ALERT)] for t in urgent(therapist)] == [THERAPIST_ALERT]
        assert len(bot.services.pending_alerts) == 0
        nothing_private_logged(caplog)


async def test_alert_refused_too_is_held_and_delivered_once_the_database_takes_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as bot:
        phone = await link_unit(bot)
        therapist = await link_therapist(bot)
        youth = await youth_on_unit(bot)
        engine = make_engine(bot.settings, bot.services)
        refuse_inserts(bot, "crisis_flags")
        refuse_inserts(bot, "alerts")

        youth.send(CRISIS_TEXT)
        await bot.fake.settle()
        # Help numbers and the talk button; no promise of who hears until it is stored.
        assert youth.last.text.splitlines()[0] == FIRST_LINE
        assert youth.last.text.endswith(TALK_HINT)
        assert "Ik stuur nu een bericht" not in youth.last.text
        assert youth.last.button_labels() == ["🙋 Ik wil nu praten"]
        assert rows(bot, "SELECT count(*) FROM alerts") == [(0,)]
        assert len(bot.services.pending_alerts) == 1
        assert "URGENT ALERT NOT STORED for J-014" in caplog.text

        # "I want to talk now" while the database still refuses: promised, so held too.
        query = youth.tap(youth.last, "Ik wil nu praten")
        await bot.fake.settle()
        assert bot.fake.answered[query] == "Doorgegeven 💛"
        assert youth.last.text.startswith("Goed dat je het zegt. 💛 Ik geef het zo snel "
                                          "mogelijk door aan de begeleiding.")
        assert len(bot.services.pending_alerts) == 2

        caplog.clear()
        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone) == urgent(therapist) == []
        still = [r for r in caplog.records if r.levelno == logging.ERROR
                 and "URGENT ALERT STILL NOT STORED for J-014" in r.getMessage()]
        assert len(still) == 2, "loud on every tick, for every alert that cannot be stored"
        assert len(bot.services.pending_alerts) == 2

        accept_inserts(bot, "alerts")
        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone) == [UNIT_ALERT, TALK_ALERT]
        assert [t[:len(THERAPIST_ALERT)] for t in urgent(therapist)] == [
            THERAPIST_ALERT, TALK_ALERT[:len(THERAPIST_ALERT)]]
        assert len(bot.services.pending_alerts) == 0
        # Created at the moment it was raised: escalation is not delayed by the failure.
        assert rows(bot, "SELECT round((julianday(escalate_at) - julianday(created_at))"
                         " * 1440) FROM alerts") == [(20.0,), (20.0,)]

        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone) == [UNIT_ALERT, TALK_ALERT], "stored once, sent once"
        assert rows(bot, "SELECT reason FROM alerts ORDER BY id") == [("text",), ("talk",)]
        nothing_private_logged(caplog)


async def test_an_alert_held_when_the_bot_stops_is_delivered_after_the_restart(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The database refuses the alert, and the bot stops before it takes it again: the
    alert waits in the file beside the database and goes out after the restart."""
    caplog.set_level(logging.INFO)
    async with running_bot(tmp_path) as bot:
        await link_unit(bot)
        youth = await youth_on_unit(bot)
        refuse_inserts(bot, "crisis_flags")
        refuse_inserts(bot, "alerts")
        youth.send(CRISIS_TEXT)
        await bot.fake.settle()
        assert len(bot.services.pending_alerts) == 1
        (held,) = bot.database.parent.glob(bot.database.name + ".held-alerts.*")
        assert held.stat().st_mode & 0o777 == 0o600
        assert CRISIS_TEXT not in held.read_text() and str(YOUTH) not in held.read_text()
        accept_inserts(bot, "alerts")
        accept_inserts(bot, "crisis_flags")
    assert held.exists(), "still owed after the stop"

    caplog.clear()
    async with running_bot(tmp_path) as bot:
        assert "1 URGENT ALERT(S) HELD BEFORE THE LAST STOP" in caplog.text
        phone = bot.fake.user(800000001)
        engine = make_engine(bot.settings, bot.services)
        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone) == [UNIT_ALERT]
        assert rows(bot, "SELECT youth_code, reason FROM alerts") == [("J-014", "text")]
        assert not list(bot.database.parent.glob(bot.database.name + ".held-alerts*"))
        assert len(bot.services.pending_alerts) == 0
        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone) == [UNIT_ALERT], "stored once, sent once"
        nothing_private_logged(caplog)


def test_a_damaged_held_alerts_file_is_kept_aside_loudly(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    base = tmp_path / "bot.sqlite3.held-alerts"
    path = base.with_name(base.name + ".4711")
    path.write_text('[{"alert": {"ref": "x"')
    assert HeldAlertsFile(base, "99").load() == []
    assert not path.exists() and path.with_name(path.name + ".damaged").exists()
    assert "COULD NOT BE READ" in caplog.text and "raise those alerts by hand" in caplog.text


def test_each_process_keeps_its_own_file_and_a_restart_takes_over_all(
        tmp_path: Path) -> None:
    """Two processes on one configuration never overwrite each other's held alerts."""
    base = tmp_path / "bot.sqlite3.held-alerts"
    at = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    def alert(n: int) -> NewAlert:
        return NewAlert(f"ref{n}", f"crisis:J-{n}", "crisis", f"J-{n}", "T-02", "", at,
                        at + timedelta(minutes=20), "W-1", "text")

    first, second = HeldAlertsFile(base, "101"), HeldAlertsFile(base, "202")
    first.save([(alert(1), at)])
    second.save([(alert(2), at)])
    second.save([])                                  # stored: its file goes, not first's
    assert [p.name for p in tmp_path.iterdir()] == ["bot.sqlite3.held-alerts.101"]
    second.save([(alert(3), at)])
    restarted = HeldAlertsFile(base, "303")
    assert sorted(a.ref for a, _ in restarted.load()) == ["ref1", "ref3"]
    assert [p.name for p in tmp_path.iterdir()] == ["bot.sqlite3.held-alerts.303"]
