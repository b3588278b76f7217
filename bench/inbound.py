"""A stranger's flood beside an enrolled youth: how long the youth waits for the next question.

Fifty messages from an unknown account arrive just before the youth taps an answer; the
figure is the time from the tap to the youth's next question, beside the same tap with no
flood. Production limits (chat burst 3, inbound burst 8, a stranger answered once per 5
minutes) are set through the environment, as an operator would.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.offline import OfflineBot, join_directly, offline_bot
from conversations import usecases
from conversations.telegram_io import send_prompt
from core.records import Therapist

YOUTH = 700000001
CHAT_REFILL_S = 3.5
PRODUCTION = {"VAKBOT_TELEGRAM__CHAT_BURST": "3", "VAKBOT_TELEGRAM__INBOUND_BURST": "8",
              "VAKBOT_TELEGRAM__STRANGER_REPLY_MINUTES": "5"}


@dataclass(frozen=True)
class FloodResult:
    messages: int
    quiet_s: float        # tap to next question, no flood
    flooded_s: float      # tap to next question, right after the stranger's messages
    stranger_replies: int


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block (the production settings a bench measures
    under), then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def storage_environment(storage_url: str | None) -> dict[str, str]:
    """The setting that puts a bench's bot on PostgreSQL (none: the default SQLite file)."""
    return {"VAKBOT_STORAGE__URL": storage_url} if storage_url else {}


async def _tap_to_next_question(bot: OfflineBot, round_: int, flood: int, stranger: int) -> float:
    services, youth = bot.services, bot.fake.user(YOUTH)
    # The youth's own chat may get 3 messages at once, then one a second: start each round
    # with that budget full (as after a session), so only the flood makes a difference.
    await asyncio.sleep(CHAT_REFILL_S)
    outgoing = await usecases.start_checkin(services, "J-001", f"bench-{round_}", None)
    assert outgoing is not None
    await send_prompt(services, bot.app.bot, outgoing.chat_id, outgoing.prompt)
    await bot.fake.settle(quiet=0.05, expect_response=False)
    question, seen = youth.last, len(youth.inbox)
    for n in range(flood):
        bot.fake.user(stranger).send(f"hallo? {n}")
    started = time.perf_counter()
    youth.tap(question, question.button_labels()[0])
    while len(youth.inbox) <= seen:
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - started
    await bot.fake.settle(quiet=0.2, limit=300, expect_response=False)  # drain the flood
    return elapsed


async def stranger_flood(messages: int = 50) -> FloodResult:
    with environment(PRODUCTION), tempfile.TemporaryDirectory() as tmp:
        async with offline_bot(Path(tmp), tick=False) as bot:
            services, now = bot.services, bot.services.clock()
            await services.store.add_therapist(Therapist("T-01", "nl"), now)
            await join_directly(services, "J-001", "T-01", YOUTH, now)
            quiet = await _tap_to_next_question(bot, 1, 0, 0)
            flooded = await _tap_to_next_question(bot, 2, messages, 666000001)
            replies = len(bot.fake.user(666000001).inbox)
    return FloodResult(messages, quiet, flooded, replies)


if __name__ == "__main__":
    print(asyncio.run(stranger_flood()))
