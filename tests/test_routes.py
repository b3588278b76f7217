"""One routing table: every kind of tap has exactly one use case, every command one
handler, and the Application is built with the typed context."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from telegram.ext import CommandHandler

from conversations.context import CONTEXT_TYPES, BotContext, BotData
from conversations.handlers import BUTTONS
from conversations.routes import routes
from core.callbacks import Tap
from core.texts import say
from tests.support import running_bot


def test_every_kind_of_tap_is_routed() -> None:
    assert set(BUTTONS) == set(get_args(Tap))


def test_each_command_has_one_handler() -> None:
    commands = [c for h in routes() if isinstance(h, CommandHandler) for c in h.commands]
    assert len(commands) == len(set(commands))
    assert {"start", "overview", "report", "toestemming", "consent"} <= set(commands)


def test_handlers_get_the_typed_context() -> None:
    assert CONTEXT_TYPES.context is BotContext
    assert CONTEXT_TYPES.bot_data is BotData


async def test_the_overview_speaks_the_coordinators_configured_language(
        tmp_path: Path) -> None:
    """/overview is a use case (role checked, read audited); the handler renders it in
    coordinators.language, the refusal too."""
    coordinator, stranger = 600000001, 600000002
    async with running_bot(tmp_path, extra_toml=f"[coordinators]\ntelegram_ids = "
                           f"[{coordinator}]\nlanguage = \"en\"\n") as bot:
        await bot.enrol(bot.fake.user(700000001), "J-001")
        bot.fake.user(stranger).send("/overview")
        await bot.fake.settle()
        assert bot.fake.messages(stranger)[-1].text == say("en", "not_coordinator")
        bot.fake.user(coordinator).send("/overview")
        await bot.fake.settle()
        table = bot.fake.messages(coordinator)[-1].text
        assert table.startswith("<pre>youth    therapist") and "J-001" in table
        audited = [e.action for e in await bot.services.store.audit_entries()]
        assert audited.count("read:overview") == 1   # the coordinator's read, not the refusal
