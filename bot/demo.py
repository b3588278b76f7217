"""`python -m bot demo`: an offline run of the product against the built-in fake Telegram.

A coordinator enrols a therapist and a youth, the youth opens the invite and agrees,
a music-therapy session ends, the youth answers the check-in, and the demo prints what
the youth saw and what was stored (pseudonymised).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from bot.enrolment import enroll_therapist, enroll_youth
from bot.offline import OfflineBot, offline_bot
from conversations import usecases
from conversations.telegram_io import send_prompt
from core.questionnaire import Language
from faketelegram import FakeUser, SentMessage
from storage.ports import NewYouth

YOUTH_ID = 700000123


class Transcript:
    """What the youth saw, in order: bot messages and the youth's own actions.

    Messages are rendered at the end, in their final form: a tapped question shows the
    choice, as it does on the youth's phone after the tap.
    """

    def __init__(self, user: FakeUser, lang: Language) -> None:
        self.user, self.lang = user, lang
        self.entries: list[str | SentMessage] = []
        self._seen = 0

    def youth(self, action: str) -> None:
        self.entries.append(f"🧒  {action}")

    def collect(self) -> None:
        self.entries.extend(self.user.inbox[self._seen:])
        self._seen = len(self.user.inbox)

    def text(self) -> str:
        return "\n".join(e if isinstance(e, str) else _render(e) for e in self.entries) + "\n"


def _render(message: SentMessage) -> str:
    body = "\n".join(f"    {line}" if line else "" for line in message.text.splitlines())
    buttons = "".join(f"\n      [ {label} ]" for label in message.button_labels())
    return f"🤖\n{body}{buttons}"


def _step(label: str) -> None:
    print(f"  • {label}", flush=True)


async def _tap(bot: OfflineBot, transcript: Transcript, label: str) -> None:
    transcript.collect()
    message = [m for m in transcript.user.inbox if m.buttons][-1]
    choice = next(b for b in message.button_labels() if label in b)
    transcript.user.tap(message, label)
    await bot.fake.settle()
    transcript.youth(f"{ACTIONS[transcript.lang]['tap']}: {choice.removeprefix('✔️ ')}")


async def _say(bot: OfflineBot, transcript: Transcript, text: str) -> None:
    transcript.collect()
    transcript.user.send(text)
    await bot.fake.settle()
    transcript.youth(f"{ACTIONS[transcript.lang]['type']}: {text}")
    transcript.collect()


ACTIONS: dict[Language, dict[str, str]] = {
    "nl": {"open": "opent de uitnodigingslink", "tap": "tikt", "type": "typt"},
    "en": {"open": "opens the invite link", "tap": "taps", "type": "types"},
}

SCRIPT: dict[Language, dict[str, str]] = {
    "nl": {"agree": "Ik doe mee", "bond": "Goed", "goal": "Oké", "task": "Heel goed",
           "medium": "Goed", "event": "Iets leuks",
           "note": "Het drummen ging beter dan vorige week"},
    "en": {"agree": "I'm in", "bond": "Good", "goal": "Okay", "task": "Very good",
           "medium": "Good", "event": "Something good",
           "note": "Drumming went better than last week"},
}


async def run_demo(out: Path, lang: Language = "nl") -> int:
    """Run the scripted demo into `out` and print where everything is."""
    started = time.monotonic()
    if out.exists():
        shutil.rmtree(out)
    print(f"Offline demo ({'Nederlands' if lang == 'nl' else 'English'}), writing to {out}/")
    script = SCRIPT[lang]
    async with offline_bot(out) as bot:
        store, now = bot.services.store, bot.services.clock()
        _step("coordinator enrols therapist T-02 and youth J-014 (born 2009)")
        await enroll_therapist(store, "T-02", lang, now)
        invitation = await enroll_youth(store, NewYouth("J-014", "T-02", 2009, lang, False, None),
                                        now, bot.services.invite_ttl)
        youth = bot.fake.user(YOUTH_ID, language_code=lang)
        transcript = Transcript(youth, lang)
        _step(f"youth opens the invite link {invitation.link('vakbot_demo_bot')[:40]}…")
        transcript.youth(ACTIONS[lang]["open"])
        youth.send(f"/start {invitation.token}")
        await bot.fake.settle()
        _step("youth reads the explanation and agrees")
        await _tap(bot, transcript, script["agree"])
        _step("a music therapy session ends: the check-in is sent")
        transcript.collect()
        outgoing = await usecases.start_checkin(bot.services, "J-014", "demo-session-1", "music")
        assert outgoing is not None
        await send_prompt(bot.services, bot.app.bot, outgoing.chat_id, outgoing.prompt)
        await bot.fake.settle(expect_response=False)
        _step("youth answers bond, goal, task, medium and the day question")
        for item in ("bond", "goal", "task", "medium", "event"):
            await _tap(bot, transcript, script[item])
        _step("youth types a short note")
        await _say(bot, transcript, script["note"])
        transcript.collect()
        database = bot.settings.storage.database
    (out / "transcript.txt").write_text(transcript.text(), encoding="utf-8")
    print("\nWhat the youth saw:\n")
    print(transcript.text())
    print("What was stored (answers, by pseudonym; no Telegram id, no name):")
    with sqlite3.connect(database) as conn:
        for row in conn.execute(
            "SELECT substr(c.youth_pseudonym, 1, 12) || '…', a.item, a.value,"
            " a.questionnaire_version FROM answers a JOIN checkins c ON c.id = a.checkin_id"
            " ORDER BY a.rowid"
        ):
            print("  " + "  ".join(str(v) for v in row))
    print(f"\nDone in {time.monotonic() - started:.1f} s.")
    print(f"  database:   {database}")
    print(f"  transcript: {out / 'transcript.txt'}")
    print(f"  config:     {bot.config_path} (keys beside it, outside the database)")
    return 0
