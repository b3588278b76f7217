"""`send-checkin` from the shell against a running bot: held in quiet hours, queued for
the bot to send, and counted for the therapist like any scheduled session."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot import cli
from bot.wiring import make_engine
from conversations.enrolment import enroll_therapist
from conversations.reporting import weekly_report
from scheduler.engine import Engine
from tests.support import Harness, run_cli
from tests.test_therapist_e2e import answer

QUESTION = "Hoi! 👋 Een paar vragen over je "
LATE_MONDAY = datetime(2026, 11, 23, 20, 45, tzinfo=UTC)    # 21:45 in Amsterdam
NEXT_MORNING = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)     # 08:00 in Amsterdam
J001, T02 = 700000001, 600000002


async def shell(bot: Harness, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, str]:
    """Run `python -m bot ARGV` on the bot's clock, beside the running bot."""
    monkeypatch.setattr(cli, "_now", bot.clock)
    return await asyncio.to_thread(run_cli, capsys, argv[0], "--config",
                                   str(bot.config_path), *argv[1:])


async def ticked(bot: Harness, engine: Engine) -> None:
    await engine.tick(bot.channel)
    await bot.fake.settle(expect_response=False)


async def test_send_checkin_in_quiet_hours_waits_for_the_morning_unless_now(
    bot: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot.clock.now = LATE_MONDAY
    youth = bot.fake.user(J001)
    await bot.enrol(youth, "J-001")
    engine = make_engine(bot.settings, bot.services)
    before = len(youth.inbox)
    code, out = await shell(bot, capsys, monkeypatch, "send-checkin", "--code", "J-001",
                            "--discipline", "music", "--occurrence", "late-1")
    assert code == 0, out
    assert ("Check-in for J-001 (session late-1) queued for Tue 2026-11-24 08:00 CET "
            "(Europe/Amsterdam): no messages in quiet hours (21:30-08:00)") in out
    assert "The running bot sends it then; use --now" in out and "sent" not in out
    await ticked(bot, engine)
    assert len(youth.inbox) == before          # nothing at 21:45
    bot.clock.now = NEXT_MORNING
    await ticked(bot, engine)
    assert QUESTION in youth.last.text and len(youth.inbox) == before + 1

    bot.clock.now = LATE_MONDAY + timedelta(days=1)
    code, out = await shell(bot, capsys, monkeypatch, "send-checkin", "--code", "J-001",
                            "--occurrence", "late-2", "--now")
    assert code == 0 and "Check-in sent to J-001 (session late-2) now although it is " \
                         "quiet hours (21:30-08:00)" in out, out
    await bot.fake.settle(expect_response=False)
    assert QUESTION in youth.last.text and len(youth.inbox) == before + 2
    await ticked(bot, engine)                  # the bot does not send it a second time
    assert len(youth.inbox) == before + 2


async def test_send_checkin_by_day_is_queued_not_claimed_as_sent(
    bot: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    youth = bot.fake.user(J001)
    await bot.enrol(youth, "J-001")
    code, out = await shell(bot, capsys, monkeypatch, "send-checkin", "--code", "J-001",
                            "--occurrence", "day-1")
    assert code == 0 and out.strip() == ("Check-in for J-001 (session day-1) queued; the "
                                         "running bot sends it within a minute."), out
    code, out = await shell(bot, capsys, monkeypatch, "send-checkin", "--code", "J-001",
                            "--occurrence", "day-1")
    assert "queued or sent already; nothing added" in out


async def test_checkins_started_with_send_checkin_count_for_the_therapist(
    bot: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot.clock.now = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)   # Monday of week 47
    invitation = await enroll_therapist(bot.services.store, "T-02", "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    therapist = bot.fake.user(T02)
    therapist.send(f"/start {invitation.token}")
    await bot.fake.settle()
    youth = bot.fake.user(J001)
    await bot.enrol(youth, "J-001")
    engine = make_engine(bot.settings, bot.services)
    for n in range(4):
        code, out = await shell(bot, capsys, monkeypatch, "send-checkin", "--code", "J-001",
                                "--discipline", "music", "--occurrence", f"extra-{n}")
        assert code == 0, out
        await ticked(bot, engine)
        assert QUESTION in youth.last.text
        await answer(bot, youth, "Goed")
        bot.clock.advance(timedelta(days=1))
    # One more started the old way, straight from the use case (no outbox row at all).
    await bot.checkin("J-001", occurrence="direct-1")
    await answer(bot, youth, "Gewoon")

    code, out = await shell(bot, capsys, monkeypatch, "overview")
    row = next(line for line in out.splitlines() if line.startswith("J-001"))
    assert row.split()[2:6] == ["5", "5", "5", "0"], out      # sessions sent completed missed
    therapist.send("/clients")
    await bot.fake.settle()
    assert "nog geen" not in therapist.last.text and "J-001" in therapist.last.text
    assert "100%" in therapist.last.text, therapist.last.text
    report = await weekly_report(bot.services.store, "T-02", "2026-W47", "Europe/Amsterdam",
                                 "nl")
    assert [len(p.points) for p in report.panels] == [5]
    assert all(p.state.value == "answered" for p in report.panels[0].points)
