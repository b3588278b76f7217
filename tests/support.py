"""Test support: a controllable clock and a harness running the real bot in-process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.application import BotApp
from bot.cli import main
from bot.config import Secrets, Settings
from bot.offline import VirtualClock, offline_bot
from conversations import usecases
from conversations.enrolment import enroll_therapist, enroll_youth
from conversations.services import Services
from conversations.telegram_io import TelegramChannel, button_key, send_prompt, send_unsent
from core.callbacks import bind
from core.questionnaire import Discipline, Language
from core.records import NewYouth
from faketelegram import FakeTelegram, FakeUser, SentMessage

START = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
# Seconds a test waits for an event before it fails. Generous, because the suite runs on a
# loaded machine; a passing test never waits this long, it waits for the event.
DEADLINE = 120.0


async def wait_until(condition: Callable[[], bool], what: str,
                     limit: float = DEADLINE) -> None:
    """Poll `condition` until it holds; fail naming `what` after `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting until {what}")
        await asyncio.sleep(0.02)


async def wait_for_next_message(youth: FakeUser, query: str, tapped: SentMessage) -> None:
    """Wait until the tap `query` on `tapped` was answered and a newer message shows."""
    await wait_until(lambda: query in youth.fake.answered and youth.last is not tapped,
                     "the tap is answered and the next message shown")


class Clock(VirtualClock):
    """The tests' virtual clock, starting on a Monday afternoon."""

    def __init__(self, start: datetime = START) -> None:
        super().__init__(start)


@dataclass
class Harness:
    fake: FakeTelegram
    settings: Settings
    secrets: Secrets
    services: Services
    app: BotApp
    clock: Clock
    config_path: Path

    @property
    def channel(self) -> TelegramChannel:
        """The channel port on the fake Telegram: what the engine sends by."""
        return TelegramChannel(self.services, self.app.bot)

    @property
    def database(self) -> Path:
        return self.settings.storage.database

    async def enrol(
        self, user: FakeUser, code: str = "J-014", *, therapist: str = "T-02",
        language: Language = "nl", simple: bool = False, birth_year: int = 2008,
        share: bool = True,
    ) -> None:
        """Enrol a youth, open the invite link as the user, agree to take part, and answer
        the separate question about sharing with the therapist."""
        token = await self.invite(code, therapist=therapist, language=language,
                                  simple=simple, birth_year=birth_year)
        user.send(f"/start {token}")
        await self.fake.settle()
        user.tap(user.last, "✅")
        await self.fake.settle()
        user.tap(user.last, "✅" if share else "🙅")
        await self.fake.settle()

    async def invite(
        self, code: str, *, therapist: str = "T-02", language: Language = "nl",
        simple: bool = False, birth_year: int = 2008,
    ) -> str:
        store = self.services.store
        if await store.therapist(therapist) is None:
            await enroll_therapist(store, therapist, "nl", self.clock())
        invitation = await enroll_youth(
            store, NewYouth(code, therapist, birth_year, language, simple, None),
            self.clock(), self.services.invite_ttl,
        )
        return invitation.token

    async def checkin(
        self, code: str = "J-014", discipline: Discipline | None = "music",
        occurrence: str = "s1",
    ) -> None:
        """Start a check-in as the scheduler will, and wait for the first question."""
        outgoing = await usecases.start_checkin(self.services, code, occurrence, discipline)
        assert outgoing is not None
        await send_prompt(self.services, self.app.bot, outgoing.chat_id, outgoing.prompt)
        await self.fake.settle(expect_response=False)

    async def answer_everything(self, user: FakeUser, note: str) -> None:
        """Enrol the user as J-014, run one check-in, tap every answer and type a note."""
        await self.enrol(user)
        await self.checkin(discipline=None)
        for label in ("Goed", "Gewoon", "Goed", "Iets leuks"):
            user.tap(user.last, label)
            await self.fake.settle()
        user.send(note)
        await self.fake.settle()

    def button(self, message: SentMessage, data: str) -> str:
        """Callback data the bot itself could have put on `message` (an older button of it):
        bound with that message's nonce, so the use case behind the binding is tested."""
        nonce = message.buttons[0][0][1].split(".", 1)[0]
        return bind(button_key(self.services), message.chat_id, nonce, data)

    async def resend_unsent(self) -> int:
        return await send_unsent(self.services, self.app.bot, self.clock())


@asynccontextmanager
async def running_bot(tmp_path: Path, *, extra_toml: str = "") -> AsyncIterator[Harness]:
    """The real bot, polling the fake Bot API in this event loop, on a controllable clock."""
    clock = Clock()
    async with offline_bot(tmp_path, clock, tick=False, extra_toml=extra_toml) as running:
        yield Harness(running.fake, running.settings, running.secrets, running.services,
                      running.app, clock, running.config_path)


def data_of(message: SentMessage) -> list[str]:
    """What each button of a message stands for, without its binding to the message."""
    return [data.split("|", 1)[-1] for row in message.buttons for _, data in row]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run `python -m bot ARGV` in-process; return the exit code and all output."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err
