"""Crisis detection against a labelled table of realistic texts, and its parts one by one.

tests/data/crisis-phrases.tsv holds `alert|none TAB text` lines written as youths of 12-25
in secure care write (no punctuation, typos, slang, English mixed in), with many
art-therapy and everyday sentences that use the same words harmlessly.

History of the figures (positives caught / negatives alarmed):
- first batch (244 lines), written before any rule existed:
  old whole-word phrase list 25/114 caught, 9/130 alarmed;
  first draft of the rules 111/114 caught, 1/130 alarmed; after tuning 114/114, 0/130.
- second batch (90 lines), written after that tuning and scored before any change:
  30/45 caught, 2/45 alarmed; the rules were then tuned on it too.
- third batch (60 lines, deliberately harder: poison, choking, sextortion, a rapper's
  song), scored before any change: 16/30 caught, 2/30 alarmed; then tuned on it too.
- seven probe lines written to find weak spots after that (helping hands, jokes, an
  accidental burn); one false alarm among them is kept as found.
- fourth batch (50 lines) by a second writer after the merge, scored before any change:
  20/25 caught, 0/25 alarmed; four rules were extended for its misses ("ik wil springen"
  alone stays a miss: in psychomotor therapy it is everyday talk).
So the figures printed below are on lines the rules were tuned on; the first scores of
the later batches are the honest estimate for unseen text (roughly 55-65% of crisis
texts caught, 5% of harmless ones alarmed). Add every miss or false alarm found
in practice as a new line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from core.crisis import (
    RulesError,
    builtin_rules,
    detect,
    find_crisis_phrases,
    load_rules,
    normalise,
    parse_rules,
    rule_category,
)
from tests.support import run_cli

TABLE = Path(__file__).parent / "data" / "crisis-phrases.tsv"
RULES = builtin_rules()


def _table() -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            label, text = line.split("\t", 1)
            assert label in ("alert", "none"), f"line {number}: label {label!r}"
            rows.append((label, text))
    return rows


def test_table_recall_and_false_alarms() -> None:
    rows = _table()
    positives = [t for label, t in rows if label == "alert"]
    negatives = [t for label, t in rows if label == "none"]
    assert len(rows) >= 150 and len(positives) >= 60 and len(negatives) >= 60
    missed = [t for t in positives if not find_crisis_phrases(t, RULES)]
    alarmed = [(t, find_crisis_phrases(t, RULES)) for t in negatives
               if find_crisis_phrases(t, RULES)]
    recall = 1 - len(missed) / len(positives)
    false_alarm_rate = len(alarmed) / len(negatives)
    print(f"\nrecall {recall:.3f} ({len(positives) - len(missed)}/{len(positives)} caught); "
          f"false alarms {false_alarm_rate:.3f} ({len(alarmed)}/{len(negatives)})")
    assert recall >= 0.95, f"missed: {missed}"
    assert false_alarm_rate <= 1 / 15, f"false alarms: {alarmed}"


def test_every_category_is_in_the_table() -> None:
    categories = {m.category for label, t in _table() if label == "alert"
                  for m in detect(t, RULES)}
    assert categories == {"suicide", "self-harm", "safeguarding"}


@pytest.mark.parametrize(("text", "expected"), [
    ("Ik wil DOOOOOD!!", [["ik", "wil", "dood"]]),
    ("suïcidaal", [["suicidaal"]]),
    ("k wil nie meer", [["ik", "wil", "niet", "meer"]]),
    ("m'n arm. mn pols", [["mijn", "arm"], ["mijn", "pols"]]),
    ("kben moe", [["ik", "ben", "moe"]]),
    ("im done", [["i", "am", "done"]]),
    ("self-harm", [["self", "harm"]]),
    ("", []),
])
def test_normalisation(text: str, expected: list[list[str]]) -> None:
    assert [[t.word for t in s] for s in normalise(text, RULES.spellings)] == expected


def test_squeezed_and_digit_forms_are_tried_too() -> None:
    assert find_crisis_phrases("kmsss", RULES) == ["mezelf doden"]
    assert find_crisis_phrases("k heb me gesnedenn", RULES) == ["snijden"]
    assert find_crisis_phrases("ik sn1j mezelf", RULES) == ["snijden"]


@pytest.mark.parametrize("text", [
    "ik verveel me dood", "ik wil me dood lachen", "ik ga dood van verveling",
    "ik lag dood van het lachen", "ik ben doodmoe", "doodleuk zei hij dat",
    "het was doodgewoon", "ik schrok me dood", "I could die of boredom", "dead tired",
])
def test_idioms_never_alert(text: str) -> None:
    assert find_crisis_phrases(text, RULES) == []


def test_an_idiom_only_cancels_its_own_words() -> None:
    assert find_crisis_phrases("ik verveel me dood en ik wil dood", RULES) == ["wil dood"]


@pytest.mark.parametrize(("text", "fired"), [
    ("ik snij mezelf", ["snijden"]),
    ("ik snij linoleum", []),
    ("ik heb in mn arm gesneden", ["snijden"]),
    ("de klei moest ik snijden", []),
    ("ik heb me gesneden aan het papier", []),       # `unless` papier within 4 words
    ("ik kras mezelf", ["krassen"]),
    ("ik kraste met houtskool", []),
    ("ik ga me ophangen", ["ophangen"]),
    ("ik heb mijn tekening opgehangen", []),
    ("we gingen linoleum snijden en daarna ophangen", []),
])
def test_self_reference_decides_ambiguous_verbs(text: str, fired: list[str]) -> None:
    assert find_crisis_phrases(text, RULES) == fired


def test_sentences_bound_patterns() -> None:
    assert find_crisis_phrases("ik wil niet meer", RULES) == ["niet meer leven"]
    assert find_crisis_phrases("ik wil niet meer tekenen", RULES) == []
    assert find_crisis_phrases("ik wil. dood is mijn tekening niet", RULES) == []


def test_matches_name_rule_category_and_words() -> None:
    (match,) = detect("hij slaat me", RULES)
    assert (match.rule, match.category, match.words) == ("slaat me", "safeguarding",
                                                         ("slaat", "me"))
    assert rule_category(RULES, "snijden") == "self-harm"
    assert rule_category(RULES, "zelfmoord") == "suicide"
    assert rule_category(RULES, "no such rule") is None


def test_every_builtin_rule_has_a_category_and_a_unique_name() -> None:
    names = [r.name for r in RULES.rules]
    assert len(names) == len(set(names)) >= 20
    assert {r.category for r in RULES.rules} == {"suicide", "self-harm", "safeguarding"}


LOCAL = """
[[rule]]
name = "havenkade"
category = "suicide"
match = ["havenkade spring*"]
"""


def test_an_institution_extends_the_builtin_rules(tmp_path: Path) -> None:
    local = tmp_path / "local.toml"
    local.write_text(LOCAL, encoding="utf-8")
    rules = load_rules(local)
    assert find_crisis_phrases("ik wil bij de havenkade springen", rules) == ["havenkade"]
    assert find_crisis_phrases("ik snij mezelf", rules) == ["snijden"]   # built-in kept
    assert find_crisis_phrases("ik wil bij de havenkade springen", RULES) == []


@pytest.mark.parametrize(("body", "message"), [
    ("[[rule]]\nname = 'x'\ncategory = 'suicide'\n", "rule 'x': match: required"),
    ("[[rule]]\nname = 'x'\ncategory = 'sad'\nmatch = ['a']\n",
     "rule 'x': category: 'sad' is not one of suicide, self-harm, safeguarding"),
    ("[[rule]]\nname = 'x'\ncategory = 'suicide'\nmatch = ['wil * dood']\n",
     "rule 'x': match: pattern 'wil * dood': '*' would match every word"),
    ("[[rule]]\nname = 'x'\ncategory = 'suicide'\nmatch = ['dood!']\n",
     "rule 'x': match: pattern 'dood!': 'dood!' may only hold"),
    ("[[rule]]\nname = 'x'\ncategory = 'suicide'\nmatch = ['a']\nslef = true\n",
     "rule 'x': unknown key 'slef'"),
    ("[[rule]]\ncategory = 'suicide'\nmatch = ['a']\n", "rule #1: name: required"),
    ("[[rule]]\nname = 'snijden'\ncategory = 'self-harm'\nmatch = ['a']\n",
     "rule 'snijden': a rule with this name exists already"),
    ("nl = ['dood']\n", "the lists `nl` and `en` are the old phrase format"),
    ("[[rule]\n", "not valid TOML"),
])
def test_a_broken_rule_file_names_file_and_rule(tmp_path: Path, body: str,
                                                 message: str) -> None:
    local = tmp_path / "local.toml"
    local.write_text(body, encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(local)
    assert str(caught.value).startswith(f"{local}: {message}"), str(caught.value)


def test_parse_rules_accepts_an_empty_file() -> None:
    assert parse_rules("", "empty.toml").rules == ()


SAMPLES = [
    "ik snij mezelf elke avond",
    "we gingen linoleum snijden en daarna ophangen",
    "ik zie het echt nie meer zitten",
    "de klei moest ik snijden",
    "niemand zou me missen",
    "ik ga dood gaan van verveling",
    "kms",
    "ik sprong van de kast bij psychomotoriek",
    "mn stiefvader slaat me",
    "heb weer zelfmoordgedachten en ik wil dood",
]

EXPECTED = """\
alert\tsnijden\tik snij mezelf elke avond
none\t-\twe gingen linoleum snijden en daarna ophangen
alert\tniet meer zitten\tik zie het echt nie meer zitten
none\t-\tde klei moest ik snijden
alert\tniemand zou me missen\tniemand zou me missen
none\t-\tik ga dood gaan van verveling
alert\tmezelf doden\tkms
none\t-\tik sprong van de kast bij psychomotoriek
alert\tslaat me\tmn stiefvader slaat me
alert\tzelfmoord,wil dood\theb weer zelfmoordgedachten en ik wil dood
"""


def test_cli_prints_verdict_rule_and_text(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    texts = tmp_path / "texts.txt"
    texts.write_text("\n".join(SAMPLES[:5]) + "\n\n   \n" + "\n".join(SAMPLES[5:]) + "\n",
                     encoding="utf-8")
    assert run_cli(capsys, "crisis-phrases", "test", str(texts)) == (0, EXPECTED)


def test_cli_uses_the_institutions_rules_with_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "local.toml").write_text(LOCAL, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[checkin]\ncrisis_phrases_file = "rules/local.toml"\n')
    texts = tmp_path / "texts.txt"
    texts.write_text("ik ga van de havenkade springen\n", encoding="utf-8")
    assert run_cli(capsys, "crisis-phrases", "test", str(texts)) == (
        0, "none\t-\tik ga van de havenkade springen\n")
    assert run_cli(capsys, "crisis-phrases", "test", str(texts), "--config", str(config)) == (
        0, "alert\thavenkade\tik ga van de havenkade springen\n")


def test_cli_problems_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_cli(capsys, "crisis-phrases", "test", str(tmp_path / "missing.txt"))
    assert code == 2 and out.count("\n") == 1 and "missing.txt: cannot read" in out
    broken = tmp_path / "broken.toml"
    broken.write_text("[[rule]]\nname = 'x'\ncategory = 'suicide'\nmatch = []\n")
    config = tmp_path / "config.toml"
    config.write_text(f'[checkin]\ncrisis_phrases_file = "{broken}"\n')
    texts = tmp_path / "texts.txt"
    texts.write_text("hoi\n")
    code, out = run_cli(capsys, "crisis-phrases", "test", str(texts), "--config", str(config))
    assert (code, out) == (2, f"error: {broken}: rule 'x': match: the list is empty\n")
    for argv in (["crisis-phrases", "test"], ["crisis-phrases"], ["crisis-phrases", "tset"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize("argv", [["crisis-phrases"], ["crisis-phrases", "test"]])
def test_cli_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: python -m bot crisis-phrases" in capsys.readouterr().out


def test_check_config_refuses_a_broken_rule_file(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = config.parent / "local-rules.toml"
    broken.write_text("[[rule]]\nname = 'x'\ncategory = 'suicide'\nmatch = ['wil * dood']\n")
    config.write_text(config.read_text() + f'\n[checkin]\ncrisis_phrases_file = "{broken}"\n')
    code, out = run_cli(capsys, "check-config", "--config", str(config))
    assert code == 2
    assert f"checkin.crisis_phrases_file: {broken}: rule 'x': match: pattern" in out
