"""Phone hours hold what goes to a phone, not a kiosk code: a kiosk youth on a unit with
phone windows (the JJI case the kiosk exists for) gets their code right after the
session, and switching a youth's channel replans their pending check-in on the next
incremental pass (migration 0015). Real PTB, real SQLite, the virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.delivery import Window
from core.kiosk import Channel
from core.records import ChannelChange, PhoneWindow
from tests.support import Harness, running_bot
from tests.test_kiosk_e2e import clinic, code_for, rows, weekly_session

WEDNESDAY_EVENING = Window(frozenset({2}), time(19, 0), time(19, 20))  # JJI phone time
LOCAL = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_bot(tmp_path) as harness:
        yield harness


def checkin_row(bot: Harness) -> tuple[str, str, str | None]:
    (row,) = rows(bot, "SELECT state, due_at, last_error FROM outbox WHERE youth_code ="
                       " 'J-103' AND kind = 'checkin' ORDER BY due_at LIMIT 1")
    return row


def local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(LOCAL)


async def test_a_kiosk_youth_gets_a_code_right_after_the_session_despite_phone_hours(
        bot: Harness) -> None:
    engine, therapist, _, _ = await clinic(bot)
    await bot.services.store.add_window(PhoneWindow("unit", "W-1", WEDNESDAY_EVENING))
    await code_for(bot, engine, therapist)
    # Monday's session ended at 15:00; the code came then, not on Wednesday evening.
    now = bot.clock().astimezone(LOCAL)
    assert now.weekday() == 0 and now.time() < time(16, 0)
    state, due, error = checkin_row(bot)
    assert state == "sent" and local(due).weekday() == 0 and error is None


async def test_switching_to_the_kiosk_replans_pending_checkins_on_the_next_pass(
        bot: Harness) -> None:
    engine, therapist, _, _ = await clinic(bot)
    store = bot.services.store
    await store.add_window(PhoneWindow("unit", "W-1", WEDNESDAY_EVENING))
    await store.add_channel_change("J-103", ChannelChange(
        Channel.TELEGRAM, bot.clock(), "coordinator:test", "test"))
    await engine.replan()
    # On Telegram the check-in waits for phone time: Wednesday is after its 24 hours.
    assert checkin_row(bot)[::2] == ("expired", "no phone window before expiry")
    marks = rows(bot, "SELECT count(*) FROM plan_marks")[0][0]
    assert marks > 0   # planned: the next pass is incremental

    await store.add_channel_change("J-103", ChannelChange(
        Channel.KIOSK, bot.clock(), "coordinator:test", "back to the tablet"))
    assert rows(bot, "SELECT count(*) FROM plan_changes")[0][0] > 0
    await engine.replan()
    state, due, error = checkin_row(bot)
    assert state == "pending" and error is None
    assert local(due) == datetime(2026, 11, 23, 15, 15, tzinfo=LOCAL)  # end + 15 minutes
    await code_for(bot, engine, therapist)
    assert bot.clock().astimezone(LOCAL).weekday() == 0


async def test_on_both_channels_the_code_comes_at_once_and_the_phone_waits(
        bot: Harness) -> None:
    """Outside phone hours a youth on both gets the kiosk code right after the session
    and nothing on the phone; the reminder brings the question in the phone window."""
    engine, therapist, _, _ = await clinic(bot)
    youth = bot.fake.user(700000014)
    await bot.enrol(youth, "J-014")
    store = bot.services.store
    assert await store.set_unit("J-014", "W-1")
    await store.add_window(PhoneWindow("youth", "J-014",
                                       Window(frozenset({0}), time(18, 0), time(19, 0))))
    await store.add_channel_change("J-014", ChannelChange(
        Channel.BOTH, bot.clock(), "coordinator:test", "test"))
    await weekly_session(bot, "J-014")
    before = len(youth.inbox)
    await code_for(bot, engine, therapist, "J-014")
    assert bot.clock().astimezone(LOCAL).time() < time(16, 0)   # Monday, after 15:00
    assert len(youth.inbox) == before                           # the phone is away
    while bot.clock().astimezone(LOCAL).time() < time(18, 30):
        bot.clock.advance(timedelta(minutes=5))
        await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
    assert len(youth.inbox) == before + 1 and youth.last.buttons  # the question, in time
