"""The pure core, table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import flow
from core.callbacks import AnswerTap, ConsentTap, answer_data, consent_data, parse
from core.consent import builtin_consents, enrolment_problems
from core.crisis import builtin_rules, find_crisis_phrases
from core.identity import ContactCipher, new_key, new_token, pseudonym, token_digest
from core.prompts import render_step
from core.questionnaire import (
    builtin_questionnaire,
    builtin_questionnaires,
    builtin_text,
    parse_questionnaire,
    questionnaire_version,
)
from core.session_words import session_phrase
from core.texts import message_keys, say

Q = builtin_questionnaire()
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WITH_MEDIUM = flow.plan_steps(Q, with_medium=True)
WITHOUT = flow.plan_steps(Q, with_medium=False)


def state(prompted: int = 0, status: flow.Status = flow.Status.OPEN,
          answers: dict[str, str] | None = None, expires: timedelta = timedelta(hours=1),
          ) -> flow.CheckinState:
    return flow.CheckinState(status, prompted, NOW + expires, answers or {})


def test_steps() -> None:
    assert [s.key for s in WITH_MEDIUM] == ["task", "medium", "goal", "bond", "event", "note"]
    assert [s.key for s in WITHOUT] == ["task", "goal", "bond", "event", "note"]


@pytest.mark.parametrize(("st", "index", "value", "simple", "expected"), [
    (state(), 0, "4", False, flow.Record(0, "4", changed=False, advance=True, completes=False)),
    (state(), 0, "x", False, flow.Record(0, "x", changed=False, advance=True, completes=False)),
    (state(), 0, "4", True, flow.Refuse(flow.Refusal.INVALID)),        # 3-point scale
    (state(), 0, "0", False, flow.Refuse(flow.Refusal.INVALID)),
    (state(), 9, "1", False, flow.Refuse(flow.Refusal.INVALID)),
    (state(), 1, "3", False, flow.Refuse(flow.Refusal.NOT_YET_ASKED)),
    (state(2, answers={"task": "4"}), 0, "4", False, flow.Unchanged()),
    (state(2, answers={"task": "4"}), 0, "2", False,
     flow.Record(0, "2", changed=True, advance=False, completes=False)),
    (state(4), 4, "argument", False,
     flow.Record(4, "argument", changed=False, advance=True, completes=False)),
    (state(4), 4, "3", False, flow.Refuse(flow.Refusal.INVALID)),
    (state(5), 5, "done", False,
     flow.Record(5, "done", changed=False, advance=True, completes=True)),
    (state(status=flow.Status.COMPLETE), 0, "4", False, flow.Refuse(flow.Refusal.FINISHED)),
    (state(status=flow.Status.EXPIRED), 0, "4", False, flow.Refuse(flow.Refusal.EXPIRED)),
    (state(expires=timedelta(0)), 0, "4", False, flow.Refuse(flow.Refusal.EXPIRED)),
])
def test_decide_tap(st: flow.CheckinState, index: int, value: str, simple: bool,
                    expected: flow.TapDecision) -> None:
    assert flow.decide_tap(Q, WITH_MEDIUM, st, index, value, simple=simple, now=NOW) == expected


@pytest.mark.parametrize(("st", "text", "expected"), [
    (None, "hoi", flow.TextOutcome.NO_CHECKIN),
    (state(status=flow.Status.COMPLETE), "hoi", flow.TextOutcome.NO_CHECKIN),
    (state(expires=-timedelta(seconds=1)), "hoi", flow.TextOutcome.NO_CHECKIN),
    (state(0), "hoi", flow.TextOutcome.BUTTON_EXPECTED),
    (state(0), "x" * 11, flow.TextOutcome.TOO_LONG),
    (state(5), "hoi", flow.TextOutcome.STORE_NOTE),
    (state(5), "x" * 10, flow.TextOutcome.STORE_NOTE),
    (state(5), "x" * 11, flow.TextOutcome.TOO_LONG),
])
def test_decide_text(st: flow.CheckinState | None, text: str,
                     expected: flow.TextOutcome) -> None:
    assert flow.decide_text(WITH_MEDIUM, st, text, limit=10, now=NOW) == expected


@pytest.mark.parametrize(("value", "points", "expected"), [
    ("1", 5, 0.0), ("5", 5, 1.0), ("3", 5, 0.5), ("2", 3, 0.5), ("x", 5, None)])
def test_normalised_score(value: str, points: int, expected: float | None) -> None:
    assert flow.normalised_score(value, points) == expected


@pytest.mark.parametrize(("birth_year", "guardian", "ok"), [
    (2008, None, True),                     # 18: decides alone
    (2009, None, True),                     # certainly 17 this year... at least 16
    (2010, None, False),                    # may still be 15 in 2026
    (2010, date(2026, 9, 1), True),
    (2013, date(2026, 9, 1), True),         # 12 or 13
    (2010, date(2027, 1, 1), False),        # consent date in the future
    (2016, date(2026, 9, 1), False),        # 9 or 10: too young
    (1999, None, False),                    # 26 or 27: too old
])
def test_enrolment_rules(birth_year: int, guardian: date | None, ok: bool) -> None:
    assert (enrolment_problems(birth_year, guardian, date(2026, 11, 28)) == []) is ok


@pytest.mark.parametrize(("text", "found"), [
    ("Soms wil ik dood", ["wil dood"]),
    ("ik wil DOOD.", ["wil dood"]),
    ("ik ben doodmoe", []),
    ("Zelfmoord", ["zelfmoord"]),
    ("suïcide", ["zelfmoord"]),
    ("I want to die", ["wil dood"]),
    ("i might hurt-myself", ["mezelf pijn doen"]),
    ("hurtmyself", []),
    ("het snijden van hout was leuk", []),   # cutting wood, not oneself
    ("", []),
])
def test_crisis_phrases(text: str, found: list[str]) -> None:
    """Rule names, as stored with the flag (more in tests/test_crisis_phrases.py)."""
    assert find_crisis_phrases(text, builtin_rules()) == found


def test_callback_roundtrip_and_forgeries() -> None:
    ref, token = "A" * 16, new_token()
    assert parse(answer_data(ref, 3, "x")) == AnswerTap(ref, 3, "x")
    assert parse(consent_data(token, 2, agree=True)) == ConsentTap(token, 2, agree=True)
    for forged in (None, "", "a:" + ref, f"a:{ref}:3:X", f"a:{ref}:333:1", f"c:{token}:maybe",
                   f"a:{ref}:3:1\n", "a:" + "A" * 17 + ":3:1"):
        assert parse(forged) is None
    assert len(answer_data(ref, 99, "something_good").encode()) <= 64
    assert len(consent_data(token, 999, False).encode()) <= 64


def test_pseudonyms_are_keyed() -> None:
    key_a, key_b = b"a" * 32, b"b" * 32
    assert pseudonym(key_a, 123) == pseudonym(key_a, 123)
    assert pseudonym(key_a, 123) != pseudonym(key_b, 123)
    assert pseudonym(key_a, 123) != pseudonym(key_a, 124)
    assert "123" not in pseudonym(key_a, 123)
    assert token_digest("t") != "t" and len(new_token()) == 22


def test_contact_cipher_roundtrip() -> None:
    cipher = ContactCipher(new_key().encode())
    sealed = cipher.seal(700000123)
    assert b"700000123" not in sealed and cipher.open(sealed) == 700000123
    assert cipher.open_text(cipher.seal_text("hé")) == "hé"


def test_questionnaire_items_are_short_and_not_yes_no() -> None:
    for item in Q.items:
        for text in (item.nl, item.en):
            assert len(text.split()) <= 12, text
            assert text.startswith(("Hoe", "How")), text
        assert " niet " not in f" {item.nl} "
    assert len(Q.scales.full.options) == 5 and len(Q.scales.simple.options) == 3


def test_scales_are_balanced_and_each_face_means_the_same_in_both_modes() -> None:
    full = {o.emoji: (o.nl, o.en) for o in Q.scales.full.options}
    assert len(full) == 5, "five distinct faces"
    assert len({o.nl for o in Q.scales.full.options}) == 5
    for option in Q.scales.simple.options:
        assert full[option.emoji] == (option.nl, option.en), option
    words = [o.nl for o in Q.scales.full.options]
    assert words == ["Heel slecht", "Slecht", "Gewoon", "Goed", "Heel goed"]
    assert [o.nl for o in Q.scales.simple.options] == ["Slecht", "Gewoon", "Goed"]


def test_every_published_version_stays_readable() -> None:
    versions = builtin_questionnaires()
    assert list(versions) == ["alliance-1", "alliance-2"]
    assert Q.version == "alliance-2"
    assert questionnaire_version(Q, "alliance-1").item("bond").nl == (
        "Hoe goed luisterde je therapeut vandaag naar jou?")
    assert questionnaire_version(Q, "no-such-version") is Q


_AMS = ZoneInfo("Europe/Amsterdam")
_MON = datetime(2026, 11, 30, tzinfo=_AMS)   # a Monday


@pytest.mark.parametrize(("end", "now", "nl", "en"), [
    (_MON.replace(hour=10), _MON.replace(hour=10, minute=5), "je muziektherapie van vanochtend",
     "your music therapy this morning"),
    (_MON.replace(hour=13), _MON.replace(hour=16), "je muziektherapie van vanochtend",
     "your music therapy this morning"),
    (_MON.replace(hour=15), _MON.replace(hour=19), "je muziektherapie van vanmiddag",
     "your music therapy this afternoon"),
    (_MON.replace(hour=19), _MON.replace(hour=20), "je muziektherapie van vanavond",
     "your music therapy this evening"),
    (_MON.replace(hour=15), _MON.replace(day=1, month=12, hour=9),
     "je muziektherapie van gisteren", "your music therapy yesterday"),
    (_MON.replace(hour=15), _MON.replace(day=3, month=12, hour=9),
     "je muziektherapie van maandag", "your music therapy on Monday"),
    (_MON.replace(hour=15), _MON.replace(day=8, month=12, hour=9),
     "je muziektherapie van maandag vorige week", "your music therapy on Monday last week"),
])
def test_session_phrase_names_therapy_and_when(end: datetime, now: datetime, nl: str,
                                               en: str) -> None:
    assert session_phrase("nl", "music", end, now, _AMS) == nl
    assert session_phrase("en", "music", end, now, _AMS) == en


def test_session_phrase_uses_the_local_day() -> None:
    late = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)   # 23:30 in Amsterdam, Monday
    next_morning = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert session_phrase("nl", None, late, next_morning, _AMS) == "je therapie van gisteren"


def test_broken_questionnaire_is_refused() -> None:
    text = builtin_text("questionnaire-alliance-1.toml").replace("value = 2\n", "value = 7\n", 1)
    with pytest.raises(ValueError, match=r"values 1\.\.5"):
        parse_questionnaire(text)


def test_render_step_marks_choice() -> None:
    p = render_step(Q, WITH_MEDIUM, 1, checkin_ref="R" * 16, lang="nl", simple=False,
                    discipline="visual_art", chosen="2")
    assert p.text.startswith("Hoe ging het samen tekenen en maken?")
    assert p.text.endswith("👉 Jouw keuze: 🙁 Slecht")
    assert [row[0].label for row in p.buttons][1] == "✔️ 🙁 Slecht"


def test_texts_exist_in_both_languages() -> None:
    assert {"crisis_help", "thanks", "stopped"} <= message_keys()
    assert "0800-0432" in say("en", "crisis_help")
    consent = builtin_consents().current("participation")
    assert consent.sha256("nl") != consent.sha256("en")
    assert "/stop" in consent.body["nl"] and "/stop" in consent.body["en"]


@pytest.mark.parametrize(("version", "value", "simple", "full"), [
    ("alliance-2", "1", True, 2), ("alliance-2", "2", True, 3), ("alliance-2", "3", True, 4),
    ("alliance-2", "x", True, None), ("alliance-2", "5", False, 5),
    ("alliance-2", "x", False, None),
    ("alliance-1", "1", True, 1), ("alliance-1", "3", True, 4),   # v1: 😐 🙂 😄
])
def test_a_face_has_one_place_on_the_five_point_scale(version: str, value: str, simple: bool,
                                                       full: int | None) -> None:
    assert builtin_questionnaires()[version].on_full_scale(value, simple) == full


@pytest.mark.parametrize(("status", "after", "expired", "live"), [
    (flow.Status.OPEN, -timedelta(seconds=1), False, True),
    (flow.Status.OPEN, timedelta(0), True, False),          # the moment itself: expired
    (flow.Status.OPEN, timedelta(hours=1), True, False),
    (flow.Status.EXPIRED, -timedelta(hours=1), True, False),
    (flow.Status.COMPLETE, timedelta(hours=1), False, False),  # finished, not expired
])
def test_the_one_expiry_rule(status: flow.Status, after: timedelta, expired: bool,
                             live: bool) -> None:
    """core.flow.expired decides; storage applies it to the rows it reads."""
    assert flow.expired(status, NOW, NOW + after) is expired
    assert flow.live(status, NOW, NOW + after) is live
