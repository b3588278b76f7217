"""Closing the loop: what goes back to the therapist before the next session, and to the
youth after answering. Pure rules; the shell gathers the data and sends the words.

The trigger for the therapist's pre-session prompt is deliberately simple (a low answer
on any dimension last time, a crisis text, an alert not yet discussed), kept in one
function so richer rupture rules can feed it later without changing its callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.questionnaire import RATHER_NOT_SAY, Language, Questionnaire
from core.texts import say

DIMENSIONS = ("task", "medium", "goal", "bond")  # the order of the questions (alliance-2)
TALK_LEAD = timedelta(minutes=60)                 # the prompt comes this long before a session
ALERT_MEMORY = timedelta(days=14)                 # older undiscussed alerts are not raised again
# Urgent (crisis) alerts have no "Besproken" button (their recipients include the unit and
# coordinators), so they count for a shorter time: the next session or two.
CRISIS_MEMORY = timedelta(days=7)


def is_low(value: str, points: int) -> bool:
    """Below the middle face: "Slecht" or "Heel slecht" (5-point), "Slecht" (3-point).

    Withheld answers are not low: "rather not say" is a choice, not a score."""
    if value == RATHER_NOT_SAY or not value.isdigit():
        return False
    return int(value) < (points + 1) / 2


def low_dimensions(answers: Mapping[str, str], points: int) -> tuple[str, ...]:
    """The alliance dimensions answered at the low end, in question order."""
    return tuple(d for d in DIMENSIONS if d in answers and is_low(answers[d], points))


def thanks_key(answers: Mapping[str, str], points: int, sharing: bool) -> str:
    """The closing message: a low score shared with the therapist is thanked as honest.

    Without sharing the therapist never sees it, so the youth is not told it helps them."""
    return "thanks_honest" if sharing and low_dimensions(answers, points) else "thanks"


@dataclass(frozen=True)
class LastCheckin:
    """What the youth said last time, as far as the therapist may know it."""

    answers: Mapping[str, str]
    points: int
    crisis: bool
    shared: bool            # the youth lets the therapist see answers


@dataclass(frozen=True)
class TalkReasons:
    code: str
    low: tuple[str, ...]    # dimensions answered low (only when shared)
    crisis: bool
    alerts: tuple[str, ...]  # kinds of alerts not yet discussed ("rupture", "missed", ...)


def talk_reasons(code: str, last: LastCheckin | None,
                 undiscussed_alerts: Sequence[str]) -> TalkReasons | None:
    """Why the therapist should bring up the alliance at the next session; None: no need."""
    low = low_dimensions(last.answers, last.points) if last and last.shared else ()
    crisis = bool(last and last.crisis)
    alerts = tuple(dict.fromkeys(undiscussed_alerts))
    if not (low or crisis or alerts):
        return None
    return TalkReasons(code, low, crisis, alerts)


def talk_due(session_start: datetime, now: datetime, lead: timedelta = TALK_LEAD) -> bool:
    """The prompt goes out from `lead` before the session until it starts, not after."""
    return session_start - lead <= now < session_start


def _and(lang: Language, words: Sequence[str]) -> str:
    joiner = f" {say(lang, 'list_and')} "
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + joiner + words[-1]


def talk_line(lang: Language, reasons: TalkReasons) -> str:
    """One line per youth: "J-103: band was laag na de vorige sessie. Even bespreken?"."""
    parts = []
    if reasons.low:
        names = [say(lang, f"dim_{d}") for d in reasons.low]
        key = "talk_low_one" if len(names) == 1 else "talk_low_many"
        parts.append(say(lang, key, dims=_and(lang, names)))
    if reasons.crisis:
        parts.append(say(lang, "talk_crisis"))
    parts += [say(lang, f"talk_alert_{kind}") for kind in reasons.alerts
              if kind in ("rupture", "missed", "crisis")]
    return say(lang, "talk_line", code=reasons.code, what=_and(lang, parts))


def talk_message(lang: Language, start_local: str, reasons: Sequence[TalkReasons]) -> str:
    """The whole prompt for one session occurrence (one line per youth in a group)."""
    lines = [say(lang, "talk_header", start=start_local)]
    lines += [talk_line(lang, r) for r in reasons]
    return "\n".join(lines)


@dataclass(frozen=True)
class PastCheckin:
    """One earlier check-in as the youth's own line shows it."""

    questionnaire: Questionnaire
    simple: bool
    answers: Mapping[str, str]


def _face(q: Questionnaire, simple: bool, value: str | None) -> str:
    if value is None:
        return "▫️"
    if value == RATHER_NOT_SAY:
        return q.rather_not_say.emoji
    for option in q.scale(simple).options:
        if str(option.value) == value:
            return option.emoji
    return "▫️"


def my_line(lang: Language, current: Questionnaire, simple: bool,
            past: Sequence[PastCheckin]) -> str:
    """/mijnlijn: per question a row of faces, oldest first, in plain words.

    Each answer is shown with the face of the scale it was given on, so answers to an
    older questionnaire version keep their own meaning; the text says how many those are."""
    if not past:
        return say(lang, "myline_empty")
    lines = [say(lang, "myline_header", n=len(past))]
    for dim in DIMENSIONS:
        if not any(dim in p.answers for p in past):
            continue
        faces = " ".join(_face(p.questionnaire, p.simple, p.answers.get(dim)) for p in past)
        lines.append(f"{say(lang, f'myline_{dim}')}: {faces}")
    scale = current.scale(simple)
    legend = " · ".join(o.text(lang) for o in scale.options)
    lines += ["", legend, say(lang, "myline_empty_cell")]
    older = sum(p.questionnaire.version != current.version for p in past)
    if older:
        lines.append(say(lang, "myline_older", n=older))
    return "\n".join(lines)
