"""Consent scopes, versions and the retention rules: pure functions, table-driven."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.callbacks import ScopeTap, parse, scope_data
from core.consent import (
    CheckinGate,
    ConsentCatalogue,
    ConsentRecord,
    ConsentTextError,
    Scope,
    ScopeState,
    builtin_consents,
    checkin_gate,
    consent_values,
    counts_as_yes,
    keep_phrase,
    parse_consent_text,
    scope_states,
    stands,
    to_ask_before_checkin,
)
from core.retention import DataKind, RetentionPolicy, run_due

CATALOGUE = builtin_consents()   # participation-3, sharing-2, research-2 are current

# Published texts are frozen: a youth's stored digest must keep matching its text.
# A changed text is a new file with the next number, never an edit of an old one.
PUBLISHED_NL = {
    "participation-1": "bae6ad92",
    "participation-2": "eca67058",
    "sharing-1": "fadaa522",
    "research-1": "954ed73e",
    "participation-3": "6a30805a",
    "sharing-2": "98edc309",
    "research-2": "075635c2",
}


def test_every_published_text_is_still_there_unchanged() -> None:
    digests = {t.version: t.sha256("nl")[:8] for t in CATALOGUE.texts}
    assert set(digests) == set(PUBLISHED_NL)
    for version, prefix in PUBLISHED_NL.items():
        assert digests[version].startswith(prefix), f"{version} was edited after publishing"


def test_the_newest_number_is_the_one_asked() -> None:
    assert CATALOGUE.current("participation").version == "participation-3"
    assert CATALOGUE.version("participation", 1) is not None
    newer = parse_consent_text(
        'scope = "participation"\nnumber = 4\nnl = "Nieuw"\nen = "New"\n'
        'agree_nl = "Ja"\nagree_en = "Yes"\ndecline_nl = "Nee"\ndecline_en = "No"\n')
    assert CATALOGUE.with_texts([newer]).current("participation").version == "participation-4"
    assert CATALOGUE.with_texts([newer]).by_version("participation-3") is not None


def test_a_published_number_cannot_get_new_wording() -> None:
    reworded = parse_consent_text(
        'scope = "sharing"\nnumber = 1\nnl = "Anders"\nen = "Other"\n'
        'agree_nl = "Ja"\nagree_en = "Yes"\ndecline_nl = "Nee"\ndecline_en = "No"\n')
    with pytest.raises(ConsentTextError, match="sharing-1 is already published with other "
                                               "wording; publish the new text as number 3"):
        CATALOGUE.with_texts([reworded])
    same = CATALOGUE.current("sharing")
    assert CATALOGUE.with_texts([same]).texts == CATALOGUE.texts     # a copy is harmless


@pytest.mark.parametrize(("text", "problem"), [
    ("scope = 'sharing'\nnumber = 0", "number must be a whole number from 1"),
    ("scope = 'gossip'\nnumber = 1", "scope must be one of participation, sharing, research"),
    ("scope = 'sharing'\nnumber = 2\nnl = 'x'", "missing key 'en'"),
    ("scope = = 1", "not valid TOML"),
])
def test_a_broken_consent_file_is_named_with_its_problem(text: str, problem: str) -> None:
    with pytest.raises(ConsentTextError, match=problem) as err:
        parse_consent_text(text, "consent-sharing-2.toml")
    assert str(err.value).startswith("consent-sharing-2.toml: ")


def r(scope: str, version: str, agreed: bool = True, withdrawn: bool = False) -> ConsentRecord:
    return ConsentRecord(scope, version, agreed, withdrawn)


P2, P1 = r("participation", "participation-3"), r("participation", "participation-2")
S1 = r("sharing", "sharing-2")

STATES = [
    # decisions, oldest first                   -> participation, sharing, research
    ([], (ScopeState.NOT_ASKED, ScopeState.NOT_ASKED, ScopeState.NOT_ASKED)),
    ([P2, S1], (ScopeState.AGREED, ScopeState.AGREED, ScopeState.NOT_ASKED)),
    ([P1, S1], (ScopeState.OUTDATED, ScopeState.AGREED, ScopeState.NOT_ASKED)),
    ([P2, r("sharing", "sharing-2", agreed=False)],
     (ScopeState.AGREED, ScopeState.DECLINED, ScopeState.NOT_ASKED)),
    ([P2, S1, r("sharing", "sharing-2", withdrawn=True)],
     (ScopeState.AGREED, ScopeState.DECLINED, ScopeState.NOT_ASKED)),
    ([P2, r("participation", "participation-3", agreed=False), P2],
     (ScopeState.AGREED, ScopeState.NOT_ASKED, ScopeState.NOT_ASKED)),      # newest counts
    ([P2, r("research", "research-2")],
     (ScopeState.AGREED, ScopeState.NOT_ASKED, ScopeState.AGREED)),
]


@pytest.mark.parametrize(("records", "expected"), STATES)
def test_scope_states(records: list[ConsentRecord],
                      expected: tuple[ScopeState, ScopeState, ScopeState]) -> None:
    states = scope_states(records, CATALOGUE)
    assert (states["participation"], states["sharing"], states["research"]) == expected


GATES = [
    # participation, sharing, research -> gate, asked before the check-in
    ("agreed", "agreed", "not_asked", CheckinGate.ASK, []),
    ("outdated", "agreed", "not_asked", CheckinGate.HOLD, ["participation"]),
    ("agreed", "outdated", "outdated", CheckinGate.ASK, ["sharing", "research"]),
    ("agreed", "not_asked", "not_asked", CheckinGate.ASK, ["sharing"]),
    ("agreed", "declined", "declined", CheckinGate.ASK, []),   # a no is not pressed again
    ("declined", "not_asked", "not_asked", CheckinGate.REFUSE, []),
    ("not_asked", "not_asked", "not_asked", CheckinGate.REFUSE, []),
]


@pytest.mark.parametrize(("p", "s", "res", "gate", "asks"), GATES)
def test_checkin_gate_and_what_to_ask_first(p: str, s: str, res: str, gate: CheckinGate,
                                            asks: list[str]) -> None:
    states: dict[Scope, ScopeState] = {"participation": ScopeState(p),
                                       "sharing": ScopeState(s), "research": ScopeState(res)}
    assert checkin_gate(states) is gate
    assert to_ask_before_checkin(states) == asks


@pytest.mark.parametrize(("data", "tap"), [
    ("g:p:2:y", ScopeTap("participation", 2, agree=True)),
    ("g:s:1:n", ScopeTap("sharing", 1, agree=False)),
    ("g:r:1:v", ScopeTap("research", 1, agree=None)),
    ("g:x:1:y", None), ("g:s:1:yes", None), ("g:s::y", None), ("g:s:1234:y", None),
])
def test_scope_callback_data(data: str, tap: ScopeTap | None) -> None:
    assert parse(data) == tap
    if tap is not None:
        assert scope_data(tap.scope, tap.number, tap.agree) == data


NOW = datetime(2026, 11, 28, 2, 45, tzinfo=UTC)          # 03:45 in Amsterdam


@pytest.mark.parametrize(("now", "last", "due"), [
    (NOW, None, date(2026, 11, 28)),
    (NOW, date(2026, 11, 27), date(2026, 11, 28)),
    (NOW, date(2026, 11, 28), None),                        # done today
    (NOW - timedelta(minutes=30), None, None),              # 03:15: not yet
    (datetime(2026, 11, 28, 23, 30, tzinfo=UTC), date(2026, 11, 28), None),  # 00:30 local
    (datetime(2026, 11, 29, 3, 0, tzinfo=UTC), date(2026, 11, 28), date(2026, 11, 29)),
])
def test_retention_runs_once_a_local_day_from_its_time(now: datetime, last: date | None,
                                                       due: date | None) -> None:
    assert run_due(now, "Europe/Amsterdam", time(3, 30), last) == due


def test_retention_cutoffs_per_kind() -> None:
    policy = RetentionPolicy({DataKind.NOTES: 30, DataKind.SESSIONS: 365})
    assert policy.cutoffs(NOW) == {DataKind.NOTES: NOW - timedelta(days=30),
                                   DataKind.SESSIONS: NOW - timedelta(days=365)}
    assert RetentionPolicy({}).cutoffs(NOW) == {}


def test_the_builtin_catalogue_needs_every_scope() -> None:
    with pytest.raises(ConsentTextError, match="no consent text for sharing, research"):
        ConsentCatalogue(tuple(t for t in CATALOGUE.texts if t.scope == "participation"))


def test_placeholders_are_filled_and_the_digest_is_over_the_text_shown() -> None:
    values = consent_values("Stichting De Hoeve", "privacy@dehoeve.example", 730, 90)
    filled = CATALOGUE.filled(values).current("participation")
    raw = CATALOGUE.current("participation")
    assert "{controller}" in raw.body["nl"]
    nl = filled.body["nl"]
    assert "Wie is verantwoordelijk voor je gegevens? Stichting De Hoeve." in nl
    assert "Of: privacy@dehoeve.example." in nl
    assert "Je antwoorden bewaar ik 2 jaar. Wat je typt, bewaar ik ongeveer 3 maanden." in nl
    assert "{" not in nl and "{" not in filled.body["en"]
    assert "I keep your answers 2 years." in filled.body["en"]
    assert filled.sha256("nl") == hashlib.sha256(nl.encode()).hexdigest() != raw.sha256("nl")
    old = CATALOGUE.filled(values).by_version("participation-2")
    assert old is not None and old.sha256("nl") == raw_digest("participation-2")
    unset = CATALOGUE.filled(consent_values(None, None, None, None)).current("participation")
    assert "bewaar ik zo lang als je dossier bewaard wordt" in unset.body["nl"]
    assert "verantwoordelijk voor je gegevens? De instelling waar je verblijft." in unset.body[
        "nl"]


def raw_digest(version: str) -> str:
    found = CATALOGUE.by_version(version)
    assert found is not None
    return found.sha256("nl")


@pytest.mark.parametrize(("days", "nl", "en"), [
    (None, "zo lang als je dossier bewaard wordt", "as long as your file is kept"),
    (30, "30 dagen", "30 days"),
    (90, "ongeveer 3 maanden", "about 3 months"),
    (365, "1 jaar", "1 year"),
    (1825, "5 jaar", "5 years"),
])
def test_keep_phrase(days: int | None, nl: str, en: str) -> None:
    assert (keep_phrase("nl", days), keep_phrase("en", days)) == (nl, en)


def test_the_new_texts_say_what_the_issue_asks() -> None:
    p, s = CATALOGUE.current("participation").body["nl"], CATALOGUE.current("sharing").body[
        "nl"]
    for needed in ("Telegram", "dossier", "coördinator", "veilig", "verlof", "fase",
                   "rechter", "{controller}", "{contact}", "{keep_answers}"):
        assert needed in p, needed
    assert "groepsleiding" in s and "verlof" in s
    for line in p.splitlines():
        for sentence in re.split(r"[.?!] ", line):
            assert len(sentence.split()) <= 14, sentence   # short sentences, one idea each


@pytest.mark.parametrize(("records", "stands_"), [
    ([], False),
    ([r("research", "research-2")], True),
    ([r("research", "research-1")], True),                       # an older text still stands
    ([r("research", "research-2"), r("research", "research-2", agreed=False)], False),
    ([r("research", "research-2", withdrawn=True)], False),
    ([r("research", "research-1", agreed=False), r("research", "research-2")], True),
    ([r("sharing", "sharing-2")], False),                        # another scope
])
def test_the_one_consent_rule(records: list[ConsentRecord], stands_: bool) -> None:
    """core.consent.stands decides for storage and for the states alike."""
    assert stands(records, "research") is stands_
    state = scope_states(records, CATALOGUE)["research"]
    assert counts_as_yes(state) is stands_
