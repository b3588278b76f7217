"""Coordinator commands in Telegram. Deny by default: only configured coordinators."""

from __future__ import annotations

import html

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ContextTypes, filters

from conversations.handlers import services_of
from core.compliance import render_overview
from core.texts import say


async def on_overview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the compliance overview to a coordinator; refuse anyone else."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    services = services_of(context)
    if services.pseudonym(user.id) not in services.coordinators:
        await context.bot.send_message(chat.id, say("nl", "not_coordinator"))
        return
    rows = await services.store.compliance(services.clock())
    await context.bot.send_message(chat.id, f"<pre>{html.escape(render_overview(rows))}</pre>",
                                   parse_mode="HTML")


def coordinator_handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [CommandHandler("overview", on_overview, filters=filters.ChatType.PRIVATE)]
