"""The one routing table: every command, button and message the bot takes, in the order
PTB tries them (the first handler that matches runs). Buttons are routed further by the
kind of tap in conversations.handlers.BUTTONS.

Staff commands come before the youth's catch-all handlers; each checks the sender's role
itself (deny by default), so the order only decides which reply an unknown command gets.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from conversations import coordinator, handlers
from conversations.context import BotContext

Route = BaseHandler[Update, BotContext, None]


def routes() -> list[Route]:
    private, message = filters.ChatType.PRIVATE, handlers.PRIVATE
    return [
        CommandHandler("console", coordinator.on_console, filters=private),
        CommandHandler("overview", coordinator.on_overview, filters=private),
        CommandHandler("clients", coordinator.on_clients, filters=private),
        CommandHandler("report", coordinator.on_report, filters=private),
        CommandHandler("rate", coordinator.on_rate, filters=private),
        CommandHandler(["simpel", "simple"], coordinator.on_simple, filters=private),
        CommandHandler("export", coordinator.on_export, filters=private),
        CommandHandler("start", handlers.on_start, filters=message),
        CommandHandler("stop", handlers.on_stop, filters=message),
        CommandHandler("delete", handlers.on_delete, filters=message),
        CommandHandler("mydata", handlers.on_mydata, filters=message),
        CommandHandler("research", handlers.on_research, filters=message),
        CommandHandler(["toestemming", "consent"], handlers.on_consent, filters=message),
        CommandHandler("help", handlers.on_help, filters=message),
        CommandHandler(["mijnlijn", "myline"], handlers.on_my_line, filters=message),
        CallbackQueryHandler(handlers.on_button),
        MessageHandler(message & filters.TEXT & ~filters.COMMAND, handlers.on_text),
        MessageHandler(message, handlers.on_other),
    ]
