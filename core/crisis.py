"""Crisis signals in free text, matched on whole words, never on substrings."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable

from core.questionnaire import builtin_text

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> tuple[str, ...]:
    """Lower-case, strip accents, split into words; hyphens and punctuation separate words."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return tuple(_WORD.findall(plain))


def find_crisis_phrases(text: str, phrases: Iterable[str]) -> list[str]:
    """Return the phrases that occur in the text as whole-word sequences, in list order."""
    haystack = words(text)
    found: list[str] = []
    for phrase in phrases:
        needle = words(phrase)
        n = len(needle)
        if n and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1)):
            found.append(phrase)
    return found


def parse_phrases(text: str) -> tuple[str, ...]:
    data = tomllib.loads(text)
    return tuple(dict.fromkeys([*data.get("nl", []), *data.get("en", [])]))


def builtin_phrases() -> tuple[str, ...]:
    return parse_phrases(builtin_text("crisis-phrases.toml"))
