"""The typed context every handler gets: `context.services` without a cast.

PTB builds one context per update from the classes in `CONTEXT_TYPES` (bot.wiring passes
them to the ApplicationBuilder); `BotData` is the Application's bot_data, with the
services as a typed attribute next to the other (keyed) entries.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import CallbackContext, ContextTypes

from conversations.services import Services
from conversations.telegram_io import TelegramBot


class BotData(dict[Any, Any]):
    """The Application's bot_data: `services` is set once by bot.wiring before start."""

    services: Services


class BotContext(CallbackContext[TelegramBot, dict[Any, Any], dict[Any, Any], BotData]):
    """What a handler receives: PTB's context plus the services of this bot."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
