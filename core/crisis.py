"""Crisis signals in free text: rules over normalised words, never substrings.

Youths write crisis texts in ordinary sentences with typos and slang, while art-therapy
talk is full of the same words ("linoleum snijden", "tekeningen ophangen"). So the text is
normalised first (case, accents, "doooood", "nie", "mn", "k"), then each rule's patterns
are matched on whole words within a sentence, with room for a few words in between. A
rule can require that the text is about the writer ("mezelf", "mn arm") and can name
words that make a match harmless when they are close by (linoleum, klei); sayings such as
"verveel me dood" never count. Rules are data (core/data/crisis-rules.toml) that an
institution extends with its own file; see core/crisis_rules.py for the format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import translate
from functools import lru_cache
from pathlib import Path

from core.crisis_rules import CrisisRules, Pattern, RulesError, parse_rules, plain
from core.questionnaire import builtin_text

__all__ = ["CrisisRules", "Match", "RulesError", "builtin_rules", "detect",
           "find_crisis_phrases", "load_rules", "normalise", "parse_rules", "rule_category",
           "words"]

BUILTIN_FILE = "crisis-rules.toml"
UNLESS_WITHIN = 4   # an `unless` word this close (in words) to a match cancels it
MAX_SPANS = 64      # enough to judge every place a pattern occurs in a note
SELF_WITHIN = 4     # a self-reference this close to a match makes it about the writer

_SENTENCE_END = re.compile(r"[.!?;:\n]+")
_APOSTROPHES = re.compile("['`\u2019\u00b4]")  # apostrophes: "m'n" -> "mn"
_WORD = re.compile(r"[a-z0-9]+")
_LONG_RUN = re.compile(r"(.)\1{2,}")
_ANY_RUN = re.compile(r"(.)\1+")
_LEET = str.maketrans("013457", "oieast")


@dataclass(frozen=True)
class Token:
    """A word as read (repeats squeezed to two), and fully squeezed with digits read as
    letters ("kmss" -> "kms", "sn1j" -> "snij")."""

    word: str
    squeezed: str


@dataclass(frozen=True)
class Match:
    """One rule that fired: its name, category and the words that matched."""

    rule: str
    category: str
    words: tuple[str, ...]


def words(text: str) -> tuple[str, ...]:
    """Lower-case, strip accents, split into words; hyphens and punctuation separate words."""
    return tuple(_WORD.findall(plain(_APOSTROPHES.sub("", text))))


def normalise(text: str, spellings: Mapping[str, tuple[str, ...]]) -> list[list[Token]]:
    """Sentences of tokens: accents and case gone, "doooood" -> "dood", spellings applied."""
    sentences: list[list[Token]] = []
    for part in _SENTENCE_END.split(text):
        tokens: list[Token] = []
        for raw in words(part):
            word = _LONG_RUN.sub(r"\1\1", raw)
            for read in spellings.get(word) or spellings.get(_ANY_RUN.sub(r"\1", word)) or (
                    word,):
                tokens.append(Token(read, _ANY_RUN.sub(r"\1", _deleet(read))))
        if tokens:
            sentences.append(tokens)
    return sentences


def _deleet(word: str) -> str:
    """Read "sn1j" as "snij" and "d00d" as "dood"; a word of digits only stays a number."""
    return word.translate(_LEET) if not word.isdigit() else word


@lru_cache(maxsize=4096)
def _word_regex(alternatives: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled expression per pattern word: `snij*|sneed` -> (?:snij.*|sneed)."""
    return re.compile("|".join(f"(?:{translate(a)})" for a in alternatives))


def _word_matches(token: Token, alternatives: tuple[str, ...]) -> bool:
    regex = _word_regex(alternatives)
    return bool(regex.match(token.word) or regex.match(token.squeezed))


def _spans(pattern: Pattern, tokens: list[Token]) -> list[tuple[int, ...]]:
    """Ways the pattern occurs: indices of its words, in order, gaps at most `gap`.

    At most MAX_SPANS, and a dead end is remembered, so a long text of repeated words
    cannot make a long pattern take exponential time.
    """
    found: list[tuple[int, ...]] = []
    dead: set[tuple[int, int]] = set()

    def extend(done: tuple[int, ...], k: int) -> bool:
        if k == len(pattern.words):
            if pattern.at_end and done[-1] != len(tokens) - 1:
                return False
            found.append(done)
            return True
        last, any_found = done[-1], False
        for i in range(last + 1, min(len(tokens), last + 2 + pattern.gap)):
            if len(found) >= MAX_SPANS:
                break
            if (k, i) not in dead and _word_matches(tokens[i], pattern.words[k]):
                if extend((*done, i), k + 1):
                    any_found = True
                else:
                    dead.add((k, i))
        return any_found

    for start, token in enumerate(tokens):
        if len(found) >= MAX_SPANS:
            break
        if _word_matches(token, pattern.words[0]):
            extend((start,), 1)
    return found


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    return min(abs(i - j) for i in a for j in b)


def detect(text: str, rules: CrisisRules) -> list[Match]:
    """Every rule that fires on the text, in rule order, each once."""
    fired: dict[str, Match] = {}
    for tokens in normalise(text, rules.spellings):
        idiom_words = {i for p in rules.idioms for span in _spans(p, tokens) for i in span}
        selves = [span for p in rules.self_words for span in _spans(p, tokens)]
        for rule in rules.rules:
            if rule.name in fired:
                continue
            cancels = [span for p in rule.unless for span in _spans(p, tokens)]
            for pattern in rule.match:
                hit = next((span for span in _spans(pattern, tokens)
                            if not idiom_words.intersection(span)
                            and all(_distance(span, c) > UNLESS_WITHIN for c in cancels)
                            and (not rule.needs_self
                                 or any(_distance(span, s) <= SELF_WITHIN for s in selves))),
                           None)
                if hit is not None:
                    fired[rule.name] = Match(rule.name, rule.category,
                                             tuple(tokens[i].word for i in hit))
                    break
    order = [r.name for r in rules.rules]
    return sorted(fired.values(), key=lambda m: order.index(m.rule))


def find_crisis_phrases(text: str, rules: CrisisRules) -> list[str]:
    """The names of the rules that fire on the text (stored with the crisis flag)."""
    return [m.rule for m in detect(text, rules)]


def rule_category(rules: CrisisRules, name: str) -> str | None:
    """The category (suicide, self-harm, safeguarding) of a rule that fired."""
    return rules.category(name)


def builtin_rules() -> CrisisRules:
    """The rules shipped with the bot, reviewed with clinicians."""
    return parse_rules(builtin_text(BUILTIN_FILE), f"built-in {BUILTIN_FILE}")


def load_rules(extension: Path | None = None) -> CrisisRules:
    """Built-in rules plus an institution's file; RulesError names the file and rule."""
    rules = builtin_rules()
    if extension is None:
        return rules
    try:
        text = extension.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{extension}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise RulesError(f"{extension}: not UTF-8 text") from None
    return rules.extended(parse_rules(text, str(extension)), str(extension))
