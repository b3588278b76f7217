"""The kiosk's tablet side, free of the web: the check-in on a tablet, on the same core
as Telegram (core.flow for the answers, the same consent records, conversations.crisis
for a crisis text). The staff side (channel setting, codes, tablets) is
conversations.kiosk_staff.

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

from conversations import consent, crisis
from conversations.services import Services
from core import flow
from core.consent import Scope, ScopeState
from core.identity import token_digest
from core.kiosk import (
    Accept,
    Refusal,
    code_digest,
    consent_to_ask,
    decide_entry,
    idle_over,
    normalise_code,
)
from core.loop import thanks_key
from core.prompts import question_text
from core.questionnaire import RATHER_NOT_SAY, Language
from core.records import AnswerWrite, Checkin, KioskSession, Youth
from core.texts import say

log = logging.getLogger(__name__)


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
