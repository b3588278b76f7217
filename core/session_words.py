"""Which session a check-in is about, in the youth's words ("je muziek van vanochtend").

With phone hours a check-in often arrives hours after the session, or the next day; the
first message must say which therapy and when, or the answers are about the wrong hour.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.questionnaire import Discipline, Language
from core.texts import say

# A session is placed by when it ended: a session that ends by 13:00 was "this morning",
# one that ends by 18:30 "this afternoon", later ones "this evening".
_MORNING_UNTIL = (13, 0)
_AFTERNOON_UNTIL = (18, 30)


def when_key(session_end: datetime, now: datetime, zone: ZoneInfo) -> tuple[str, int]:
    """The message key for when the session was, and the weekday (0 = Monday) for
    sessions longer ago than yesterday. Both times are aware; days are local days."""
    end, today = session_end.astimezone(zone), now.astimezone(zone)
    days = (today.date() - end.date()).days
    if days <= 0:
        hm = (end.hour, end.minute)
        if hm <= _MORNING_UNTIL:
            return "when_morning", end.weekday()
        return ("when_afternoon" if hm <= _AFTERNOON_UNTIL else "when_evening"), end.weekday()
    if days == 1:
        return "when_yesterday", end.weekday()
    if days < 7:
        return "when_weekday", end.weekday()
    return "when_earlier", end.weekday()


def session_phrase(lang: Language, discipline: Discipline | None, session_end: datetime,
                   now: datetime, zone: ZoneInfo) -> str:
    """E.g. "je muziek van vanochtend" / "your music session this morning"."""
    key, weekday = when_key(session_end, now, zone)
    day = say(lang, "weekdays").split(",")[weekday]
    when = say(lang, key, day=day)
    therapy = say(lang, f"therapy_{discipline}" if discipline else "therapy_any")
    return say(lang, "session_phrase", therapy=therapy, when=when)


def checkin_intro(lang: Language, discipline: Discipline | None, session_end: datetime,
                  now: datetime, zone: ZoneInfo) -> str:
    """The first lines of a check-in: which session, what to do, and that honesty is fine."""
    about = session_phrase(lang, discipline, session_end, now, zone)
    return say(lang, "checkin_intro_about", about=about)


