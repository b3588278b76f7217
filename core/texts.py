"""What the bot says, in Dutch (default) and English, from core/data/messages.toml.

The one catalogue of words: messages, button labels, the words on images and in the
coordinator's overview. Both languages define the same keys with the same placeholders,
checked when the catalogue is first read.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache

from core.questionnaire import Language, builtin_text


def placeholders(template: str) -> frozenset[str]:
    """The {names} a template expects."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template)
                     if name is not None)


@cache
def _messages() -> dict[str, dict[str, str]]:
    data = tomllib.loads(builtin_text("messages.toml"))
    if set(data["nl"]) != set(data["en"]):
        raise ValueError("messages.toml: nl and en must define the same keys")
    messages = {lang: {k: str(v).strip() for k, v in table.items()}
                for lang, table in data.items()}
    differ = sorted(k for k in messages["nl"]
                    if placeholders(messages["nl"][k]) != placeholders(messages["en"][k]))
    if differ:
        raise ValueError(f"messages.toml: nl and en differ in placeholders: {differ}")
    return messages


def say(lang: Language, key: str, **values: object) -> str:
    """Return message `key` in `lang`, with {placeholders} filled in."""
    template = _messages()[lang][key]
    return template.format(**values) if values else template


@cache
def words(lang: Language, prefix: str) -> dict[str, str]:
    """Every message whose key starts with `prefix`, by the rest of its key: a family of
    words (`words("nl", "trend_")["missed"]`), unfilled. Treat the result as read-only."""
    return {key.removeprefix(prefix): text for key, text in _messages()[lang].items()
            if key.startswith(prefix)}


def message_keys() -> frozenset[str]:
    return frozenset(_messages()["nl"])
