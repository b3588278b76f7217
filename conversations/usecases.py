"""The youth's side of the bot, free of Telegram: each function takes plain values and
returns the actions to carry out. Handlers translate updates into these calls."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from conversations import consent, crisis
from conversations.actions import Action, EditMessage, EditTapped, Reply, SendPrompt, Toast
from conversations.services import Services, new_checkin_ref
from core import flow
from core.analytics import NOT_HELD_BY_YOUTH
from core.callbacks import AnswerTap, ConsentTap, consent_data
from core.consent import ConsentText, stands
from core.identity import InvalidToken, token_digest
from core.loop import thanks_key
from core.prompts import Button, Prompt, render_step
from core.questionnaire import Discipline, Language
from core.records import AnswerWrite, BindOutcome, Checkin, Consent, Invite, NewCheckin, Youth
from core.session_words import checkin_intro
from core.texts import say

CONSENT_SCOPE = "participation"
log = logging.getLogger(__name__)
_UNREADABLE: set[str] = set()  # pseudonyms whose contact could not be opened, logged once


def hint_language(language_code: str | None) -> Language:
    """Pick a language for someone we do not know yet (nothing is stored about them)."""
    return "en" if language_code and language_code.startswith("en") else "nl"


def _prompt(services: Services, checkin: Checkin, step: int, lang: Language,
            chosen: str | None = None, sharing: bool = True) -> Prompt:
    # Relative to when the check-in was opened, so the first message reads the same when it
    # is edited or sent again later ("van vanochtend" stays "van vanochtend").
    intro = checkin_intro(lang, checkin.discipline, checkin.session_end or checkin.created_at,
                          checkin.created_at, services.zone)
    return render_step(
        services.questionnaire_of(checkin), services.steps(checkin), step,
        checkin_ref=checkin.ref, lang=lang, simple=checkin.simple_mode,
        discipline=checkin.discipline, chosen=chosen, intro=intro, sharing=sharing,
    )


async def _shares(services: Services, checkin: Checkin) -> bool:
    """Whether the youth shares with the therapist: the note question says so if not."""
    return await services.store.has_consent(checkin.youth_pseudonym, "sharing")


def _send(services: Services, checkin: Checkin, step: int, lang: Language,
          sharing: bool = True) -> SendPrompt:
    p = _prompt(services, checkin, step, lang, sharing=sharing)
    return SendPrompt(checkin.id, step, p.text, p.buttons)


# -- invite and consent -------------------------------------------------------------------

_INVITE_REFUSALS = {
    BindOutcome.USED: "invite_used",
    BindOutcome.EXPIRED: "invite_expired",
    BindOutcome.UNKNOWN: "invite_unknown",
    BindOutcome.ALREADY_BOUND: "invite_other_account",
    BindOutcome.TAKEN: "invite_taken",
}


async def start_with_invite(
    services: Services, user_id: int, token: str, lang_hint: Language
) -> list[Action]:
    """Show the consent text for a valid invite. Nothing is stored before agreement."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is not None:
        return [Reply(say(me.language, "invite_other_account"))]
    invite = await services.store.invite(token_digest(token))
    if invite is None or invite.role != "youth":
        return [Reply(say(lang_hint, "invite_unknown"))]
    youth = await services.store.youth_by_code(invite.subject_code)
    lang = youth.language if youth else lang_hint
    if invite.used_at is not None:
        return [Reply(say(lang, "invite_used"))]
    if invite.expires_at <= services.clock():
        return [Reply(say(lang, "invite_expired"))]
    if youth is not None and youth.pseudonym is not None \
            and await services.store.contact(youth.pseudonym) is not None:
        return [Reply(say(lang, "invite_taken"))]   # the code has a live account
    text = services.consents.current("participation")
    buttons = (
        (Button(text.agree[lang], consent_data(token, text.number, True)),),
        (Button(text.decline[lang], consent_data(token, text.number, False)),),
    )
    return [Reply(text.body[lang], buttons)]


async def consent_tap(
    services: Services, user_id: int, chat_id: int, tap: ConsentTap, lang_hint: Language
) -> list[Action]:
    """Bind the account and record consent, or leave everything untouched on 'not now'."""
    invite = await services.store.invite(token_digest(tap.invite_token))
    youth = await services.store.youth_by_code(invite.subject_code) if invite else None
    lang = youth.language if youth else lang_hint
    text = services.consents.current("participation")
    if tap.number != text.number:   # a newer text was published since this was shown
        return [Toast(say(lang, "consent_text_changed")),
                *await start_with_invite(services, user_id, tap.invite_token, lang)]
    if not tap.agree:
        await _record_decline(services, user_id, invite, text, lang)
        return [EditTapped(f"{text.body[lang]}\n\n👉 {text.decline[lang]}"),
                Reply(say(lang, "declined"))]
    rebind = youth is not None and youth.pseudonym is not None   # linked before: unbound
    outcome = await services.store.bind_youth(
        token_digest(tap.invite_token),
        services.pseudonym(user_id),
        services.cipher.seal(chat_id),
        Consent(CONSENT_SCOPE, text.version, text.sha256(lang), lang),
        services.clock(),
    )
    if outcome is not BindOutcome.BOUND:
        return [Toast(say(lang, _INVITE_REFUSALS[outcome]))]
    code = invite.subject_code if invite else ""
    if rebind:
        await services.audit("youth", "rebind", code, "a new account after unbind")
    await services.audit("youth", f"consent:{CONSENT_SCOPE}", code, text.version)
    # Sharing with the therapist is a consent of its own, asked right after.
    return [EditTapped(f"{text.body[lang]}\n\n👉 {text.agree[lang]}"),
            Reply(say(lang, "consented")), consent.ask(services.consents.current("sharing"), lang)]


async def _record_decline(services: Services, user_id: int, invite: Invite | None,
                          text: ConsentText, lang: Language) -> None:
    """Keep a "not now" at the invite as a decision, tied to the youth's code only.

    Every consent decision, yes or no, is a row. This one is made before any account is
    linked, and it stays that way: no pseudonym of the Telegram account is stored, since
    nothing needs to recognise that account later (the same link still works for "Ik doe
    mee"), and a decision about the youth's code is what the coordinators act on. Only a
    usable invite counts: a used or expired link, or an account that is already another
    youth, records nothing.
    """
    now = services.clock()
    if (invite is None or invite.role != "youth" or invite.used_at is not None
            or invite.expires_at <= now
            or await services.store.youth_by_pseudonym(services.pseudonym(user_id))):
        return
    await services.store.record_invite_decline(
        invite.subject_code, Consent(CONSENT_SCOPE, text.version, text.sha256(lang), lang), now)
    await services.audit("youth", f"decline:{CONSENT_SCOPE}", invite.subject_code,
                         text.version)


# -- pausing and resuming -----------------------------------------------------------------

async def start_plain(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/start without an invite: resume after /stop, or continue an open check-in."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    if me.paused:
        await services.store.set_paused(me.pseudonym, False)
        return [Reply(say(me.language, "resumed"))]
    open_checkin = await services.store.open_checkin(me.pseudonym, services.clock())
    if open_checkin is not None:
        return [await _current_question(services, open_checkin, me.language)]
    return [Reply(say(me.language, "welcome_back"))]


async def _current_question(services: Services, checkin: Checkin, lang: Language) -> Reply:
    step = checkin.prompted_step
    key = services.steps(checkin)[step].key
    p = _prompt(services, checkin, step, lang, chosen=checkin.answers.get(key),
                sharing=await _shares(services, checkin))
    return Reply(p.text, p.buttons)


async def stop(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/stop: no more messages until the youth says /start."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    changed = await services.store.set_paused(me.pseudonym, True)
    return [Reply(say(me.language, "stopped" if changed else "already_stopped"))]


# -- the check-in ---------------------------------------------------------------------------

class CheckinNotPossible(Exception):
    """A check-in cannot be started; the message says why, for the coordinator."""


@dataclass(frozen=True)
class Outgoing:
    """A prompt for someone other than the sender of an update."""

    chat_id: int
    prompt: SendPrompt


async def ready_for_checkin(services: Services, code: str) -> Youth:
    """The youth, if a check-in may be started for them; otherwise raise
    CheckinNotPossible with the reason a coordinator can act on."""
    youth = await services.store.youth_by_code(code)
    if youth is None:
        raise CheckinNotPossible(f"unknown youth code {code}")
    if youth.pseudonym is None:
        raise CheckinNotPossible(f"{code} has not used the invite link yet")
    if youth.paused:
        raise CheckinNotPossible(f"{code} paused messages with /stop")
    if not await services.store.has_consent(youth.pseudonym, CONSENT_SCOPE):
        raise CheckinNotPossible(f"{code} does not take part (consent declined or withdrawn)")
    return youth


async def start_checkin(
    services: Services, code: str, occurrence_key: str, discipline: Discipline | None,
    expires_at: datetime | None = None, session_end: datetime | None = None,
) -> Outgoing | None:
    """Open the check-in for one session occurrence and return its first question.

    `session_end` is when the session ended; the first message names it ("van vanochtend").

    Returns None when that question was already delivered: asking twice for one session
    is never right, whoever asks (the scheduler after a restart, or a coordinator).
    """
    youth = await ready_for_checkin(services, code)
    assert youth.pseudonym is not None
    sealed = await services.store.contact(youth.pseudonym)
    if sealed is None:
        raise CheckinNotPossible(f"{code} has no contact on file")
    chat_id = services.cipher.open(sealed)  # before any write: InvalidToken leaves no row
    checkin = await session_checkin(services, youth, occurrence_key, discipline, expires_at,
                                    session_end)
    if await services.store.prompt_message_id(checkin.id, 0) is not None:
        return None
    return Outgoing(chat_id, _send(services, checkin, 0, youth.language))


async def session_checkin(
    services: Services, youth: Youth, occurrence_key: str, discipline: Discipline | None,
    expires_at: datetime | None = None, session_end: datetime | None = None,
) -> Checkin:
    """The youth's check-in for one session occurrence, opened now if there is none yet:
    one per session, whichever channel asks (Telegram, the kiosk, or both)."""
    assert youth.pseudonym is not None
    checkin = await services.store.checkin_for_occurrence(youth.pseudonym, occurrence_key)
    if checkin is not None:
        return checkin
    now = services.clock()
    return await services.store.create_checkin(NewCheckin(
        ref=new_checkin_ref(), youth_pseudonym=youth.pseudonym,
        occurrence_key=occurrence_key, discipline=discipline,
        questionnaire_version=services.questionnaire.version,
        simple_mode=youth.simple_mode, created_at=now,
        expires_at=expires_at or now + services.checkin_ttl,
        session_end=session_end,
    ))


async def reminder(services: Services, code: str, occurrence_key: str) -> Outgoing | None:
    """The current question again, with a friendly nudge; None if nothing is open."""
    youth = await services.store.youth_by_code(code)
    if youth is None or youth.pseudonym is None or youth.paused:
        return None
    checkin = await services.store.checkin_for_occurrence(youth.pseudonym, occurrence_key)
    sealed = await services.store.contact(youth.pseudonym)
    now = services.clock()
    if (checkin is None or sealed is None or checkin.status is not flow.Status.OPEN
            or checkin.expires_at <= now):
        return None
    if await services.store.crisis_in_checkin(checkin.id):
        return None   # paused after a crisis text: no "tap a button" nudge
    step = checkin.prompted_step
    p = _prompt(services, checkin, step, youth.language,
                chosen=checkin.answers.get(services.steps(checkin)[step].key),
                sharing=await _shares(services, checkin))
    text = f"{say(youth.language, 'reminder_intro')}\n\n{p.text}"
    return Outgoing(services.cipher.open(sealed), SendPrompt(checkin.id, step, text, p.buttons))


async def unsent_prompts(services: Services, created_before: datetime) -> list[Outgoing]:
    """Prompts that were recorded but not confirmed sent, e.g. because the bot died."""
    pending = await services.store.unsent_prompts(services.clock(), created_before)
    found = []
    for p in pending:
        try:
            chat_id = services.cipher.open(p.chat_id_enc)
        except (InvalidToken, ValueError):  # sealed with another key: skip, say whose
            if p.checkin.youth_pseudonym not in _UNREADABLE:
                _UNREADABLE.add(p.checkin.youth_pseudonym)
                youth = await services.store.youth_by_pseudonym(p.checkin.youth_pseudonym)
                log.error("%s: the contact cannot be opened with the configured contact key;"
                          " their unsent question is skipped",
                          youth.code if youth else "a youth")
            continue
        found.append(Outgoing(chat_id, _send(services, p.checkin, p.step, p.language,
                                             await _shares(services, p.checkin))))
    return found


async def prompt_sent(services: Services, prompt: SendPrompt, message_id: int) -> None:
    await services.store.prompt_sent(prompt.checkin_id, prompt.step, message_id,
                                     services.clock())


_REFUSAL_TEXT = {
    flow.Refusal.EXPIRED: "expired_checkin",
    flow.Refusal.FINISHED: "checkin_finished",
    flow.Refusal.INVALID: "stale_button",
    flow.Refusal.NOT_YET_ASKED: "stale_button",
}


async def answer_tap(
    services: Services, user_id: int, tap: AnswerTap, lang_hint: Language
) -> list[Action]:
    """Store a tapped answer, show it in the message, and ask the next question.

    The three reads it needs are made at once: when many youths tap together, each read
    waits its turn on the database, so three in a row would wait three turns before the
    answer is stored and the next question can go out.
    """
    pseudonym = services.pseudonym(user_id)
    me, checkin, consents = await asyncio.gather(
        services.store.youth_by_pseudonym(pseudonym),
        services.store.checkin_by_ref(tap.checkin_ref),
        services.store.consents_of(pseudonym))
    if me is None or checkin is None or checkin.youth_pseudonym != me.pseudonym:
        return [Toast(say(me.language if me else lang_hint, "stale_button"))]
    lang = me.language
    if not stands(consents, CONSENT_SCOPE):
        return [Toast(say(lang, "not_taking_part"))]
    steps = services.steps(checkin)
    now = services.clock()
    state = flow.CheckinState(checkin.status, checkin.prompted_step, checkin.expires_at,
                              checkin.answers)
    decision = flow.decide_tap(services.questionnaire_of(checkin), steps, state,
                               tap.step_index, tap.value, simple=checkin.simple_mode, now=now)
    if isinstance(decision, flow.Refuse):
        return [Toast(say(lang, _REFUSAL_TEXT[decision.reason]))]
    if isinstance(decision, flow.Unchanged):
        return [Toast(say(lang, "already_saved"))]
    if isinstance(decision, flow.NoSession):
        await services.store.mark_not_held(me.code, checkin.occurrence_key,
                                           NOT_HELD_BY_YOUTH, now)
        shown = _prompt(services, checkin, 0, lang, chosen=None)
        return [EditTapped(f"{shown.text}\n\n👉 {say(lang, 'no_session_button')}"),
                Toast(say(lang, "saved")),
                Reply(say(lang, "no_session_thanks"))]
    result = await services.store.record_answer(AnswerWrite(
        checkin.id, decision.step_index, steps[decision.step_index].key, decision.value,
        checkin.questionnaire_version, decision.advance, decision.completes,
    ), now)
    if not result.stored:
        return [Toast(say(lang, "expired_checkin"))]
    sharing = stands(consents, "sharing")
    shown = _prompt(services, checkin, decision.step_index, lang, chosen=decision.value,
                    sharing=sharing)
    if result.completed:
        answers = {**checkin.answers, steps[decision.step_index].key: decision.value}
        return [EditTapped(shown.text), Toast(say(lang, "saved")),
                Reply(_thanks_text(services, checkin, answers, lang, sharing))]
    actions: list[Action] = [EditTapped(shown.text, shown.buttons),
                             Toast(say(lang, "changed" if decision.changed else "saved"))]
    if result.advanced:
        actions.append(_send(services, checkin, decision.step_index + 1, lang, sharing))
    return actions


async def text_message(
    services: Services, user_id: int, text: str, lang_hint: Language
) -> list[Action]:
    """Handle typed text: the free-text note, or a gentle pointer to the buttons."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return crisis.stranger_help(services, text, lang_hint) or [
            Reply(say(lang_hint, "unknown_user"))]
    lang = me.language
    now = services.clock()
    checkin = await services.store.open_checkin(me.pseudonym, now)
    actions = await crisis.flag(services, me, checkin, text)
    if actions:
        # The check-in pauses: the help stands alone, with no nudge to the buttons and no
        # thank-you after it; `reminder` sends no nudge for this check-in either.
        return actions
    if checkin is None:
        return [Reply(say(lang, "idle_text"))]
    if not await services.store.has_consent(me.pseudonym, CONSENT_SCOPE):
        return [Reply(say(lang, "not_taking_part"))]
    steps = services.steps(checkin)
    state = flow.CheckinState(checkin.status, checkin.prompted_step, checkin.expires_at,
                              checkin.answers)
    outcome = flow.decide_text(steps, state, text, limit=services.free_text_limit, now=now)
    if outcome is flow.TextOutcome.TOO_LONG:
        return [Reply(say(lang, "text_too_long", limit=services.free_text_limit))]
    if outcome is not flow.TextOutcome.STORE_NOTE:
        return [Reply(say(lang, "button_expected"))]
    if not await services.store.store_note(checkin.id, checkin.prompted_step,
                                           services.cipher.seal_text(text), now):
        return [Reply(say(lang, "expired_checkin"))]
    done: list[Action] = []
    message_id = await services.store.prompt_message_id(checkin.id, checkin.prompted_step)
    if message_id:  # None: not confirmed; 0: sent, id unknown (timed out)
        question = _prompt(services, checkin, checkin.prompted_step, lang,
                           sharing=await _shares(services, checkin)).text
        done.append(EditMessage(message_id, f"{question}\n\n👉 {say(lang, 'note_saved')}"))
    return [*done, Reply(await _thanks(services, checkin, checkin.answers, lang))]


async def _thanks(services: Services, checkin: Checkin, answers: dict[str, str],
                  lang: Language) -> str:
    """The closing line; a low score the therapist will see is thanked as honest."""
    sharing = await services.store.has_consent(checkin.youth_pseudonym, "sharing")
    return _thanks_text(services, checkin, answers, lang, sharing)


def _thanks_text(services: Services, checkin: Checkin, answers: dict[str, str],
                 lang: Language, sharing: bool) -> str:
    points = services.questionnaire_of(checkin).scale(checkin.simple_mode).points
    return say(lang, thanks_key(answers, points, sharing))


async def media_message(services: Services, user_id: int, lang_hint: Language,
                        caption: str | None = None) -> list[Action]:
    """Stickers, photos, voice and the like: a polite pointer; nothing is stored.

    A caption is read for a crisis signal like any typed text: a youth may write it
    under a drawing."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return crisis.stranger_help(services, caption or "", lang_hint) or [
            Reply(say(lang_hint, "unknown_user"))]
    checkin = await services.store.open_checkin(me.pseudonym, services.clock())
    if caption and (actions := await crisis.flag(services, me, checkin, caption)):
        return actions
    return [Reply(say(me.language, "media_not_stored" if checkin else "media_idle"))]

