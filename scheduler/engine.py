"""The delivery engine: one periodic tick sends what is due from the outbox.

The database is the source of truth. A tick plans ahead (idempotently), marks overdue
messages missed, and sends each due message through pending -> sending -> sent. After a
crash, rows caught in `sending` go back to `pending`; a check-in whose first question
was already confirmed is not asked again, so a kill can cost at most one duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from conversations import consent, usecases
from conversations.services import Services
from conversations.telegram_io import apply, send_prompt, send_unsent, tell_coordinators
from core.consent import CheckinGate
from core.delivery import Dispatch, Kind, Reachability, decide_dispatch
from core.identity import InvalidToken
from core.retention import RetentionPolicy
from core.texts import say
from scheduler import crisis_delivery, retention, therapist_delivery
from scheduler.outcomes import Hold, Skip, failure_reason
from scheduler.planner import DeliveryRules, plan, reachability
from storage.owners import dead_owners
from storage.ports import OutboxItem, OutboxState

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 200
PLAN_EVERY = timedelta(minutes=10)
RESEND_UNCONFIRMED_AFTER = timedelta(seconds=60)
CONSENT_HOLD_RETRY = timedelta(minutes=1)


async def isolated(phase: str, work: Awaitable[T], fallback: T) -> T:
    """Run one phase of start-up or a tick; if it raises, log it and go on with `fallback`.

    Logs carry the phase and the error, never a Telegram id (the log formatter also
    redacts anything shaped like one).
    """
    try:
        return await work
    except Exception as exc:
        log.error("%s failed, the rest goes on: %s", phase, failure_reason(exc),
                  exc_info=not isinstance(exc, InvalidToken))
        return fallback


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 30 minutes."""
    delay = timedelta(seconds=30 * (1 << min(max(attempts - 1, 0), 10)))
    return min(delay, timedelta(minutes=30))


@dataclass
class TickReport:
    planned: int = 0
    expired: int = 0
    sent: int = 0
    waiting: int = 0
    retrying: int = 0
    blocked: int = 0
    cancelled: int = 0
    failed: int = 0


@dataclass
class Engine:
    services: Services
    rules: DeliveryRules
    coordinator_chats: tuple[int, ...] = ()
    report_weekday: int = 0        # Monday
    report_time: time = time(8, 0)
    retention: RetentionPolicy = field(default_factory=lambda: RetentionPolicy({}))
    retention_at: time = time(3, 30)
    _last_plan: datetime | None = field(default=None, init=False)

    @property
    def rules_zone(self) -> ZoneInfo:
        return ZoneInfo(self.rules.timezone)

    async def startup(self) -> None:
        """Recover after a restart: release rows caught mid-send, and plan ahead.

        The first tick (from the job queue) then sends them; a check-in whose first
        question was confirmed before the crash is not asked again.
        """
        store = self.services.store
        dead = dead_owners(await isolated("reading who holds rows mid-send",
                                          store.sending_owners(), set()), store.owner)
        released = await isolated("releasing rows caught mid-send",
                                  store.release_sending(self.services.clock(), dead), 0)
        if released:
            log.warning("released %d message(s) caught mid-send by a restart", released)
        await self.replan()

    async def replan(self) -> int:
        """Plan ahead; each part on its own, so one that fails leaves the others done."""
        self._last_plan = self.services.clock()
        planned = await isolated("planning", plan(self.services.store, self._last_plan,
                                                  self.rules), 0)
        planned += await isolated("planning reports", therapist_delivery.plan_reports(self), 0)
        await isolated("the alert scan", therapist_delivery.scan_for_alerts(self), 0)
        return planned

    async def tick(self, bot: Bot) -> TickReport:
        """One pass: every phase and every row on its own; a failure is recorded, and the
        rest of the tick goes on (no single row can silence the others)."""
        store, now = self.services.store, self.services.clock()
        report = TickReport()
        # Urgent alerts first, isolated inside: nothing later in the tick can hold them up.
        await crisis_delivery.run(self, bot)
        if self._last_plan is None or now - self._last_plan >= PLAN_EVERY:
            report.planned = await self.replan()
        await isolated("releasing expired leases", store.release_expired(now), 0)
        if store.wal_truncate_pending:       # an erasure's bytes still in the WAL
            await isolated("truncating the WAL after an erasure",
                           store.truncate_wal(attempts=1), False)
        report.expired = await isolated("expiring overdue rows", store.expire_overdue(now), 0)
        await isolated("expiring check-ins", store.expire_due(now), 0)
        await isolated("resending unconfirmed questions",
                       send_unsent(self.services, bot, now - RESEND_UNCONFIRMED_AFTER), 0)
        for item in await isolated("reading due rows", store.due_items(now, BATCH), []):
            try:
                await self._dispatch(bot, item, report)
            except Exception as exc:  # a row that raises is failed with its reason
                await self._failed(item, exc, report)
        await isolated("retention", retention.run_daily(
            self.services, self.retention, self.retention_at, bot, self.coordinator_chats),
            None)
        return report

    async def _failed(self, item: OutboxItem, exc: Exception, report: TickReport) -> None:
        reason = failure_reason(exc)
        youth_side = item.kind in (Kind.CHECKIN, Kind.REMINDER)
        who = (item.youth_code if youth_side else item.therapist_code) or "-"
        log.error("a %s for %s failed: %s", item.kind.value, who, reason,
                  exc_info=not isinstance(exc, InvalidToken))
        report.failed += 1
        await isolated("recording a failed row", self.services.store.finish(
            item.id, OutboxState.FAILED, self.services.clock(), reason), None)

    async def _dispatch(self, bot: Bot, item: OutboxItem, report: TickReport) -> None:
        store, now = self.services.store, self.services.clock()
        if item.kind in (Kind.CHECKIN, Kind.REMINDER):
            assert item.youth_code is not None
            rules = await reachability(store, item.youth_code, self.rules)
        elif item.kind in (Kind.ALERT, Kind.ESCALATION):
            rules = Reachability(self.rules.timezone, (), time(0), time(0))  # urgent: any hour
        else:
            rules = Reachability(self.rules.timezone, (), self.rules.quiet_start,
                                 self.rules.quiet_end)
        decision = decide_dispatch(item.due_at, item.expires_at, now, rules)
        if decision.action is Dispatch.EXPIRE:
            await store.finish(item.id, OutboxState.EXPIRED, now, "outside phone hours until "
                               "expiry")
            report.expired += 1
            return
        if decision.action is Dispatch.WAIT:
            assert decision.at is not None
            await store.retry_later(item.id, decision.at, "waiting for phone hours", now)
            report.waiting += 1
            return
        if not await store.claim(item.id, now):
            return
        await self._send(bot, item, report)

    async def _consent_first(self, bot: Bot, code: str) -> None:
        """Put newer consent texts to the youth before a check-in; hold it if needed."""
        services = self.services
        youth = await services.store.youth_by_code(code)
        if youth is None or youth.pseudonym is None or youth.paused:
            return  # start_checkin says why not
        before = await consent.before_checkin(services, youth)
        sealed = await services.store.contact(youth.pseudonym)
        if before.asks and sealed is not None:
            chat = services.cipher.open(sealed)
            for reply, scope in zip(before.asks, before.scopes, strict=True):
                await apply(services, bot, chat, [reply])
                await consent.asked(services, youth, scope)
        if before.gate is CheckinGate.HOLD:
            raise Hold("waiting for the youth to answer the new text about taking part")

    async def _youth_message(self, bot: Bot, item: OutboxItem) -> usecases.Outgoing | None:
        assert item.youth_code is not None
        if item.kind is Kind.CHECKIN:
            await self._consent_first(bot, item.youth_code)
            return await usecases.start_checkin(self.services, item.youth_code,
                                                item.occurrence_key, item.discipline,
                                                item.expires_at, item.session_end)
        outgoing = await usecases.reminder(self.services, item.youth_code, item.occurrence_key)
        if outgoing is None:
            raise Skip("check-in complete or closed")
        return outgoing

    async def _send(self, bot: Bot, item: OutboxItem, report: TickReport) -> None:
        store, now = self.services.store, self.services.clock()
        try:
            if item.kind in (Kind.CHECKIN, Kind.REMINDER):
                outgoing = await self._youth_message(bot, item)
                if outgoing is not None:
                    await send_prompt(self.services, bot, outgoing.chat_id, outgoing.prompt)
            else:
                await therapist_delivery.deliver(self, bot, item)
        except Hold as exc:
            await store.retry_later(item.id, now + CONSENT_HOLD_RETRY, str(exc), now)
            report.waiting += 1
        except (usecases.CheckinNotPossible, Skip) as exc:
            await store.finish(item.id, OutboxState.CANCELLED, now, str(exc))
            report.cancelled += 1
        except Forbidden:
            await self._blocked(bot, item)
            report.blocked += 1
        except RetryAfter as exc:
            wait = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(
                seconds=exc.retry_after)
            await store.retry_later(item.id, now + wait, "rate limited (429)", now)
            report.retrying += 1
        except TimedOut:
            # Telegram may have delivered it: asking twice is worse than asking once late.
            await store.finish(item.id, OutboxState.SENT, now, "timed out; may not have arrived")
            report.sent += 1
        except BadRequest as exc:
            await store.finish(item.id, OutboxState.FAILED, now, f"rejected: {exc.message}")
        except NetworkError as exc:
            await store.retry_later(item.id, now + backoff(item.attempts + 1),
                                    f"network: {exc.message}", now)
            report.retrying += 1
        except TelegramError as exc:
            await store.finish(item.id, OutboxState.FAILED, now, f"telegram: {exc.message}")
        else:
            await store.finish(item.id, OutboxState.SENT, now)
            report.sent += 1

    async def _blocked(self, bot: Bot, item: OutboxItem) -> None:
        store, now = self.services.store, self.services.clock()
        if item.youth_code is None or item.kind not in (Kind.CHECKIN, Kind.REMINDER):
            await store.finish(item.id, OutboxState.BLOCKED, now, "blocked the bot")
            return
        await store.finish(item.id, OutboxState.BLOCKED, now, "the youth blocked the bot")
        await store.mark_unreachable(item.youth_code, now)
        log.warning("%s blocked the bot; told %d coordinator(s)", item.youth_code,
                    len(self.coordinator_chats))
        await tell_coordinators(bot, self.coordinator_chats,
                                say("nl", "coordinator_blocked", code=item.youth_code))
