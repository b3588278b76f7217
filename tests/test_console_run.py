"""`python -m bot run` serves the console in the bot's own process and event loop, and
in webhook mode takes Telegram's updates on a route of it; SIGTERM stops both."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from pathlib import Path

import httpx

from bot.offline import write_config
from faketelegram import FakeTelegram
from tests.support import DEADLINE, wait_until
from tests.test_startup import Child, free_port
from tests.web_support import follow_link
from web.routes_webhook import SECRET_HEADER

COORDINATOR = 9001
LINK = re.compile(r"http://\S+/signin/[A-Za-z0-9_-]+")
SECRET = "webhook-secret-for-tests_0123"


def console_toml(port: int, extra: str = "") -> str:
    return (f"[console]\nport = {port}\npublic_url = \"http://127.0.0.1:{port}\"\n"
            f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n{extra}")


async def console_up(base_url: str) -> None:
    """Poll /health until the child's console answers (or fail after the deadline)."""
    deadline = time.monotonic() + DEADLINE
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(base_url + "/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the console never answered /health"
            await asyncio.sleep(0.05)


async def sign_in_and_out(base_url: str, text: str) -> None:
    found = LINK.search(text)
    assert found, text
    async with httpx.AsyncClient(base_url=base_url) as client:
        landing = await follow_link(client, found.group(0))
        assert landing.status_code == 200 and "Mensen" in landing.text


async def test_run_serves_the_console_and_stops_with_the_bot(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    async with FakeTelegram() as fake:
        config = write_config(tmp_path, fake.base_url, fake.token,
                              extra_toml=console_toml(port))
        child = await Child.start("run", "--config", str(config))
        try:
            await console_up(base_url)
            coordinator = fake.user(COORDINATOR)
            coordinator.send("/console")
            await wait_until(lambda: any("/signin/" in m.text for m in coordinator.inbox),
                             "the bot answers /console with a link")
            await sign_in_and_out(base_url, coordinator.last.text)
            child.proc.send_signal(signal.SIGTERM)
            code, _, err = await child.finish()
        finally:
            child.kill()
    assert code == 0 and "Traceback" not in err, err
    async with httpx.AsyncClient() as client:
        try:
            await client.get(base_url + "/health")
            still_up = True
        except httpx.TransportError:
            still_up = False
    assert not still_up, "the console stopped with the bot"


async def test_webhook_mode_takes_updates_on_the_console(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    (tmp_path / "webhook.secret").write_text(SECRET)
    hook = ('[telegram.webhook]\npublic_url = "https://bot.example.org"\n'
            'secret_token_file = "webhook.secret"\n')
    async with FakeTelegram() as fake:
        config = write_config(tmp_path, fake.base_url, fake.token,
                              extra_toml=console_toml(port))
        text = config.read_text().replace("[telegram]\n", "[telegram]\nmode = \"webhook\"\n")
        config.write_text(text + hook)
        child = await Child.start("run", "--config", str(config))
        try:
            await console_up(base_url)
            await wait_until(lambda: any(m == "setWebhook" for m, _ in fake.calls),
                             "the bot registers its webhook")
            url = next(p for m, p in fake.calls if m == "setWebhook")["url"]
            assert url == "https://bot.example.org/telegram"
            update = {"update_id": 1, "message": {
                "message_id": 1, "date": 0, "text": "/console",
                "entities": [{"type": "bot_command", "offset": 0, "length": 8}],
                "chat": {"id": COORDINATOR, "type": "private"},
                "from": {"id": COORDINATOR, "is_bot": False, "first_name": "C"}}}
            async with httpx.AsyncClient() as client:
                posted = await client.post(base_url + "/telegram",
                                           content=json.dumps(update).encode(),
                                           headers={SECRET_HEADER: SECRET})
            assert posted.status_code == 200
            coordinator = fake.user(COORDINATOR)
            await wait_until(lambda: any("/signin/" in m.text for m in coordinator.inbox),
                             "the bot answers the webhook's /console with a link")
            await sign_in_and_out(base_url, coordinator.last.text)
            assert not any(m == "getUpdates" for m, _ in fake.calls)
            child.proc.send_signal(signal.SIGTERM)
            code, _, err = await child.finish()
        finally:
            child.kill()
    assert code == 0 and "Traceback" not in err, err
