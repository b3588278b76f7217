"""Research consent below 16 waits for the guardian's research consent (issue 11)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from conversations.enrolment import enroll_therapist, enroll_youth
from core.consent import research_needs_guardian
from core.records import NewYouth
from tests.support import Harness, run_cli

YOUNG = 700000321
WAIT = ("🔬 Meedoen met onderzoek kan nog niet. Je bent jonger dan 16. Dan moet eerst je "
        "ouder of voogd ook ja zeggen.")


@pytest.mark.parametrize(("birth_year", "guardian", "waits"), [
    (2012, None, True),                      # certainly under 16
    (2010, None, True),                      # may still be 15 in 2026
    (2009, None, False),                     # 16 or older all of 2026
    (2012, date(2026, 11, 1), False),
    (2012, date(2026, 12, 30), True),        # a date in the future is not on file yet
])
def test_research_below_16_needs_the_guardian(birth_year: int, guardian: date | None,
                                              waits: bool) -> None:
    assert research_needs_guardian(birth_year, guardian, date(2026, 11, 28)) is waits


async def _join_young(bot: Harness) -> None:
    store = bot.services.store
    await enroll_therapist(store, "T-02", "nl", bot.clock())
    invitation = await enroll_youth(
        store, NewYouth("J-020", "T-02", 2012, "nl", False, date(2026, 11, 1)),
        bot.clock(), bot.services.invite_ttl)
    youth = bot.fake.user(YOUNG)
    youth.send(f"/start {invitation.token}")
    await bot.fake.settle()
    youth.tap(youth.last, "Ik doe mee")
    await bot.fake.settle()
    youth.tap(youth.last, "Ja, dat mag")
    await bot.fake.settle()


def _research_rows(bot: Harness) -> int:
    with closing(sqlite3.connect(bot.database)) as conn:
        return int(conn.execute("SELECT count(*) FROM consents WHERE scope = 'research'"
                                ).fetchone()[0])


async def test_a_youth_under_16_is_not_asked_until_the_guardian_agreed(bot: Harness) -> None:
    await _join_young(bot)
    youth = bot.fake.user(YOUNG)
    youth.send("/research")
    await bot.fake.settle()
    assert youth.last.text.startswith(WAIT) and youth.last.buttons == []
    youth.send("/toestemming")
    await bot.fake.settle()
    menu = youth.last
    assert "🔬 Onderzoek, zonder je naam: eerst moet je ouder of voogd ja zeggen 👪" in menu.text
    youth.tap(menu, "Onderzoek")
    await bot.fake.settle()
    assert youth.last.text.startswith(WAIT)
    assert _research_rows(bot) == 0
    # The coordinator records the guardian's research consent; now the youth may choose.
    assert await bot.services.store.set_guardian_research_consent("J-020", date(2026, 11, 20))
    youth.send("/research")
    await bot.fake.settle()
    assert youth.last.text.startswith("🔬 Onderzoekers willen leren hoe therapie beter kan.")
    youth.tap(youth.last, "Dat mag")
    await bot.fake.settle()
    assert youth.last.text.startswith("Dank je! Je antwoorden mogen zonder naam")
    assert _research_rows(bot) == 1


def test_the_coordinator_records_the_guardians_research_consent(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    assert run_cli(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    assert run_cli(capsys, "enroll-youth", *cfg, "--code", "J-020", "--therapist", "T-02",
                   "--birth-year", "2012", "--guardian-consent-date", "2026-11-01",
                   "--guardian-research-consent-date", "2026-11-02", "--unit", "W-1")[0] == 0
    assert run_cli(capsys, "enroll-youth", *cfg, "--code", "J-021", "--therapist", "T-02",
                   "--birth-year", "2012", "--guardian-consent-date", "2026-11-01",
                   "--unit", "W-1")[0] == 0
    code, out = run_cli(capsys, "guardian-research-consent", *cfg, "--code", "J-021",
                        "--date", "2026-11-03")
    assert code == 0 and "Recorded for J-021" in out
    assert run_cli(capsys, "guardian-research-consent", *cfg, "--code", "J-099",
                   "--date", "2026-11-03")[0] == 1
    with closing(sqlite3.connect(config.parent / "db.sqlite3")) as conn:
        dates = conn.execute("SELECT code, guardian_research_consent_date FROM youths"
                             " ORDER BY code").fetchall()
        audited = conn.execute("SELECT youth_code, detail FROM audit_log"
                               " WHERE action = 'guardian-consent:research'").fetchall()
    assert dates == [("J-020", "2026-11-02"), ("J-021", "2026-11-03")]
    assert audited == [("J-020", "2026-11-02"), ("J-021", "2026-11-03")]
