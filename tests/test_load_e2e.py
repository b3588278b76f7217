"""Load: a stranger's flood does not hold up an enrolled youth, and gets one reply.

With the production limits (burst 8, one pointer per 5 minutes for a stranger). The
stranger's first reply is held at the fake Telegram until the test lets go, so their
backlog provably cannot drain; the youth's next question must arrive all the same. This
asserts structure, not speed: the figure (latency with and without the flood) is in
`python -m bench` (bench/inbound.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import pytest

from bot.updates import PerUserUpdateProcessor
from tests.support import running_bot

YOUTH, STRANGER = 700000001, 666000001
POLL = 0.02
HANG_GUARD = 60.0  # only bounds a hang; before this change the youth waited ~50 replies


async def test_fifty_stranger_messages_do_not_hold_up_a_youths_next_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAKBOT_TELEGRAM__INBOUND_BURST", "8")
    monkeypatch.setenv("VAKBOT_TELEGRAM__STRANGER_REPLY_MINUTES", "5")
    monkeypatch.setenv("VAKBOT_TELEGRAM__REQUEST_TIMEOUT", "120")  # the held reply waits
    async with running_bot(tmp_path) as bot:
        youth, stranger = bot.fake.user(YOUTH), bot.fake.user(STRANGER)
        await bot.enrol(youth)
        await bot.checkin(discipline=None)
        question, seen = youth.last, len(youth.inbox)
        processor = cast(PerUserUpdateProcessor, bot.app.update_processor)
        release = bot.fake.held[STRANGER] = asyncio.Event()
        try:
            for n in range(50):
                stranger.send(f"hallo? {n}")
            youth.tap(question, "Goed")
            for _ in range(int(HANG_GUARD / POLL)):
                if len(youth.inbox) > seen:
                    break
                await asyncio.sleep(POLL)
            assert len(youth.inbox) > seen and youth.last.buttons, "the next question"
            assert processor.waiting(STRANGER) > 1, "the stranger's backlog is still there"
            assert stranger.inbox == []
        finally:
            release.set()
        await bot.fake.settle(expect_response=False)
        assert processor.waiting(STRANGER) == 0
        assert [m.text[:4] for m in stranger.inbox] == ["Hoi!"], "one reply, the pointer"
