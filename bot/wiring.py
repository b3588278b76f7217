"""The one place that wires configuration, storage, core and Telegram together."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import logging
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from telegram.ext import ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from bot.application import BotApp, engine_of, engine_of_app
from bot.config import Secrets, Settings, consent_texts
from bot.lean_request import LeanRequest
from bot.ratelimit import ChatRateLimiter
from bot.rules import delivery_rules
from bot.runlock import hold_database
from bot.updates import PerUserUpdateProcessor
from conversations.console_signin import CONSOLE_URL
from conversations.context import CONTEXT_TYPES, BotContext
from conversations.inbound import GATE, inbound_handler
from conversations.pending_alerts import PendingAlerts
from conversations.routes import routes
from conversations.services import Clock, Services
from conversations.telegram_io import TelegramBot, TelegramChannel, send_unsent
from core.crisis import load_rules
from core.identity import ContactCipher, pseudonym
from core.questionnaire import builtin_questionnaire
from core.schedule import WEEKDAYS
from core.throttle import InboundGate, InboundLimits
from scheduler import crisis_delivery
from scheduler.engine import Engine, isolated
from scheduler.leader import Leadership, SoleProcess
from storage import erasure_log
from storage.audit_anchor import AuditAnchor, anchor_key
from storage.held_alerts import HeldAlertsFile
from storage.ports import PrivacyRepo
from storage.sql_store import SqlStore
from storage.sqlite import SqliteStore

log = logging.getLogger(__name__)

def _sniffio_absent_once() -> None:
    """httpcore asks for `sniffio` on every request (to tell asyncio from trio). It is not
    installed, and a failed import is not remembered: each request searched sys.path
    again, ~2 ms of stat calls per answered tap. Recorded as absent once (issue 16)."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # import fails at once


_sniffio_absent_once()


def utcnow() -> datetime:
    return datetime.now(UTC)


async def open_services(settings: Settings, secrets: Secrets, clock: Clock = utcnow) -> Services:
    """Open the database and load the questionnaire, texts and crisis rules."""
    crisis_rules = load_rules(settings.checkin.crisis_phrases_file)  # built-in + institution
    anchor = AuditAnchor(settings.storage.audit_anchor or settings.storage.database.with_name(
        settings.storage.database.name + ".audit-anchor"),
        anchor_key(secrets.pseudonym_key.get_secret_value().encode()))
    store = await open_store(settings, anchor)
    await replay_erasures(store, settings.storage.erasure_log)
    # Owed by an erasure whose truncate a reader blocked before the last stop (or a crash).
    await store.truncate_wal(attempts=1)
    return Services(
        store=store,
        questionnaire=builtin_questionnaire(),
        consents=consent_texts(settings),
        crisis_phrases=crisis_rules,
        pseudonym_key=secrets.pseudonym_key.get_secret_value().encode(),
        cipher=ContactCipher(secrets.contact_keys(), secrets.text_keys()),
        clock=clock,
        checkin_ttl=timedelta(hours=settings.checkin.expiry_hours),
        invite_ttl=timedelta(days=settings.checkin.invite_days),
        free_text_limit=settings.checkin.free_text_limit,
        missed_alert_after=settings.alerts.missed_in_a_row,
        coordinator_language=settings.coordinators.language,
        coordinators=frozenset(pseudonym(secrets.pseudonym_key.get_secret_value().encode(), i)
                               for i in settings.coordinators.telegram_ids),
        researchers=frozenset(pseudonym(secrets.pseudonym_key.get_secret_value().encode(), i)
                              for i in settings.researchers.telegram_ids),
        timezone=settings.schedule.timezone,
        escalate_after=timedelta(minutes=settings.alerts.crisis_escalate_after_minutes),
        default_unit=settings.units.default_unit,
        erasure_log=(erasure_log.ErasureLogFile(settings.storage.erasure_log)
                     if settings.storage.erasure_log else None),
        audit_anchor=anchor,
        retention_required=settings.privacy.retention_required,
        pending_alerts=PendingAlerts.restore(HeldAlertsFile(
            settings.storage.database.with_name(settings.storage.database.name
                                                + ".held-alerts"))),
    )


async def open_store(settings: Settings, anchor: AuditAnchor) -> SqlStore:
    """PostgreSQL when `storage.url` is set, else the SQLite file (the default)."""
    if settings.storage.url is not None:
        from storage.postgres.store import PostgresStore  # noqa: PLC0415 - only when used

        return await PostgresStore.open(settings.storage.url.get_secret_value(),
                                        audit_anchor=anchor)
    return await SqliteStore.open(settings.storage.database, audit_anchor=anchor)


async def with_services(settings: Settings, secrets: Secrets,
                        work: Callable[[Services], Awaitable[int]],
                        clock: Clock = utcnow) -> int:
    """Open the services for one command-line action, run it, and close the store."""
    services = await open_services(settings, secrets, clock)
    try:
        return await work(services)
    finally:
        await services.store.close()


async def replay_erasures(store: PrivacyRepo, path: Path | None) -> int:
    """Erase again whoever the erasure log names but the database still holds.

    A damaged line is reported at ERROR by number and never acted on; each replayed
    erasure is audited. Start-up goes on either way.
    """
    if path is None:
        return 0
    try:
        entries = erasure_log.read(path)
    except OSError as exc:
        log.error("erasure log %s cannot be read (%s); no erasure replayed", path, exc.strerror)
        return 0
    for number, why in entries.bad_lines:
        log.error("erasure log %s line %d skipped: %s; nobody erased for it, check it by "
                  "hand", path, number, why)
    replayed = 0
    for code in dict.fromkeys(entries.codes):
        if not await store.is_erased(code) and await store.erase_youth(code, utcnow()):
            replayed += 1
            await store.append_audit("system", "erase:replay", code,
                                     "replayed from the erasure log at start-up", utcnow())
    if replayed:
        log.warning("replayed %d erasure(s) from the erasure log", replayed)
    return replayed


def make_bot(settings: Settings, secrets: Secrets) -> TelegramBot:
    """A Bot for one-off sends from the command line, against the configured API.

    It carries the same limiter as the running bot, so no send of any kind leaves unlimited.
    """
    return TelegramBot(secrets.token.get_secret_value(), base_url=settings.telegram.base_url,
                       rate_limiter=ChatRateLimiter(chat_burst=settings.telegram.chat_burst))


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure without the update: updates carry Telegram ids and text."""
    error = context.error
    log.error("update failed: %s: %s", type(error).__name__, error,
              exc_info=(type(error), error, error.__traceback__) if error else None)


def leadership(settings: Settings) -> Leadership:
    """Who runs the periodic work: on PostgreSQL the holder of an advisory lock (other
    processes may share the database); on SQLite this one process."""
    if settings.storage.url is not None:
        from storage.postgres.leader import AdvisoryLeadership  # noqa: PLC0415

        return AdvisoryLeadership(settings.storage.url.get_secret_value())
    return SoleProcess()


def make_engine(settings: Settings, services: Services) -> Engine:
    return Engine(services, delivery_rules(settings), tuple(settings.coordinators.telegram_ids),
                  report_weekday=WEEKDAYS.index(settings.reports.weekday),
                  report_time=settings.reports.at,
                  retention=settings.retention.policy(), retention_at=settings.retention.run_at,
                  leadership=leadership(settings))


async def _urgent_job(context: BotContext) -> None:
    """Deliver an urgent alert the moment it is stored (conversations.urgent_wake)."""
    engine = engine_of(context)
    await engine.deliver_urgent_at_once(TelegramChannel(engine.services, context.bot))


async def _announce_job(context: BotContext) -> None:
    """Tell the other processes an urgent alert was stored: the leader sends it now."""
    await engine_of(context).leadership.announce_urgent()


async def _tick_job(context: BotContext) -> None:
    engine = engine_of(context)
    report = await engine.tick(TelegramChannel(engine.services, context.bot))
    if report.sent or report.expired or report.blocked:
        log.info("tick: %s", report)


def _requests(client: str, timeout: float, *, polling: bool = False) -> BaseRequest:
    """The HTTP client PTB talks to Telegram through (config `telegram.http_client`)."""
    if client == "lean":
        return (LeanRequest(1, read_timeout=timeout) if polling else
                LeanRequest(read_timeout=timeout, write_timeout=timeout))
    if polling:
        return HTTPXRequest(connect_timeout=5, read_timeout=timeout)
    return HTTPXRequest(connection_pool_size=16, connect_timeout=5, read_timeout=timeout,
                        write_timeout=timeout)


def build_application(
    settings: Settings, secrets: Secrets, services: Services, *, rate_limited: bool = True,
    tick: bool = True,
) -> BotApp:
    """Build the PTB Application with handlers, rate limiting and periodic jobs.

    `rate_limited=False` exists only to measure the stack's own capacity in benchmarks;
    against Telegram the limiter keeps the bot under 25 messages a second overall and
    about one a second per chat. `tick=False`
    leaves the delivery engine to the caller (tests drive it on a virtual clock).
    """
    client, poll = settings.telegram.http_client, settings.telegram.poll_timeout
    bot = TelegramBot(
        secrets.token.get_secret_value(), base_url=settings.telegram.base_url,
        request=_requests(client, settings.telegram.request_timeout),
        get_updates_request=_requests(client, poll + 10, polling=True),
        rate_limiter=(ChatRateLimiter(max_retries=3, chat_burst=settings.telegram.chat_burst)
                      if rate_limited else None))
    builder = (ApplicationBuilder().bot(bot).context_types(CONTEXT_TYPES)
               .concurrent_updates(PerUserUpdateProcessor(taps=bot.taps)))
    if settings.telegram.mode == "webhook":
        builder = builder.updater(None)
    app = cast(BotApp, builder.build())
    app.bot_data.services = services
    app.bot_data["engine"] = make_engine(settings, services)
    app.bot_data[GATE] = InboundGate(InboundLimits(
        burst=settings.telegram.inbound_burst,
        stranger_every=settings.telegram.stranger_reply_minutes * 60))
    app.add_handler(inbound_handler(), group=-1)  # the per-person limit, before all else
    app.bot_data[CONSOLE_URL] = settings.console.public_url
    app.add_handlers(routes())
    app.add_error_handler(on_error)
    if app.job_queue is not None and tick:
        interval = settings.schedule.tick_seconds
        app.job_queue.run_repeating(_tick_job, interval=interval, first=0.5,
                                    name="delivery-tick")
        queue = app.job_queue
        services.urgent_wake.listen(
            lambda: queue.run_once(_urgent_job, when=0, name="urgent-alerts"))
        if engine_of_app(app).leadership.shared:   # beside other processes: tell them
            services.urgent_wake.listen(
                lambda: queue.run_once(_announce_job, when=0, name="urgent-notice"))
    return app


async def serve(
    settings: Settings, secrets: Secrets, stop: asyncio.Event, clock: Clock = utcnow
) -> None:
    """Run the bot until `stop` is set: resend unfinished prompts, then poll or serve.

    Only one bot process per SQLite database: a second one exits at once, naming the
    first. On PostgreSQL several may run (webhook mode behind a load balancer).
    """
    if settings.storage.url is not None:
        await _serve(settings, secrets, stop, clock)
        return
    with hold_database(settings.storage.database):
        await _serve(settings, secrets, stop, clock)


async def _serve(settings: Settings, secrets: Secrets, stop: asyncio.Event, clock: Clock) -> None:
    services = await open_services(settings, secrets, clock)
    app = build_application(settings, secrets, services)
    # What imports and start-up made lives as long as the process: left out of the cyclic
    # collector's full passes, which would otherwise walk it all, tens of ms of holding
    # the event loop each time (issue 16).
    gc.freeze()
    try:
        async with app:
            # Beside other processes a question just recorded may be another's, on its
            # way: the leader resends those left unconfirmed a while (Engine.tick).
            if not engine_of_app(app).leadership.shared:
                resent = await isolated("resending unconfirmed questions",
                                        send_unsent(services, app.bot, services.clock()), 0)
                log.info("started; resent %d unconfirmed question(s)", resent)
            await engine_of_app(app).startup()
            if app.updater is not None:
                await app.updater.start_polling(
                    poll_interval=0.0, timeout=settings.telegram.poll_timeout,
                    allowed_updates=["message", "callback_query"],
                )
            from bot.console import start_console  # noqa: PLC0415 - web stack on demand

            console = await start_console(settings, secrets, services, app)
            await app.start()
            if app.job_queue is not None:   # another process's urgent alert: sent now
                queue = app.job_queue
                await engine_of_app(app).leadership.hear_urgent(
                    lambda: queue.run_once(_urgent_job, when=0, name="urgent-alerts"))
            try:
                # Serving first: a missing crisis route is told loudly, never a reason to
                # stop. Beside other processes only the leader tells the coordinators.
                engine = engine_of_app(app)
                if await isolated("asking for the lead", engine.leadership.lead(), False):
                    await crisis_delivery.check_routes_at_start(
                        engine, TelegramChannel(services, app.bot))
                await stop.wait()
            finally:
                if console is not None:
                    await console.stop()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
    finally:
        await engine_of_app(app).leadership.close()
        await services.store.close()
