"""Start the web console (and, in webhook mode, the webhook route) beside the bot.

One ASGI app, served by uvicorn in the PTB Application's event loop; stopped with it.
The console failing to listen is logged loudly and the bot goes on (a coordinator can
still use the CLI); in webhook mode it is fatal, since no update would arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Update

from bot import schedule_cli
from bot.application import BotApp, engine_of_app
from bot.config import Secrets, Settings
from conversations.services import Clock, Services
from core.cluster import UpdateAction, on_update, status_for
from storage.owners import dead_owners
from storage.ports import ClusterRepo
from web.app import create_app
from web.context import ConsoleConfig, WebContext, Webhook
from web.server import ConsoleServer

log = logging.getLogger(__name__)


def console_config(settings: Settings) -> ConsoleConfig:
    c = settings.console
    return ConsoleConfig(public_url=c.public_url, listen=c.listen,
                         idle=timedelta(minutes=c.idle_minutes),
                         lifetime=timedelta(hours=c.lifetime_hours),
                         signin_per_address=c.signin_per_address,
                         signin_overall=c.signin_overall)


async def handle_once(store: ClusterRepo, update_id: int, handle: Callable[[], Awaitable[None]],
                      clock: Clock) -> int:
    """Handle a webhook update unless some process did; the HTTP status to answer.

    Claimed by id first (storage/sql_cluster.py), marked done after: behind a load
    balancer Telegram's retry of an update may reach the other process, which then
    answers 200 without handling it again; an update whose process died mid-way is
    taken over (core.cluster.on_update decides).
    """
    try:
        claim = await store.claim_update(update_id, clock())
    except Exception:
        # The database refuses writes (full disk, a lock that does not clear). Handle the
        # update anyway: a crisis text must get its help numbers and its held alert
        # (conversations.pending_alerts) now; a second handling after a retry is better
        # than silence.
        log.exception("could not claim a webhook update; handling it unclaimed")
        await handle()
        return 200
    dead = claim.owner is not None and bool(dead_owners({claim.owner}, store.owner))
    action = on_update(claim, dead)
    if action is UpdateAction.TAKE_OVER:
        claim = await store.claim_update(update_id, clock(), take_from=claim.owner)
        action = on_update(claim, holder_dead=False)
        if action is UpdateAction.HANDLE:
            log.warning("took over an update whose process died while handling it")
    if action is UpdateAction.HANDLE:
        await handle()
        try:
            finished = await store.finish_update(update_id, clock())
        except Exception:   # handled; its claim runs out and a retry may handle it again
            log.exception("could not mark a handled webhook update done")
        else:
            if not finished:
                log.warning("an update was handled after its claim ran out; another "
                            "process may have handled it too")
    return status_for(action)


def webhook_of(app: BotApp, path: str, secret: str) -> Webhook:
    """The webhook route's side of PTB: parse an update and handle it (once) before
    answering, in the per-person order of PTB's update processor."""

    async def put_update(data: dict[str, Any]) -> int:
        try:
            update = Update.de_json(data, app.bot)
        except (ValueError, TypeError, KeyError):
            return 400

        async def handle() -> None:
            await app.update_processor.process_update(update, app.process_update(update))

        services = app.bot_data.services
        return await handle_once(services.store, update.update_id, handle, services.clock)

    return Webhook(path, secret, put_update)


def web_context(settings: Settings, secrets: Secrets, app: BotApp) -> WebContext:
    hook = None
    if settings.telegram.mode == "webhook":
        assert secrets.webhook_secret is not None
        hook = webhook_of(app, settings.telegram.webhook.path,
                          secrets.webhook_secret.get_secret_value())
    username = settings.telegram.bot_username or app.bot.username
    engine = engine_of_app(app)
    return WebContext(console=console_config(settings), bot_username=username,
                      engine=engine, webhook=hook,
                      schedule_policy=schedule_cli.policy(settings, engine.services))


async def start_console(settings: Settings, secrets: Secrets, services: Services,
                        app: BotApp) -> ConsoleServer | None:
    """Serve the console (and webhook) after `app` is initialised; None when neither."""
    webhook = settings.telegram.mode == "webhook"
    if not settings.console.enabled and not webhook:
        return None
    web = web_context(settings, secrets, app)
    if settings.console.enabled:
        host, port = settings.console.listen, settings.console.port
    else:   # webhook only, where it listened before the console existed
        host, port = settings.telegram.webhook.listen, settings.telegram.webhook.port
    server = ConsoleServer(create_app(services, web, console=settings.console.enabled),
                           host, port)
    try:
        await server.start()
    except OSError as exc:
        if webhook:
            raise
        log.error("console not started: %s; the bot runs on without it", exc)
        return None
    log.info("console listening on %s:%d", host, server.port)
    if webhook:
        hook = settings.telegram.webhook
        assert hook.public_url is not None and web.webhook is not None
        await app.bot.set_webhook(url=hook.public_url.rstrip("/") + hook.path,
                                  secret_token=web.webhook.secret,
                                  allowed_updates=["message", "callback_query"])
        log.info("webhook at %s", hook.path)
    return server
