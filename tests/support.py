"""Test support: a controllable clock and a harness running the real bot in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import Secrets, Settings, load_settings
from bot.enrolment import enroll_therapist, enroll_youth
from bot.wiring import BotApp, build_application, open_services, send_unsent
from conversations import usecases
from conversations.services import Services
from conversations.telegram_io import send_prompt
from core.identity import new_key
from core.questionnaire import Discipline, Language
from faketelegram import FakeTelegram, FakeUser, SentMessage
from storage.ports import NewYouth

START = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


class Clock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def write_config(
    directory: Path, base_url: str, token: str, log_level: str = "INFO", **checkin: object
) -> Path:
    """Write a config file and key files for a bot talking to `base_url`."""
    (directory / "token").write_text(token)
    (directory / "pseudonym.key").write_text(new_key())
    (directory / "contact.key").write_text(new_key())
    extra = "".join(f"{k} = {v!r}\n" for k, v in checkin.items())
    path = directory / "config.toml"
    path.write_text(
        "[telegram]\n"
        f'token_file = "token"\nbase_url = "{base_url}"\nbot_username = "vakbot_demo_bot"\n'
        "poll_timeout = 1\n"
        '[keys]\npseudonym_key_file = "pseudonym.key"\ncontact_key_file = "contact.key"\n'
        '[storage]\ndatabase = "bot.sqlite3"\n'
        f"[checkin]\n{extra}"
        f'[logging]\nlevel = "{log_level}"\n'
    )
    return path


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
    def database(self) -> Path:
        return self.settings.storage.database

    async def enrol(
        self, user: FakeUser, code: str = "J-014", *, therapist: str = "T-02",
        language: Language = "nl", simple: bool = False, birth_year: int = 2008,
    ) -> None:
        """Enrol a youth, open the invite link as the user and agree."""
        token = await self.invite(code, therapist=therapist, language=language,
                                  simple=simple, birth_year=birth_year)
        user.send(f"/start {token}")
        await self.fake.settle()
        user.tap(user.last, "✅")
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
        await send_prompt(self.services, self.app.bot, outgoing.chat_id, outgoing.prompt)
        await self.fake.settle(expect_response=False)

    async def resend_unsent(self) -> int:
        return await send_unsent(self.services, self.app.bot, self.clock())


@asynccontextmanager
async def running_bot(tmp_path: Path, **checkin: object) -> AsyncIterator[Harness]:
    """Start the fake Bot API and the real Application polling it, in this event loop."""
    async with FakeTelegram() as fake:
        config_path = write_config(tmp_path, fake.base_url, fake.token, **checkin)
        settings, secrets = load_settings(config_path)
        clock = Clock()
        services = await open_services(settings, secrets, clock)
        app = build_application(settings, secrets, services)
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0.0, timeout=1)
            await app.start()
            try:
                yield Harness(fake, settings, secrets, services, app, clock, config_path)
            finally:
                await app.updater.stop()
                await app.stop()
        await services.store.close()
        await asyncio.sleep(0)


def answered_items(message: SentMessage) -> bool:
    return "👉" in message.text
