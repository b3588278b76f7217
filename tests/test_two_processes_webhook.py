"""The webhook route handles each update once, whichever process a retry reaches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import cast

import httpx

from core.cluster import UpdateState
from storage.owners import process_owner
from storage.sqlite import SqliteStore
from tests.support import running_bot
from tests.test_webhook import SECRET, update_for, webhook_console
from web.routes_webhook import SECRET_HEADER

YOUTH = 700000321


async def post(client: httpx.AsyncClient, port: int, update_id: int) -> int:
    response = await client.post(f"http://127.0.0.1:{port}/telegram",
                                 content=json.dumps(update_for(YOUTH, update_id)).encode(),
                                 headers={SECRET_HEADER: SECRET})
    return response.status_code


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


async def test_a_retried_update_is_handled_once_and_a_dead_holders_taken_over(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot, webhook_console(bot) as port:
        store, now = bot.services.store, bot.clock()
        youth = bot.fake.user(YOUTH)
        host = process_owner().rsplit(":", 2)[0]   # hostname and pid namespace
        # update 3 is being handled by a live process (our parent), 4 by one that died
        assert (await store.claim_update(3, now)).state is UpdateState.CLAIMED
        await store.finish_update(3, now)
        live, dead = f"{host}:{os.getppid()}:aa", f"{host}:{dead_pid()}:bb"
        other = SqliteStore(cast(SqliteStore, store).db)   # another process, same file
        other.owner = live
        assert (await other.claim_update(5, now)).state is UpdateState.CLAIMED
        other.owner = dead
        assert (await other.claim_update(4, now)).state is UpdateState.CLAIMED
        async with httpx.AsyncClient() as client:
            first = await post(client, port, 1)       # handled, answered when handled
            handled = len(youth.inbox)
            again = await post(client, port, 1)       # Telegram's retry: answered only
            done_elsewhere = await post(client, port, 3)
            busy = await post(client, port, 5)        # the live holder is left alone
            taken = await post(client, port, 4)       # the dead holder is taken over
        await bot.fake.settle()
        assert (first, again, done_elsewhere, busy, taken) == (200, 200, 200, 503, 200)
        assert handled == 1, "handled before the answer"
        assert len(youth.inbox) == 2, "updates 1 and 4, each once"
        assert (await store.handled_updates()).keys() == {1, 3, 4, 5}
        assert (await store.handled_updates())[5] == "", "still the live holder's"
