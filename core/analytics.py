"""Alliance analytics on one youth's own series: scores, ruptures, repair, flags.

Pure functions over plain data. Scores are normalised to 0..1 so 3- and 5-point answers
share an axis. "Rather not say" and missed check-ins are explicit states, never zeros.
Sources for the rules: ../shared/domain.md (Eubanks et al. 2018; Florsheim et al. 2000).
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

DIMENSIONS = ("bond", "goal", "task")


class State(StrEnum):
    ANSWERED = "answered"
    WITHHELD = "withheld"   # answered, but "rather not say" on every alliance item
    MISSED = "missed"       # sent, or due, and not answered before expiry
    OPEN = "open"           # still inside its expiry: not counted yet


@dataclass(frozen=True)
class SessionPoint:
    """One session of one youth, as the analytics see it."""

    when: datetime
    state: State
    youth: dict[str, float | None] = field(default_factory=dict)
    therapist: dict[str, float | None] = field(default_factory=dict)

    @property
    def composite(self) -> float | None:
        return composite(self.youth)


def composite(scores: dict[str, float | None]) -> float | None:
    """Mean of the answered alliance dimensions; None when none was answered."""
    values = [v for k in DIMENSIONS if (v := scores.get(k)) is not None]
    return sum(values) / len(values) if values else None


class Rule(StrEnum):
    STRICT = "strict"          # drop > 2 SD of the youth's own session-to-session change
    LENIENT = "lenient"        # drop > 1 SD
    EXCELLENT_EARLY = "excellent_early_drop"  # rated excellent early, then any drop


@dataclass(frozen=True)
class Rupture:
    index: int                 # position in the series of points
    rule: Rule
    drop: float
    baseline: float
    repaired_at: int | None


@dataclass(frozen=True)
class RuptureRules:
    window: int = 5            # sessions in the running baseline
    min_history: int = 2       # answered sessions needed before any rupture is called
    sd_floor: float = 0.125    # never below half a point on the 5-point scale (few sessions)
    excellent: float = 0.9     # composite counted as "excellent"
    early: int = 2             # the first this-many answered sessions are "early"
    repair_within: int = 3     # sessions after a rupture in which a return counts as repair


def _sd_of_changes(values: list[float], floor: float) -> float:
    changes = [abs(b - a) for a, b in itertools.pairwise(values)]
    sd = statistics.pstdev(changes) if len(changes) >= 2 else 0.0
    mean_change = statistics.fmean(changes) if changes else 0.0
    return max(sd, mean_change, floor)


def detect_ruptures(
    points: list[SessionPoint], rules: RuptureRules = RuptureRules()
) -> list[Rupture]:
    """Find drops below the youth's own recent baseline, and say which rule fired."""
    answered = [(i, c) for i, p in enumerate(points) if (c := p.composite) is not None]
    found: list[Rupture] = []
    early = [c for _, c in answered[: rules.early]]
    excellent_start = len(early) == rules.early and min(early) >= rules.excellent
    excellent_flagged = False
    still_low_below: float | None = None   # an unrepaired rupture is one rupture, not many
    for pos, (index, value) in enumerate(answered):
        if still_low_below is not None:
            if value < still_low_below:
                continue
            still_low_below = None
        history = [c for _, c in answered[max(0, pos - rules.window):pos]]
        if len(history) < rules.min_history:
            continue
        baseline = statistics.fmean(history)
        sd = _sd_of_changes(history, rules.sd_floor)
        drop = baseline - value
        rule = None
        first_drop_after_top = (excellent_start and not excellent_flagged
                                and pos >= rules.early and value < min(early) - 1e-9)
        if drop > 2 * sd:
            rule = Rule.STRICT
        elif first_drop_after_top:
            rule = Rule.EXCELLENT_EARLY      # the worst pattern in practice data: name it
        elif drop > sd:
            rule = Rule.LENIENT
        if rule is None:
            continue
        # one drop after an excellent start is worth naming once, by whichever rule fired
        excellent_flagged = excellent_flagged or excellent_start
        repaired = next((j for j, c in answered[pos + 1: pos + 1 + rules.repair_within]
                         if c >= baseline - sd), None)
        found.append(Rupture(index, rule, drop, baseline, repaired))
        still_low_below = baseline - sd
    return found


def flat_ceiling(points: list[SessionPoint], at_least: int = 4) -> bool:
    """Top marks on every dimension, every time: something to talk about, not a trophy."""
    answered = [p for p in points if p.state is State.ANSWERED]
    if len(answered) < at_least:
        return False
    return all(all(p.youth.get(d) == 1.0 for d in DIMENSIONS) for p in answered)


def response_rate(points: list[SessionPoint]) -> float | None:
    closed = [p for p in points if p.state is not State.OPEN]
    if not closed:
        return None
    return sum(p.state is not State.MISSED for p in closed) / len(closed)


def missed_in_a_row(points: list[SessionPoint]) -> int:
    count = 0
    for p in reversed([p for p in points if p.state is not State.OPEN]):
        if p.state is not State.MISSED:
            break
        count += 1
    return count


def discrepancy(points: list[SessionPoint]) -> dict[str, float | None]:
    """Mean youth-minus-therapist difference per dimension, where both rated."""
    out: dict[str, float | None] = {}
    for dim in DIMENSIONS:
        pairs = [(y, t) for p in points
                 if (y := p.youth.get(dim)) is not None
                 and (t := p.therapist.get(dim)) is not None]
        out[dim] = statistics.fmean(y - t for y, t in pairs) if pairs else None
    return out


def to_point(
    when: datetime, expires_at: datetime, answers: dict[str, str], therapist: dict[str, str],
    points: int, now: datetime,
) -> SessionPoint:
    """Turn one session's stored answers (raw values, 'x' = rather not say) into a point.

    Answers are written on each tap, so a check-in left half-way still counts what was
    answered. Nothing answered: open while it can still be answered, missed after.
    """
    def scores(raw: dict[str, str], scale_points: int) -> dict[str, float | None]:
        return {k: (None if v == "x" else (int(v) - 1) / (scale_points - 1))
                for k, v in raw.items() if k in (*DIMENSIONS, "medium")}

    youth = scores(answers, points)
    rated = scores(therapist, 5)
    if any(k in answers for k in DIMENSIONS):
        state = State.ANSWERED if composite(youth) is not None else State.WITHHELD
    else:
        state = State.OPEN if now < expires_at else State.MISSED
    return SessionPoint(when, state, youth, rated)
