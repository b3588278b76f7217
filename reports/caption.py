"""The short text that goes with the weekly image: what changed, who needs a look."""

from __future__ import annotations

from collections.abc import Sequence

from core.analytics import Rule
from core.questionnaire import Language
from reports.trend import Panel

_TEXT = {
    "nl": {"head": "Week {week}: {n} jongeren.", "ruptures": "{n} breuk(en), {r} hersteld.",
           "none": "Geen breuken.", "look": "Even kijken bij: {items}.",
           "strict": "{code} (strenge breuk)", "missed": "{code} ({n} keer gemist)",
           "ceiling": "{code} (altijd top)", "early": "{code} (daling na topstart)",
           "hidden": "Delen niet (eigen keuze): {codes}."},
    "en": {"head": "Week {week}: {n} youths.", "ruptures": "{n} rupture(s), {r} repaired.",
           "none": "No ruptures.", "look": "Worth a look: {items}.",
           "strict": "{code} (strict rupture)", "missed": "{code} (missed {n} in a row)",
           "ceiling": "{code} (always top marks)", "early": "{code} (drop after top start)",
           "hidden": "Not sharing (their choice): {codes}."},
}


def caption(week_label: str, panels: list[Panel], lang: Language = "nl",
            hidden: Sequence[str] = ()) -> str:
    """Two or three short sentences, under Telegram's 1,024-character caption limit."""
    t = _TEXT[lang]
    ruptures = [r for p in panels for r in p.ruptures]
    parts = [t["head"].format(week=week_label, n=len(panels))]
    parts.append(t["ruptures"].format(n=len(ruptures),
                                      r=sum(r.repaired_at is not None for r in ruptures))
                 if ruptures else t["none"])
    look = []
    for p in panels:
        open_rules = {r.rule for r in p.ruptures if r.repaired_at is None}
        if Rule.STRICT in open_rules:
            look.append(t["strict"].format(code=p.youth_code))
        elif Rule.EXCELLENT_EARLY in open_rules:
            look.append(t["early"].format(code=p.youth_code))
        if p.missed_in_a_row >= 2:
            look.append(t["missed"].format(code=p.youth_code, n=p.missed_in_a_row))
        if p.ceiling:
            look.append(t["ceiling"].format(code=p.youth_code))
    if look:
        parts.append(t["look"].format(items=", ".join(look)))
    if hidden:
        parts.append(t["hidden"].format(codes=", ".join(hidden)))
    text = " ".join(parts)
    return text if len(text) <= 1000 else text[:997] + "…"
