"""Telegram handlers: translate an update into a use-case call and apply what it returns.

Conversation state lives in the database, not in PTB: a restarted bot continues every
check-in where it was, so there is no ConversationHandler here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from conversations import consent, crisis, guide, loop, privacy, staff, usecases
from conversations.actions import Action, Toast
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
    parse,
)
from core.questionnaire import Language
from core.texts import say

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return cast(Services, context.bot_data["services"])


def _sender(update: Update) -> tuple[int, int, Language] | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    return user.id, chat.id, usecases.hint_language(user.language_code)


UseCase = Callable[[Services, int, Language], Awaitable[list[Action]]]


async def run_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, use_case: UseCase
) -> None:
    """Run a use case that needs only the sender, and apply what it returns."""
    if (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = services_of(context)
    actions = await use_case(services, user_id, hint)
    await apply(services, context.bot, chat_id, quiet_strangers(context, user_id, actions))


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open an invite link, resume after /stop, or show the current question again."""
    if (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = services_of(context)
    if context.args:
        linked = await staff.link_therapist(services, user_id, chat_id, context.args[0], hint)
        if linked is None:
            linked = await crisis.link_unit(services, user_id, chat_id, context.args[0], hint)
        actions = linked if linked is not None else await usecases.start_with_invite(
            services, user_id, context.args[0], hint)
    else:
        actions = await usecases.start_plain(services, user_id, hint)
    await apply(services, context.bot, chat_id, quiet_strangers(context, user_id, actions))


async def on_stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pause all messages until the youth sends /start."""
    await run_command(update, context, usecases.stop)


async def on_delete(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask the youth to confirm erasing everything stored about them."""
    await run_command(update, context, privacy.ask_delete)


async def on_mydata(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the youth everything stored about them, in words and as a file."""
    await run_command(update, context, privacy.my_data)


async def on_research(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Ask whether the youth's answers may be used, de-identified, for research."""
    await run_command(update, context,
                      lambda s, user, hint: consent.ask_scope(s, user, "research", hint))


async def on_consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the youth's consent choices, each with a button to read and change it."""
    await run_command(update, context, consent.menu)


async def on_my_line(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the youth their own last sessions, a row of faces per question."""
    await run_command(update, context, loop.my_line_command)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands the sender may use, by role."""
    await run_command(update, context, guide.commands_for)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Handle a tap on a button the bot made for the tapped message; anything else (a
    button copied from another message, invented data) is stale or forged: a toast, no
    write, no edit."""
    query = update.callback_query
    if query is None or (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = services_of(context)
    tap = parse(await tapped_data(services, query, chat_id))
    actions: list[Action]
    if isinstance(tap, AnswerTap):
        actions = await usecases.answer_tap(services, user_id, tap, hint)
    elif isinstance(tap, ConsentTap):
        actions = await usecases.consent_tap(services, user_id, chat_id, tap, hint)
    elif isinstance(tap, RatingTap):
        actions = await staff.rating_tap(services, user_id, tap, hint)
    elif isinstance(tap, AckTap):
        urgent = await crisis.ack_tap(services, user_id, tap, hint)
        actions = urgent if urgent is not None else await staff.ack_tap(
            services, user_id, tap, hint)
    elif isinstance(tap, TalkTap):
        actions = await crisis.talk_tap(services, user_id, tap, hint)
    elif isinstance(tap, DiscussTap):
        actions = await loop.discuss_tap(services, user_id, tap, hint)
    elif isinstance(tap, DeleteTap):
        actions = await privacy.delete_tap(services, user_id, tap, hint)
    elif isinstance(tap, ScopeTap):
        actions = await consent.scope_tap(services, user_id, tap, hint)
    else:
        actions = [Toast(say(hint, "stale_button"))]
    await apply(services, context.bot, chat_id, actions, query)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take typed text: the optional note, or a gentle pointer to the buttons."""
    message = update.effective_message
    if message is None or message.text is None or (sender := _sender(update)) is None:
        return
    user_id, chat_id, hint = sender
    services = services_of(context)
    actions = await usecases.text_message(services, user_id, message.text, hint)
    await apply(services, context.bot, chat_id, quiet_strangers(context, user_id, actions))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer stickers, photos, voice, files and unknown commands politely; store nothing.
    A caption under a photo or video is read for a crisis signal like typed text."""
    message = update.effective_message
    caption = message.caption if message is not None else None
    await run_command(update, context,
                      lambda s, user, hint: usecases.media_message(s, user, hint, caption))


def youth_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("start", on_start, filters=PRIVATE),
        CommandHandler("stop", on_stop, filters=PRIVATE),
        CommandHandler("delete", on_delete, filters=PRIVATE),
        CommandHandler("mydata", on_mydata, filters=PRIVATE),
        CommandHandler("research", on_research, filters=PRIVATE),
        CommandHandler(["toestemming", "consent"], on_consent, filters=PRIVATE),
        CommandHandler("help", on_help, filters=PRIVATE),
        CommandHandler(["mijnlijn", "myline"], on_my_line, filters=PRIVATE),
        CallbackQueryHandler(on_button),
        MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(PRIVATE, on_other),
    ]

