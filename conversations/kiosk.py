"""The kiosk's use cases, free of the web: a youth's channel setting, the one-time codes,
and the check-in on a tablet, on the same core as Telegram (core.flow for the answers,
the same consent records, conversations.crisis for a crisis text).

A tablet knows no person: it knows a code. Entering a live code opens a short kiosk
session (a random token in a cookie) on that one check-in and that one tablet; every
call below is keyed on that session and the tablet's device token (`device`: the
session opens nothing on another tablet), resolved here to the enrolled youth. What a
page shows is returned as a Screen (data); the web edge only draws it.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from conversations import consent, crisis, usecases
from conversations.services import Services
from core import flow
from core.consent import Scope, ScopeState
from core.crisis_route import unit_of
from core.identity import token_digest
from core.kiosk import (
    CODE_DIGITS,
    CODE_VALID,
    KIOSK_PREFIX,
    Accept,
    Channel,
    ChannelFacts,
    Refusal,
    code_digest,
    consent_to_ask,
    current_channel,
    decide_entry,
    idle_over,
    kiosk_may_offer,
    may_be_under_16,
    normalise_code,
    parse_channel,
    shown_code,
)
from core.loop import thanks_key
from core.prompts import question_text
from core.questionnaire import RATHER_NOT_SAY, Discipline, Language
from core.records import AnswerWrite, ChannelChange, Checkin, KioskSession, NewKioskCode, Youth
from core.texts import say

log = logging.getLogger(__name__)

# -- the channel setting ------------------------------------------------------------------

async def channel_of(services: Services, youth: Youth) -> Channel:
    """The youth's channel: the coordinator's newest choice, or the default while they
    made none; the planner's rule (core.kiosk.current_channel) on the same stored facts."""
    facts = (await services.store.channel_facts([youth.code])).get(youth.code)
    today = services.clock().astimezone(services.zone).date()
    if facts is None:   # erased between the lookup and now: the default of a stranger
        facts = ChannelFacts(None, youth.birth_year, telegram_linked=False,
                             on_kiosk_before=False)
    return current_channel(facts, today)


class ChannelRefused(Exception):
    """The channel cannot be set; the message says why, for the coordinator."""


@dataclass(frozen=True)
class ChannelSet:
    before: Channel
    after: Channel
    notes: tuple[str, ...]   # what the coordinator should know (English, for staff)

    @property
    def changed(self) -> bool:
        return self.before is not self.after


async def set_channel(services: Services, code: str, typed: str, actor: str) -> ChannelSet:
    """A coordinator sets where the youth answers. Every change is a row of its own and
    an audit entry; the answers given so far stay theirs whatever the channel."""
    youth = await services.store.youth_by_code(code)
    if youth is None or await services.store.is_erased(code):
        raise ChannelRefused(f"unknown youth code {code}")
    channel = parse_channel(typed)
    if channel is None:
        raise ChannelRefused(f"{typed!r} is not a channel: use telegram, kiosk or both")
    before = await channel_of(services, youth)
    notes: list[str] = []
    today = services.clock().astimezone(services.zone).date()
    if channel.by_telegram and may_be_under_16(youth.birth_year, today):
        notes.append(f"{code} may be under 16 (born {youth.birth_year}); Telegram's terms "
                     "ask for 16 in the EU")
    if channel.by_telegram and (youth.pseudonym is None
                                or await services.store.contact(youth.pseudonym) is None):
        notes.append(f"{code} has no linked Telegram account: give them an invite link "
                     f"(invite --code {code}); until then the check-in reaches them "
                     + ("on the kiosk" if channel.by_kiosk else "nowhere"))
    if channel is before:
        return ChannelSet(before, channel, tuple(notes))
    await services.store.add_channel_change(
        code, ChannelChange(channel, services.clock(), actor, f"was {before.value}"))
    await services.audit(actor, "channel", code, f"{before.value} -> {channel.value}")
    if channel.by_kiosk:
        await kiosk_identity(services, youth)
    return ChannelSet(before, channel, tuple(notes))


async def kiosk_identity(services: Services, youth: Youth) -> Youth:
    """A youth who never linked Telegram gets a random pseudonym, so their check-ins,
    consents and history hang on it as on a Telegram pseudonym. Random tokens are
    pseudonyms nobody can recompute; linking Telegram later moves everything to the
    Telegram pseudonym (storage: bind_youth), so nothing is lost either way."""
    if youth.pseudonym is not None:
        return youth
    await services.store.set_youth_pseudonym(youth.code,
                                             f"{KIOSK_PREFIX}{secrets.token_hex(24)}")
    found = await services.store.youth_by_code(youth.code)
    assert found is not None
    return found


# -- the check-in as a code ---------------------------------------------------------------

async def ready_for_kiosk(services: Services, code: str) -> Youth:
    """The youth, if a kiosk code may be made for their session; otherwise raise
    usecases.CheckinNotPossible with the reason. Consent is asked on the tablet the first
    time, so only a "no" (or a withdrawal) stops it."""
    youth = await services.store.youth_by_code(code)
    if youth is None:
        raise usecases.CheckinNotPossible(f"unknown youth code {code}")
    if youth.paused:
        raise usecases.CheckinNotPossible(f"{code} paused messages with /stop")
    youth = await kiosk_identity(services, youth)
    assert youth.pseudonym is not None
    states = await consent.states_of(services, youth.pseudonym)
    if not kiosk_may_offer(states["participation"]):
        raise usecases.CheckinNotPossible(
            f"{code} does not take part (consent declined or withdrawn)")
    return youth


async def open_for_kiosk(services: Services, youth: Youth, occurrence_key: str,
                         discipline: Discipline | None, expires_at: datetime,
                         session_end: datetime | None) -> Checkin | None:
    """The session's check-in (the same one Telegram would ask), or None when a code was
    made for it before: offering twice for one session is never right."""
    checkin = await usecases.session_checkin(services, youth, occurrence_key, discipline,
                                             expires_at, session_end)
    if await services.store.kiosk_codes_of_checkin(checkin.id):
        return None
    return checkin


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str
    youth_code: str
    therapist_code: str
    expires_at: datetime


async def issue_code(services: Services, checkin_id: int) -> IssuedCode | None:
    """A new code for a check-in (an earlier live one ends); None when the check-in is
    gone, over, or its youth unknown."""
    checkin = await services.store.checkin_by_id(checkin_id)
    if checkin is None:
        return None
    youth = await services.store.youth_by_pseudonym(checkin.youth_pseudonym)
    now = services.clock()
    if youth is None or checkin.status is not flow.Status.OPEN or checkin.expires_at <= now:
        return None
    unit = unit_of(await services.store.youth_unit(youth.code), services.default_unit)
    expires = min(now + CODE_VALID, checkin.expires_at)
    for _ in range(50):    # a clash with a live code of the unit is rare: draw again
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        code_id = await services.store.add_kiosk_code(NewKioskCode(
            code_digest(services.pseudonym_key, code), services.cipher.seal_text(code),
            checkin.id, youth.code, youth.therapist_code, unit, now, expires))
        if code_id is not None:
            await services.audit("kiosk", "code-issued", youth.code, checkin.occurrence_key)
            return IssuedCode(code_id, code, youth.code, youth.therapist_code, expires)
    raise RuntimeError("no free kiosk code after 50 draws")


def code_notice(services: Services, issued: IssuedCode, lang: Language) -> str:
    """The therapist's message: which youth, the code, until when (codes only, no names)."""
    until = issued.expires_at.astimezone(services.zone).strftime("%H:%M")
    return say(lang, "kiosk.therapist_code", code=issued.youth_code,
               kiosk_code=shown_code(issued.code), until=until)


@dataclass(frozen=True)
class LiveCode:
    youth_code: str
    code: str          # as shown: "482 193"
    expires_at: datetime


async def live_codes(services: Services, therapist_code: str | None) -> list[LiveCode]:
    """The codes a therapist can still give (for the console); spent ones are forgotten."""
    now = services.clock()
    await services.store.drop_spent_kiosk_codes(now)
    found = []
    for code in await services.store.live_kiosk_codes(therapist_code, now):
        if code.code_enc is not None:
            found.append(LiveCode(code.youth_code,
                                  shown_code(services.cipher.open_text(code.code_enc)),
                                  code.state.expires_at))
    return found


# -- the tablet -----------------------------------------------------------------------------

async def register_device(services: Services, unit_code: str, label: str,
                          actor: str) -> str:
    """Register a tablet for a unit; return the device token for its cookie (only its
    digest is stored)."""
    if await services.store.unit(unit_code) is None:
        raise ChannelRefused(f"unknown unit {unit_code}")
    token = secrets.token_urlsafe(32)
    device_id = await services.store.add_kiosk_device(token_digest(token), unit_code, label,
                                                      actor, services.clock())
    await services.audit(actor, "kiosk-device", "", f"tablet {device_id} for unit {unit_code}")
    return token


@dataclass(frozen=True)
class Entered:
    """The code was right: the session token for the page's cookie."""

    session_token: str


@dataclass(frozen=True)
class Refused:
    reason: Refusal


async def enter_code(services: Services, device_token: str | None,
                     typed: str) -> Entered | Refused:
    """A code typed on a tablet: open its check-in, or refuse and count a wrong try."""
    store, now = services.store, services.clock()
    device = await store.kiosk_device(token_digest(device_token)) if device_token else None
    normal = normalise_code(typed)
    found = None
    if device is not None and normal is not None:
        found = await store.kiosk_code_by_digest(
            code_digest(services.pseudonym_key, normal), device.unit_code)
    decision = decide_entry(device.state if device else None, typed,
                            found.state if found else None, now)
    if not isinstance(decision, Accept):
        if decision.counts and device is not None:
            await store.kiosk_wrong_try(device.id, decision.device_failures,
                                        decision.locks_device, device.unit_code, now)
            if decision.locks_device:
                log.warning("kiosk tablet %d (unit %s) locked after wrong codes", device.id,
                            device.unit_code)
                await services.audit("kiosk", "tablet-locked", "",
                                     f"tablet {device.id}, unit {device.unit_code}")
        return Refused(decision.reason)
    assert device is not None and found is not None
    token = secrets.token_urlsafe(32)
    if not await store.open_kiosk_session(token_digest(token), found.id, device.id, now):
        return Refused(Refusal.USED)   # another tablet was a moment earlier
    await services.audit("kiosk", "code-used", found.youth_code, f"tablet {device.id}")
    return Entered(token)


# -- what the page shows ----------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    value: str
    emoji: str
    words: str
    chosen: bool = False


@dataclass(frozen=True)
class Question:
    step: int
    total: int
    text: str
    options: tuple[Option, ...]
    is_note: bool = False
    notice: str = ""          # e.g. "too long" after a note that was


@dataclass(frozen=True)
class ConsentScreen:
    scope: Scope
    number: int
    body: str
    agree: str
    decline: str


@dataclass(frozen=True)
class Finished:
    """The end: `key` is the catalogue key of `text` (the page shows it once more after
    the session ended, by key: nothing about the youth is kept for it)."""

    text: str
    key: str


@dataclass(frozen=True)
class CrisisScreen:
    text: str


@dataclass(frozen=True)
class Ended:
    """No session (never, finished, wiped after 90 s): the page shows the code screen."""


Screen = Question | ConsentScreen | Finished | CrisisScreen | Ended


@dataclass(frozen=True)
class _Open:
    token_digest: str
    session: KioskSession
    youth: Youth
    checkin: Checkin


async def _resolve(services: Services, device: str | None,
                   session_token: str | None) -> _Open | None:
    """The session behind a page's cookie whatever its idle time, or None (unknown,
    ended, opened on another tablet, its tablet retired, or its youth erased or
    re-linked: then it ends now). Only a crisis text is read through a session this
    lax: see note()."""
    if not session_token:
        return None
    digest = token_digest(session_token)
    store, now = services.store, services.clock()
    session = await store.kiosk_session(digest)
    if session is None or session.ended:
        return None
    tablet = await store.kiosk_device(token_digest(device)) if device else None
    if tablet is None or tablet.id != session.device_id or tablet.state.retired:
        # A session cookie on another tablet (copied, or the tablet swapped) or on a
        # retired one opens nothing, and the session ends: it may have leaked.
        await store.end_kiosk_session(digest, now)
        log.warning("kiosk session of tablet %d shown on %s; ended", session.device_id,
                    "a retired tablet" if tablet is not None and tablet.state.retired
                    else "another tablet")
        return None
    checkin = await store.checkin_by_id(session.code.checkin_id)
    youth = await store.youth_by_code(session.code.youth_code)
    if checkin is None or youth is None or youth.pseudonym != checkin.youth_pseudonym:
        await store.end_kiosk_session(digest, now)   # erased or re-linked meanwhile
        return None
    return _Open(digest, session, youth, checkin)


async def _still_live(services: Services, at: _Open, touch: bool) -> bool:
    """The idle rule: a session untouched for IDLE_WIPE ends now, so nothing of it can
    be shown again; a live one is touched when asked."""
    now = services.clock()
    if idle_over(at.session.touched_at, now):
        await services.store.end_kiosk_session(at.token_digest, now)
        return False
    if touch:
        await services.store.touch_kiosk_session(at.token_digest, now)
    return True


async def _open(services: Services, device: str | None, session_token: str | None,
                touch: bool) -> _Open | None:
    """The live session behind a page's cookie, or None (unknown, ended, idle: then it
    ends now, so nothing of it can be shown again)."""
    at = await _resolve(services, device, session_token)
    if at is None or not await _still_live(services, at, touch):
        return None
    return at


async def touch(services: Services, session_token: str | None, *, device: str | None
                ) -> bool:
    """The page's keep-alive while the youth types or taps: True while the session
    lives (a touch resets its idle time), False once it ended."""
    return await _open(services, device, session_token, touch=True) is not None


def crisis_screen(lang: Language) -> CrisisScreen:
    """On a locked unit the first person to tell is right there: the therapist."""
    return CrisisScreen(f"{say(lang, 'kiosk.crisis_tell')}\n\n{say(lang, 'crisis_help')}")


async def _screen(services: Services, at: _Open, notice: str = "") -> Screen:
    youth, checkin, lang = at.youth, at.checkin, at.youth.language
    if at.session.crisis:
        return crisis_screen(lang)
    assert youth.pseudonym is not None
    states = await consent.states_of(services, youth.pseudonym)
    scope = consent_to_ask(states)
    if scope is not None:
        text = services.consents.current(scope)
        return ConsentScreen(scope, text.number, text.body[lang], text.agree[lang],
                             text.decline[lang])
    if states["participation"] is ScopeState.DECLINED:
        return Finished(say(lang, "kiosk.declined"), "kiosk.declined")
    if checkin.status is flow.Status.COMPLETE:
        key = await _thanks_key(services, checkin)
        return Finished(say(lang, key), key)
    if flow.is_expired(_state(checkin), services.clock()):
        return Finished(say(lang, "kiosk.expired"), "kiosk.expired")
    return _question(services, checkin, checkin.prompted_step, lang, notice,
                     sharing=states["sharing"] in (ScopeState.AGREED, ScopeState.OUTDATED))


def _state(checkin: Checkin) -> flow.CheckinState:
    return flow.CheckinState(checkin.status, checkin.prompted_step, checkin.expires_at,
                             checkin.answers)


def _question(services: Services, checkin: Checkin, index: int, lang: Language,
              notice: str, sharing: bool) -> Question:
    q, steps = services.questionnaire_of(checkin), services.steps(checkin)
    step = steps[index]
    text = question_text(q, step, lang, checkin.discipline)
    chosen = checkin.answers.get(step.key)
    if step.kind is flow.StepKind.SCALE:
        labels = [*q.scale(checkin.simple_mode).options]
        options = [Option(str(o.value), o.emoji, o.nl if lang == "nl" else o.en)
                   for o in labels]
        r = q.rather_not_say
        options.append(Option(RATHER_NOT_SAY, r.emoji, r.nl if lang == "nl" else r.en))
    elif step.kind is flow.StepKind.CHOICE:
        options = [Option(o.value, o.emoji, o.nl if lang == "nl" else o.en)
                   for o in q.event.options]
    else:
        ft = q.free_text
        options = [Option(flow.DONE, ft.done_emoji, ft.done_nl if lang == "nl" else ft.done_en)]
        if not sharing:
            text = f"{text}\n\n{say(lang, 'note_not_read')}"
    marked = tuple(Option(o.value, o.emoji, o.words, o.value == chosen) for o in options)
    return Question(index, len(steps), text, marked, step.kind is flow.StepKind.TEXT, notice)


async def _thanks_key(services: Services, checkin: Checkin) -> str:
    """The closing words, chosen as in Telegram (a low score thanked as honest)."""
    points = services.questionnaire_of(checkin).scale(checkin.simple_mode).points
    sharing = await services.store.has_consent(checkin.youth_pseudonym, "sharing")
    return thanks_key(checkin.answers, points, sharing)


async def screen(services: Services, session_token: str | None, *,
                 device: str | None) -> Screen:
    """What the page shows now (a reload shows the same; it does not count as a touch)."""
    at = await _open(services, device, session_token, touch=False)
    return Ended() if at is None else await _screen(services, at)


async def answer_consent(services: Services, session_token: str | None, scope: str,
                         number: int, agree: bool, *, device: str | None) -> Screen:
    """Record a yes or no to the consent text shown, as in Telegram (same records, same
    version and digest); a text replaced meanwhile is shown anew."""
    at = await _open(services, device, session_token, touch=True)
    if at is None:
        return Ended()
    asked: dict[str, Scope] = {"participation": "participation", "sharing": "sharing"}
    if scope not in asked:      # research is never put on the kiosk
        return await _screen(services, at)
    current = services.consents.current(asked[scope])
    if number == current.number:
        await consent.record(services, at.youth, current, agree)
    return await _screen(services, at)


async def answer(services: Services, session_token: str | None, step: int,
                 value: str, *, device: str | None) -> Screen:
    """A tapped answer, decided by the same core as a Telegram tap (core.flow)."""
    at = await _open(services, device, session_token, touch=True)
    if at is None:
        return Ended()
    shown = await _screen(services, at)
    if not isinstance(shown, Question):
        return shown     # consent first, or over: a stale tap changes nothing
    checkin, now = at.checkin, services.clock()
    steps = services.steps(checkin)
    decision = flow.decide_tap(services.questionnaire_of(checkin), steps, _state(checkin),
                               step, value, simple=checkin.simple_mode, now=now)
    if isinstance(decision, flow.Record):
        result = await services.store.record_answer(AnswerWrite(
            checkin.id, decision.step_index, steps[decision.step_index].key, decision.value,
            checkin.questionnaire_version, decision.advance, decision.completes), now)
        if result.advanced:   # shown here: Telegram must not send it as "unsent" later
            await _shown(services, checkin.id, decision.step_index + 1)
    return await screen_after(services, at)


async def _shown(services: Services, checkin_id: int, step: int) -> None:
    if await services.store.prompt_message_id(checkin_id, step) is None:
        await services.store.prompt_sent(checkin_id, step, 0, services.clock())


async def screen_after(services: Services, at: _Open) -> Screen:
    """The screen after a write, from the check-in as stored now."""
    checkin = await services.store.checkin_by_id(at.checkin.id)
    assert checkin is not None
    return await _screen(services, _Open(at.token_digest, at.session, at.youth, checkin))


async def note(services: Services, session_token: str | None, text: str, *,
               device: str | None) -> Screen:
    """The typed note: read for a crisis signal first, exactly as in Telegram (the same
    conversations.crisis.flag: stored, the urgent alert to the unit and therapist), even
    when the session went idle meanwhile; only then the idle rule, and the note stored."""
    at = await _resolve(services, device, session_token)
    if at is None:
        return Ended()
    youth, checkin, lang, now = at.youth, at.checkin, at.youth.language, services.clock()
    # Crisis first, idle or not: a slowly typed note (typing touches only the page's
    # timer) must still raise the alert and show the help screen.
    if text.strip() and await crisis.flag(services, youth, checkin, text):
        await services.store.touch_kiosk_session(at.token_digest, now, crisis=True)
        return crisis_screen(lang)
    if not await _still_live(services, at, touch=True):
        return Ended()
    shown = await _screen(services, at)
    if not isinstance(shown, Question) or not shown.is_note:
        return shown
    if not text.strip():
        return await answer(services, session_token, shown.step, flow.DONE, device=device)
    outcome = flow.decide_text(services.steps(checkin), _state(checkin), text,
                               limit=services.free_text_limit, now=now)
    if outcome is flow.TextOutcome.TOO_LONG:
        return await _screen(services, at, say(lang, "text_too_long",
                                               limit=services.free_text_limit))
    if outcome is flow.TextOutcome.STORE_NOTE:
        await services.store.store_note(checkin.id, checkin.prompted_step,
                                        services.cipher.seal_text(text), now)
    return await screen_after(services, at)


async def finish(services: Services, session_token: str | None) -> None:
    """The youth is done (or the page wiped itself): the session ends for good."""
    if session_token:
        await services.store.end_kiosk_session(token_digest(session_token), services.clock())


async def entered_screen(services: Services, session_token: str, *,
                         device: str | None) -> Screen:
    """The first screen after a right code; the question on it counts as shown."""
    at = await _open(services, device, session_token, touch=True)
    if at is None:
        return Ended()
    shown = await _screen(services, at)
    if isinstance(shown, Question):
        await _shown(services, at.checkin.id, shown.step)
    return shown


# -- for staff: codes to give again, tablets ------------------------------------------------

@dataclass(frozen=True)
class Reissuable:
    """A kiosk check-in still open whose code was used up, locked or ran out."""

    youth_code: str
    checkin_id: int


async def reissuable(services: Services, therapist_code: str | None) -> list[Reissuable]:
    """Open kiosk check-ins without a live code: the therapist can give a new code
    (after a code locked by wrong tries, or one that ran out before the tablet was free)."""
    store, now = services.store, services.clock()
    youths = (await store.youths_of(therapist_code) if therapist_code
              else await store.active_youths())
    live = {c.checkin_id for c in await store.live_kiosk_codes(therapist_code, now)}
    found = []
    for youth in youths:
        if youth.pseudonym is None or not (await channel_of(services, youth)).by_kiosk:
            continue
        checkin = await store.open_checkin(youth.pseudonym, now)
        if checkin is None or checkin.id in live or checkin.status is not flow.Status.OPEN:
            continue
        if await store.kiosk_codes_of_checkin(checkin.id):
            found.append(Reissuable(youth.code, checkin.id))
    return found


async def new_code(services: Services, youth_code: str, therapist_code: str | None,
                   actor: str) -> IssuedCode | None:
    """A new code for the youth's open kiosk check-in, asked by their therapist (or a
    coordinator: `therapist_code` None); None when there is nothing to give a code for."""
    for item in await reissuable(services, therapist_code):
        if item.youth_code == youth_code:
            issued = await issue_code(services, item.checkin_id)
            if issued is not None:
                await services.audit(actor, "code-reissued", youth_code)
            return issued
    return None


async def set_device_state(services: Services, device_id: int, action: str,
                           actor: str) -> bool:
    """A coordinator unlocks a tablet locked by wrong codes, or retires one (lost,
    replaced): its cookie then opens nothing."""
    store = services.store
    done = (await store.unlock_kiosk_device(device_id) if action == "unlock"
            else await store.retire_kiosk_device(device_id, services.clock())
            if action == "retire" else False)
    if done:
        await services.audit(actor, f"kiosk-device-{action}", "", f"tablet {device_id}")
    return done
