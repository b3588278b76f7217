"""`python -m bot demo`: a simulated clinic, offline, against the built-in fake Telegram.

Three therapists and twelve youths with realistic patterns (steady, flat ceiling, rupture
then repair, drifting off, missed sessions, a youth in 3-point simple mode, one crisis
phrase) go through eight weeks of weekly sessions. Everything runs through the real
handlers, delivery engine and database on a virtual clock; only Telegram is fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

from bot.demo_kiosk import answer_on_kiosk, setup_kiosk
from bot.export import export
from bot.offline import OfflineBot, VirtualClock, offline_bot
from bot.rules import default_timing
from bot.wiring import make_engine
from conversations.enrolment import enroll_therapist, enroll_youth
from core.delivery import Window
from core.flow import plan_steps
from core.questionnaire import Discipline, Language
from core.records import NewSeries, NewYouth, PhoneWindow
from faketelegram import FakeUser, SentMessage
from scheduler.engine import Engine

START = datetime(2026, 10, 5, 5, 0, tzinfo=UTC)    # Monday 5 October, 07:00 in Amsterdam
WEEKS = 8
COORDINATOR = 9001
MAX_STEP = timedelta(hours=6)


@dataclass(frozen=True)
class DemoYouth:
    code: str
    therapist: str
    pattern: str
    levels: tuple[int | None, ...]   # weekly answer level; None = does not answer
    discipline: Discipline
    weekday: int
    hour: int
    simple: bool = False
    crisis_week: int | None = None
    no_session_week: int | None = None   # taps "Ik had geen therapie" that week


# Youths answer differently per question (domain.md: some engage on task long before
# bond); a dimension not named here follows the youth's `levels`.
BY_ITEM: dict[str, dict[str, tuple[int | None, ...]]] = {
    "J-101": {"bond": (3, 4, 3, 4, 4, 4, 4, 4), "medium": (5, 5, 4, 5, 5, 5, 4, 5)},
    "J-103": {"bond": (4, 4, 4, 4, 1, 3, 4, 4), "goal": (4,) * 8, "task": (4,) * 8,
              "medium": (4, 5, 4, 4, 4, 4, 5, 4)},
    "J-104": {"bond": (5, 4, 4, 3, None, None, None, None)},
    "J-105": {"goal": (2, None, 2, None, 3, 3, None, 3), "task": (4, None, 5, None, 4, 5,
                                                                  None, 5)},
    "J-107": {"task": (4, 4, 5, 4, 4, 4, 5, 4), "bond": (3, 3, 3, 2, 2, 3, 3, 3)},
    "J-109": {"task": (4, 4, 4, 5, 4, 5, 5, 5), "medium": (4, 4, 5, 5, 5, 5, 5, 5),
              "goal": (2, 3, 3, 3, 4, 4, 4, 4), "bond": (2, 2, 2, 3, 3, 3, 4, 4)},
}


NOT_SHARING = frozenset({"J-110"})
CLINIC = (
    DemoYouth("J-101", "T-01", "steady", (4, 4, 3, 4, 4, 4, 3, 4), "music", 0, 10),
    DemoYouth("J-102", "T-01", "flat ceiling", (5,) * 8, "drama", 0, 14),
    DemoYouth("J-103", "T-01", "rupture, then repair", (4, 4, 4, 4, 2, 4, 4, 4), "music", 1, 10),
    DemoYouth("J-104", "T-01", "drifting off", (4, 4, 3, 3, None, None, None, None),
              "dance", 1, 14),
    DemoYouth("J-105", "T-02", "missed sessions", (3, None, 4, None, 3, 4, None, 4),
              "visual_art", 2, 10),
    DemoYouth("J-106", "T-02", "3-point simple mode", (2, 2, 3, 2, 3, 3, 2, 3),
              "psychomotor", 2, 14, simple=True),
    DemoYouth("J-107", "T-02", "crisis phrase in week 5", (3, 3, 4, 3, 3, 3, 4, 3), "drama",
              3, 10, crisis_week=4),
    DemoYouth("J-108", "T-02", "excellent early, then a drop", (5, 5, 5, 4, 4, 5, 4, 4),
              "music", 3, 14),
    DemoYouth("J-109", "T-03", "improving; task and medium before bond",
              (2, 2, 3, 3, 4, 4, 4, 5), "visual_art", 4, 10),
    DemoYouth("J-110", "T-03", "steady; chose not to share with the therapist",
              (3, 4, 4, 4, 3, 4, 4, 4), "dance", 4, 14),
    DemoYouth("J-111", "T-03", "wobbly; 'I had no session' in week 3",
              (3, 4, 3, 4, 3, 4, 3, 4), "psychomotor", 0, 16, no_session_week=2),
    DemoYouth("J-112", "T-03", "steady, ward phone hours", (4, 3, 4, 4, 4, 4, 4, 4), "music",
              1, 16),
)
THERAPIST_CHATS = {"T-01": 600000001, "T-02": 600000002, "T-03": 600000003}
NOTES = {"nl": "Het ging beter dan vorige week", "en": "It went better than last week"}
CRISIS = {"nl": "soms wil ik dood", "en": "sometimes I want to die"}


def _step(text: str) -> None:
    print(f"  • {text}", flush=True)


async def _setup(bot: OfflineBot, lang: Language) -> dict[str, FakeUser]:
    store, now = bot.services.store, bot.services.clock()
    for code, chat in THERAPIST_CHATS.items():
        invitation = await enroll_therapist(store, code, lang, now, bot.services.invite_ttl)
        assert invitation is not None
        bot.fake.user(chat, lang).send(f"/start {invitation.token}")
        await bot.fake.settle(quiet=0.05)
    users = {}
    for n, y in enumerate(CLINIC):
        invitation = await enroll_youth(store, NewYouth(y.code, y.therapist, 2008 + n % 4,
                                                        lang, y.simple, date(2026, 9, 1)),
                                        now, bot.services.invite_ttl)
        # Guardians of the youngest agreed to research use too (below 16 it is asked first).
        await store.set_guardian_research_consent(y.code, date(2026, 9, 1))
        user = bot.fake.user(700000101 + n, lang)
        user.send(f"/start {invitation.token}")
        await bot.fake.settle(quiet=0.05)
        user.tap(user.last, "✅")
        await bot.fake.settle(quiet=0.05)
        user.tap(user.last, "🙅" if y.code in NOT_SHARING else "✅")   # the sharing question
        await bot.fake.settle(quiet=0.05)
        users[y.code] = user
        if n % 4 != 3:                       # most youths agree to research use, not all
            user.send("/research")
            await bot.fake.settle(quiet=0.05)
            user.tap(user.last, "✅")
            await bot.fake.settle(quiet=0.05)
        await store.add_series(NewSeries(
            y.therapist, (y.code,), y.discipline, frozenset({y.weekday}),
            clock_time(y.hour, 0), timedelta(minutes=60), "Europe/Amsterdam", START.date(),
            None, default_timing(bot.settings)), now)
    await store.set_unit("J-112", "W-2")
    await store.add_window(PhoneWindow("unit", "W-2", Window(frozenset(range(7)),
                                                             clock_time(18), clock_time(21))))
    return users


async def _tap_index(bot: OfflineBot, user: FakeUser, message: SentMessage, index: int) -> None:
    query = user.tap_data(message, message.buttons[index][0][1])
    for _ in range(200):
        if query in bot.fake.answered and user.last is not message:
            break
        await asyncio.sleep(0.01)


async def _answer(bot: OfflineBot, y: DemoYouth, user: FakeUser, week: int,
                  lang: Language) -> None:
    """Answer the open check-in the way this youth does, or leave it."""
    week = min(week, WEEKS - 1)
    if y.levels[week] is None:
        return
    steps = plan_steps(bot.services.questionnaire, with_medium=True)
    for _ in range(8):
        message = user.last
        if not message.buttons or "👉" in message.text:
            return
        labels = message.button_labels()
        if len(labels) == 1:                                   # the note: type or finish
            if y.crisis_week == week:
                user.send(CRISIS[lang])
            elif week % 3 == 0:
                user.send(NOTES[lang])
            else:
                await _tap_index(bot, user, message, 0)
                continue
            await bot.fake.settle(quiet=0.05)
            return
        if not any(label.startswith("🤐") for label in labels):   # what happened today
            await _tap_index(bot, user, message, 0 if week % 2 else 1)
            continue
        if y.no_session_week == week:                          # "Ik had geen therapie"
            await _tap_index(bot, user, message, len(message.buttons) - 1)
            return
        index = int(message.buttons[0][0][1].split("|", 1)[-1].split(":")[2])
        level = BY_ITEM.get(y.code, {}).get(steps[index].key, y.levels)[week]
        await _tap_index(bot, user, message, (level or 3) - 1)


async def _therapists_respond(bot: OfflineBot, seen: dict[int, int]) -> None:
    """T-01 and T-02 rate their sessions; T-01 acknowledges alerts; T-03 is busy."""
    tapped = False
    for code, chat in THERAPIST_CHATS.items():
        therapist = bot.fake.user(chat)
        for message in therapist.inbox[seen.get(chat, 0):]:
            if message.buttons and len(message.buttons) == 4 and code != "T-03":
                for row, value in ((0, 3), (1, 3), (2, 2)):
                    therapist.tap_data(message, message.buttons[row][value][1])
                tapped = True
            elif message.buttons and len(message.buttons) == 1 and code == "T-01":
                therapist.tap_data(message, message.buttons[0][0][1])
                tapped = True
        seen[chat] = len(therapist.inbox)
    if tapped:
        await bot.fake.settle(quiet=0.05)


async def _simulate(bot: OfflineBot, engine: Engine, users: dict[str, FakeUser],
                    clock: VirtualClock, lang: Language, tablet: str) -> None:
    seen: dict[int, int] = {}
    codes_read = 0
    weeks_answered = {y.code: 0 for y in CLINIC}
    end = START + timedelta(weeks=WEEKS, days=1, hours=4)
    current_week = -1
    while clock() < end:
        due = await bot.services.store.next_due()
        target = clock() + MAX_STEP if due is None else min(due, clock() + MAX_STEP)
        clock.now = max(target, clock() + timedelta(minutes=1))
        await engine.tick(bot.channel)
        week = (clock() - START).days // 7
        if week != current_week and week < WEEKS:
            current_week = week
            monday = (START + timedelta(weeks=week)).astimezone().strftime("%d %b")
            _step(f"week {week + 1} of {WEEKS} (from {monday})")
        for y in CLINIC:
            user = users[y.code]
            if len(user.inbox) != seen.get(user.id, 0):
                intro = sum(m.text.startswith(("Hoi! 👋 Een paar vragen over", "Hi! 👋 A few"))
                            for m in user.inbox)
                weeks_answered[y.code] = max(intro - 1, 0)
                await _answer(bot, y, user, weeks_answered[y.code], lang)
                seen[user.id] = len(user.inbox)
        codes_read = await answer_on_kiosk(bot, bot.fake.user(THERAPIST_CHATS["T-01"]),
                                           codes_read, tablet, max(current_week, 0))
        await _therapists_respond(bot, seen)


def _transcript(user: FakeUser) -> str:
    lines = []
    for message in user.inbox:
        body = "\n".join(f"    {line}" if line else "" for line in message.text.splitlines())
        buttons = "".join(f"\n      [ {b} ]" for b in message.button_labels())
        lines.append(f"🤖\n{body}{buttons}")
    return "\n".join(lines) + "\n"


async def run_demo(out: Path, lang: Language = "nl") -> int:
    """Run the clinic into `out` and print where everything is."""
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    print(f"Offline demo ({'Nederlands' if lang == 'nl' else 'English'}): 3 therapists, "
          f"{len(CLINIC)} youths, {WEEKS} weeks, writing to {out}/", flush=True)
    clock = VirtualClock(START)
    extra = f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n"
    # Telegram's real-time rate limits make no sense on a virtual clock: eight weeks of
    # messages would take minutes at 25 a second. Everything else is the production path.
    async with offline_bot(out, clock, tick=False, extra_toml=extra,
                           rate_limited=False) as bot:
        _step("coordinator enrols 3 therapists and 12 youths; everyone opens their invite")
        users = await _setup(bot, lang)
        _step("J-113 (13, no phone) answers on the therapy room's tablet, with a code "
              "T-01 gets after each session")
        tablet = await setup_kiosk(bot, lang, START)
        engine = make_engine(bot.settings, bot.services)
        engine.coordinator_chats = (COORDINATOR,)
        await _simulate(bot, engine, users, clock, lang, tablet)
        database = bot.settings.storage.database
        images = out / "images"
        images.mkdir()
        written = []
        for code, chat in THERAPIST_CHATS.items():
            photos = [m for m in bot.fake.messages(chat) if m.photo is not None]
            for n, photo in enumerate(photos[-2:] if len(photos) > 1 else photos):
                target = images / f"{code}-report-{len(photos) - 1 + n}.png"
                assert photo.photo is not None
                target.write_bytes(photo.photo)
                written.append((target, photo.text))
        (out / "transcript-J-103.txt").write_text(_transcript(users["J-103"]), "utf-8")
        exported = await export(bot.services.store, out / "research-export")
    # closing(): sqlite3's own `with` only commits; an open connection (with a statement
    # left unfinished) would hold a read snapshot while the demo's console runs on.
    with contextlib.closing(sqlite3.connect(database)) as conn:
        alerts = list(conn.execute("SELECT kind, youth_code, therapist_code, acked_at IS NOT"
                                   " NULL FROM alerts ORDER BY created_at"))
        sent = conn.execute("SELECT count(*) FROM outbox WHERE kind = 'checkin' AND state ="
                            " 'sent'").fetchone()[0]
        complete = conn.execute("SELECT count(*) FROM checkins WHERE status = 'complete'"
                                ).fetchone()[0]
        on_kiosk = conn.execute("SELECT count(*) FROM kiosk_codes WHERE used_at IS NOT NULL"
                                ).fetchone()[0]
        answers = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        escalated = conn.execute("SELECT count(DISTINCT alert_id) FROM alert_deliveries WHERE"
                                 " recipient LIKE 'coordinator:%' AND state = 'sent'"
                                 ).fetchone()[0]
    print(f"\nDone in {time.monotonic() - started:.0f} s. {sent} check-ins sent, {complete} "
          f"completed, {sent - complete} not completed; {answers} answers stored; "
          f"{on_kiosk} check-ins answered on the kiosk tablet.")
    print("Alerts raised:")
    for kind, youth, therapist, acked in alerts:
        state = "acknowledged" if acked else "not acknowledged"
        print(f"  {kind:<8} {youth} -> {therapist}  ({state})")
    print(f"  {escalated} unacknowledged urgent alert(s) escalated to the coordinator.")
    print("Where everything is:")
    print(f"  database:     {database}")
    print(f"  transcript:   {out / 'transcript-J-103.txt'}  (what J-103 saw)")
    for target, text in written:
        print(f"  weekly image: {target}\n                {text}")
    print(f"  research export: {out / 'research-export'}/answers_long.csv + codebook.md "
          f"({exported} youths who agreed; ids re-keyed, dates shifted, no free text)")
    print(f"  config:       {out / 'config.toml'} (keys beside it, outside the database)")
    return 0
