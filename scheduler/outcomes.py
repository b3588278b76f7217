"""What becomes of an outbox row, decided as data: shared by the engine and its helpers.

A row's message is looked at by a helper that returns what happened (a channel Outcome)
or why nothing was sent (Hold, Skip); `settle` turns that into the row's next state, and
the engine only applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from core.channel import Blocked, Failed, Outcome, RetryAt, Sent, counts_as_sent, why
from core.delivery import Kind
from core.identity import InvalidToken
from core.records import OutboxState
from storage.ports import OutboxRepo

CONSENT_HOLD_RETRY = timedelta(minutes=1)


@dataclass(frozen=True)
class Skip:
    """Nothing to send any more (e.g. the check-in was completed); the row is closed."""

    reason: str


@dataclass(frozen=True)
class Hold:
    """Not yet: try again shortly (the youth has a newer consent text to answer first)."""

    reason: str


Tally = Literal["sent", "waiting", "retrying", "blocked", "cancelled", "failed"]


@dataclass(frozen=True)
class Finish:
    """Close the row in `state`, with `reason`; count it under `tally` (None: uncounted)."""

    state: OutboxState
    reason: str | None
    tally: Tally | None


@dataclass(frozen=True)
class Later:
    """Leave the row pending until `at`, with `reason`."""

    at: datetime
    reason: str
    tally: Tally


RowUpdate = Finish | Later


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 30 minutes."""
    delay = timedelta(seconds=30 * (1 << min(max(attempts - 1, 0), 10)))
    return min(delay, timedelta(minutes=30))


def settle(result: Outcome | Hold | Skip, kind: Kind, attempts: int,
           now: datetime) -> RowUpdate:
    """The row's next state after its send (or its reason not to send)."""
    if isinstance(result, Hold):
        return Later(now + CONSENT_HOLD_RETRY, result.reason, "waiting")
    if isinstance(result, Skip):
        return Finish(OutboxState.CANCELLED, result.reason, "cancelled")
    if counts_as_sent(result):    # a timeout too: its reason is kept on the row
        return Finish(OutboxState.SENT, None if isinstance(result, Sent) else why(result),
                      "sent")
    if isinstance(result, Blocked):
        who = "the youth blocked the bot" if kind.to_youth else "blocked the bot"
        return Finish(OutboxState.BLOCKED, who, "blocked")
    if isinstance(result, RetryAt):
        return Later(result.at, result.reason, "retrying")
    if isinstance(result, Failed):
        return Later(now + backoff(attempts + 1), result.reason, "retrying")
    return Finish(OutboxState.FAILED, why(result), None)   # rejected: it will never go


async def record(store: OutboxRepo, item_id: int, update: RowUpdate, now: datetime) -> None:
    """Apply a row's next state: the thin shell around `settle`."""
    if isinstance(update, Finish):
        await store.finish(item_id, update.state, now, update.reason)
    else:
        await store.retry_later(item_id, update.at, update.reason, now)


def failure_reason(exc: BaseException) -> str:
    """The reason stored with a row that raised: short, and free of Telegram ids."""
    if isinstance(exc, InvalidToken):
        return "the contact cannot be opened with the configured contact key"
    detail = str(exc)
    return f"{type(exc).__name__}: {detail}"[:300] if detail else type(exc).__name__
