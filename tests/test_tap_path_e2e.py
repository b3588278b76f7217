"""A tap's answer, the edit of the tapped message and the next question go out side by
side (conversations.telegram_io.apply): when Telegram refuses one of the first two, the
answer is still stored once and the next question still arrives."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from faketelegram import Fault
from tests.support import Harness

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
