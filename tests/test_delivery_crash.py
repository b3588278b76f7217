"""200 due check-ins, the bot killed with SIGKILL at random moments: none lost, few doubled."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import load_settings
from bot.offline import join_directly, write_config
from bot.rules import default_timing
from bot.wiring import open_services
from core.records import NewSeries, Therapist
from faketelegram import FakeTelegram
from tests.support import wait_until
from tests.test_crash_restart import BotProcess

YOUTHS = 200
KILLS = 20
FIRST_ID = 710000000
INTRO = "Hoi! 👋 Een paar vragen over je "


async def seed(config: Path) -> None:
    """200 joined youths in one group session that ended 20 minutes ago."""
    settings, secrets = load_settings(config)
    services = await open_services(settings, secrets)
    store, now = services.store, services.clock()
    await store.add_therapist(Therapist("T-01", "nl"), now)
    for n in range(YOUTHS):
        await join_directly(services, f"J-{n:03d}", "T-01", FIRST_ID + n, now)
    start = (now - timedelta(minutes=80)).astimezone(ZoneInfo("Europe/Amsterdam"))
    await store.add_series(NewSeries(
        "T-01", tuple(f"J-{n:03d}" for n in range(YOUTHS)), "music",
        frozenset({start.weekday()}), start.time().replace(second=0, microsecond=0),
        timedelta(hours=1), "Europe/Amsterdam", start.date(), start.date(),
        default_timing(settings)), now)
    await services.store.close()


def outbox_states(db: Path) -> Counter[str]:
    with sqlite3.connect(db, timeout=10) as conn:
        return Counter(r[0] for r in conn.execute(
            "SELECT state FROM outbox WHERE kind = 'checkin'"))


async def test_sigkill_during_dispatch(tmp_path: Path) -> None:
    rng = random.Random(4242)
    async with FakeTelegram() as fake:
        config = write_config(tmp_path, fake.base_url, fake.token,
                              schedule={"quiet_start": "00:00", "quiet_end": "00:00",
                                        "tick_seconds": 0.5})
        await seed(config)
        bot = BotProcess(config, tmp_path / "bot.log")
        kills = 0
        started = datetime.now(UTC)
        progress = []
        fake.latency = 0.03  # about Telegram's; it spreads dispatch over many kills
        while kills < KILLS:
            before = _delivered(fake)
            await bot.start(fake)
            # Kill at a random moment once dispatch is under way (on a loaded machine the
            # first tick can take seconds: wait for the first send, not a fixed time).
            await wait_until(partial(_under_way, fake, tmp_path / "bot.sqlite3", before),
                             "dispatch is under way")
            await asyncio.sleep(rng.uniform(0.0, 0.3))  # where the kill lands, not a wait
            bot.kill()
            kills += 1
            progress.append(_delivered(fake) - before)
        await bot.start(fake)

        def all_sent() -> bool:
            states = outbox_states(tmp_path / "bot.sqlite3")
            return states["pending"] == 0 and states["sending"] == 0

        await wait_until(all_sent, "every check-in is sent")
        await bot.terminate()
    per_chat: Counter[int] = Counter()
    for n in range(YOUTHS):
        per_chat[n] = sum(m.text.startswith(INTRO) for m in fake.messages(FIRST_ID + n))
    assert min(per_chat.values()) >= 1, "a prompt was lost"
    duplicates = sum(count - 1 for count in per_chat.values())
    assert duplicates <= kills, f"{duplicates} duplicates after {kills} kills"
    assert outbox_states(tmp_path / "bot.sqlite3") == Counter({"sent": YOUTHS})
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    elapsed = (datetime.now(UTC) - started).total_seconds()
    print(f"\n{YOUTHS} prompts, {kills} SIGKILLs, {duplicates} duplicate(s), "
          f"{elapsed:.0f} s; sent between kills: {progress}")
    assert sum(1 for p in progress if p) >= KILLS * 3 // 4, "kills should land mid-dispatch"


def _under_way(fake: FakeTelegram, db: Path, before: int) -> bool:
    return _delivered(fake) > before or outbox_states(db)["pending"] == 0


def _delivered(fake: FakeTelegram) -> int:
    return sum(len(fake.messages(FIRST_ID + n)) for n in range(YOUTHS))
