"""The Telegram adapter: carry out use-case actions on Telegram, and the channel port
(core.channel.Outbound) for Telegram. The only place that builds keyboards, and the one
place that turns telegram.error into outcomes as data (`outcome_of`).

Text messages, edits and answers to taps go out as plain JSON (`TelegramBot.call`), not
through PTB's objects: building InlineKeyboardButton objects, turning them back into
dicts, and parsing each reply into a Message (its keyboard included) was a third of the
CPU a tap cost the bot in a profile, and of the reply only `message_id` is used. Without
them a tap costs 2.6 ms instead of 3.1 (bench/latency.py, issue 16). The request still
passes PTB's rate limiter and its mapping of Telegram's errors, so everything after it
(`outcome_of`) is the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import CallbackQuery
from telegram._utils.types import JSONDict
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from conversations import sending
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
from conversations.tap_order import TapOrder
from core.callbacks import bind, unbind
from core.channel import (
    Address,
    Ambiguous,
    Blocked,
    Failed,
    Image,
    Outcome,
    Rejected,
    RetryAt,
    Rows,
    Sent,
    Text,
    counts_as_sent,
    why,
)

log = logging.getLogger(__name__)


class TelegramBot(ExtBot[int]):
    """PTB's ExtBot plus `call`: a Bot API method with plain JSON parameters whose reply
    is returned as Telegram sent it, unparsed.

    PTB's own `do_api_request` does the same but warns when the method is one the Bot
    has (sendMessage is). `call` goes through `_post` like every Bot method, so the rate
    limiter (bot.ratelimit, which reads `chat_id`) and the error mapping are PTB's own.
    `taps` orders the requests of taps handled at once (conversations.tap_order).
    """

    __slots__ = ("taps",)

    def __init__(self, token: str, **kwargs: Any) -> None:
        super().__init__(token, **kwargs)
        with self._unfrozen():   # PTB freezes its objects once made
            self.taps = TapOrder()

    async def call(self, method: str, parameters: JSONDict) -> object:
        result: object = await self._post(method, parameters)
        return result


def message_id_of(reply: object, method: str) -> int:
    """The `message_id` of a sent or edited message, from Telegram's raw reply."""
    match reply:
        case {"message_id": int(message_id)}:
            return message_id
    raise TelegramError(f"Invalid server response: {method} returned no message_id")


def button_key(services: Services) -> bytes:
    """The MAC key of callback data, derived from the pseudonym key (kept outside the DB)."""
    return hashlib.sha256(b"vakbot-callback-buttons:" + services.pseudonym_key).digest()


def new_nonce() -> str:
    """A fresh random reference for one message's buttons (8 characters)."""
    return secrets.token_urlsafe(6)


def keyboard(services: Services, chat_id: int, nonce: str, rows: Rows) -> JSONDict | None:
    """The buttons of one message (Telegram's InlineKeyboardMarkup as JSON), each bound to
    that message (core.callbacks.bind)."""
    if not rows:
        return None
    key = button_key(services)
    return {"inline_keyboard": [
        [{"text": b.label, "callback_data": bind(key, chat_id, nonce, b.data)} for b in row]
        for row in rows]}


async def send_text(bot: TelegramBot, chat_id: int, text: str,
                    reply_markup: JSONDict | None = None) -> int:
    """Send a text message; its message id."""
    reply = await bot.call("sendMessage", {"chat_id": chat_id, "text": text,
                                           "reply_markup": reply_markup})
    return message_id_of(reply, "sendMessage")


async def send_with_buttons(services: Services, bot: TelegramBot, chat_id: int, text: str,
                            rows: Rows) -> int:
    """Send a message; its id. Its buttons work only on it once Telegram confirmed the send.

    Every message with buttons goes through here (or is an edit of one that did), so a
    new kind of button is bound like every other. A timeout is ambiguous (Telegram may
    have delivered it): the nonce is then recorded without a message id, and the first
    tap binds it.
    """
    *before, text = split_message(text)   # a long list: the buttons go on the last part
    for part in before:
        await send_text(bot, chat_id, part)
    if not rows:
        return await send_text(bot, chat_id, text)
    nonce = new_nonce()
    try:
        message_id = await send_text(bot, chat_id, text,
                                     keyboard(services, chat_id, nonce, rows))
    except TimedOut:
        await services.store.bind_buttons(nonce, None, services.clock())
        raise
    await services.store.bind_buttons(nonce, message_id, services.clock())
    return message_id


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


def outcome_of(exc: TelegramError, now: datetime) -> Outcome:
    """What Telegram's answer means, as data: the one mapping of telegram.error."""
    if isinstance(exc, Forbidden):
        return Blocked("blocked the bot (403)")
    if isinstance(exc, RetryAfter):
        wait = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(
            seconds=exc.retry_after)
        return RetryAt(now + wait, "rate limited (429)")
    if isinstance(exc, TimedOut):
        return Ambiguous("timed out; may not have arrived")
    if isinstance(exc, BadRequest):
        return Rejected(f"rejected: {exc.message}")
    if isinstance(exc, NetworkError):
        return Failed(f"network: {exc.message}")
    return Failed(f"telegram: {exc.message}")


@dataclass(frozen=True)
class TelegramChannel:
    """The channel port (core.channel.Outbound) on Telegram; `to` is a chat id."""

    services: Services
    bot: TelegramBot

    async def send(self, to: Address, message: Text | Image) -> Outcome:
        try:
            match message:
                case Text(text, buttons):
                    sent = await send_with_buttons(self.services, self.bot, to, text, buttons)
                case Image(png, caption):
                    sent = (await self.bot.send_photo(to, png, caption=caption)).message_id
        except TelegramError as exc:
            return outcome_of(exc, self.services.clock())
        return Sent(sent)

    async def edit(self, to: Address, ref: int, message: Text) -> Outcome:
        """Edit message `ref`; its buttons get a fresh nonce. 'Message is not modified' (a
        repeated tap) counts as done."""
        nonce = new_nonce()
        if message.buttons:
            await self.services.store.bind_buttons(nonce, ref, self.services.clock())
        try:
            await _edit_text(self.bot, to, ref, message.text,
                             keyboard(self.services, to, nonce, message.buttons))
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                return outcome_of(exc, self.services.clock())
        except TelegramError as exc:
            return outcome_of(exc, self.services.clock())
        return Sent(ref)


async def send_prompt(services: Services, bot: TelegramBot, chat_id: int,
                      prompt: SendPrompt) -> Outcome:
    """Send a check-in question on Telegram (conversations.sending.send_prompt)."""
    return await sending.send_prompt(services, TelegramChannel(services, bot), chat_id, prompt)


async def send_unsent(services: Services, bot: TelegramBot, created_before: datetime) -> int:
    """Resend unconfirmed questions on Telegram (conversations.sending.send_unsent)."""
    return await sending.send_unsent(services, TelegramChannel(services, bot), created_before)


async def apply(
    services: Services,
    bot: TelegramBot,
    chat_id: int,
    actions: list[Action],
    query: CallbackQuery | None = None,
) -> None:
    """Carry out the actions, answering a tapped button exactly once.

    Use cases write before they return, so whatever a toast or edit confirms is stored.
    With a tapped button, the answer to it (the toast), the edit of the tapped message
    and the rest go out side by side rather than one after the other: the next question
    then reaches the youth one round trip after the tap's answer is stored, not three.
    What goes to the chat stays in order (an edit of the tapped message changes no
    order: it is not a new message); the handler ends only when all of it is done, so
    the same person's next update still waits for it. A failed answer or edit does not
    hold back the next question. While other taps are still on their way to their next
    question, the answer and the edit wait for them (at most a second; TapOrder says why).
    """
    if query is None:
        await _carry_out(services, bot, chat_id, actions, None)
        return
    toasts = [a.text for a in actions if isinstance(a, Toast)]
    edits: list[Action] = [a for a in actions if isinstance(a, EditTapped)]
    rest: list[Action] = [a for a in actions if not isinstance(a, EditTapped | Toast)]

    async def next_question() -> None:
        try:
            await _carry_out(services, bot, chat_id, rest, query)
        finally:
            bot.taps.asked(query.id)

    async def after_the_questions(then: Callable[[], Awaitable[None]]) -> None:
        try:
            await bot.taps.after_the_questions(query.id)
        except Exception:   # the order is a nicety: a fault in it never drops a toast
            log.exception("the tap order failed; answering the tap now")
        await then()

    results = await asyncio.gather(
        next_question(),
        after_the_questions(lambda: _answer(bot, query, toasts[-1] if toasts else None)),
        after_the_questions(lambda: _carry_out(services, bot, chat_id, edits, query)),
        return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _answer(bot: TelegramBot, query: CallbackQuery, toast: str | None) -> None:
    """Answer the tapped button (Telegram's spinner stops, the toast shows)."""
    try:
        await bot.call("answerCallbackQuery", {"callback_query_id": query.id, "text": toast})
    except TelegramError:   # too late or unreachable: the rest still goes out
        log.warning("could not answer a tapped button", exc_info=False)


async def _carry_out(services: Services, bot: TelegramBot, chat_id: int, actions: list[Action],
                     query: CallbackQuery | None) -> None:
    """The actions in their order."""
    for action in actions:
        match action:
            case Toast():
                pass
            case Reply(text, buttons):
                await send_with_buttons(services, bot, chat_id, text, buttons)
            case EditTapped(text, buttons) if query is not None and query.message is not None:
                nonce = await _nonce_of(services, chat_id, query, buttons)
                tapped = query.message
                await _edit(_edit_text(bot, tapped.chat.id, tapped.message_id, text,
                                       keyboard(services, chat_id, nonce, buttons)))
            case EditMessage(message_id, text, buttons):
                edited = await TelegramChannel(services, bot).edit(chat_id, message_id,
                                                                   Text(text, buttons))
                if not isinstance(edited, Sent):
                    log.warning("could not edit a message: %s", edited.reason)
            case SendPrompt():
                asked = await send_prompt(services, bot, chat_id, action)
                if not counts_as_sent(asked):
                    log.warning("could not send a question: %s", why(asked))
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


async def _edit_text(bot: TelegramBot, chat_id: int, message_id: int, text: str,
                     reply_markup: JSONDict | None) -> None:
    """Replace a message's text and buttons (no buttons: the old ones go)."""
    reply = await bot.call("editMessageText", {"chat_id": chat_id, "message_id": message_id,
                                               "text": text, "reply_markup": reply_markup})
    message_id_of(reply, "editMessageText")


async def _edit(call: Awaitable[object]) -> None:
    """Edit a message; 'message is not modified' is harmless (a repeated tap)."""
    try:
        await call
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
    except TelegramError:
        log.warning("could not edit a message", exc_info=False)
