"""Run the real bot in this process against the built-in fake Telegram.

Used by the demo, the benchmarks and the tests: the same Application, handlers and
database as production; only the far side of the HTTP connection is fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.application import BotApp
from bot.config import Secrets, Settings, load_settings
from bot.wiring import build_application, open_services, utcnow
from conversations.services import Clock, Services
from conversations.telegram_io import TelegramChannel
from core.identity import new_key, token_digest
from core.records import Consent, NewYouth
from faketelegram import FakeTelegram
from storage.private_files import create_secret


def write_config(
    directory: Path, base_url: str, token: str, *, log_level: str = "WARNING",
    checkin: dict[str, object] | None = None, schedule: dict[str, object] | None = None,
    extra_toml: str = "",
) -> Path:
    """Write a config file, a token file and key files for a bot at `base_url`.

    Existing key files are kept, so a bot restarted in the same directory still knows
    its youths; fresh ones are made where there are none.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(token)
    (directory / "token").chmod(0o600)
    for name in ("pseudonym.key", "contact.key", "text.key"):
        if not (directory / name).exists():
            create_secret(directory / name, new_key())
    extra = "".join(f"{k} = {v!r}\n" for k, v in (checkin or {}).items())
    planning = "".join(f"{k} = {v!r}\n" for k, v in (schedule or {}).items())
    # Any free port for the console unless told: tests and demos never fight over 8080.
    console = "" if "[console]" in extra_toml else "[console]\nport = 0\n"
    path = directory / "config.toml"
    path.write_text(
        "[telegram]\n"
        f'token_file = "token"\nbase_url = "{base_url}"\nbot_username = "vakbot_demo_bot"\n'
        "poll_timeout = 1\nrequest_timeout = 2\nchat_burst = 20\n"
        "inbound_burst = 1000\nstranger_reply_minutes = 0\n"
        '[keys]\npseudonym_key_file = "pseudonym.key"\ncontact_key_file = "contact.key"\n'
        'text_key_file = "text.key"\n'
        '[storage]\ndatabase = "bot.sqlite3"\n'
        f"[checkin]\n{extra}"
        f"[schedule]\n{planning}"
        f'[logging]\nlevel = "{log_level}"\n'
        f"{console}"
        f"{extra_toml}"
    )
    return path


async def join_directly(services: Services, code: str, therapist: str, user_id: int,
                        now: datetime) -> None:
    """Enrol a youth who has joined and answered both first questions (taking part and
    sharing: yes), without the conversation: for load tests of hundreds of youths."""
    store = services.store
    await store.add_youth(NewYouth(code, therapist, 2008, "nl", False, None), now)
    await store.add_invite(token_digest(code), "youth", code, now, now + timedelta(days=1))
    for scope in ("participation", "sharing"):
        text = services.consents.current(scope)
        consent = Consent(scope, text.version, text.sha256("nl"), "nl")
        if scope == "participation":
            await store.bind_youth(token_digest(code), services.pseudonym(user_id),
                                   services.cipher.seal(user_id), consent, now)
        else:
            await store.set_consent(services.pseudonym(user_id), consent, True, now)


class VirtualClock:
    """A clock that moves only when told to: weeks of schedules run in seconds."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class OfflineBot:
    fake: FakeTelegram
    settings: Settings
    secrets: Secrets
    services: Services
    app: BotApp
    config_path: Path

    @property
    def channel(self) -> TelegramChannel:
        """The channel port on this bot's Telegram (the fake): what the engine sends by."""
        return TelegramChannel(self.services, self.app.bot)


@asynccontextmanager
async def offline_bot(
    directory: Path, clock: Clock = utcnow, checkin: dict[str, object] | None = None,
    *, rate_limited: bool = True, tick: bool = True, extra_toml: str = "",
    schedule: dict[str, object] | None = None,
) -> AsyncIterator[OfflineBot]:
    """Start the fake Bot API and the real Application polling it, in this event loop."""
    async with FakeTelegram() as fake:
        config_path = write_config(directory, fake.base_url, fake.token, checkin=checkin,
                                   schedule=schedule, extra_toml=extra_toml)
        settings, secrets = load_settings(config_path)
        services = await open_services(settings, secrets, clock)
        app = build_application(settings, secrets, services, rate_limited=rate_limited,
                                tick=tick)
        try:
            async with app:
                assert app.updater is not None
                await app.updater.start_polling(poll_interval=0.0, timeout=1)
                await app.start()
                fake.idle_probe = app.update_queue.join
                try:
                    yield OfflineBot(fake, settings, secrets, services, app, config_path)
                finally:
                    fake.idle_probe = None
                    await app.updater.stop()
                    await app.stop()
        finally:
            await services.store.close()
