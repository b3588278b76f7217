"""The youth's consent choices: one per scope, each asked on its own and changeable at any
time with /toestemming (/consent); a newer text is put to the youth before the next
check-in. Every decision is stored with the version and digest of the exact text shown."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.actions import Action, EditTapped, Reply, Toast
from conversations.services import Services
from core.callbacks import ScopeTap, scope_data
from core.consent import (
    SCOPES,
    CheckinGate,
    ConsentText,
    Scope,
    ScopeState,
    checkin_gate,
    counts_as_yes,
    research_needs_guardian,
    scope_states,
    to_ask_before_checkin,
)
from core.prompts import Button
from core.questionnaire import Language
from core.records import Consent, Youth
from core.texts import say

Buttons = tuple[tuple[Button, ...], ...]


async def states_of(services: Services, pseudonym: str) -> dict[Scope, ScopeState]:
    return scope_states(await services.store.consents_of(pseudonym), services.consents)


def ask(text: ConsentText, lang: Language, intro: str = "") -> Reply:
    """The full text of one scope, with its two answers bound to this very version."""
    buttons: Buttons = (
        (Button(text.agree[lang], scope_data(text.scope, text.number, True)),),
        (Button(text.decline[lang], scope_data(text.scope, text.number, False)),),
    )
    return Reply(f"{intro}\n\n{text.body[lang]}" if intro else text.body[lang], buttons)


async def record(services: Services, youth: Youth, text: ConsentText, agree: bool) -> None:
    assert youth.pseudonym is not None
    lang = youth.language
    await services.store.set_consent(
        youth.pseudonym, Consent(text.scope, text.version, text.sha256(lang), lang), agree,
        services.clock())
    await services.audit("youth", f"consent:{text.scope}" if agree else
                         f"decline:{text.scope}", youth.code, text.version)


async def menu(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/toestemming: where the youth stands on each scope, and a button to change each."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    lang = me.language
    states = await states_of(services, me.pseudonym)
    guardian_first = await waits_for_guardian(services, me, "research")
    lines = [say(lang, "consent_menu_header")]
    lines += [say(lang, f"consent_line_{scope}", state=say(
        lang, "consent_state_needs_guardian" if scope == "research" and guardian_first
        and not counts_as_yes(st) else f"consent_state_{st.value}"))
              for scope, st in states.items()]
    lines += ["", say(lang, "consent_menu_footer")]
    buttons: Buttons = tuple(
        (Button(say(lang, f"consent_button_{scope}"),
                scope_data(scope, services.consents.current(scope).number, None)),)
        for scope in SCOPES)
    return [Reply("\n".join(lines), buttons)]


async def waits_for_guardian(services: Services, youth: Youth, scope: Scope) -> bool:
    """Research below 16 needs the guardian's research consent on file first."""
    if scope != "research":
        return False
    today = services.clock().astimezone(services.zone).date()
    return research_needs_guardian(
        youth.birth_year, await services.store.guardian_research_consent(youth.code), today)


async def ask_scope(services: Services, user_id: int, scope: Scope,
                    lang_hint: Language) -> list[Action]:
    """/research and the menu's buttons: the current text of one scope and the choice."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    if await waits_for_guardian(services, me, scope):
        return [Reply(say(me.language, "research_needs_guardian"))]
    return [ask(services.consents.current(scope), me.language)]


async def scope_tap(services: Services, user_id: int, tap: ScopeTap,
                    lang_hint: Language) -> list[Action]:
    """Record a yes or no to the version that was shown; a superseded text is shown anew."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return [Toast(say(lang_hint, "stale_button"))]
    lang = me.language
    current = services.consents.current(tap.scope)
    if tap.agree is not False and await waits_for_guardian(services, me, tap.scope):
        # Saying no (or withdrawing) is always possible; yes waits for the guardian.
        return [Toast(say(lang, "research_needs_guardian_short")),
                Reply(say(lang, "research_needs_guardian"))]
    if tap.agree is None:
        return [ask(current, lang)]
    if tap.number != current.number:
        shown = services.consents.version(tap.scope, tap.number)
        if shown is None:   # no such text was ever published: forged
            return [Toast(say(lang, "stale_button"))]
        return [EditTapped(shown.body[lang]), Toast(say(lang, "consent_text_changed")),
                ask(current, lang, say(lang, "consent_text_changed"))]
    was = (await states_of(services, me.pseudonym))[tap.scope]
    await record(services, me, current, tap.agree)
    chosen = current.agree[lang] if tap.agree else current.decline[lang]
    follow = "consent_questions_follow" if (
        tap.scope == "participation" and tap.agree and was is ScopeState.OUTDATED) else (
        f"consent_saved_{tap.scope}_{'yes' if tap.agree else 'no'}")
    return [EditTapped(f"{current.body[lang]}\n\n👉 {chosen}"), Toast(say(lang, "saved")),
            Reply(say(lang, follow))]


@dataclass(frozen=True)
class BeforeCheckin:
    """What the consent layer says about a due check-in: send it, hold it or drop it, and
    which consent questions must go out first (each at most once per text version)."""

    gate: CheckinGate
    asks: tuple[Reply, ...]
    scopes: tuple[Scope, ...]


async def before_checkin(services: Services, youth: Youth) -> BeforeCheckin:
    assert youth.pseudonym is not None
    states = await states_of(services, youth.pseudonym)
    gate = checkin_gate(states)
    if gate is CheckinGate.REFUSE:
        return BeforeCheckin(gate, (), ())
    asks, scopes = [], []
    for scope in to_ask_before_checkin(states):
        text = services.consents.current(scope)
        if await services.store.consent_request_due(youth.code, text.version, services.clock()):
            intro = say(youth.language, "consent_reask") if (
                states[scope] is ScopeState.OUTDATED) else ""
            asks.append(ask(text, youth.language, intro))
            scopes.append(scope)
    return BeforeCheckin(gate, tuple(asks), tuple(scopes))


async def asked(services: Services, youth: Youth, scope: Scope) -> None:
    """The question about the current text of `scope` reached the youth."""
    await services.store.consent_request_sent(
        youth.code, services.consents.current(scope).version, services.clock())
