"""A crisis text by webhook while the database refuses writes: the update cannot be
claimed (storage/sql_cluster.py), and is handled anyway. The youth gets the help
numbers and the urgent alert is held, as in polling mode; never a silent 500."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.support import running_bot
from tests.test_crisis_flag_failure_e2e import CRISIS_TEXT, refuse_inserts
from tests.test_crisis_route_e2e import FIRST_LINE, YOUTH, link_unit, youth_on_unit
from tests.test_webhook import SECRET, webhook_console
from web.routes_webhook import SECRET_HEADER


async def test_a_crisis_text_by_webhook_gets_help_while_the_database_refuses(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await link_unit(bot)
        youth = await youth_on_unit(bot)
        for table in ("crisis_flags", "alerts", "webhook_updates"):
            refuse_inserts(bot, table)
        update = {"update_id": 4242, "message": {
            "message_id": 77, "date": 0, "text": CRISIS_TEXT,
            "chat": {"id": YOUTH, "type": "private"},
            "from": {"id": YOUTH, "is_bot": False, "first_name": "Y"}}}
        async with webhook_console(bot) as port, httpx.AsyncClient() as client:
            answered = await client.post(f"http://127.0.0.1:{port}/telegram",
                                         content=json.dumps(update).encode(),
                                         headers={SECRET_HEADER: SECRET})
        await bot.fake.settle()
        assert answered.status_code == 200
        assert youth.last.text.splitlines()[0] == FIRST_LINE
        assert len(bot.services.pending_alerts) == 1, "held until the database takes it"
