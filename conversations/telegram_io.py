"""Carry out use-case actions on Telegram. The only place that builds keyboards."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable
from datetime import datetime

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
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
from conversations.chunks import split_message
from conversations.services import Services
from core.callbacks import bind, unbind
from core.prompts import Button

log = logging.getLogger(__name__)


Rows = tuple[tuple[Button, ...], ...]


def button_key(services: Services) -> bytes:
    """The MAC key of callback data, derived from the pseudonym key (kept outside the DB)."""
    return hashlib.sha256(b"vakbot-callback-buttons:" + services.pseudonym_key).digest()


def new_nonce() -> str:
    """A fresh random reference for one message's buttons (8 characters)."""
    return secrets.token_urlsafe(6)


def keyboard(services: Services, chat_id: int, nonce: str,
             rows: Rows) -> InlineKeyboardMarkup | None:
    """The buttons of one message, each bound to that message (core.callbacks.bind)."""
    if not rows:
        return None
    key = button_key(services)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=bind(key, chat_id, nonce, b.data))
          for b in row] for row in rows]
    )


async def send_with_buttons(services: Services, bot: Bot, chat_id: int, text: str,
                            rows: Rows) -> Message:
    """Send a message; its buttons work only on it once Telegram confirmed the send.

    Every message with buttons goes through here (or is an edit of one that did), so a
    new kind of button is bound like every other. A timeout is ambiguous (Telegram may
    have delivered it): the nonce is then recorded without a message id, and the first
    tap binds it.
    """
    *before, text = split_message(text)   # a long list: the buttons go on the last part
    for part in before:
        await bot.send_message(chat_id, part)
    if not rows:
        return await bot.send_message(chat_id, text)
    nonce = new_nonce()
    try:
        message = await bot.send_message(chat_id, text,
                                         reply_markup=keyboard(services, chat_id, nonce, rows))
    except TimedOut:
        await services.store.bind_buttons(nonce, None, services.clock())
        raise
    await services.store.bind_buttons(nonce, message.message_id, services.clock())
    return message


async def tapped_data(services: Services, query: CallbackQuery, chat_id: int) -> str | None:
    """The data of a tapped button if the bot made it for the message it was tapped on.

    None for a button copied from another message (same data, other nonce), invented
    data (the MAC fails) or an unknown message: the caller answers it as stale, writes
    nothing and edits nothing.
    """
    bound = unbind(button_key(services), chat_id, query.data)
    message = query.message
    if bound is None or message is None:
        return None
    if not await services.store.buttons_on(bound.nonce, message.message_id):
        return None
    return bound.data


UNKNOWN_MESSAGE_ID = 0  # Telegram numbers messages from 1


async def send_prompt(services: Services, bot: Bot, chat_id: int, prompt: SendPrompt) -> None:
    """Send a question, then record its message id; an unrecorded send is retried later.

    A timeout is ambiguous: Telegram may have delivered the message. It is recorded as
    sent with an unknown id, because asking twice is worse than asking once late.
    """
    try:
        message = await send_with_buttons(services, bot, chat_id, prompt.text, prompt.buttons)
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
                await send_with_buttons(services, bot, chat_id, text, buttons)
            case EditTapped(text, buttons) if query is not None:
                nonce = await _nonce_of(services, chat_id, query, buttons)
                await _edit(query.edit_message_text(
                    text, reply_markup=keyboard(services, chat_id, nonce, buttons)))
            case EditMessage(message_id, text, buttons):
                nonce = new_nonce()
                if buttons:
                    await services.store.bind_buttons(nonce, message_id, services.clock())
                await _edit(bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id,
                    reply_markup=keyboard(services, chat_id, nonce, buttons)))
            case SendPrompt():
                await send_prompt(services, bot, chat_id, action)
            case Photo(png, caption):
                await bot.send_photo(chat_id, png, caption=caption or None)
            case Document(content, filename, caption):
                await bot.send_document(chat_id, content, filename=filename,
                                        caption=caption or None)
            case _:
                log.warning("dropped %s: no tapped message to edit", type(action).__name__)


async def _nonce_of(services: Services, chat_id: int, query: CallbackQuery,
                    buttons: Rows) -> str:
    """The tapped message keeps its nonce; it was verified before the use case ran."""
    bound = unbind(button_key(services), chat_id, query.data)
    if bound is not None:
        return bound.nonce
    nonce = new_nonce()
    if buttons and query.message is not None:
        await services.store.bind_buttons(nonce, query.message.message_id, services.clock())
    return nonce


async def tell_coordinators(bot: Bot, chats: tuple[int, ...], text: str) -> None:
    """Send a notice to every coordinator; one unreachable chat must not stop the rest."""
    for chat in chats:
        try:
            for part in split_message(text):
                await bot.send_message(chat, part)
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
