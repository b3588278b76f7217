"""One overall limiter for every outgoing message: never more than 25 in any second.

Counted at the fake Telegram by arrival time: a property of the recorded times, not a
timed wait, so a slow machine can only make it easier to hold.
"""

from __future__ import annotations

import asyncio

from conversations.actions import EditMessage, Photo, Reply
from conversations.sending import tell_coordinators
from conversations.telegram_io import apply
from tests.support import Harness

CAP = 25


async def test_a_mixed_burst_never_exceeds_the_cap(bot: Harness) -> None:
    app_bot, services = bot.app.bot, bot.services
    first = [await app_bot.send_message(800000000 + n, "eerste") for n in range(5)]
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)  # the fake stores bytes, never decodes
    burst = [
        *(apply(services, app_bot, 810000000 + n, [Reply(f"check-in {n}")]) for n in range(30)),
        *(apply(services, app_bot, 820000000 + n, [Photo(png, "weekbeeld")]) for n in range(5)),
        *(apply(services, app_bot, m.chat_id, [EditMessage(m.message_id, "bewerkt")])
          for m in first),
        tell_coordinators(bot.channel, (9001, 9002, 9003), "melding"),
        *(app_bot.answer_callback_query(f"q{n}") for n in range(4)),
    ]
    await asyncio.gather(*burst)

    kinds = {m for _, m in bot.fake.arrivals if m.startswith(("send", "edit", "answer"))}
    assert kinds >= {"sendMessage", "sendPhoto", "editMessageText", "answerCallbackQuery"}
    total = sum(1 for _, m in bot.fake.arrivals if m.startswith(("send", "edit", "answer")))
    assert total == 5 + 30 + 5 + 5 + 3 + 4
    assert bot.fake.most_in_one_second() <= CAP
