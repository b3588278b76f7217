"""The short text that goes with the weekly image: what changed, who needs a look.

Each flag is the same plain line as on the image (core.flags): what fired, what to do.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.analytics import Rule
from core.questionnaire import Language
from core.texts import words
from reports.trend import Panel

LIMIT = 1000   # under Telegram's 1,024-character caption limit


def caption(week_label: str, panels: list[Panel], lang: Language = "nl",
            hidden: Sequence[str] = ()) -> str:
    """A head line, then one line per flag (most serious youth first), then who hides."""
    t = words(lang, "caption_")
    ruptures = [r for p in panels for r in p.ruptures if r.rule is Rule.RUPTURE]
    head = t["head"].format(week=week_label, n=len(panels)) + " " + (
        t["ruptures"].format(n=len(ruptures),
                             r=sum(r.repaired_at is not None for r in ruptures))
        if ruptures else t["none"])
    lines = [head]
    ordered = sorted(panels, key=lambda p: not any(f.alerting for f in p.flags))
    for p in ordered:
        lines += [f.line(p.youth_code) for f in p.flags]
    tail = [t["hidden"].format(codes=", ".join(hidden))] if hidden else []
    text = "\n".join([*lines, *tail])
    if len(text) <= LIMIT:
        return text
    keep = "\n".join(tail)
    body = "\n".join(lines)[: LIMIT - len(keep) - 2] + "…"
    return f"{body}\n{keep}" if keep else body
