"""The bot on PostgreSQL end to end: `storage.url` set (here through the environment,
as in production), the real Application over the fake Bot API, a check-in answered, and
what was stored read back from PostgreSQL. No SQLite file is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.postgres.store import PostgresStore
from tests.support import running_bot

YOUTH = 700000321


async def test_a_checkin_is_answered_and_stored_in_postgres(
        tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAKBOT_STORAGE__URL", pg_url)
    async with running_bot(tmp_path) as bot:
        store = bot.services.store
        assert isinstance(store, PostgresStore)
        youth = bot.fake.user(YOUTH)
        token = await bot.invite("J-014")
        youth.send(f"/start {token}")
        await bot.fake.settle()
        youth.tap(youth.last, "Ik doe mee")
        await bot.fake.settle()
        youth.tap(youth.last, "Ja, dat mag")
        await bot.fake.settle()
        assert youth.last.text == "Oké! Je therapeut ziet je antwoorden. 👀"

        await bot.checkin(discipline="music")
        for label in ("🙂 Goed", "Heel goed", "Zeg ik liever niet", "Gewoon", "Iets leuks"):
            youth.tap(youth.last, label)
            await bot.fake.settle()
        youth.send("Het drummen was echt vet")
        await bot.fake.settle()
        assert youth.last.text.startswith("Dank je wel! 🙏")

        stored = await store.db.all("SELECT a.item, a.value FROM answers a JOIN checkins c"
                                    " ON c.id = a.checkin_id WHERE c.status = 'complete'"
                                    " ORDER BY a.item")
        assert len(stored) == 5
        assert ("task", "4") in [(r["item"], r["value"]) for r in stored]
        assert not bot.settings.storage.database.exists()
