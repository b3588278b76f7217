"""The coordinator's compliance overview, as text: who needs attention, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.questionnaire import Language

MISSED_IN_A_ROW_ALERT = 2


@dataclass(frozen=True)
class Compliance:
    """One youth's record: sessions held, check-ins sent, completed and missed."""

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


_REASONS = {
    "nl": {"unreachable": "bot geblokkeerd", "paused": "gestopt met /stop",
           "not_joined": "nog niet aangemeld", "missed": "{n} keer op rij gemist",
           "withdrawn": "doet niet mee (eigen keuze)",
           "declined": "zei nee bij de uitnodiging (eigen keuze)"},
    "en": {"unreachable": "blocked the bot", "paused": "stopped with /stop",
           "not_joined": "has not joined", "missed": "missed {n} in a row",
           "withdrawn": "not taking part (own choice)",
           "declined": "declined at the invite (own choice)"},
}
_HEADER = {
    "nl": "jongere  therapeut  sessies  verstuurd  ingevuld  gemist  aandacht",
    "en": "youth    therapist  sessions sent       completed missed  attention",
}


def attention(row: Compliance, lang: Language) -> list[str]:
    """Why a coordinator should look at this youth; empty when all is well."""
    words = _REASONS[lang]
    out = []
    if row.unreachable:
        out.append(words["unreachable"])
    if row.paused:
        out.append(words["paused"])
    if not row.joined:
        out.append(words["declined" if row.declined else "not_joined"])
    elif not row.takes_part:
        out.append(words["withdrawn"])
    if row.missed_in_a_row >= MISSED_IN_A_ROW_ALERT:
        out.append(words["missed"].format(n=row.missed_in_a_row))
    return out


def render_overview(rows: Sequence[Compliance], lang: Language = "nl") -> str:
    lines = [_HEADER[lang]]
    for r in rows:
        flags = attention(r, lang)
        mark = "⚠️ " + ", ".join(flags) if flags else "✓"
        lines.append(f"{r.youth_code:<8} {r.therapist_code:<10} {r.sessions:>7} {r.sent:>10} "
                     f"{r.completed:>9} {r.missed:>7}  {mark}")
    return "\n".join(lines)
