"""Delivery of urgent (crisis) alerts: every recipient on a row of its own.

Each tick, for every urgent alert of the past week: add a row for whoever should have it
by now (core.crisis_route.recipients), send each due row and record its outcome on that
row alone, retry failures with backoff, and, once someone acknowledged, tell the others
who did (by role). One recipient who blocked the bot never stops the rest. An alert that
reached nobody is logged at ERROR, shown in the overviews, escalated to the coordinators
at once, and retried until someone acknowledges it. An alert the database refused when
it was raised (conversations.pending_alerts) is stored first, on every tick until it is.

A crash between a send and its record sends that one message again on restart: for an
urgent alert, twice is better than never.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from conversations import crisis
from conversations.sending import tell_coordinators
from conversations.services import Services
from conversations.staff import ack_buttons
from core.channel import (
    Ambiguous,
    Blocked,
    Failed,
    Outbound,
    Outcome,
    Rejected,
    RetryAt,
    Sent,
    Text,
)
from core.crisis_route import (
    DeliveryFact,
    Reach,
    Recipient,
    Route,
    reach,
    recipients,
    retry_delay,
)
from core.questionnaire import Language
from core.records import Alert, AlertDelivery
from core.texts import say
from scheduler.context import DeliveryContext

log = logging.getLogger(__name__)

LOOK_BACK = timedelta(days=7)


@dataclass(frozen=True)
class NoChat:
    """The recipient has no linked Telegram account (any more)."""

    reason: str


@dataclass(frozen=True)
class RowResult:
    """What becomes of one delivery row after a send: its state, reason and next try."""

    state: str            # sent, failed, blocked (core.crisis_route.DeliveryFact.state)
    reason: str | None
    retry_at: datetime | None


def after_send(outcome: Outcome | NoChat, now: datetime, attempts: int) -> RowResult:
    """A delivery row's next state. Unlike a check-in, an urgent alert that timed out is
    tried again: for a crisis, twice is better than never."""
    retry_at = now + retry_delay(attempts + 1)
    match outcome:
        case Sent():
            return RowResult("sent", None, None)
        case Blocked(reason) | Rejected(reason):   # retried only when nobody was reached
            return RowResult("blocked", reason, retry_at)
        case RetryAt(at, reason):
            return RowResult("failed", reason, at)
        case NoChat(reason) | Ambiguous(reason) | Failed(reason):
            return RowResult("failed", reason, retry_at)


@dataclass
class CrisisReport:
    sent: int = 0
    failed: int = 0
    unreached: int = 0


def coordinator_chats(services: Services, chats: tuple[int, ...]) -> dict[str, int]:
    """The configured coordinators by their short pseudonym: ids stay in the config."""
    return {crisis.coordinator_key(services.pseudonym(c)): c for c in chats}


async def store_held(services: Services) -> None:
    """Store the urgent alerts the database refused when they were raised
    (conversations.pending_alerts). Every process does this on every tick, leader or
    not: the alerts are held by the process that raised them, and only it can store them
    (the leader then delivers them; the same dedupe key makes a second store a no-op)."""
    if not services.pending_alerts:
        return
    try:
        await services.pending_alerts.flush(services.store)
    except Exception:  # never let the flush stop the rest of the tick
        log.exception("could not store the held urgent alerts; trying again next tick")


async def run(engine: DeliveryContext, channel: Outbound) -> CrisisReport:
    """Deliver every urgent alert of the past week; one alert never stops another."""
    services = engine.services
    report = CrisisReport()
    chats = coordinator_chats(services, engine.coordinator_chats)
    try:
        alerts = await services.store.urgent_alerts(services.clock() - LOOK_BACK)
    except Exception:
        log.exception("could not read the urgent alerts; trying again next tick")
        return report
    for alert in alerts:
        try:
            await _one_alert(services, channel, alert, chats, report)
        except Exception:  # isolate: the next alert must still go out
            log.exception("urgent alert for %s failed this tick; retried next tick",
                          alert.youth_code)
    return report


async def _route(services: Services, alert: Alert, chats: dict[str, int]) -> Route:
    """The route now, for the unit recorded on the alert (the unit at the time; the
    youth's unit now if none was known then)."""
    youth = await services.store.youth_by_code(alert.youth_code)
    current = await crisis.route_for(services, youth) if youth else None
    unit_code = alert.unit_code or (current.unit_code if current else None)
    unit = await services.store.unit(unit_code) if unit_code else None
    unit_linked = (unit is not None and unit.pseudonym is not None
                   and await services.store.contact(unit.pseudonym) is not None)
    return Route(alert.therapist_code, bool(current and current.therapist_linked),
                 unit_code, unit_linked, tuple(sorted(chats)))


def _facts(rows: list[AlertDelivery]) -> list[DeliveryFact]:
    return [DeliveryFact(d.recipient, d.state, d.attempts) for d in rows]


async def _one_alert(services: Services, channel: Outbound, alert: Alert,
                     chats: dict[str, int],
                     report: CrisisReport) -> None:
    store, now = services.store, services.clock()
    rows = await store.deliveries(alert.id)
    if alert.acked_at is not None:
        await _tell_ack(services, channel, alert, rows, chats)
        return
    route = await _route(services, alert, chats)
    wanted = recipients(route, escalate_at=alert.escalate_at or alert.created_at, now=now,
                        acked=False, tried=_facts(rows))
    if await store.add_deliveries(alert.id, [r.key for r in wanted], now):
        rows = await store.deliveries(alert.id)
    nobody = reach(_facts(rows)) is Reach.NOBODY
    for row in rows:
        retry = row.state in ("pending", "failed") or (row.state == "blocked" and nobody)
        if retry and row.due_at <= now:
            try:
                await _send(services, channel, alert, row, chats, report)
            except Exception:  # one bad row must not stop the other recipients
                log.exception("urgent alert for %s: a delivery row failed; going on",
                              alert.youth_code)
    rows = await store.deliveries(alert.id)
    # A recipient added after a send above (e.g. coordinators after every first-line
    # contact failed) is sent on the next tick: 'trying' until then.
    state = reach(_facts(rows))
    if state is Reach.NOBODY:
        report.unreached += 1
        if alert.nobody_since is None:
            await store.set_nobody(alert.id, now)
            why = "; ".join(f"{d.recipient.partition(':')[0]}: {d.last_error}" for d in rows
                            ) or "no recipient is linked"
            log.error("URGENT ALERT REACHED NOBODY: %s (unit %s): %s; retrying until "
                      "someone acknowledges", alert.youth_code, alert.unit_code or "-", why)
    elif state is Reach.REACHED and alert.nobody_since is not None:
        await store.set_nobody(alert.id, None)
        log.warning("urgent alert for %s has now reached someone", alert.youth_code)


async def _chat(services: Services, recipient: Recipient,
                chats: dict[str, int]) -> tuple[int, Language] | NoChat:
    store = services.store
    if recipient.role == "coordinator":
        if recipient.code not in chats:
            return NoChat("no longer a configured coordinator")
        return chats[recipient.code], services.coordinator_language
    if recipient.role == "therapist":
        pseudonym = await store.therapist_pseudonym(recipient.code)
        therapist = await store.therapist(recipient.code)
        lang: Language = therapist.language if therapist else "nl"
    else:
        unit = await store.unit(recipient.code)
        pseudonym = unit.pseudonym if unit else None
        lang = unit.language if unit else "nl"
    sealed = await store.contact(pseudonym) if pseudonym else None
    if sealed is None:
        return NoChat(f"{recipient.role} {recipient.code} has no linked Telegram account")
    return services.cipher.open(sealed), lang


async def _send(services: Services, channel: Outbound, alert: Alert, row: AlertDelivery,
                chats: dict[str, int], report: CrisisReport) -> None:
    store, now = services.store, services.clock()
    recipient = Recipient.parse(row.recipient)
    found = await _chat(services, recipient, chats)
    if isinstance(found, NoChat):
        outcome: Outcome | NoChat = found
    else:
        chat, lang = found
        outcome = await channel.send(chat, Text(
            crisis.urgent_text(services, alert, recipient.role, lang), ack_buttons(alert, lang)))
    result = after_send(outcome, now, row.attempts)
    if result.state == "sent":
        await store.delivery_sent(row.id, now)
        report.sent += 1
        return
    assert result.reason is not None and result.retry_at is not None
    await store.delivery_failed(row.id, result.state, result.reason, result.retry_at, now)
    report.failed += 1
    log.warning("urgent alert for %s not delivered to the %s; retrying",
                alert.youth_code, recipient.role)


async def _tell_ack(services: Services, channel: Outbound, alert: Alert,
                    rows: list[AlertDelivery], chats: dict[str, int]) -> None:
    """Tell every recipient who got the alert that it was taken up, and by whom (role)."""
    store, now = services.store, services.clock()
    since = alert.created_at.astimezone(services.zone).strftime("%d/%m %H:%M")
    when = (alert.acked_at or now).astimezone(services.zone).strftime("%H:%M")
    for row in rows:
        if row.state != "sent" or row.ack_told_at is not None or row.recipient == alert.acked_by:
            continue
        found = await _chat(services, Recipient.parse(row.recipient), chats)
        if not isinstance(found, NoChat):
            chat, lang = found
            told = await channel.send(chat, Text(say(
                lang, "acked_notice", code=alert.youth_code, since=since, when=when,
                role=crisis.role_label(alert.acked_by, lang))))
            if isinstance(told, Ambiguous | RetryAt | Failed):
                continue    # next tick
        # Told, or nothing more to tell them (no chat, blocked, refused).
        await store.ack_told(row.id, now)


async def check_routes_at_start(engine: DeliveryContext, channel: Outbound) -> int:
    """At start-up: every route problem logged at ERROR and told to the coordinators.

    The bot still starts: refusing would silence every check-in and every alert that
    does have a route. `check-config` is where a missing route is refused."""
    services = engine.services
    try:
        result = await crisis.route_check(services, len(engine.coordinator_chats))
    except Exception:  # the check must never keep the bot from starting
        log.exception("could not check the crisis routes")
        return 0
    for problem in result.problems:
        log.error("crisis route: %s", problem)
        await tell_coordinators(channel, engine.coordinator_chats,
                                say(services.coordinator_language, "route_problem",
                                    problem=problem))
    for warning in result.warnings:
        log.warning("crisis route: %s", warning)
    return len(result.problems)
