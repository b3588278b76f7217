"""The youth's side of a due row: the check-in and its reminder, sent through the channel.

The one place where a dispatched check-in looks the youth up and passes the consent
gate, for the engine and for a coordinator's `send-checkin --now` alike. Every result
is data: an Outcome of the channel, or Hold / Skip (scheduler.outcomes).
"""

from __future__ import annotations

from datetime import datetime

from conversations import consent, kiosk_staff, sending, usecases
from conversations.actions import SendPrompt
from conversations.kiosk_channel import KioskChannel
from conversations.services import Services
from core.channel import UNKNOWN_REF, Outbound, Outcome, Sent, Text, counts_as_sent
from core.consent import CheckinGate
from core.kiosk import Channel
from core.questionnaire import Discipline
from core.records import Youth
from scheduler.outcomes import Hold, Skip

# The first question of this session was delivered before (a restart, or a coordinator
# who asked too): asking twice is never right, and the row is done.
ASKED_BEFORE = Sent(UNKNOWN_REF)


async def _consent_first(services: Services, channel: Outbound,
                         youth: Youth) -> Outcome | Hold | None:
    """Put newer consent texts to the youth before a check-in; None when it may go on."""
    before = await consent.before_checkin(services, youth)
    assert youth.pseudonym is not None
    sealed = await services.store.contact(youth.pseudonym)
    if before.asks and sealed is not None:
        chat = services.cipher.open(sealed)
        for reply, scope in zip(before.asks, before.scopes, strict=True):
            outcome = await channel.send(chat, Text(reply.text, reply.buttons))
            if not counts_as_sent(outcome):
                return outcome
            await consent.asked(services, youth, scope)
    if before.gate is CheckinGate.HOLD:
        return Hold("waiting for the youth to answer the new text about taking part")
    return None


async def _channel_of(services: Services, code: str) -> Channel:
    youth = await services.store.youth_by_code(code)
    return Channel.TELEGRAM if youth is None else await kiosk_staff.channel_of(services, youth)


async def send_checkin(services: Services, channel: Outbound, code: str, occurrence_key: str,
                       discipline: Discipline | None, expires_at: datetime,
                       session_end: datetime | None = None, *,
                       by_phone_now: bool = True) -> Outcome | Hold | Skip:
    """Open the session's check-in and deliver it by the youth's channel: its first
    question in Telegram (newer consent texts first), a code on the kiosk, or both.

    With both, the row counts as delivered when either way did: the youth can answer.
    `by_phone_now` False (outside the youth's phone hours, core.delivery.phone_hours):
    a youth on both gets the kiosk code only, now, rather than a code held to phone
    time; the Telegram reminder follows in the next phone window before expiry."""
    route = await _channel_of(services, code)
    if route is Channel.KIOSK or (route is Channel.BOTH and not by_phone_now):
        return await _offer_on_kiosk(services, channel, code, occurrence_key, discipline,
                                     expires_at, session_end, record=True)
    by_telegram = await _send_by_telegram(services, channel, code, occurrence_key,
                                          discipline, expires_at, session_end)
    if route is Channel.TELEGRAM:
        return by_telegram
    by_kiosk = await _offer_on_kiosk(services, channel, code, occurrence_key, discipline,
                                     expires_at, session_end, record=False)
    if isinstance(by_telegram, Hold | Skip) or not counts_as_sent(by_telegram):
        return by_kiosk if isinstance(by_kiosk, Sent) else by_telegram
    return by_telegram


async def _offer_on_kiosk(services: Services, channel: Outbound, code: str,
                          occurrence_key: str, discipline: Discipline | None,
                          expires_at: datetime, session_end: datetime | None,
                          record: bool) -> Outcome | Skip:
    """The session's check-in as a code for the therapist (the kiosk adapter of the
    port). `record`: the code stands for the first question (kiosk only); with both
    channels the Telegram message does, and keeps its id for later edits."""
    try:
        youth = await kiosk_staff.ready_for_kiosk(services, code)
        checkin = await kiosk_staff.open_for_kiosk(services, youth, occurrence_key, discipline,
                                             expires_at, session_end)
    except usecases.CheckinNotPossible as exc:
        return Skip(str(exc))
    if checkin is None:
        return ASKED_BEFORE
    on_kiosk = KioskChannel(services, staff=channel)
    if not record:
        return await on_kiosk.send(checkin.id, Text(""))
    return await sending.send_prompt(services, on_kiosk, checkin.id,
                                     SendPrompt(checkin.id, 0, "", ()))


async def _send_by_telegram(services: Services, channel: Outbound, code: str,
                            occurrence_key: str, discipline: Discipline | None,
                            expires_at: datetime,
                            session_end: datetime | None) -> Outcome | Hold | Skip:
    try:
        youth = await usecases.ready_for_checkin(services, code)
    except usecases.CheckinNotPossible as exc:
        return Skip(str(exc))
    held = await _consent_first(services, channel, youth)
    if held is not None:
        return held
    try:
        outgoing = await usecases.start_checkin(services, code, occurrence_key, discipline,
                                                expires_at, session_end)
    except usecases.CheckinNotPossible as exc:
        return Skip(str(exc))
    if outgoing is None:
        return ASKED_BEFORE
    return await sending.send_prompt(services, channel, outgoing.chat_id, outgoing.prompt)


async def send_reminder(services: Services, channel: Outbound, code: str,
                        occurrence_key: str) -> Outcome | Skip:
    """The current question again, with a nudge; Skip when the check-in is over, or
    when the youth answers on the kiosk only (the therapist has the code with them)."""
    if await _channel_of(services, code) is Channel.KIOSK:
        return Skip("answers on the kiosk: no reminder")
    outgoing = await usecases.reminder(services, code, occurrence_key)
    if outgoing is None:
        return Skip("check-in complete or closed")
    return await sending.send_prompt(services, channel, outgoing.chat_id, outgoing.prompt)
