"""conversations.telegram_io's plain-JSON calls (`TelegramBot.call`): Telegram's reply is
read for its message id and nothing else, and the calls still pass the bot's rate limiter
and PTB's mapping of Telegram's errors."""

from __future__ import annotations

import asyncio

import pytest
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.ratelimit import ChatRateLimiter
from conversations.telegram_io import TelegramBot, message_id_of, send_text
from faketelegram import FakeTelegram, Fault

CHAT = 700000501


@pytest.mark.parametrize("reply", [True, None, {}, {"message_id": "5"}, [{"message_id": 5}],
                                   {"chat": {"id": 5}}])
def test_a_reply_without_a_message_id_is_a_clear_error(reply: object) -> None:
    with pytest.raises(TelegramError, match="sendMessage returned no message_id"):
        message_id_of(reply, "sendMessage")


def test_the_message_id_of_a_reply() -> None:
    assert message_id_of({"message_id": 42, "chat": {"id": CHAT}, "text": "x"}, "m") == 42


async def test_a_send_arrives_with_its_buttons_and_errors_map_as_ptb_maps_them() -> None:
    async with FakeTelegram() as fake, TelegramBot(fake.token, base_url=fake.base_url) as bot:
        markup = {"inline_keyboard": [[{"text": "🙂 Goed", "callback_data": "a"},
                                       {"text": "😐", "callback_data": "b"}]]}
        sent = await send_text(bot, CHAT, "Hoe ging het? & = 👋", markup)
        message = fake.messages(CHAT)[-1]
        assert (sent, message.text) == (message.message_id, "Hoe ging het? & = 👋")
        assert message.button_labels() == ["🙂 Goed", "😐"]
        fake.faults.append(Fault("sendMessage", 403, "Forbidden: bot was blocked by the user"))
        with pytest.raises(Forbidden):
            await send_text(bot, CHAT, "nog een")
        fake.faults.append(Fault("editMessageText", 400, "Bad Request: message is not modified"))
        with pytest.raises(BadRequest, match="not modified"):
            await bot.call("editMessageText", {"chat_id": CHAT, "message_id": sent, "text": "x"})


async def test_new_messages_to_one_chat_still_wait_for_its_pacing() -> None:
    """The per-chat limiter reads `chat_id` from the call: a burst of 2, then one a second.
    A lower bound on recorded arrival times: a slow machine only makes it easier."""
    async with FakeTelegram() as fake, TelegramBot(
            fake.token, base_url=fake.base_url,
            rate_limiter=ChatRateLimiter(chat_burst=2)) as bot:
        await asyncio.gather(*(send_text(bot, CHAT, f"bericht {n}") for n in range(3)))
        sent = sorted(t for t, m in fake.arrivals if m == "sendMessage")
        assert len(sent) == 3 and sent[2] - sent[0] >= 0.9
