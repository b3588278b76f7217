"""The inbound limits at Telegram's edge: before any handler touches the database.

A per-person token bucket runs in handler group -1 (before all others); over the limit an
update is dropped, with one kind "slow down" at most once a minute. An unknown sender
gets the usual pointer at most once per few minutes. Nothing here writes to the database.
"""

from __future__ import annotations

import contextlib
import time
from typing import cast

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from conversations.actions import Action, Reply
from conversations.context import BotContext
from conversations.usecases import hint_language
from core.texts import say
from core.throttle import InboundGate, Verdict

GATE = "inbound_gate"  # key in bot_data


def gate_of(context: BotContext) -> InboundGate | None:
    return cast(InboundGate | None, context.bot_data.get(GATE))


async def limit_per_person(update: Update, context: BotContext) -> None:
    """Drop an update over the sender's limit; nothing after this runs for it."""
    user, gate = update.effective_user, gate_of(context)
    if user is None or gate is None:
        return
    verdict = gate.admit(user.id, time.monotonic())
    if verdict is Verdict.HANDLE:
        return
    chat = update.effective_chat
    if verdict is Verdict.SLOW_DOWN and chat is not None and chat.type == chat.PRIVATE:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat.id, say(hint_language(user.language_code),
                                                        "slow_down"))
    raise ApplicationHandlerStop


def inbound_handler() -> TypeHandler[Update, BotContext, None]:
    """Register in group -1, before every other handler."""
    return TypeHandler(Update, limit_per_person)


_POINTERS = frozenset(say(lang, "unknown_user") for lang in ("nl", "en"))


def quiet_strangers(context: BotContext, user_id: int,
                    actions: list[Action]) -> list[Action]:
    """The pointer for an unknown sender, at most once per few minutes. Any other reply
    to them (help numbers after a crisis text, say) always goes out."""
    gate = gate_of(context)
    pointer_only = bool(actions) and all(
        isinstance(a, Reply) and a.text in _POINTERS and not a.buttons for a in actions)
    if gate is None or not pointer_only:
        return actions
    return actions if gate.answer_stranger(user_id, time.monotonic()) else []
