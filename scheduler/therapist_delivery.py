"""Delivery of the therapist's messages: session ratings, weekly reports, alerts and their
escalation; and the scan that raises rupture and missed-session alerts."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from conversations import sending, staff
from conversations.reporting import caseload
from core.analytics import (
    ALERTING,
    ANSWERED_STATES,
    COUNTED,
    detect_ruptures,
    missed_in_a_row,
)
from core.channel import UNKNOWN_REF, Image, Outbound, Outcome, Sent, Text, counts_as_sent
from core.delivery import Kind, next_working_moment, report_due
from core.flags import flags
from core.questionnaire import Language
from core.records import NewAlert, NewOutbox, OutboxItem, OutboxState, Therapist
from core.texts import say
from reports.weekly import week_label
from scheduler import reports_ahead, talk
from scheduler.context import DeliveryContext
from scheduler.outcomes import Skip, failure_reason

REPORT_OPEN = timedelta(hours=36)
# The notice went to every coordinator who could be reached (sending.tell_coordinators).
TOLD = Sent(UNKNOWN_REF)
log = logging.getLogger(__name__)


async def _therapist_chat(engine: DeliveryContext, code: str) -> tuple[int, Language] | Skip:
    store = engine.services.store
    pseudonym = await store.therapist_pseudonym(code)
    sealed = await store.contact(pseudonym) if pseudonym else None
    therapist = await store.therapist(code)
    if sealed is None or therapist is None:
        return Skip(f"therapist {code} has not linked Telegram yet")
    return engine.services.cipher.open(sealed), therapist.language


async def deliver(engine: DeliveryContext, channel: Outbound,
                  item: OutboxItem) -> Outcome | Skip:
    """Send one therapist-side message; Skip when there is nothing to send."""
    services = engine.services
    if item.kind is Kind.ESCALATION:
        alert = await services.store.alert_by_ref(item.ref or "")
        if alert is None or alert.acked_at is not None:
            return Skip("acknowledged")
        # Rows from before the per-recipient crisis route (scheduler/crisis_delivery.py).
        since = alert.created_at.astimezone(engine.rules_zone).strftime("%d/%m %H:%M")
        await sending.tell_coordinators(channel, engine.coordinator_chats, say(
            services.coordinator_language, "escalation", code=alert.youth_code,
            kind=alert.kind, since=since, unit=""))
        return TOLD
    assert item.therapist_code is not None
    found = await _therapist_chat(engine, item.therapist_code)
    if isinstance(found, Skip):
        return found
    chat, lang = found
    if item.kind is Kind.RATING:
        return await _rating(engine, channel, item, chat, lang)
    if item.kind is Kind.ALERT:
        alert = await services.store.alert_by_ref(item.ref or "")
        if alert is None:
            return Skip("alert gone")
        return await channel.send(chat, Text(staff.alert_text(services, alert, lang),
                                             staff.ack_buttons(alert, lang)))
    if item.kind is Kind.TALK:
        return await talk.send(services, channel, item, chat, lang)
    if item.kind is Kind.REPORT:
        return await _report(engine, channel, item, chat, lang)
    return Skip(f"not a therapist's message: {item.kind.value}")


async def _rating(engine: DeliveryContext, channel: Outbound, item: OutboxItem, chat: int,
                  lang: Language) -> Outcome:
    services = engine.services
    assert item.ref is not None
    text, buttons, covered = await staff.rating_message(services, item, lang)
    outcome = await channel.send(chat, Text(text, buttons))
    if counts_as_sent(outcome):
        now = services.clock()
        mine = {c.id for c in engine.claimed}   # claimed with this row, not yet sent
        for other in covered:   # a group session: one message stands for every youth's row
            if other.id != item.id and (other.state is OutboxState.PENDING
                                        or other.id in mine):
                await services.store.finish(other.id, OutboxState.SENT, now,
                                            "in the group message")
    return outcome


async def _report(engine: DeliveryContext, channel: Outbound, item: OutboxItem, chat: int,
                  lang: Language) -> Outcome:
    """The weekly images, the caption on the first; stops at the first that is not sent."""
    services = engine.services
    assert item.therapist_code is not None
    label = item.occurrence_key.rsplit(":", 1)[-1]
    report = await reports_ahead.weekly(engine, item, lang)  # others drawn alongside
    outcome: Outcome = TOLD
    for n, image in enumerate(report.images):
        outcome = await channel.send(chat, Image(image.png,
                                                 report.caption if n == 0 else None))
        if not isinstance(outcome, Sent):
            return outcome
    await services.audit("system", "send:report", "", f"{item.therapist_code} {label}")
    return outcome


async def plan_reports(engine: DeliveryContext) -> int:
    """One weekly report per therapist per week, keyed by therapist and ISO week."""
    services = engine.services
    now = services.clock()
    rows = []
    for therapist in await services.store.all_therapists():
        due = report_due(now, services.timezone, engine.report_weekday, engine.report_time)
        label = week_label(due, services.timezone)
        key = f"report:{therapist.code}:{label}"
        rows.append(NewOutbox(key, Kind.REPORT, key, due, due, due + REPORT_OPEN,
                              therapist_code=therapist.code))
    return await services.store.add_outbox(rows, now) if rows else 0


async def scan_for_alerts(engine: DeliveryContext) -> int:
    """Raise same-working-day alerts: a strict rupture, or too many missed in a row."""
    raised = 0
    for therapist in await engine.services.store.all_therapists():
        try:  # one caseload that cannot be read must not stop the others' alerts
            raised += await _scan_caseload(engine, therapist)
        except Exception as exc:
            log.error("alert scan for %s failed: %s", therapist.code, failure_reason(exc))
    return raised


async def _scan_caseload(engine: DeliveryContext, therapist: Therapist) -> int:
    """The alerts of one therapist's caseload: this therapist's sessions only.

    A breuk or a floor (any dimension at the lowest answer) at the youth's newest answered
    session raises one alert for that session, naming every dimension that fired; a
    missed streak of config alerts.missed_in_a_row (the caption and /overview use the
    same number) raises one per streak. Keys carry the therapist, so a youth's two
    therapies never share or suppress each other's alerts.
    """
    services = engine.services
    store, now = services.store, services.clock()
    raised = 0
    points_by_youth = (await caseload(store, therapist.code, now)).points
    lang = therapist.language
    for code, points in points_by_youth.items():
        due = next_working_moment(now, services.timezone)
        answered = [i for i, p in enumerate(points) if p.state in ANSWERED_STATES
                    and any(v is not None for v in p.youth.values())]
        newest = [r for r in detect_ruptures(points)
                  if answered and r.index == answered[-1] and r.rule in ALERTING]
        if newest:
            when = points[newest[0].index].when.isoformat()
            detail = " ".join(f.what for f in flags(newest, 0, False, {}, lang,
                                                    services.missed_alert_after))
            raised += await store.add_alert(NewAlert(
                secrets.token_urlsafe(12), f"rupture:{code}:{therapist.code}:{when}",
                "rupture", code, therapist.code, detail, due, None), now)
        streak = missed_in_a_row(points)
        if streak >= services.missed_alert_after:
            closed = [p for p in points if p.state in COUNTED]
            first = closed[-streak]
            detail = say(lang, "missed_detail", n=streak)
            raised += await store.add_alert(NewAlert(
                secrets.token_urlsafe(12),
                f"missed:{code}:{therapist.code}:{first.when.isoformat()}",
                "missed", code, therapist.code, detail, due, None), now)
    return raised
