"""The demo's kiosk youth: J-113 (13, no phone) answers on the therapy room's tablet.

Through the real engine and the real kiosk use cases: after each session the therapist
gets a code in (fake) Telegram, the youth types it on a tablet registered for unit W-1,
agrees to take part the first time, and answers the same questions as in Telegram.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from bot.offline import OfflineBot
from bot.rules import default_timing
from conversations import kiosk, kiosk_staff
from conversations.enrolment import enroll_unit, enroll_youth
from core.questionnaire import Language
from core.records import NewSeries, NewYouth
from faketelegram import FakeUser

CODE = "J-113"
THERAPIST = "T-01"
UNIT = "W-1"
LEVELS = (3, 3, 4, 4, 3, 4, 4, 5)          # warming up slowly
_NOTICE = re.compile(r"(?:Kioskcode voor|Kiosk code for) (J-\d+): (\d{3}) (\d{3})")


async def setup_kiosk(bot: OfflineBot, lang: Language, start: datetime) -> str:
    """Enrol J-113 without an invite (the kiosk is the default below 16), give them a
    Monday session, register the unit's tablet; return the tablet's device token."""
    store, now = bot.services.store, bot.services.clock()
    await enroll_youth(store, NewYouth(CODE, THERAPIST, 2013, lang, False, date(2026, 9, 1)),
                       now, bot.services.invite_ttl)
    if await store.unit(UNIT) is None:
        await enroll_unit(store, UNIT, lang, now, bot.services.invite_ttl)
    await store.set_unit(CODE, UNIT)
    await store.add_series(NewSeries(
        THERAPIST, (CODE,), "visual_art", frozenset({0}), clock_time(15, 0),
        timedelta(minutes=60), "Europe/Amsterdam", start.date(), None,
        default_timing(bot.settings)), now)
    return await kiosk_staff.register_device(bot.services, UNIT, "therapy room", "coordinator:demo")


async def answer_on_kiosk(bot: OfflineBot, therapist: FakeUser, seen: int, tablet: str,
                          week: int) -> int:
    """Codes that reached the therapist since message `seen`, typed on the tablet and
    answered; returns how far the therapist's messages were read."""
    for message in therapist.inbox[seen:]:
        found = _NOTICE.search(message.text)
        if found is None or found.group(1) != CODE:
            continue
        entered = await kiosk.enter_code(bot.services, tablet, found.group(2) + found.group(3))
        if not isinstance(entered, kiosk.Entered):
            continue
        shown = await kiosk.entered_screen(bot.services, entered.session_token,
                                            device=tablet)
        while isinstance(shown, kiosk.ConsentScreen):
            shown = await kiosk.answer_consent(bot.services, entered.session_token,
                                               shown.scope, shown.number, agree=True,
                                               device=tablet)
        level = LEVELS[min(week, len(LEVELS) - 1)]
        while isinstance(shown, kiosk.Question):
            if shown.is_note:
                shown = await kiosk.note(bot.services, entered.session_token, "", device=tablet)
                break
            value = str(level) if shown.options[0].value == "1" else shown.options[0].value
            shown = await kiosk.answer(bot.services, entered.session_token, shown.step, value,
                                       device=tablet)
        await kiosk.finish(bot.services, entered.session_token)
    return len(therapist.inbox)
