"""The check-in as a sequence of steps, and the decisions taken on each tap or text.

Decisions are returned as data; the shell (conversations.usecases) applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.questionnaire import RATHER_NOT_SAY, Questionnaire


class StepKind(StrEnum):
    SCALE = "scale"
    CHOICE = "choice"
    TEXT = "text"


@dataclass(frozen=True)
class Step:
    key: str
    kind: StepKind


class Status(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"


def plan_steps(q: Questionnaire, *, with_medium: bool) -> tuple[Step, ...]:
    """Return the steps of one check-in: the alliance items, the day event, the free text."""
    items = [
        Step(i.key, StepKind.SCALE) for i in q.items if not i.optional or with_medium
    ]
    return (*items, Step(q.event.key, StepKind.CHOICE), Step(q.free_text.key, StepKind.TEXT))


DONE = "done"
NO_SESSION = "nosession"   # "Ik had geen therapie": a button on the first question only


def valid_values(q: Questionnaire, step: Step, *, simple: bool) -> frozenset[str]:
    """Return every callback value a button of this step may carry."""
    if step.kind is StepKind.SCALE:
        points = q.scale(simple).points
        return frozenset({*(str(v) for v in range(1, points + 1)), RATHER_NOT_SAY})
    if step.kind is StepKind.CHOICE:
        return frozenset(o.value for o in q.event.options)
    return frozenset({DONE})


@dataclass(frozen=True)
class CheckinState:
    """What the database knows about one check-in, as the core needs it."""

    status: Status
    prompted_step: int
    expires_at: datetime
    answers: dict[str, str]


class Refusal(StrEnum):
    EXPIRED = "expired"
    FINISHED = "finished"
    INVALID = "invalid"
    NOT_YET_ASKED = "not_yet_asked"


@dataclass(frozen=True)
class Refuse:
    reason: Refusal


@dataclass(frozen=True)
class Unchanged:
    """The same value was tapped again: confirm, write nothing."""


@dataclass(frozen=True)
class NoSession:
    """The youth says the session did not take place: record that, ask nothing more."""


@dataclass(frozen=True)
class Record:
    """Store the value; advance the prompt when this was the newest question."""

    step_index: int
    value: str
    changed: bool
    advance: bool
    completes: bool


TapDecision = Refuse | Unchanged | Record | NoSession


def expired(status: Status, expires_at: datetime, now: datetime) -> bool:
    """The one expiry rule: an open check-in expires at its `expires_at` (that moment
    included). Storage applies it to the rows it reads; it never restates it in SQL."""
    return status is Status.EXPIRED or (status is Status.OPEN and now >= expires_at)


def live(status: Status, expires_at: datetime, now: datetime) -> bool:
    """Open and not expired: it still takes answers."""
    return status is Status.OPEN and not expired(status, expires_at, now)


def is_expired(state: CheckinState, now: datetime) -> bool:
    return expired(state.status, state.expires_at, now)


def decide_tap(
    q: Questionnaire,
    steps: tuple[Step, ...],
    state: CheckinState,
    step_index: int,
    value: str,
    *,
    simple: bool,
    now: datetime,
) -> TapDecision:
    """Decide what a tap on a check-in button does."""
    if not 0 <= step_index < len(steps):
        return Refuse(Refusal.INVALID)
    step = steps[step_index]
    no_session = value == NO_SESSION and step_index == 0
    if not no_session and value not in valid_values(q, step, simple=simple):
        return Refuse(Refusal.INVALID)
    if state.status is Status.COMPLETE:
        return Refuse(Refusal.FINISHED)
    if is_expired(state, now):
        return Refuse(Refusal.EXPIRED)
    if step_index > state.prompted_step:
        return Refuse(Refusal.NOT_YET_ASKED)
    if no_session:
        return NoSession()
    previous = state.answers.get(step.key)
    if previous == value:
        return Unchanged()
    advance = step_index == state.prompted_step
    completes = advance and step_index == len(steps) - 1
    return Record(step_index, value, previous is not None, advance, completes)


class TextOutcome(StrEnum):
    NO_CHECKIN = "no_checkin"
    BUTTON_EXPECTED = "button_expected"
    TOO_LONG = "too_long"
    STORE_NOTE = "store_note"


def decide_text(
    steps: tuple[Step, ...], state: CheckinState | None, text: str, *, limit: int, now: datetime
) -> TextOutcome:
    """Decide what typed text means at this point of the conversation."""
    if state is None or state.status is not Status.OPEN or is_expired(state, now):
        return TextOutcome.NO_CHECKIN
    if len(text) > limit:
        return TextOutcome.TOO_LONG
    if steps[state.prompted_step].kind is not StepKind.TEXT:
        return TextOutcome.BUTTON_EXPECTED
    return TextOutcome.STORE_NOTE


def normalised_score(value: str, points: int) -> float | None:
    """Map a scale answer to 0..1 so 3- and 5-point answers share one axis; None if withheld."""
    if value == RATHER_NOT_SAY:
        return None
    return (int(value) - 1) / (points - 1)
