"""Telegram handlers: translate an update into a use-case call and apply what it returns.

Conversation state lives in the database, not in PTB: a restarted bot continues every
check-in where it was, so there is no ConversationHandler here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import filters

from conversations import consent, crisis, guide, loop, privacy, staff, usecases
from conversations.actions import Action, Toast
from conversations.context import BotContext
from conversations.inbound import quiet_strangers
from conversations.services import Services
from conversations.telegram_io import apply, tapped_data
from core.callbacks import (
    AckTap,
    AnswerTap,
    ConsentTap,
    DeleteTap,
    DiscussTap,
    RatingTap,
    ScopeTap,
    TalkTap,
    Tap,
    parse,
)
from core.questionnaire import Language
from core.texts import say

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def _sender(update: Update) -> tuple[int, int, Language] | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    return user.id, chat.id, usecases.hint_language(user.language_code)


UseCase = Callable[[Services, int, Language], Awaitable[list[Action]]]


async def run_command(
    update: Update, context: BotContext, use_case: UseCase
) -> None:
    """Run a use case that needs only the sender, and apply what it returns."""
    if (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = context.services
    actions = await use_case(services, user_id, hint)
    await apply(services, context.bot, chat_id, quiet_strangers(context, user_id, actions))


async def on_start(update: Update, context: BotContext) -> None:
    """Open an invite link, resume after /stop, or show the current question again."""
    if (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = context.services
    if context.args:
        linked = await staff.link_therapist(services, user_id, chat_id, context.args[0], hint)
        if linked is None:
            linked = await crisis.link_unit(services, user_id, chat_id, context.args[0], hint)
        actions = linked if linked is not None else await usecases.start_with_invite(
            services, user_id, context.args[0], hint)
    else:
        actions = await usecases.start_plain(services, user_id, hint)
    await apply(services, context.bot, chat_id, quiet_strangers(context, user_id, actions))


async def on_stop(update: Update, context: BotContext) -> None:
    """Pause all messages until the youth sends /start."""
    await run_command(update, context, usecases.stop)


async def on_delete(update: Update, context: BotContext) -> None:
    """Ask the youth to confirm erasing everything stored about them."""
    await run_command(update, context, privacy.ask_delete)


async def on_mydata(update: Update, context: BotContext) -> None:
    """Send the youth everything stored about them, in words and as a file."""
    await run_command(update, context, privacy.my_data)


async def on_research(update: Update, context: BotContext) -> None:
    """Ask whether the youth's answers may be used, de-identified, for research."""
    await run_command(update, context,
                      lambda s, user, hint: consent.ask_scope(s, user, "research", hint))


async def on_consent(update: Update, context: BotContext) -> None:
    """Show the youth's consent choices, each with a button to read and change it."""
    await run_command(update, context, consent.menu)


async def on_my_line(update: Update, context: BotContext) -> None:
    """Show the youth their own last sessions, a row of faces per question."""
    await run_command(update, context, loop.my_line_command)


async def on_help(update: Update, context: BotContext) -> None:
    """List the commands the sender may use, by role."""
    await run_command(update, context, guide.commands_for)


async def _acknowledge(services: Services, user_id: int, chat_id: int, tap: AckTap,
                       hint: Language) -> list[Action]:
    """"✓ Gezien" under an urgent alert (unit, therapist, coordinator) or under a
    therapist's own alert: the urgent one is tried first."""
    urgent = await crisis.ack_tap(services, user_id, tap, hint)
    return urgent if urgent is not None else await staff.ack_tap(services, user_id, tap, hint)


TapCase = Callable[[Services, int, int, Any, Language], Awaitable[list[Action]]]

# The one routing table for buttons: each kind of tap (core.callbacks) and its use case,
# called with the services, the sender, the chat, the tap and the language hint.
BUTTONS: dict[type[Tap], TapCase] = {
    AnswerTap: lambda s, user, chat, tap, hint: usecases.answer_tap(s, user, tap, hint),
    ConsentTap: usecases.consent_tap,
    RatingTap: lambda s, user, chat, tap, hint: staff.rating_tap(s, user, tap, hint),
    AckTap: _acknowledge,
    TalkTap: lambda s, user, chat, tap, hint: crisis.talk_tap(s, user, tap, hint),
    DiscussTap: lambda s, user, chat, tap, hint: loop.discuss_tap(s, user, tap, hint),
    DeleteTap: lambda s, user, chat, tap, hint: privacy.delete_tap(s, user, tap, hint),
    ScopeTap: lambda s, user, chat, tap, hint: consent.scope_tap(s, user, tap, hint),
}


async def on_button(update: Update, context: BotContext) -> None:
    """Route a tap on a bot-made button to its use case by kind (`BUTTONS`). The button
    must have been made for the tapped message in this chat (core.callbacks.bind); one
    copied from another message, or invented data, is stale or forged: a toast, no
    write, no edit."""
    query = update.callback_query
    if query is None or (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = context.services
    tap = parse(await tapped_data(services, query, chat_id))
    case = BUTTONS.get(type(tap)) if tap is not None else None
    actions: list[Action] = [Toast(say(hint, "stale_button"))]
    if case is not None:
        actions = await case(services, user_id, chat_id, tap, hint)
    await apply(services, context.bot, chat_id, actions, query)


async def on_text(update: Update, context: BotContext) -> None:
    """Take typed text: the optional note, or a gentle pointer to the buttons."""
    message = update.effective_message
    if message is None or message.text is None or (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = context.services
    actions = await usecases.text_message(services, user_id, message.text, hint)
    await apply(services, context.bot, chat_id, quiet_strangers(context, user_id, actions))


async def on_other(update: Update, context: BotContext) -> None:
    """Answer stickers, photos, voice, files and unknown commands politely; store nothing.
    A caption under a photo or video is read for a crisis signal like typed text."""
    message = update.effective_message
    caption = message.caption if message is not None else None
    await run_command(update, context,
                      lambda s, user, hint: usecases.media_message(s, user, hint, caption))
