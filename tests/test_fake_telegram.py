"""The fake Bot API itself: it must behave like Telegram where the bot depends on it."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from faketelegram import FakeTelegram, Fault


async def test_send_photo_multipart_edits_and_errors() -> None:
    async with FakeTelegram() as fake:
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
            await bot.send_photo(42, photo=png, caption="Week 48")
            (photo,) = fake.messages(42)
            assert photo.photo == png and photo.text == "Week 48"
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
            sent = await bot.send_message(42, "vraag", reply_markup=markup)
            assert fake.messages(42)[1].buttons == [[("A", "a")]]
            await bot.edit_message_text("vraag ✔️", chat_id=42, message_id=sent.message_id)
            assert fake.messages(42)[1].text == "vraag ✔️" and fake.messages(42)[1].edits == 1
            with pytest.raises(BadRequest, match="not modified"):
                await bot.edit_message_text("vraag ✔️", chat_id=42, message_id=sent.message_id)
            fake.blocked.add(43)
            with pytest.raises(Forbidden):
                await bot.send_message(43, "hallo")
            fake.faults.append(Fault("sendMessage", 429, "Too Many Requests", retry_after=3))
            with pytest.raises(RetryAfter):
                await bot.send_message(42, "hallo")
            with pytest.raises(BadRequest, match="too long"):
                await bot.send_message(42, "x" * 4097)
        with pytest.raises(InvalidToken):
            async with Bot("1234567:wrong-token", base_url=fake.base_url) as wrong:
                await wrong.get_me()
