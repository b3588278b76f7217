"""Alliance analytics on one youth-therapist pair's own series: states, ruptures, flags.

Pure functions over plain data. Scores are normalised to 0..1 so 3- and 5-point answers
share an axis; every threshold is expressed in *scale steps* (a quarter of the axis on the
5-point scale, half of it on the 3-point scale), so a one-step dip means the same on both.
"Rather not say", missed, cancelled, paused, undelivered and "did not take place" are
explicit states, never zeros. Sources: Eubanks et al. 2018 (ruptures and repair);
Florsheim et al. 2000 (early high alliance); Gumz et al. (the own-variation rule).

This module holds the ONE definition of what happened at a session occurrence
(`occurrence_state`) and of what counts toward a response rate and a missed streak
(`COUNTED`, `response_rate`, `missed_in_a_row`). The image, /clients, the coordinators'
/overview (core/compliance.py via storage) and the alerts all go through it.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

DIMENSIONS = ("bond", "goal", "task")
ALL_DIMENSIONS = ("bond", "goal", "task", "medium")
MEAN = "mean"          # the mean of bond/goal/task, analysed next to each dimension
EVENT_KEY = "event"
NO_EVENT = frozenset({"nothing_special", "skip"})   # event answers that are not an event
MISSED_IN_A_ROW = 3    # default of config alerts.missed_in_a_row: caption, /overview, alert
NOT_HELD_BY_YOUTH = "youth"
NOT_HELD_BY_THERAPIST = "therapist"


class State(StrEnum):
    """What happened at one session occurrence of one youth (one rule, `occurrence_state`)."""

    ANSWERED = "answered"        # every alliance item answered, check-in finished
    PARTIAL = "partial"          # some alliance item answered, then left: counts as answered
    WITHHELD = "withheld"        # answered, but "rather not say" on every alliance item
    MISSED = "missed"            # reached the youth, not answered before expiry
    OPEN = "open"                # still inside its expiry: not counted yet
    CANCELLED = "cancelled"      # the session was cancelled in the schedule
    PAUSED = "paused"            # the series was paused
    UNDELIVERED = "undelivered"  # never reached the youth (phone hours, blocked, failed)
    NOT_HELD = "not_held"        # youth ("Ik had geen therapie") or therapist said: no session


ANSWERED_STATES = frozenset({State.ANSWERED, State.PARTIAL, State.WITHHELD})
# Only these count toward a response rate and a missed streak; the rest are the system's
# or the schedule's doing, not the youth's, and are shown with their own mark.
COUNTED = ANSWERED_STATES | {State.MISSED}


def occurrence_state(
    *, delivery: str | None, reason: str | None, not_held: bool, answers: Mapping[str, str],
    complete: bool, expires_at: datetime, now: datetime,
) -> State:
    """The state of one session occurrence, from what storage knows about it.

    `delivery` is the outbox state of its check-in ('sent', 'expired', 'cancelled', ...;
    None for a check-in started without an outbox row), `reason` the outbox's recorded
    reason ('series paused' marks a pause). Order matters: a stated "no session" wins,
    then any answer (a partly answered check-in is answered, PARTIAL), then the schedule
    (cancelled, paused), then time (open), then delivery (undelivered vs missed).
    """
    if not_held:
        return State.NOT_HELD
    alliance = {k: v for k, v in answers.items() if k in ALL_DIMENSIONS}
    if alliance:
        if all(v == "x" for v in alliance.values()):
            return State.WITHHELD
        return State.ANSWERED if complete else State.PARTIAL
    if complete:
        return State.WITHHELD      # finished without an alliance answer
    if delivery == "cancelled":
        return State.PAUSED if reason == "series paused" else State.CANCELLED
    if now < expires_at:
        return State.OPEN
    if delivery in (None, "sent"):
        return State.MISSED
    return State.UNDELIVERED


@dataclass(frozen=True)
class SessionPoint:
    """One session of one youth with one therapist, as the analytics see it."""

    when: datetime
    state: State
    youth: dict[str, float | None] = field(default_factory=dict)
    therapist: dict[str, float | None] = field(default_factory=dict)
    points: int = 5              # the youth's scale at this session (3 = simple mode)
    aligned: bool = False        # 3-point faces are the middle three of the 5-point scale
    note: bool = False           # a typed note exists (shown as a marker only, with sharing)
    crisis: bool = False         # a crisis text came from this check-in
    event: bool = False          # a concrete event was chosen ("Ruzie gehad", ...)

    @property
    def composite(self) -> float | None:
        return composite(self.youth)

    def score(self, dimension: str) -> float | None:
        return self.composite if dimension == MEAN else self.youth.get(dimension)

    @property
    def step(self) -> float:
        return step(self.points, self.aligned)

    @property
    def lowest(self) -> float:
        """The score of the lowest answer this youth could give at this session."""
        return lowest(self.points, self.aligned)


def composite(scores: Mapping[str, float | None]) -> float | None:
    """Mean of the answered alliance dimensions; None when none was answered."""
    values = [v for k in DIMENSIONS if (v := scores.get(k)) is not None]
    return sum(values) / len(values) if values else None


def step(points: int, aligned: bool = False) -> float:
    """One answer step on the normalised axis: 0.25 on the 5-point scale, 0.5 on 3; 0.25
    on a face-aligned 3-point scale (questionnaire alliance-2: 🙁 😐 🙂 sit where they sit
    on the 5-point scale, so a face means the same in both modes)."""
    return 0.25 if aligned else 1.0 / (points - 1)


def lowest(points: int, aligned: bool = False) -> float:
    """Where the lowest answer of a scale sits on the axis: 🙁 (0.25) on a face-aligned
    3-point scale, 0 otherwise."""
    return 0.25 if aligned and points == 3 else 0.0


def normalised(value: int, points: int, aligned: bool = False) -> float:
    """A raw answer (1..points) on the 0..1 axis that the image, rules and exports share."""
    if aligned and points == 3:
        return value / 4          # 🙁 1 -> 0.25, 😐 2 -> 0.5, 🙂 3 -> 0.75
    return (value - 1) / (points - 1)


class Rule(StrEnum):
    RUPTURE = "rupture"        # "breuk": drop >= 2 own SDs and >= 2 scale steps
    DIP = "dip"                # "dip": drop >= 1 own SD and >= 1 scale step
    FLOOR = "floor"            # a dimension at the lowest answer, whatever came before
    DRIFT = "drift"            # a slow slide: never up over several sessions, >= half the scale
    EXCELLENT_EARLY = "excellent_early_drop"  # rated excellent early, then any drop


ALERTING = frozenset({Rule.RUPTURE, Rule.FLOOR})   # same-working-day alert to the therapist


@dataclass(frozen=True)
class Rupture:
    index: int                 # position in the series of points
    rule: Rule
    drop: float
    baseline: float
    repaired_at: int | None
    dimension: str = MEAN      # bond, goal, task, medium, or the mean


@dataclass(frozen=True)
class RuptureRules:
    window: int = 5            # answered sessions in the running baseline
    min_history: int = 2       # answered sessions needed before a dip/breuk is called
    excellent: float = 0.9     # mean counted as "excellent"
    early: int = 2             # the first this-many answered sessions are "early"
    repair_within: int = 3     # sessions after a drop in which a return counts as repair
    drift_sessions: int = 4    # a slide is judged over this many answered sessions
    drift_fall: float = 0.5    # ... and must lose at least half the axis (2 steps / 1 step)


def own_variation(history: list[float], points: int, aligned: bool = False) -> float:
    """The youth's own session-to-session variation on one dimension (Gumz et al.).

    Exactly: the population standard deviation of the signed differences between
    consecutive answered sessions in the baseline window, floored at half a scale step.
    Why: Gumz et al. judge a drop against how much *this* client usually moves from one
    session to the next, so a youth who swings widely is not flagged for an ordinary
    swing, while a steady youth's smaller fall stands out. The floor exists because with
    two or three steady sessions the SD is 0 and any wobble would count; half a step
    means the own-variation part never asks less than the scale-step part below.
    """
    diffs = [b - a for a, b in itertools.pairwise(history)]
    sd = statistics.pstdev(diffs) if len(diffs) >= 2 else 0.0
    return max(sd, step(points, aligned) / 2)


def _series(points: list[SessionPoint], dimension: str
            ) -> list[tuple[int, float, SessionPoint]]:
    return [(i, v, p) for i, p in enumerate(points)
            if p.state in ANSWERED_STATES and (v := p.score(dimension)) is not None]


def _drops(points: list[SessionPoint], dimension: str,
           rules: RuptureRules) -> list[Rupture]:
    """Dips and breuken on one dimension, against the youth's own baseline and variation.

    baseline = mean of the previous `window` answered values; drop = baseline - value;
    s = own_variation(window). A drop of >= 2 s AND >= 2 scale steps is a breuk, >= 1 s
    AND >= 1 step a dip (both: the statistical rule of Gumz et al. plus a clinical floor
    in answer steps, so one step on the 5-point scale is never a breuk). An unrepaired
    drop is one event: later low values below it are not counted again.
    """
    answered = _series(points, dimension)
    found: list[Rupture] = []
    still_low_below: float | None = None
    for pos, (index, value, scale) in enumerate(answered):
        if still_low_below is not None:
            if value < still_low_below:
                continue
            still_low_below = None
        history = [v for _, v, _ in answered[max(0, pos - rules.window):pos]]
        if len(history) < rules.min_history:
            continue
        baseline = statistics.fmean(history)
        s = own_variation(history, scale.points, scale.aligned)
        drop, one = baseline - value, scale.step
        eps = 1e-9
        if drop + eps >= max(2 * s, 2 * one):
            rule = Rule.RUPTURE
        elif drop + eps >= max(s, one):
            rule = Rule.DIP
        else:
            continue
        repaired = next((j for j, v, _ in answered[pos + 1: pos + 1 + rules.repair_within]
                         if v >= baseline - s), None)
        found.append(Rupture(index, rule, drop, baseline, repaired, dimension))
        still_low_below = baseline - s
    return found


def _floors(points: list[SessionPoint], dimension: str) -> list[Rupture]:
    """Any answered session where this dimension is at the lowest answer of the youth's
    scale at that session (0, or 🙁 on a face-aligned 3-point scale)."""
    answered = _series(points, dimension)
    out = []
    for pos, (index, value, point) in enumerate(answered):
        if value <= point.lowest + 1e-9:
            back = next((j for j, v, p in answered[pos + 1:] if v > p.lowest + 1e-9), None)
            before = answered[pos - 1][1] if pos else 0.0
            out.append(Rupture(index, Rule.FLOOR, before - value, before, back, dimension))
    return out


def _drift(points: list[SessionPoint], dimension: str, rules: RuptureRules) -> list[Rupture]:
    """A slow slide: the last `drift_sessions` answered values never rise and lose at least
    `drift_fall` of the axis in total. Checked at the newest session only (it is a state of
    the recent course, not an event), and only when no single step was a breuk already."""
    answered = _series(points, dimension)
    if len(answered) < rules.drift_sessions:
        return []
    tail = answered[-rules.drift_sessions:]
    values = [v for _, v, _ in tail]
    fall = values[0] - values[-1]
    steadily = all(b <= a + 1e-9 for a, b in itertools.pairwise(values))
    biggest = max(a - b for a, b in itertools.pairwise(values))
    if steadily and fall + 1e-9 >= rules.drift_fall and biggest < 2 * tail[-1][2].step - 1e-9:
        return [Rupture(tail[-1][0], Rule.DRIFT, fall, values[0], None, dimension)]
    return []


def _excellent_early(points: list[SessionPoint], rules: RuptureRules) -> list[Rupture]:
    """Rated excellent (mean) at the first sessions, then the first drop below that."""
    answered = _series(points, MEAN)
    early = [v for _, v, _ in answered[: rules.early]]
    if len(early) < rules.early or min(early) < rules.excellent:
        return []
    for pos, (index, value, _) in enumerate(answered):
        if pos >= rules.early and value < min(early) - 1e-9:
            back = next((j for j, v, _ in answered[pos + 1: pos + 1 + rules.repair_within]
                         if v >= min(early) - 1e-9), None)
            return [Rupture(index, Rule.EXCELLENT_EARLY, min(early) - value, min(early),
                            back, MEAN)]
    return []


def detect_ruptures(
    points: list[SessionPoint], rules: RuptureRules = RuptureRules()
) -> list[Rupture]:
    """Every flag in the series, per dimension and on the mean, oldest first.

    Per dimension (bond, goal, task, medium) and on the mean: dips and breuken
    (`_drops`), the absolute floor (`_floors`) and a slow slide (`_drift`); on the mean
    only, the "excellent early, then a drop" pattern. A drop on the mean that is already
    found on a dimension at the same session is not repeated.
    """
    found: list[Rupture] = []
    for dim in (*ALL_DIMENSIONS, MEAN):
        found += _drops(points, dim, rules) + _drift(points, dim, rules)
        if dim != MEAN:
            found += _floors(points, dim)
    on_dimension = {(r.index, r.rule) for r in found if r.dimension != MEAN}
    found = [r for r in found if r.dimension != MEAN or (r.index, r.rule) not in on_dimension]
    found += _excellent_early(points, rules)
    return sorted(found, key=lambda r: (r.index, ALL_DIMENSIONS.index(r.dimension)
                                        if r.dimension in ALL_DIMENSIONS else 9))


def flat_ceiling(points: list[SessionPoint], at_least: int = 4) -> bool:
    """Top marks on every dimension, every time: something to talk about, not a trophy."""
    answered = [p for p in points if p.state is State.ANSWERED]
    if len(answered) < at_least:
        return False
    return all(all(p.youth.get(d) == 1.0 for d in DIMENSIONS) for p in answered)


def response_rate(points: list[SessionPoint]) -> float | None:
    """Answered (fully, partly or 'rather not say') out of the COUNTED sessions."""
    counted = [p for p in points if p.state in COUNTED]
    if not counted:
        return None
    return sum(p.state in ANSWERED_STATES for p in counted) / len(counted)


def missed_in_a_row(points: list[SessionPoint]) -> int:
    """Missed sessions at the end of the series; the uncounted states are skipped over."""
    count = 0
    for p in reversed([p for p in points if p.state in COUNTED]):
        if p.state is not State.MISSED:
            break
        count += 1
    return count


def discrepancy(points: list[SessionPoint]) -> dict[str, float | None]:
    """Mean youth-minus-therapist difference per dimension, where both rated."""
    out: dict[str, float | None] = {}
    for dim in ALL_DIMENSIONS:
        pairs = [(y, t) for p in points
                 if (y := p.youth.get(dim)) is not None
                 and (t := p.therapist.get(dim)) is not None]
        out[dim] = statistics.fmean(y - t for y, t in pairs) if pairs else None
    return out


def persistent_discrepancy(points: list[SessionPoint], sessions: int = 3,
                           gap: float = 0.5) -> dict[str, float]:
    """Dimensions where youth and therapist differ a lot, the same way, lately.

    The last `sessions` sessions both rated must all differ by at least `gap` of the axis
    (2 steps on the 5-point scale) in the same direction. Returns the mean difference
    (youth minus therapist) per such dimension: positive = the youth rates higher.
    """
    out = {}
    for dim in ALL_DIMENSIONS:
        pairs = [y - t for p in points
                 if (y := p.youth.get(dim)) is not None
                 and (t := p.therapist.get(dim)) is not None][-sessions:]
        if len(pairs) == sessions and (all(d >= gap - 1e-9 for d in pairs)
                                       or all(d <= -gap + 1e-9 for d in pairs)):
            out[dim] = statistics.fmean(pairs)
    return out


def to_point(
    when: datetime, expires_at: datetime, answers: dict[str, str], therapist: dict[str, str],
    points: int, now: datetime, *, delivery: str | None = "sent", reason: str | None = None,
    not_held: bool = False, complete: bool = False, note: bool = False, crisis: bool = False,
    aligned: bool = False,
) -> SessionPoint:
    """Turn one session's stored answers (raw values, 'x' = rather not say) into a point.

    Answers are written on each tap, so a check-in left half-way still counts what was
    answered (PARTIAL). The state comes from `occurrence_state`, the one rule.
    """
    def scores(raw: dict[str, str], scale_points: int,
               face_aligned: bool) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for k, v in raw.items():
            if k not in ALL_DIMENSIONS:
                continue
            try:
                out[k] = None if v == "x" else normalised(int(v), scale_points, face_aligned)
            except ValueError:
                out[k] = None
        return out

    state = occurrence_state(delivery=delivery, reason=reason, not_held=not_held,
                             answers=answers, complete=complete, expires_at=expires_at,
                             now=now)
    event = answers.get(EVENT_KEY) not in (None, *NO_EVENT)
    return SessionPoint(when, state, scores(answers, points, aligned),
                        scores(therapist, 5, False), points, aligned, note, crisis, event)
