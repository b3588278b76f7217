"""Several bot processes on one database: the decisions, as data.

Behind a load balancer every process takes webhook updates and sends due messages; an
update must be handled once, and the periodic work (planning, reports, retention, alert
escalation) must run in one process only. The storage decides who holds what (a claim
with an owner and a lease; an advisory lock); what a process does about it is decided
here, by pure functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

# How long a claim holds. A row in `sending` belongs to its claimer this long: far longer
# than a send with its retries takes. A webhook update this long: far longer than
# handling one takes (a few sends at most); within it only a holder known dead is taken
# over from (storage.owners), after it anyone may.
SENDING_LEASE = timedelta(minutes=10)
UPDATE_LEASE = timedelta(minutes=2)


class UpdateState(Enum):
    CLAIMED = "claimed"    # this process holds it now: handle it
    DONE = "done"          # handled before (by any process): acknowledge only
    BUSY = "busy"          # another claim holds it and its lease runs


@dataclass(frozen=True)
class UpdateClaim:
    """What claiming an update id gave: its state, and who holds it when BUSY."""

    state: UpdateState
    owner: str | None = None


class UpdateAction(Enum):
    HANDLE = "handle"          # run the handlers, mark it done, answer 200
    ACKNOWLEDGE = "ack"        # answer 200 without handling: it was handled
    TAKE_OVER = "take over"    # its holder died mid-way: claim it from them, then handle
    RETRY_LATER = "retry"      # answer 503: Telegram tries again (by then it is done)


# Telegram keeps an undelivered update for 24 hours; a done id older than that can never
# come again, so it is forgotten (and ids restart at random after a quiet week).
UPDATE_MEMORY = timedelta(days=2)
RETRY_STATUS = 503     # not 2xx: Telegram (and the fake) push the update again later


def on_update(claim: UpdateClaim, holder_dead: bool) -> UpdateAction:
    """What a process does with a webhook update after trying to claim it.

    A BUSY update whose holder is known dead (a killed process on this host) is taken
    over at once; a live holder (or one on another host, which cannot be told dead
    before its lease ends) is left alone: the sender retries, and then finds it DONE
    or its lease run out.
    """
    if claim.state is UpdateState.CLAIMED:
        return UpdateAction.HANDLE
    if claim.state is UpdateState.DONE:
        return UpdateAction.ACKNOWLEDGE
    return UpdateAction.TAKE_OVER if holder_dead and claim.owner else UpdateAction.RETRY_LATER


def status_for(action: UpdateAction) -> int:
    """The webhook's HTTP answer once `action` is done."""
    return RETRY_STATUS if action is UpdateAction.RETRY_LATER else 200


class LeaderNews(Enum):
    TOOK_LEAD = "took the lead"
    LOST_LEAD = "lost the lead"


def leader_news(was: bool, now: bool) -> LeaderNews | None:
    """What to log when a tick's leadership differs from the last one's (None: same)."""
    if now and not was:
        return LeaderNews.TOOK_LEAD
    if was and not now:
        return LeaderNews.LOST_LEAD
    return None


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock named `name` (PostgreSQL keys are
    bigint): the same in every process and every release, unlike Python's hash()."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
