"""Concurrent updates: one person's strictly in order, other people's alongside."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.updates import PerUserUpdateProcessor


def update(update_id: int, person: int) -> Update:
    return Update(update_id, message=Message(
        update_id, datetime.now(UTC), Chat(person, Chat.PRIVATE),
        from_user=User(person, "Youth", is_bot=False), text=f"m{update_id}"))


async def test_one_person_in_order_others_alongside() -> None:
    processor = PerUserUpdateProcessor(16)
    done: list[str] = []
    first_may_finish = asyncio.Event()

    async def work(name: str, hold: asyncio.Event | None = None) -> None:
        if hold is not None:
            await hold.wait()
        done.append(name)

    async with processor:
        tasks = [asyncio.create_task(processor.process_update(update(n, person), work(name, hold)))
                 for n, (person, name, hold) in enumerate([
                     (1, "A1", first_may_finish), (1, "A2", None), (2, "B1", None)])]
        await asyncio.wait_for(tasks[2], 30)   # B is not held up by A's first update
        assert done == ["B1"] and processor.waiting(1) == 2
        first_may_finish.set()
        await asyncio.gather(*tasks)
    assert done == ["B1", "A1", "A2"]
    assert processor.waiting(1) == processor.waiting(2) == 0
