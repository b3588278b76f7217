"""The coordinator's compliance overview, as text: who needs attention, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core import texts
from core.analytics import (
    ANSWERED_STATES,
    MISSED_IN_A_ROW,
    SessionPoint,
    State,
    missed_in_a_row,
)
from core.questionnaire import Language


@dataclass(frozen=True)
class Compliance:
    """One youth's record: sessions held, check-ins sent, answered and missed.

    Built by `summarise` from the same session points (core.analytics.occurrence_state)
    the therapist's image and alerts use, so the numbers can never disagree.
    """

    youth_code: str
    therapist_code: str
    joined: bool
    paused: bool
    unreachable: bool
    sessions: int
    sent: int
    completed: int
    missed: int
    missed_in_a_row: int
    takes_part: bool = True      # consent to take part stands (withdrawn: no check-ins)
    declined: bool = False       # said "not now" at the invite and has not joined since
    cancelled: int = 0           # cancelled or paused in the schedule: never "missed"
    undelivered: int = 0         # never reached the youth (phone hours, blocked, failed)
    not_held: int = 0            # did not take place, said the youth or the therapist


def summarise(points: list[SessionPoint]) -> dict[str, int]:
    """The counted fields of a Compliance row, from one youth's session points."""
    states = [p.state for p in points]
    return {"sessions": len(states),
            "completed": sum(s in ANSWERED_STATES for s in states),
            "missed": states.count(State.MISSED),
            "missed_in_a_row": missed_in_a_row(points),
            "cancelled": states.count(State.CANCELLED) + states.count(State.PAUSED),
            "undelivered": states.count(State.UNDELIVERED),
            "not_held": states.count(State.NOT_HELD)}


def attention(row: Compliance, lang: Language,
              missed_after: int = MISSED_IN_A_ROW) -> list[str]:
    """Why a coordinator should look at this youth; empty when all is well.

    `missed_after` is config alerts.missed_in_a_row: the same number the therapist's
    alert and caption use."""
    words = texts.words(lang, "overview_reason_")
    out = []
    if row.unreachable:
        out.append(words["unreachable"])
    if row.paused:
        out.append(words["paused"])
    if not row.joined:
        out.append(words["declined" if row.declined else "not_joined"])
    elif not row.takes_part:
        out.append(words["withdrawn"])
    if row.missed_in_a_row >= missed_after:
        out.append(words["missed"].format(n=row.missed_in_a_row))
    if row.undelivered:
        out.append(words["undelivered"].format(n=row.undelivered))
    return out


def render_overview(rows: Sequence[Compliance], lang: Language = "nl",
                    missed_after: int = MISSED_IN_A_ROW) -> str:
    lines = [texts.say(lang, "overview_header")]
    for r in rows:
        flags = attention(r, lang, missed_after)
        mark = "⚠️ " + ", ".join(flags) if flags else "✓"
        lines.append(f"{r.youth_code:<8} {r.therapist_code:<10} {r.sessions:>7} {r.sent:>10} "
                     f"{r.completed:>9} {r.missed:>7} {r.cancelled:>9} {r.not_held:>14}"
                     f"  {mark}")
    return "\n".join(lines)
