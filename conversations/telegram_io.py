"""Carry out use-case actions on Telegram. The only place that builds keyboards."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError, TimedOut

from conversations import usecases
from conversations.actions import (
    Action,
    Document,
    EditMessage,
    EditTapped,
    Photo,
    Reply,
    SendPrompt,
    Toast,
)
from conversations.services import Services
from core.prompts import Button

log = logging.getLogger(__name__)


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


UNKNOWN_MESSAGE_ID = 0  # Telegram numbers messages from 1


async def send_prompt(services: Services, bot: Bot, chat_id: int, prompt: SendPrompt) -> None:
    """Send a question, then record its message id; an unrecorded send is retried later.

    A timeout is ambiguous: Telegram may have delivered the message. It is recorded as
    sent with an unknown id, because asking twice is worse than asking once late.
    """
    try:
        message = await bot.send_message(chat_id, prompt.text,
                                         reply_markup=keyboard(prompt.buttons))
    except TimedOut:
        log.warning("a question timed out; recorded as sent, not retried")
        await usecases.prompt_sent(services, prompt, UNKNOWN_MESSAGE_ID)
        raise
    await usecases.prompt_sent(services, prompt, message.message_id)


async def send_unsent(services: Services, bot: Bot, created_before: datetime) -> int:
    """Send questions that were recorded but never confirmed, oldest first."""
    sent = 0
    for outgoing in await usecases.unsent_prompts(services, created_before):
        try:
            await send_prompt(services, bot, outgoing.chat_id, outgoing.prompt)
            sent += 1
        except TelegramError as exc:  # one failed chat must not stop the rest
            log.warning("could not resend an unconfirmed question: %s", type(exc).__name__)
        except Exception as exc:  # nor one bad row
            log.error("could not resend an unconfirmed question: %s: %s",
                      type(exc).__name__, exc)
    return sent


async def apply(
    services: Services,
    bot: Bot,
    chat_id: int,
    actions: list[Action],
    query: CallbackQuery | None = None,
) -> None:
    """Carry out the actions in order, answering a tapped button first and exactly once.

    Use cases write before they return, so whatever a toast or edit confirms is stored.
    """
    if query is not None:
        toasts = [a.text for a in actions if isinstance(a, Toast)]
        await query.answer(toasts[-1] if toasts else None)
    for action in actions:
        match action:
            case Toast():
                pass
            case Reply(text, buttons):
                await bot.send_message(chat_id, text, reply_markup=keyboard(buttons))
            case EditTapped(text, buttons) if query is not None:
                await _edit(query.edit_message_text(text, reply_markup=keyboard(buttons)))
            case EditMessage(message_id, text, buttons):
                await _edit(bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                                  reply_markup=keyboard(buttons)))
            case SendPrompt():
                await send_prompt(services, bot, chat_id, action)
            case Photo(png, caption):
                await bot.send_photo(chat_id, png, caption=caption or None)
            case Document(content, filename, caption):
                await bot.send_document(chat_id, content, filename=filename,
                                        caption=caption or None)
            case _:
                log.warning("dropped %s: no tapped message to edit", type(action).__name__)


async def tell_coordinators(bot: Bot, chats: tuple[int, ...], text: str) -> None:
    """Send a notice to every coordinator; one unreachable chat must not stop the rest."""
    for chat in chats:
        try:
            await bot.send_message(chat, text)
        except TelegramError as exc:
            log.warning("could not tell a coordinator: %s", type(exc).__name__)


async def _edit(call: Awaitable[object]) -> None:
    """Edit a message; 'message is not modified' is harmless (a repeated tap)."""
    try:
        await call
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
    except TelegramError:
        log.warning("could not edit a message", exc_info=False)
