"""A check-in a coordinator asks for outside the schedule (`python -m bot send-checkin`).

It goes through the outbox like a scheduled one, so the running bot sends it, the
quiet hours and phone hours hold it until the youth may be messaged, and the
therapist's report and the overview count it like any other session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from conversations.services import Services
from conversations.usecases import CheckinNotPossible, ready_for_checkin
from core.channel import Outbound
from core.delivery import Kind, Planned, next_allowed
from core.questionnaire import Discipline
from core.records import OutboxState, PlannedRow
from scheduler.checkins import send_checkin
from scheduler.outcomes import Finish, record, settle
from scheduler.planner import DeliveryRules, reachability

CLAIM_SEARCH = 10_000  # due rows searched for the one just queued


@dataclass(frozen=True)
class Queued:
    """Where a manual check-in went: due now or held until `due_at`."""

    due_at: datetime
    held: bool   # due later than now: quiet hours or outside the youth's phone hours
    new: bool    # False: this session's check-in was queued (or sent) already


async def queue_checkin(
    services: Services, code: str, occurrence_key: str, discipline: Discipline | None,
    rules: DeliveryRules, *, now_anyway: bool = False,
) -> Queued:
    """Queue the check-in, due at the next moment the youth may be messaged.

    `now_anyway` (the coordinator's explicit --now) makes it due at once, whatever the
    hour; the caller then sends it itself, because the engine keeps to quiet hours.
    """
    await ready_for_checkin(services, code)
    now = services.clock()
    allowed = next_allowed(now, (await reachability(services.store, code, rules, now)).checkin)
    due = now if now_anyway else allowed
    row = PlannedRow(Planned(f"{Kind.CHECKIN.value}:{occurrence_key}:{code}", Kind.CHECKIN,
                             code, occurrence_key, due, due + services.checkin_ttl, False),
                     None, discipline, now)
    added = await services.store.upsert_planned([row], now)
    return Queued(due, allowed > now, added > 0)


async def send_queued_now(services: Services, channel: Outbound, code: str,
                          occurrence_key: str, discipline: Discipline | None) -> bool:
    """Send a queued check-in from here, at once (--now); False if the bot took it first
    or it waits (a newer consent text first, or the channel asked to retry later).

    The row is claimed like the engine claims it, so the two never both send it, and its
    outcome is settled as the engine settles it (scheduler.outcomes.settle). A row that
    was closed without a question raises CheckinNotPossible with the reason.
    """
    now = services.clock()
    rows = [r for r in await services.store.due_items(now, CLAIM_SEARCH)
            if r.kind is Kind.CHECKIN and r.youth_code == code
            and r.occurrence_key == occurrence_key]
    if not rows or not await services.store.claim(rows[0].id, now):
        return False
    item = rows[0]
    result = await send_checkin(services, channel, code, occurrence_key, discipline,
                                item.expires_at)
    now = services.clock()
    update = settle(result, item.kind, item.attempts, now)
    await record(services.store, item.id, update, now)
    if not isinstance(update, Finish):
        return False
    if update.state is not OutboxState.SENT:
        raise CheckinNotPossible(update.reason or update.state.value)
    return True
