"""The crisis rule file format: parsed and checked once at start-up, so a clinician's typo
is a clear error naming the file and the rule instead of a silently missed crisis.

A rule file is TOML (see core/data/crisis-rules.toml for the built-in rules and a full
description of the format). In short:

    [[rule]]
    name = "zelf-snijden"            # recorded in the crisis flag and alert
    category = "self-harm"           # suicide, self-harm or safeguarding
    match = ["snij*", "gesneden"]    # any one pattern is enough
    self = true                      # only when it is about the writer (see [self])
    unless = ["linoleum", "klei"]    # not when one of these is within 4 words
    gap = 2                          # words allowed between two pattern words

A pattern is one or more words that must occur in that order in one sentence, with at
most `gap` other words between two of them. In a word, `*` stands for any letters and
`a|b` means a or b; a last word `$` means the sentence ends there. Patterns are
compared with normalised text (lower case, no accents, "doooood" read as "dood",
spellings such as "nie" read as "niet").
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("suicide", "self-harm", "safeguarding")
DEFAULT_GAP = 2
MAX_GAP = 6
_WORD_SYNTAX = re.compile(r"[a-z0-9*]+(\|[a-z0-9*]+)*")
_NAME_SYNTAX = re.compile(r"[a-z0-9][a-z0-9 _-]{0,59}")
_RULE_KEYS = {"name", "category", "match", "self", "unless", "gap"}
_TOP_KEYS = {"rule", "self", "idioms", "spellings"}


class RulesError(ValueError):
    """A rule file cannot be used; the message names the file and the rule."""


@dataclass(frozen=True)
class Pattern:
    """Words in order; each word is a tuple of alternatives (globs with `*`)."""

    text: str
    words: tuple[tuple[str, ...], ...]
    gap: int = DEFAULT_GAP
    at_end: bool = False     # written with a final `$`: the sentence must end there


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    match: tuple[Pattern, ...]
    needs_self: bool = False
    unless: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class CrisisRules:
    """Everything the detector needs; built once, shared read-only."""

    rules: tuple[Rule, ...]
    self_words: tuple[Pattern, ...] = ()
    idioms: tuple[Pattern, ...] = ()
    spellings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def category(self, name: str) -> str | None:
        """The category of the rule with this name, or None if there is none."""
        return next((r.category for r in self.rules if r.name == name), None)

    def extended(self, other: CrisisRules, source: str) -> CrisisRules:
        """These rules plus an institution's; a rule name may not be defined twice."""
        known = {r.name for r in self.rules}
        for rule in other.rules:
            if rule.name in known:
                raise RulesError(f"{source}: rule {rule.name!r}: a rule with this name "
                                 "exists already (built in); choose another name")
        return CrisisRules(self.rules + other.rules, self.self_words + other.self_words,
                           self.idioms + other.idioms, {**self.spellings, **other.spellings})


def plain(text: str) -> str:
    """Case-folded text without accents: the alphabet patterns and texts are compared in."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_pattern(text: str, gap: int = DEFAULT_GAP) -> Pattern:
    """Parse `zie het niet|nie meer zitten`; raise ValueError with a short reason."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not text in quotes")
    words = plain(text).replace("-", " ").split()
    at_end = bool(words) and words[-1] == "$"
    if at_end:
        words.pop()
    if not words:
        raise ValueError("an empty pattern matches nothing")
    parsed: list[tuple[str, ...]] = []
    for word in words:
        if not _WORD_SYNTAX.fullmatch(word):
            raise ValueError(f"pattern {text!r}: {word!r} may only hold letters, digits, "
                             "`*` (any letters), `|` (or), and `$` as the last word")
        alternatives = tuple(word.split("|"))
        if any(a.strip("*") == "" for a in alternatives):
            raise ValueError(f"pattern {text!r}: {word!r} would match every word")
        parsed.append(alternatives)
    return Pattern(text, tuple(parsed), gap, at_end)


def _patterns(value: Any, what: str, gap: int = DEFAULT_GAP) -> tuple[Pattern, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ValueError(f"{what}: expected a list of patterns in quotes")
    try:
        return tuple(parse_pattern(p, gap) for p in value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _rule(raw: Any, index: int) -> Rule:
    if not isinstance(raw, dict):
        raise ValueError(f"rule #{index}: write each rule as a [[rule]] table")
    name = raw.get("name")
    label = f"rule {name!r}" if isinstance(name, str) and name else f"rule #{index}"
    try:
        if unknown := sorted(set(raw) - _RULE_KEYS):
            raise ValueError(f"unknown key {unknown[0]!r} (keys: name, category, match, "
                             "self, unless, gap)")
        if not isinstance(name, str) or not _NAME_SYNTAX.fullmatch(name):
            raise ValueError("name: required; lower-case letters, digits, spaces, - or _")
        if raw.get("category") not in CATEGORIES:
            raise ValueError(f"category: {raw.get('category')!r} is not one of "
                             f"{', '.join(CATEGORIES)}")
        gap = raw.get("gap", DEFAULT_GAP)
        if not isinstance(gap, int) or isinstance(gap, bool) or not 0 <= gap <= MAX_GAP:
            raise ValueError(f"gap: a whole number from 0 to {MAX_GAP}")
        if "match" not in raw:
            raise ValueError("match: required (a list of patterns)")
        match = _patterns(raw["match"], "match", gap)
        if not match:
            raise ValueError("match: the list is empty")
        needs_self = raw.get("self", False)
        if not isinstance(needs_self, bool):
            raise ValueError("self: true or false")
        unless = _patterns(raw.get("unless", []), "unless", gap)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None
    return Rule(name, raw["category"], match, needs_self, unless)


def _spellings(raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise ValueError("[spellings]: a table of `written = \"read as\"`")
    out: dict[str, tuple[str, ...]] = {}
    for written, read_as in raw.items():
        if not isinstance(read_as, str) or not read_as.split():
            raise ValueError(f"[spellings]: {written!r}: the reading must be words in quotes")
        out[plain(written)] = tuple(plain(read_as).split())
    return out


def _list_section(raw: Any, section: str, key: str) -> tuple[Pattern, ...]:
    if not isinstance(raw, dict) or set(raw) - {key}:
        raise ValueError(f"[{section}]: only the key {key!r} (a list of patterns)")
    return _patterns(raw.get(key, []), f"[{section}] {key}", gap=1)


def parse_rules(text: str, source: str) -> CrisisRules:
    """Parse a rule file; `source` (a file name) starts every error message."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{source}: not valid TOML: {exc}") from None
    try:
        if "nl" in data or "en" in data:
            raise ValueError("the lists `nl` and `en` are the old phrase format; write each "
                             "phrase as a [[rule]] with name, category and match")
        if unknown := sorted(set(data) - _TOP_KEYS):
            raise ValueError(f"unknown key {unknown[0]!r} (keys: rule, self, idioms, "
                             "spellings)")
        raw_rules = data.get("rule", [])
        if not isinstance(raw_rules, list):
            raise ValueError("write each rule as a [[rule]] table")
        rules = tuple(_rule(raw, i) for i, raw in enumerate(raw_rules, start=1))
        names = [r.name for r in rules]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"rule {dupes[0]!r}: the name is used twice")
        self_words = _list_section(data.get("self", {}), "self", "words")
        idioms = _list_section(data.get("idioms", {}), "idioms", "never")
        spellings = _spellings(data.get("spellings", {}))
    except ValueError as exc:
        raise RulesError(f"{source}: {exc}") from None
    return CrisisRules(rules, self_words, idioms, spellings)
