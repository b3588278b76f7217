"""The crisis path, free of Telegram: help for whoever writes a crisis text, the urgent
alert to the youth's route, "I want to talk now", and acknowledgement by any recipient.

Who gets the alert and when is decided in core.crisis_route; the sending is done by
scheduler.crisis_delivery, started at once when an alert is stored
(conversations.urgent_wake) and again on every tick (every `schedule.tick_seconds`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from conversations.actions import Action, EditTapped, Reply, Toast
from conversations.alert_actions import AckOutcome, acknowledge_urgent
from conversations.services import Services, new_checkin_ref
from core.callbacks import AckTap, TalkTap, talk_data
from core.crisis import find_crisis_phrases
from core.crisis_route import (
    ROLES,
    ReplyRoute,
    Role,
    Route,
    RouteCheck,
    YouthRoute,
    check_routes,
    reply_route,
    unit_of,
)
from core.identity import token_digest
from core.prompts import Button
from core.questionnaire import Language
from core.records import Alert, BindOutcome, Checkin, NewAlert, Youth
from core.texts import say

log = logging.getLogger(__name__)

COORDINATOR_KEY_LENGTH = 16   # a coordinator is recorded by this much of their pseudonym


def iso_minute(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M")


def coordinator_key(pseudonym: str) -> str:
    return pseudonym[:COORDINATOR_KEY_LENGTH]


async def route_for(services: Services, youth: Youth) -> Route:
    """What is linked for this youth now: therapist, the unit's contact, coordinators."""
    store = services.store
    pseudonym = await store.therapist_pseudonym(youth.therapist_code)
    therapist_linked = pseudonym is not None and await store.contact(pseudonym) is not None
    unit_code = unit_of(await store.youth_unit(youth.code), services.default_unit)
    unit = await store.unit(unit_code) if unit_code else None
    unit_linked = (unit is not None and unit.pseudonym is not None
                   and await store.contact(unit.pseudonym) is not None)
    return Route(youth.therapist_code, therapist_linked, unit_code, unit_linked,
                 tuple(sorted(coordinator_key(p) for p in services.coordinators)))


def help_reply(lang: Language, route: ReplyRoute | None, alert_ref: str | None) -> Reply:
    """The help numbers, staff first; who hears of it only when that is true."""
    text = say(lang, "crisis_help")
    if route is not None:
        text += "\n\n" + say(lang, f"crisis_route_{route.value}")
    if alert_ref is None:
        return Reply(text)
    text += "\n" + say(lang, "crisis_talk_hint")
    return Reply(text, ((Button(say(lang, "talk_button"), talk_data(alert_ref)),),))


def stranger_help(services: Services, text: str, lang: Language) -> list[Action]:
    """A crisis text from an account that is not (or no longer) an enrolled youth: a
    stranger, an unlinked old phone, an erased youth, or staff. Help numbers, always;
    there is no route to alert, and nothing is stored about someone we do not know."""
    if not find_crisis_phrases(text, services.crisis_phrases):
        return []
    log.warning("a crisis text came from an account that is not an enrolled youth; "
                "the help numbers were given")
    return [help_reply(lang, None, None)]


async def flag(services: Services, me: Youth, checkin: Checkin | None,
               text: str) -> list[Action]:
    """A crisis text from an enrolled youth: store it, alert their route, reply with help.

    This runs whatever the youth chose: paused with /stop, not sharing answers with the
    therapist, or consent to take part withdrawn. Safety overrides those choices: the
    youth is in the unit's care, and the alert carries no answers, only that a crisis
    text came in (and, for the therapist, which rule fired). The reply never promises
    more than the route can do."""
    phrases = find_crisis_phrases(text, services.crisis_phrases)
    if not phrases or me.pseudonym is None:
        return []
    now = services.clock()
    route: Route | None = None
    alert: NewAlert | None = None
    try:
        route = await route_for(services, me)
        alert = _crisis_alert(services, me, route.unit_code, phrases, now)
        await services.store.add_crisis_flag(me.pseudonym, checkin.id if checkin else None,
                                             phrases, services.cipher.seal_text(text), now,
                                             alert)
    except Exception:  # the help numbers go out, and the alert still must
        log.exception("CRISIS FLAG NOT STORED for %s; storing the urgent alert alone",
                      me.code)
        return await _alert_alone(services, me, route, alert, phrases, now)
    log.warning("crisis text from %s (unit %s); urgent alert raised", me.code,
                route.unit_code or "-")
    services.urgent_wake.raised()
    return [help_reply(me.language, reply_route(route), alert.ref)]


def _crisis_alert(services: Services, me: Youth, unit_code: str | None, phrases: list[str],
                  now: datetime) -> NewAlert:
    """The urgent alert of a crisis text. Even the matched rule is health data: the alert
    keeps it sealed, or (when sealing fails) leaves it out; the therapist then reads '?'."""
    try:
        detail = services.cipher.seal_text(", ".join(f"'{p}'" for p in phrases)).decode()
    except Exception:
        log.exception("could not seal the crisis rule for %s; the alert goes without it",
                      me.code)
        detail = ""
    return NewAlert(new_checkin_ref(), f"crisis:{me.code}:{iso_minute(now)}", "crisis",
                    me.code, me.therapist_code, detail, now, now + services.escalate_after,
                    unit_code=unit_code, reason="text")


async def _alert_alone(services: Services, me: Youth, route: Route | None,
                       alert: NewAlert | None, phrases: list[str],
                       now: datetime) -> list[Action]:
    """The flag (with the youth's text) could not be stored: store the alert without it,
    or hold it for scheduler.crisis_delivery to store on its next tick. The youth gets
    the help numbers either way; who will hear of it is said only once it is stored."""
    if alert is None:
        alert = _crisis_alert(services, me, route.unit_code if route else None, phrases, now)
    stored = False
    try:
        stored = await services.pending_alerts.store_or_hold(services.store, alert, now)
    except Exception:  # never leave the youth without the help numbers
        log.exception("URGENT ALERT NOT STORED OR HELD for %s", me.code)
    if stored:
        log.warning("crisis text from %s: urgent alert raised without the flag", me.code)
        services.urgent_wake.raised()
    told = reply_route(route) if stored and route is not None else None
    return [help_reply(me.language, told, alert.ref)]


async def talk_tap(services: Services, user_id: int, tap: TalkTap,
                   lang_hint: Language) -> list[Action]:
    """"I want to talk now": an urgent alert to the unit (and therapist), kindly confirmed.

    One open request at a time: a second tap before anyone acknowledged says it was
    passed on already, rather than raising a second alarm."""
    try:
        me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    except Exception:  # storage failing: still the numbers, never silence
        log.exception("TALK-NOW: the youth could not be read; the help numbers sent")
        return [help_reply(lang_hint, None, None)]
    if me is None or me.pseudonym is None:   # e.g. erased: the numbers, no false "passed on"
        return [help_reply(lang_hint, None, None)]
    try:
        return await _raise_talk(services, me, tap)
    except Exception:  # never leave a youth who asked for help without an answer
        log.exception("TALK-NOW ALERT NOT STORED for %s; storing it again or holding it",
                      me.code)
        now = services.clock()
        try:   # the reply below promises it is passed on: it must be, later if need be
            if await services.pending_alerts.store_or_hold(services.store, _talk_alert(
                    services, me, tap, await _unit_if_known(services, me), now), now):
                services.urgent_wake.raised()
        except Exception:
            log.exception("TALK-NOW ALERT NOT STORED OR HELD for %s", me.code)
        return [Toast(say(me.language, "talk_toast")),
                Reply(say(me.language, "talk_sent_staff_later"))]


async def _unit_if_known(services: Services, me: Youth) -> str | None:
    """The youth's unit for an alert raised while storage fails; None when it cannot be
    read (delivery then routes to the youth's unit of the moment)."""
    try:
        return unit_of(await services.store.youth_unit(me.code), services.default_unit)
    except Exception:
        log.exception("could not read the unit of %s for the held alert", me.code)
        return None


def _talk_alert(services: Services, me: Youth, tap: TalkTap, unit_code: str | None,
                now: datetime) -> NewAlert:
    """The urgent alert of "I want to talk now"; its detail is never shown to anyone."""
    try:
        detail = services.cipher.seal_text("").decode()
    except Exception:   # nothing to keep secret: the alert goes without it
        detail = ""
    return NewAlert(new_checkin_ref(), f"talk:{me.code}:{iso_minute(now)}:{tap.alert_ref}",
                    "crisis", me.code, me.therapist_code, detail, now,
                    now + services.escalate_after, unit_code=unit_code, reason="talk")


async def _raise_talk(services: Services, me: Youth, tap: TalkTap) -> list[Action]:
    lang, now = me.language, services.clock()
    route = await route_for(services, me)
    if await services.store.open_urgent_alert(me.code, "talk",
                                              now - services.escalate_after) is not None:
        return [Toast(say(lang, "talk_toast")), Reply(say(lang, "talk_already"))]
    await services.store.add_alert(_talk_alert(services, me, tap, route.unit_code, now), now)
    log.warning("%s asked to talk now (unit %s); urgent alert raised", me.code,
                route.unit_code or "-")
    services.urgent_wake.raised()
    return [Toast(say(lang, "talk_toast")),
            Reply(say(lang, f"talk_sent_{reply_route(route).value}"))]


def urgent_text(services: Services, alert: Alert, role: Role, lang: Language) -> str:
    """The alert as one recipient sees it. Only the therapist sees which rule fired: the
    unit phone and the coordinators get the code and the urgency, the minimum to act."""
    unit = " " + say(lang, "urgent_unit_suffix", unit=alert.unit_code) if alert.unit_code else ""
    since = alert.created_at.astimezone(services.zone).strftime("%d/%m %H:%M")
    if role == "coordinator":
        kind = say(lang, f"urgent_kind_{alert.reason or 'text'}")
        return say(lang, "escalation", code=alert.youth_code, kind=kind, since=since,
                   unit=unit)
    if alert.reason == "talk":
        return say(lang, "urgent_talk", code=alert.youth_code, unit=unit)
    if role == "therapist":
        detail = _opened_rule(services, alert)
        note = (" " + say(lang, "urgent_unit_therapist_note", unit=alert.unit_code)
                if alert.unit_code else "")
        return say(lang, "urgent_text_therapist", code=alert.youth_code, detail=detail,
                   unit=note)
    return say(lang, "urgent_text_unit", code=alert.youth_code, unit=unit)


def _opened_rule(services: Services, alert: Alert) -> str:
    """The rule that fired, for the therapist; '?' when the alert was stored without it
    (sealing failed) or no key opens it: the alert itself must still go out."""
    try:
        return services.cipher.open_text(alert.detail.encode()) if alert.detail else "?"
    except Exception:
        log.exception("could not open the crisis rule of the alert for %s", alert.youth_code)
        return "?"


def role_label(acked_by: str | None, lang: Language) -> str:
    """Who acknowledged, by role ("de groepsleiding"), never by person or Telegram id."""
    role = (acked_by or "").partition(":")[0]
    return say(lang, f"role_{role}") if role in ROLES else "?"


async def role_in(services: Services, pseudonym: str,
                  alert: Alert) -> tuple[Role, Language] | None:
    """The sender's role for this alert, if they are one of its recipients."""
    therapist = await services.store.therapist_by_pseudonym(pseudonym)
    if therapist is not None and therapist.code == alert.therapist_code:
        return "therapist", therapist.language
    for unit in await services.store.units_of_contact(pseudonym):
        if unit.code == alert.unit_code:
            return "unit", unit.language
    if pseudonym in services.coordinators:
        return "coordinator", "nl"
    return None


async def ack_tap(services: Services, user_id: int, tap: AckTap,
                  lang_hint: Language) -> list[Action] | None:
    """Any recipient acknowledges an urgent alert: escalation stops and the others are
    told who took it up (by role). None when the alert is not an urgent one."""
    alert = await services.store.alert_by_ref(tap.alert_ref)
    if alert is None or alert.reason is None:
        return None
    found = await role_in(services, services.pseudonym(user_id), alert)
    if found is None:
        return [Toast(say(lang_hint, "not_your_alert"))]
    role, lang = found
    now = services.clock()
    code = {"therapist": alert.therapist_code, "unit": alert.unit_code or ""}.get(
        role) or coordinator_key(services.pseudonym(user_id))
    actor = {"therapist": alert.therapist_code, "unit": f"unit:{alert.unit_code}"}.get(
        role) or services.staff_actor("coordinator", user_id)
    acked = await acknowledge_urgent(services, alert, role, code, actor)
    current = acked.alert or alert
    when = (current.acked_at or now).astimezone(services.zone).strftime("%H:%M")
    text = urgent_text(services, current, role, lang)
    if acked.outcome is not AckOutcome.DONE:
        line = say(lang, "already_acked", role=role_label(current.acked_by, lang), when=when)
        return [EditTapped(f"{text}\n\n{line}"), Toast(line)]
    log.info("urgent alert for %s acknowledged by the %s", alert.youth_code, role)
    return [EditTapped(f"{text}\n\n{say(lang, 'acked', when=when)}"),
            Toast(say(lang, "acked", when=when))]


async def link_unit(services: Services, user_id: int, chat_id: int, token: str,
                    lang_hint: Language) -> list[Action] | None:
    """Link a unit's on-call phone; None when the token is not a unit invite."""
    invite = await services.store.invite(token_digest(token))
    if invite is None or invite.role != "unit":
        return None
    before_unit = await services.store.unit(invite.subject_code)
    before = before_unit.pseudonym if before_unit else None
    outcome = await services.store.bind_unit(
        token_digest(token), services.pseudonym(user_id), services.cipher.seal(chat_id),
        services.clock())
    unit = await services.store.unit(invite.subject_code)
    lang = unit.language if unit else lang_hint
    if outcome is BindOutcome.BOUND:
        if before is not None:
            await services.audit(f"unit:{invite.subject_code}", "rebind", "",
                                 "a new on-call phone after unbind")
        await services.audit(f"unit:{invite.subject_code}", "link", "",
                             "unit crisis contact linked")
        return [Reply(say(lang, "unit_linked", code=invite.subject_code))]
    key = {BindOutcome.USED: "invite_used", BindOutcome.EXPIRED: "invite_expired",
           BindOutcome.TAKEN: "invite_taken"}.get(outcome, "invite_unknown")
    return [Reply(say(lang, key))]


async def route_check(services: Services, coordinators: int) -> RouteCheck:
    """Check that every enrolled youth has a crisis route (see core.crisis_route)."""
    store = services.store
    linked = set()
    for unit in await store.all_units():
        if unit.pseudonym is not None and await store.contact(unit.pseudonym) is not None:
            linked.add(unit.code)
    units = await store.youth_units()
    youths = []
    for y in await store.active_youths():
        pseudonym = await store.therapist_pseudonym(y.therapist_code)
        youths.append(YouthRoute(y.code, y.therapist_code, pseudonym is not None,
                                 units.get(y.code)))
    return check_routes(youths, frozenset(linked), coordinators, services.default_unit)


async def unreached_section(services: Services, lang: Language) -> list[str]:
    """The overviews' loud part: urgent alerts that reached nobody and nobody has seen,
    with the reason per recipient (by role)."""
    alerts = await services.store.unreached_alerts()
    if not alerts:
        return []
    lines = [say(lang, "unreached_header")]
    for alert in alerts:
        unit = (" " + say(lang, "urgent_unit_suffix", unit=alert.unit_code)
                if alert.unit_code else "")
        since = (alert.nobody_since or alert.created_at).astimezone(services.zone)
        why = "; ".join(f"{d.recipient.partition(':')[0]}: {d.last_error or '-'}"
                        for d in await services.store.deliveries(alert.id))
        lines.append(say(lang, "unreached_line", code=alert.youth_code, unit=unit,
                         kind=say(lang, f"urgent_kind_{alert.reason or 'text'}"),
                         since=since.strftime("%d/%m %H:%M"),
                         why=why or say(lang, "unreached_none")))
    return lines
