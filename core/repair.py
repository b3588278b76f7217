"""Repaired after discussion: a drop the therapist talked through with the youth
("Besproken" on its alert) and that was followed by recovery.

Why it is its own mark: repaired ruptures go with better outcomes than no rupture at all,
unrepaired ones with worse (Eubanks et al. 2018, shared/domain.md). Whether talking about
it came before the recovery is what the therapist wants to learn from the loop, so the
image, the flag line and the export say so, from this one rule.

The rule, exactly. A drop (breuk, dip or lowest answer) at session R that was repaired at
session H (core.analytics: back within `repair_within` sessions) counts as repaired after
discussion when one of the pair's rupture alerts was
  - raised at or after R ended and no later than H ended (it is about this drop, not an
    older or a newer one), and
  - marked "Besproken" no later than `DISCUSSED_GRACE` after H ended (therapists often tap
    the button after the session in which they talked, when they see the message again).
Pure functions over plain data; storage gathers the alerts, reports and exports use them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.analytics import Rule, Rupture, SessionPoint

REPAIRABLE = frozenset({Rule.RUPTURE, Rule.DIP, Rule.FLOOR})
DISCUSSED_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class DiscussedAlert:
    """One rupture alert of a youth-therapist pair: when raised, when discussed (or not)."""

    created_at: datetime
    discussed_at: datetime | None


def discussed_before_repair(dropped: datetime, repaired: datetime,
                            alert: DiscussedAlert) -> bool:
    """This alert is about the drop that ended at `dropped` and was discussed in time."""
    return (alert.discussed_at is not None and dropped <= alert.created_at <= repaired
            and alert.discussed_at <= repaired + DISCUSSED_GRACE)


def repaired_after_discussion(points: Sequence[SessionPoint], ruptures: Sequence[Rupture],
                              alerts: Sequence[DiscussedAlert]) -> frozenset[int]:
    """The sessions (indexes into `points`) whose drop was discussed, then repaired."""
    found = set()
    for r in ruptures:
        if r.rule not in REPAIRABLE or r.repaired_at is None:
            continue
        dropped, repaired = points[r.index].when, points[r.repaired_at].when
        if any(discussed_before_repair(dropped, repaired, a) for a in alerts):
            found.add(r.index)
    return frozenset(found)


def alert_repaired_after_discussion(points: Sequence[SessionPoint],
                                    ruptures: Sequence[Rupture],
                                    alert: DiscussedAlert) -> bool | None:
    """For the export: did the drop this alert was about recover after 'Besproken'?

    None when the alert was not discussed (nothing to say); False when it was discussed
    but its drop was not (yet) repaired in time; True when it was."""
    if alert.discussed_at is None:
        return None
    return any(
        r.rule in REPAIRABLE and r.repaired_at is not None
        and discussed_before_repair(points[r.index].when, points[r.repaired_at].when, alert)
        for r in ruptures)
