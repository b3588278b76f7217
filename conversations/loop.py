"""Closing the loop in Telegram, free of Telegram types: the youth's own line
(/mijnlijn), the therapist's simple-mode switch (/simpel) and "Besproken" on alerts."""

from __future__ import annotations

from collections.abc import Sequence

from conversations.actions import Action, EditTapped, Reply, Toast
from conversations.services import Services
from conversations.staff import alert_text, me
from core.callbacks import DiscussTap
from core.loop import PastCheckin, my_line
from core.questionnaire import Language
from core.texts import say

MY_LINE_SESSIONS = 6
_ON = {"aan": True, "on": True, "uit": False, "off": False}


async def my_line_command(services: Services, user_id: int,
                          lang_hint: Language) -> list[Action]:
    """/mijnlijn: the youth's last sessions as a row of faces per question."""
    youth = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if youth is None or youth.pseudonym is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    checkins = await services.store.recent_checkins(youth.pseudonym, MY_LINE_SESSIONS)
    past = [PastCheckin(services.questionnaire_of(c), c.simple_mode, c.answers)
            for c in checkins]
    return [Reply(my_line(youth.language, services.questionnaire, youth.simple_mode, past))]


async def simple_command(services: Services, user_id: int, args: Sequence[str],
                         lang_hint: Language) -> list[Action]:
    """/simpel J-014 aan|uit: a therapist switches a youth of their own to 3 or 5 answers.

    It applies from the next check-in (an open one keeps its scale) and is audited."""
    therapist = await me(services, user_id)
    if therapist is None:
        return [Reply(say(lang_hint, "staff_only"))]
    lang = therapist.language
    if len(args) != 2 or args[1].lower() not in _ON:
        return [Reply(say(lang, "simple_usage"))]
    code, on = args[0].upper(), _ON[args[1].lower()]
    youth = await services.store.youth_by_code(code)
    if youth is None or youth.therapist_code != therapist.code:
        return [Reply(say(lang, "simple_not_yours", code=code))]
    changed = await services.store.set_simple_mode(code, on)
    if not changed:
        return [Reply(say(lang, "simple_already_on" if on else "simple_already_off", code=code))]
    await services.audit(therapist.code, "set-simple", code, "on" if on else "off")
    return [Reply(say(lang, "simple_on" if on else "simple_off", code=code))]


async def discuss_tap(services: Services, user_id: int, tap: DiscussTap,
                      lang_hint: Language) -> list[Action]:
    """"Besproken": the therapist talked the alert through with the youth. Recorded with
    the time (and as seen, if it was not yet), audited, and shown in the message."""
    therapist = await me(services, user_id)
    alert = await services.store.alert_by_ref(tap.alert_ref)
    if therapist is None or alert is None or alert.therapist_code != therapist.code:
        return [Toast(say(lang_hint, "not_your_alert"))]
    lang, now = therapist.language, services.clock()
    if await services.store.discuss_alert(alert.ref, now):
        await services.audit(therapist.code, "discussed", alert.youth_code, alert.kind)
    fresh = await services.store.alert_by_ref(alert.ref) or alert
    when = (fresh.discussed_at or now).astimezone(services.zone).strftime("%H:%M")
    seen = (fresh.acked_at or now).astimezone(services.zone).strftime("%H:%M")
    text = (f"{alert_text(services, alert, lang)}\n\n{say(lang, 'acked', when=seen)}\n"
            f"{say(lang, 'discussed', when=when)}")
    return [EditTapped(text), Toast(say(lang, "discussed", when=when))]
