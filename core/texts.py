"""What the bot says, in Dutch (default) and English, from core/data/messages.toml."""

from __future__ import annotations

import tomllib
from functools import cache

from core.questionnaire import Language, builtin_text


@cache
def _messages() -> dict[str, dict[str, str]]:
    data = tomllib.loads(builtin_text("messages.toml"))
    if set(data["nl"]) != set(data["en"]):
        raise ValueError("messages.toml: nl and en must define the same keys")
    return {lang: {k: str(v).strip() for k, v in table.items()} for lang, table in data.items()}


def say(lang: Language, key: str, **values: object) -> str:
    """Return message `key` in `lang`, with {placeholders} filled in."""
    template = _messages()[lang][key]
    return template.format(**values) if values else template


def message_keys() -> frozenset[str]:
    return frozenset(_messages()["nl"])
