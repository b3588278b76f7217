"""Who may be enrolled, and what consent the law needs first (Netherlands)."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from typing import Literal

from core.questionnaire import Language, builtin_text
from core.texts import say

DIGITAL_CONSENT_AGE = 16
MIN_AGE = 12
MAX_AGE = 25


def enrolment_problems(
    birth_year: int, guardian_consent_date: date | None, today: date
) -> list[str]:
    """Return why a youth may not be enrolled yet; empty when enrolment may go ahead.

    Only the birth year is known, so someone born in year Y may still be 15 during all of
    Y + 16. To stay on the safe side, guardian consent is required until the year in which
    the youth certainly is 16 or older (Y + 17).
    """
    problems: list[str] = []
    oldest = today.year - birth_year
    youngest = oldest - 1
    if oldest < MIN_AGE or youngest > MAX_AGE:
        problems.append(
            f"birth year {birth_year} gives an age outside {MIN_AGE} to {MAX_AGE}"
        )
        return problems
    if youngest < DIGITAL_CONSENT_AGE:
        if guardian_consent_date is None:
            problems.append(
                f"born in {birth_year}, this youth may be younger than {DIGITAL_CONSENT_AGE}: "
                "record the guardian's consent with --guardian-consent-date YYYY-MM-DD"
            )
        elif guardian_consent_date > today:
            problems.append("the guardian consent date lies in the future")
    return problems


def research_needs_guardian(birth_year: int, guardian_research_consent: date | None,
                            today: date) -> bool:
    """True while the youth may be under 16 and no guardian's research consent is on file.

    Research use is a consent of its own: the guardian's consent to taking part does not
    cover it. As at enrolment, with only a birth year known the youth counts as possibly
    15 until the year in which they certainly are 16 (birth year + 17).
    """
    youngest = today.year - birth_year - 1
    return youngest < DIGITAL_CONSENT_AGE and (
        guardian_research_consent is None or guardian_research_consent > today)


Scope = Literal["participation", "sharing", "research"]
SCOPES: tuple[Scope, ...] = ("participation", "sharing", "research")


@dataclass(frozen=True)
class ConsentText:
    """One published version of the text for one consent scope."""

    scope: Scope
    number: int
    body: dict[Language, str]
    agree: dict[Language, str]
    decline: dict[Language, str]

    @property
    def version(self) -> str:
        return f"{self.scope}-{self.number}"

    def filled(self, values: Mapping[Language, Mapping[str, str]]) -> ConsentText:
        """The text as a youth sees it: {controller}, {contact} and the like filled in.

        The digest stored with a decision is taken over this text, so it proves what was
        shown, the institution's name and periods included."""
        return replace(self, body={lang: fill_placeholders(body, values.get(lang, {}))
                                   for lang, body in self.body.items()})

    def sha256(self, lang: Language) -> str:
        """Return the digest stored with a consent, proving which exact text was shown."""
        return hashlib.sha256(self.body[lang].strip().encode()).hexdigest()


class ConsentTextError(ValueError):
    """A consent text file is not usable; the message names the file and the problem."""


def parse_consent_text(text: str, source: str = "consent text") -> ConsentText:
    try:
        data = tomllib.loads(text)
        scope, number = data["scope"], data["number"]
        if scope not in SCOPES:
            raise ConsentTextError(f"{source}: scope must be one of {', '.join(SCOPES)},"
                                   f" not {scope!r}")
        if not isinstance(number, int) or number < 1:
            raise ConsentTextError(f"{source}: number must be a whole number from 1")
        return ConsentText(
            scope=scope, number=number,
            body={"nl": data["nl"].strip(), "en": data["en"].strip()},
            agree={"nl": data["agree_nl"], "en": data["agree_en"]},
            decline={"nl": data["decline_nl"], "en": data["decline_en"]},
        )
    except tomllib.TOMLDecodeError as exc:
        raise ConsentTextError(f"{source}: not valid TOML ({exc})") from exc
    except KeyError as exc:
        raise ConsentTextError(f"{source}: missing key {exc.args[0]!r}") from exc


@dataclass(frozen=True)
class ConsentCatalogue:
    """Every published consent text, so that any stored consent can be traced to its text.

    The newest number of a scope is the one youths are asked now.
    """

    texts: tuple[ConsentText, ...]

    def __post_init__(self) -> None:
        missing = [s for s in SCOPES if not any(t.scope == s for t in self.texts)]
        if missing:
            raise ConsentTextError(f"no consent text for {', '.join(missing)}")

    def current(self, scope: Scope) -> ConsentText:
        return max((t for t in self.texts if t.scope == scope), key=lambda t: t.number)

    def version(self, scope: Scope, number: int) -> ConsentText | None:
        return next((t for t in self.texts if t.scope == scope and t.number == number), None)

    def by_version(self, version: str) -> ConsentText | None:
        return next((t for t in self.texts if t.version == version), None)

    def with_texts(self, extra: Iterable[ConsentText]) -> ConsentCatalogue:
        """Add an institution's own texts as newer versions.

        A version is frozen once published: reusing a number with other wording would make
        stored digests point at the wrong text, so it is refused with the number to use.
        """
        texts = list(self.texts)
        for text in extra:
            same = next((t for t in texts if t.version == text.version), None)
            if same is not None and same.body != text.body:
                newest = max(t.number for t in texts if t.scope == text.scope)
                raise ConsentTextError(
                    f"{text.version} is already published with other wording; publish the"
                    f" new text as number {newest + 1}")
            if same is None:
                texts.append(text)
        return ConsentCatalogue(tuple(texts))


    def filled(self, values: Mapping[Language, Mapping[str, str]]) -> ConsentCatalogue:
        """Every text with its placeholders filled in (see ConsentText.filled)."""
        return ConsentCatalogue(tuple(t.filled(values) for t in self.texts))


PLACEHOLDERS = ("controller", "contact", "keep_answers", "keep_notes")


def fill_placeholders(body: str, values: Mapping[str, str]) -> str:
    """Replace each known {placeholder} that has a value; leave all other text alone
    (a consent text may contain braces of its own, so this is not str.format)."""
    for name in PLACEHOLDERS:
        if name in values:
            body = body.replace("{" + name + "}", values[name])
    return body


def keep_phrase(lang: Language, days: int | None) -> str:
    """How long something is kept, in words a 12-year-old reads: "1 jaar", "6 maanden"."""
    if days is None:
        return say(lang, "consent_keep_file")
    if days >= 365 and days % 365 == 0:
        years = days // 365
        return say(lang, "consent_keep_year" if years == 1 else "consent_keep_years", n=years)
    if days >= 60:
        return say(lang, "consent_keep_months", n=round(days / 30.4))
    return say(lang, "consent_keep_days", n=days)


def consent_values(controller: str | None, contact: str | None, answers_days: int | None,
                   notes_days: int | None) -> dict[Language, dict[str, str]]:
    """What fills the placeholders of the consent texts, per language."""
    langs: tuple[Language, ...] = ("nl", "en")
    return {lang: {"controller": controller or say(lang, "consent_default_controller"),
                   "contact": contact or say(lang, "consent_default_contact"),
                   "keep_answers": keep_phrase(lang, answers_days),
                   "keep_notes": keep_phrase(lang, notes_days)} for lang in langs}


BUILTIN_CONSENT_FILES = ("consent-participation-1.toml", "consent-participation-2.toml",
                         "consent-participation-3.toml", "consent-sharing-1.toml",
                         "consent-sharing-2.toml", "consent-research-1.toml",
                         "consent-research-2.toml")


def builtin_consents() -> ConsentCatalogue:
    """The published texts as files hold them, placeholders not yet filled in."""
    return ConsentCatalogue(tuple(parse_consent_text(builtin_text(n), n)
                                  for n in BUILTIN_CONSENT_FILES))


# -- where a youth stands, and what to do about it ------------------------------------------

class ScopeState(Enum):
    AGREED = "agreed"          # yes to the current text
    OUTDATED = "outdated"      # yes to an older text: stands until they answer the new one
    DECLINED = "declined"      # said no, or withdrew
    NOT_ASKED = "not_asked"


@dataclass(frozen=True)
class ConsentRecord:
    """One stored decision: each change is a row of its own, the newest one counts."""

    scope: str
    version: str
    agreed: bool
    withdrawn: bool


def scope_states(records: Sequence[ConsentRecord],
                 catalogue: ConsentCatalogue) -> dict[Scope, ScopeState]:
    """Return the state of every scope from the youth's decisions, oldest first."""
    states = dict.fromkeys(SCOPES, ScopeState.NOT_ASKED)
    for scope in SCOPES:
        mine = [r for r in records if r.scope == scope]
        if not mine:
            continue
        last = mine[-1]
        if not stands(mine, scope):
            states[scope] = ScopeState.DECLINED
        elif last.version == catalogue.current(scope).version:
            states[scope] = ScopeState.AGREED
        else:
            states[scope] = ScopeState.OUTDATED
    return states


def stands(records: Sequence[ConsentRecord], scope: str) -> bool:
    """The one consent rule: the youth's newest decision on `scope` is a yes, not
    withdrawn. It stands for what its text said until the youth answers a newer text.
    Storage fetches the records and applies this; it never restates it in SQL."""
    mine = [r for r in records if r.scope == scope]
    return bool(mine) and mine[-1].agreed and not mine[-1].withdrawn


def counts_as_yes(state: ScopeState) -> bool:
    """The consent rule (`stands`) on a scope's state: an agreement to the current text
    or to an older one (scope_states derives both from `stands`)."""
    return state in (ScopeState.AGREED, ScopeState.OUTDATED)


class CheckinGate(Enum):
    ASK = "ask"            # send the check-in
    HOLD = "hold"          # a newer participation text must be answered first
    REFUSE = "refuse"      # no consent to take part: no check-in


def checkin_gate(states: Mapping[Scope, ScopeState]) -> CheckinGate:
    participation = states["participation"]
    if participation is ScopeState.AGREED:
        return CheckinGate.ASK
    if participation is ScopeState.OUTDATED:
        return CheckinGate.HOLD
    return CheckinGate.REFUSE


def to_ask_before_checkin(states: Mapping[Scope, ScopeState]) -> list[Scope]:
    """Scopes to put to the youth before the next check-in.

    Every agreement to an older text is asked again. Sharing is asked when the youth never
    answered it (it belongs to taking part); research stays opt-in and is never pressed.
    """
    asks: list[Scope] = [s for s in SCOPES if states[s] is ScopeState.OUTDATED]
    if states["sharing"] is ScopeState.NOT_ASKED and counts_as_yes(states["participation"]):
        asks.append("sharing")
    return asks
