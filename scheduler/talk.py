"""The therapist's prompt before a session: "J-103: band was laag na de vorige sessie.
Even bespreken?". One outbox row per session occurrence (planned 60 minutes before it
starts); at sending time the pure rule in core.loop decides whether there is anything to
say, and a row with nothing to say is closed without a message."""

from __future__ import annotations

from datetime import datetime

from conversations.services import Services
from core.channel import Outbound, Outcome, Text, counts_as_sent
from core.loop import (
    ALERT_MEMORY,
    CRISIS_MEMORY,
    LastCheckin,
    TalkReasons,
    talk_message,
    talk_reasons,
)
from core.questionnaire import Language
from core.records import OutboxItem
from scheduler.outcomes import Skip


def _series_id(occurrence_key: str) -> int | None:
    head = occurrence_key.split(":", 1)[0]
    return int(head[1:]) if head.startswith("s") and head[1:].isdigit() else None


async def reasons_for(services: Services, code: str, therapist_code: str,
                      now: datetime) -> TalkReasons | None:
    """Gather what the rule needs for one youth: the last check-in (its answers only when
    the youth shares them with the therapist), a crisis text in it, alerts not discussed."""
    store = services.store
    youth = await store.youth_by_code(code)
    last: LastCheckin | None = None
    if youth is not None and youth.pseudonym is not None:
        recent = await store.recent_checkins(youth.pseudonym, 1)
        if recent:
            checkin = recent[-1]
            points = services.questionnaire_of(checkin).scale(checkin.simple_mode).points
            last = LastCheckin(checkin.answers, points,
                               await store.crisis_in_checkin(checkin.id),
                               await store.has_consent(youth.pseudonym, "sharing"))
    alerts = await store.undiscussed_alerts(code, therapist_code, now - ALERT_MEMORY)
    kinds = [a.kind for a in alerts
             if a.reason is None or a.created_at >= now - CRISIS_MEMORY]
    return talk_reasons(code, last, kinds)


async def send(services: Services, channel: Outbound, item: OutboxItem, chat: int,
               lang: Language) -> Outcome | Skip:
    """Send the prompt for one session, listing each youth with a reason; or Skip."""
    assert item.therapist_code is not None
    series_id = _series_id(item.occurrence_key)
    series = next((s for s in await services.store.all_series() if s.id == series_id), None)
    if series is None:
        return Skip("series gone")
    now = services.clock()
    found = [r for code in series.youth_codes
             if (r := await reasons_for(services, code, item.therapist_code, now)) is not None]
    if not found:
        return Skip("nothing to discuss")
    start = item.expires_at.astimezone(services.zone).strftime("%H:%M")
    outcome = await channel.send(chat, Text(talk_message(lang, start, found)))
    if counts_as_sent(outcome):
        await services.audit("system", "send:talk", "",
                             f"{item.therapist_code} {item.occurrence_key} {len(found)}")
    return outcome
