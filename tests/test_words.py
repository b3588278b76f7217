"""One catalogue of words: what a person reads comes from core/data/messages.toml, in both
languages, and every local time is in the configured zone.

The scan reads the source (ast), not the running bot: a word typed straight into a reply
call, a hard-coded language or a hard-coded zone is found before anyone reads it.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.questionnaire import Language
from core.texts import placeholders, say, words

ROOT = Path(__file__).parent.parent
CATALOGUE = ROOT / "core" / "data" / "messages.toml"
# The edges that talk to people (Telegram, images, captions).
SCANNED = ("conversations", "reports", "bot", "scheduler")
# Calls whose first argument (or `text=`/`caption=`) is something a person reads.
REPLY_CALLS = frozenset({"Reply", "Toast", "EditTapped", "EditMessage", "Photo", "Document",
                         "send_message", "edit_message_text", "answer", "send_photo"})
WORD = re.compile(r"[^\W\d_]{2,}")   # two letters in a row: a word, not a separator


def _catalogue() -> dict[str, dict[str, str]]:
    return tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))


def test_every_key_is_in_both_languages_with_the_same_placeholders() -> None:
    data = _catalogue()
    nl, en = data["nl"], data["en"]
    assert sorted(set(nl) ^ set(en)) == []
    differ = {k: (sorted(placeholders(nl[k])), sorted(placeholders(en[k])))
              for k in nl if placeholders(nl[k]) != placeholders(en[k])}
    assert differ == {}


def test_no_message_is_empty_in_either_language() -> None:
    data = _catalogue()
    assert [(lang, k) for lang in ("nl", "en") for k, v in data[lang].items()
            if not str(v).strip()] == []


def test_word_families_are_complete_per_language() -> None:
    for prefix in ("trend_", "caption_", "flag_what_", "flag_todo_", "flag_mark_",
                   "flag_rule_", "overview_reason_", "dimension_"):
        assert words("nl", prefix).keys() == words("en", prefix).keys(), prefix
        assert words("nl", prefix), prefix


def test_image_words_and_labels_come_from_the_catalogue() -> None:
    from conversations.staff import RATING_ORDER  # noqa: PLC0415
    from core.analytics import State  # noqa: PLC0415
    from reports.trend import trend_words  # noqa: PLC0415

    assert trend_words("nl")[State.MISSED] == say("nl", "trend_missed") == "gemist"
    assert trend_words("en")[State.NOT_HELD] == "no session"
    assert [say("nl", f"dimension_{d}") for d in RATING_ORDER] == ["taak", "doel", "band"]


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _literal_words(node: ast.expr) -> list[str]:
    """The words typed straight into a text argument (a literal or an f-string's fixed
    parts); placeholders, separators, emoji and codes like "✔️" are not words."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return WORD.findall(node.value)
    if isinstance(node, ast.JoinedStr):
        return [w for part in node.values if isinstance(part, ast.Constant)
                for w in WORD.findall(str(part.value))]
    return []


def _text_arguments(call: ast.Call) -> list[ast.expr]:
    name = _name(call)
    positional = call.args[1:2] if name in ("send_message", "send_photo") else call.args[:1]
    keywords = [k.value for k in call.keywords if k.arg in ("text", "caption")]
    return [*positional, *keywords]


def test_no_word_is_typed_into_a_reply() -> None:
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node) in REPLY_CALLS:
                for arg in _text_arguments(node):
                    if typed := _literal_words(arg):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {typed}")
    assert found == [], "words belong in core/data/messages.toml:\n" + "\n".join(found)


def test_no_language_or_zone_is_hard_coded() -> None:
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if (_name(node) in ("say", "ZoneInfo") and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: "
                             f"{_name(node)}({first.value!r})")
    assert found == [], "use the person's language or the configured one, and services.zone"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_message_formats_with_its_own_placeholders(lang: Language) -> None:
    """Filling each template with its own names never fails (no stray brace)."""
    for key, template in _catalogue()[lang].items():
        assert say(lang, key, **dict.fromkeys(placeholders(str(template)), "x"))


def test_the_scan_finds_typed_words_and_passes_placeholders() -> None:
    """The scan itself: a typed word is found, a layout of placeholders is not."""
    typed = ast.parse('Reply(f"Hoi {code}!")\nToast("Klaar")\nReply(f"{a}\\n\\n{b} ✔️")')
    calls = [n for n in ast.walk(typed) if isinstance(n, ast.Call)]
    assert [_literal_words(a) for c in calls for a in _text_arguments(c)] == [
        ["Hoi"], ["Klaar"], []]
    scanned = sum(isinstance(n, ast.Call) and _name(n) in REPLY_CALLS
                  for _, tree in _sources() for n in ast.walk(tree))
    assert scanned > 50   # it looks at the real reply calls


def test_invite_times_are_in_the_configured_zone(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line names the configured zone, not a built-in Amsterdam."""
    from tests.support import run_cli  # noqa: PLC0415

    config.write_text(config.read_text() + '[schedule]\ntimezone = "America/New_York"\n')
    code, output = run_cli(capsys, "enroll-therapist", "--config", str(config),
                           "--code", "T-02")
    assert code == 0 and "New York time)" in output and "Amsterdam" not in output
