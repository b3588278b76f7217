"""The PTB Application as this bot types it, and the engine it carries in bot_data.

Apart from bot.wiring so the parts wiring starts (the console, the demo) can name the
Application without importing the module that starts them.
"""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import Application, JobQueue

from conversations.context import BotContext, BotData
from conversations.telegram_io import TelegramBot
from scheduler.engine import Engine

BotApp = Application[TelegramBot, BotContext, dict[Any, Any],
                     dict[Any, Any], BotData, JobQueue[BotContext]]


def engine_of(context: BotContext) -> Engine:
    return cast(Engine, context.bot_data["engine"])


def engine_of_app(app: BotApp) -> Engine:
    return cast(Engine, app.bot_data["engine"])
