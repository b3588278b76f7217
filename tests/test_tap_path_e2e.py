"""A tap's answer, the edit of the tapped message and the next question go out side by
side (conversations.telegram_io.apply): when Telegram refuses one of the first two, the
answer is still stored once and the next question still arrives."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from faketelegram import Fault
from tests.support import DEADLINE, Harness, running_bot, wait_until

YOUTH = 700000321
TOO_OLD = ("Bad Request: query is too old and response timeout expired or query ID is "
           "invalid")


def rows(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, params))


async def test_a_refused_answer_to_the_tap_does_not_hold_back_the_next_question(
        bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    task = youth.last
    before = len(youth.inbox)
    bot.fake.faults.append(Fault("answerCallbackQuery", 400, TOO_OLD))
    query = youth.tap(task, "🙂 Goed")
    await bot.fake.settle()
    assert query not in bot.fake.answered, "Telegram refused the answer to the tap"
    assert rows(bot.database, "SELECT item, value FROM answers") == [("task", "4")]
    assert "👉 Jouw keuze: 🙂 Goed" in task.text
    following = youth.last
    assert following is not task and following.button_labels(), "the next question arrived"
    assert len(youth.inbox) == before + 1, "and only once"


async def test_a_refused_edit_does_not_hold_back_the_next_question(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    task = youth.last
    before = len(youth.inbox)
    bot.fake.faults.append(Fault("editMessageText", 400, "Bad Request: message can't be edited"))
    query = youth.tap(task, "🙂 Goed")
    await bot.fake.settle()
    assert bot.fake.answered[query] == "Bewaard ✔️"
    assert rows(bot.database, "SELECT item, value FROM answers") == [("task", "4")]
    assert "👉" not in task.text, "the edit was refused"
    following = youth.last
    assert following is not task and following.button_labels(), "the next question arrived"
    assert len(youth.inbox) == before + 1
    # the youth answers on: nothing of the refused edit is left in the way
    query = youth.tap(following, "🙂 Goed")
    await bot.fake.settle()
    assert bot.fake.answered[query] == "Bewaard ✔️"
    assert len(youth.inbox) == before + 2
    items = [r[0] for r in rows(bot.database, "SELECT item FROM answers ORDER BY item")]
    assert len(items) == 2 and "task" in items


OTHER = 700000322


@pytest.fixture
async def patient_bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                      ) -> AsyncIterator[Harness]:
    """A bot that waits for Telegram as long as a test holds a message at the fake, and
    holds a toast as long as it takes: what these tests show does not depend on speed."""
    monkeypatch.setenv("VAKBOT_TELEGRAM__REQUEST_TIMEOUT", "120")
    async with running_bot(tmp_path) as harness:
        harness.app.bot.taps.max_hold = DEADLINE
        yield harness


async def test_when_two_youths_tap_at_once_the_next_questions_go_before_the_toasts(
        patient_bot: Harness) -> None:
    """conversations.tap_order: a toast and an edit wait while another tap is still on its
    way to its next question. That other question is held at the fake, so the toast of the
    first youth cannot have gone whatever the machine's speed."""
    bot = patient_bot
    first, second = bot.fake.user(YOUTH), bot.fake.user(OTHER)
    await bot.enrol(first)
    await bot.enrol(second, code="J-015")
    await bot.checkin()
    await bot.checkin(code="J-015")
    asked_first, asked_second = first.last, second.last
    release = bot.fake.held[OTHER] = asyncio.Event()
    tapped_first = first.tap(asked_first, "🙂")
    tapped_second = second.tap(asked_second, "🙂")
    await wait_until(lambda: first.last is not asked_first, "the first youth's next question")
    await wait_until(lambda: any(m == "sendMessage" and p.get("chat_id") == OTHER
                                 for m, p in bot.fake.calls), "the second one is on its way")
    await wait_until(lambda: bot.app.bot.taps.on_the_way == 1,
                     "the bot knows the first question arrived, the second one is held")
    assert tapped_first not in bot.fake.answered, "so the first toast waits for it"
    assert "👉" not in asked_first.text, "and so does the edit"
    release.set()
    del bot.fake.held[OTHER]
    await bot.fake.settle()
    assert bot.fake.answered[tapped_first] == bot.fake.answered[tapped_second] == "Bewaard ✔️"
    assert "👉" in asked_first.text and "👉" in asked_second.text
    assert second.last is not asked_second


async def test_a_lone_tap_s_toast_does_not_wait_for_its_own_next_question(
        patient_bot: Harness) -> None:
    bot = patient_bot
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin()
    asked = youth.last
    release = bot.fake.held[YOUTH] = asyncio.Event()
    tapped = youth.tap(asked, "🙂")
    await wait_until(lambda: tapped in bot.fake.answered, "the toast")
    assert bot.app.bot.taps.on_the_way == 1, "it came while the next question was on its way"
    release.set()
    del bot.fake.held[YOUTH]
    await bot.fake.settle()
    assert youth.last is not asked and youth.last.button_labels()
