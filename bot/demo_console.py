"""`make console`: the web console over the demo's database, on 127.0.0.1.

Runs `python -m bot demo` first when there is no demo yet, then starts the bot (against
the built-in fake Telegram, so nothing leaves the machine) with its console, and prints
a sign-in link for the demo coordinator and one for a demo therapist, made as /console
makes them. Stops with Ctrl-C.

    python -m bot.demo_console [--out demo-output] [--port 8080]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from bot.console import web_context
from bot.demo import COORDINATOR, THERAPIST_CHATS, run_demo
from bot.offline import offline_bot
from conversations.console_signin import CONSOLE_URL, issue_link, telegram_grant
from core.console import LINK_LIFETIME
from web.app import create_app
from web.server import ConsoleServer

DEMO_THERAPIST = "T-01"


async def serve_demo_console(out: Path, port: int) -> int:
    if not (out / "config.toml").exists():
        await run_demo(out)
    base_url = f"http://127.0.0.1:{port}"
    extra = (f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n"
             f'[console]\nport = {port}\npublic_url = "{base_url}"\n')
    async with offline_bot(out, tick=False, extra_toml=extra) as bot:
        bot.app.bot_data[CONSOLE_URL] = base_url
        server = ConsoleServer(create_app(bot.services, web_context(
            bot.settings, bot.secrets, bot.app)), "127.0.0.1", port)
        await server.start()
        try:
            for who, user_id in (("the demo coordinator", COORDINATOR),
                                 (f"demo therapist {DEMO_THERAPIST}",
                                  THERAPIST_CHATS[DEMO_THERAPIST])):
                grant = await telegram_grant(bot.services, user_id, "nl")
                assert grant is not None, f"{who} is not staff in {out}"
                link = await issue_link(bot.services, grant, base_url, grant.actor)
                print(f"Sign-in link for {who} ({grant.actor}):\n  {link.url}")
            minutes = int(LINK_LIFETIME.total_seconds() // 60)
            print(f"\nConsole on {base_url} over {bot.settings.storage.database}. Each link "
                  f"works once, for {minutes} minutes; a new one: python -m bot login-link "
                  f"--config {out / 'config.toml'} --code {DEMO_THERAPIST} (or "
                  "--coordinator NAME). Ctrl-C stops.", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        finally:
            await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.demo_console",
                                     description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(serve_demo_console(args.out, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
