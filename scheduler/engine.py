"""The delivery engine: one periodic tick sends what is due from the outbox.

The database is the source of truth. A tick plans ahead (idempotently), marks overdue
messages missed, and sends each due message through pending -> sending -> sent. After a
crash, rows caught in `sending` go back to `pending`; a check-in whose first question
was already confirmed is not asked again, so a kill can cost at most one duplicate.

Several processes may share one database (PostgreSQL): each claims due rows in small
batches (storage/sql_cluster.py claim_due) and sends them; the work that must run once
(planning, reports, alerts, retention, resending) runs only in the leader
(scheduler/leader.py), asked at every tick.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from conversations import sending
from conversations.services import Services
from core.channel import Blocked, Outbound
from core.cluster import UPDATE_MEMORY, LeaderNews, leader_news
from core.delivery import Dispatch, Kind, Reachability, allowed_now, decide_dispatch
from core.identity import InvalidToken
from core.records import OutboxItem, OutboxState
from core.retention import RetentionPolicy
from core.texts import say
from scheduler import checkins, crisis_delivery, retention, therapist_delivery
from scheduler.leader import Leadership, SoleProcess
from scheduler.outcomes import RowUpdate, failure_reason, record, settle
from scheduler.planner import DeliveryRules, plan, reachability
from storage.owners import dead_owners

log = logging.getLogger(__name__)
T = TypeVar("T")

BATCH = 200
# Rows claimed at a time: small, so processes beside this one share a burst of due
# rows, and a killed process held few of them.
CLAIM_BATCH = 20
PLAN_EVERY = timedelta(minutes=10)
RESEND_UNCONFIRMED_AFTER = timedelta(seconds=60)


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

    def count(self, update: RowUpdate) -> None:
        if update.tally is not None:
            setattr(self, update.tally, getattr(self, update.tally) + 1)


@dataclass
class Engine:
    services: Services
    rules: DeliveryRules
    coordinator_chats: tuple[int, ...] = ()
    report_weekday: int = 0        # Monday
    report_time: time = time(8, 0)
    retention: RetentionPolicy = field(default_factory=lambda: RetentionPolicy({}))
    retention_at: time = time(3, 30)
    leadership: Leadership = field(default_factory=SoleProcess)
    _last_plan: datetime | None = field(default=None, init=False)
    _urgent_lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _leading: bool = field(default=False, init=False)
    claimed: list[OutboxItem] = field(default_factory=list, init=False)  # not yet sent

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
        if await self._lead():
            await self.replan()

    async def _release_dead(self) -> int:
        """Rows held by a process on this host that died (another process on the same
        database, killed and not restarted) are sent by this one, without waiting for
        their lease. Owners elsewhere cannot be told dead: their lease decides."""
        store = self.services.store
        dead = dead_owners(await store.sending_owners(), store.owner)
        released = await store.release_owners(dead) if dead else 0
        if released:
            log.warning("released %d message(s) held by a process that died", released)
        return released

    async def _lead(self) -> bool:
        """Ask for the lead; a failure to ask is no lead (the work waits a tick)."""
        lead = await isolated("asking for the lead", self.leadership.lead(), False)
        news = leader_news(self._leading, lead)
        if news is LeaderNews.TOOK_LEAD and self.leadership.shared:
            log.warning("this process %s: it plans, reports and escalates now", news.value)
            self._last_plan = None     # plan at once: the last leader's plan may be old
        elif news is LeaderNews.LOST_LEAD:
            log.warning("this process %s: another runs the periodic work", news.value)
        self._leading = lead
        return lead

    async def replan(self) -> int:
        """Plan ahead; each part on its own, so one that fails leaves the others done."""
        self._last_plan = self.services.clock()
        planned = await isolated("planning", plan(self.services.store, self._last_plan,
                                                  self.rules), 0)
        planned += await isolated("planning reports", therapist_delivery.plan_reports(self), 0)
        await isolated("the alert scan", therapist_delivery.scan_for_alerts(self), 0)
        return planned

    async def deliver_urgent(self, channel: Outbound) -> None:
        """Deliver urgent alerts now (the leader's tick). One run at a time, so no
        recipient gets a row twice."""
        async with self._urgent_lock:
            await crisis_delivery.run(self, channel)

    async def deliver_urgent_at_once(self, channel: Outbound) -> None:
        """An urgent alert was just stored (conversations.urgent_wake): deliver it now if
        this process leads. Another process's alert is the leader's to send, on its next
        tick: two senders could give a recipient the same row twice."""
        if await self._lead():
            await self.deliver_urgent(channel)

    async def tick(self, channel: Outbound) -> TickReport:
        """One pass: every phase and every row on its own; a failure is recorded, and the
        rest of the tick goes on (no single row can silence the others)."""
        store, now = self.services.store, self.services.clock()
        report = TickReport()
        # Held urgent alerts first, in every process: only the one that holds them can
        # store them (scheduler.crisis_delivery.store_held).
        await crisis_delivery.store_held(self.services)
        lead = await self._lead()
        if lead:
            # Urgent alerts first, isolated inside: nothing later can hold them up.
            await self.deliver_urgent(channel)
            if self._last_plan is None or now - self._last_plan >= PLAN_EVERY:
                report.planned = await self.replan()
        await isolated("releasing expired leases", store.release_expired(now), 0)
        await isolated("releasing rows of dead processes", self._release_dead(), 0)
        if store.wal_truncate_pending:       # an erasure's bytes still in the WAL
            await isolated("truncating the WAL after an erasure",
                           store.truncate_wal(attempts=1), False)
        if lead:
            report.expired = await isolated("expiring overdue rows",
                                            store.expire_overdue(now), 0)
            await isolated("expiring check-ins", store.expire_due(now), 0)
            await isolated("resending unconfirmed questions",
                           sending.send_unsent(self.services, channel,
                                               now - RESEND_UNCONFIRMED_AFTER), 0)
        await self._dispatch_due(channel, now, report)
        if lead:
            await isolated("retention", retention.run_daily(
                self.services, self.retention, self.retention_at, channel,
                self.coordinator_chats), None)
            await isolated("forgetting old webhook updates",
                           store.forget_updates(now - UPDATE_MEMORY), 0)
        return report

    async def _dispatch_due(self, channel: Outbound, now: datetime,
                            report: TickReport) -> None:
        """Claim due rows a small batch at a time (up to BATCH a tick) and send them."""
        store, taken = self.services.store, 0
        while taken < BATCH:
            items = await isolated("claiming due rows", store.claim_due(
                now, min(CLAIM_BATCH, BATCH - taken)), [])
            for n, item in enumerate(items):
                self.claimed = items[n:]     # weekly reports are drawn ahead for these too
                # Closed since the claim (with a group rating sent just before): skip.
                if n and not await isolated("checking a claimed row",
                                            store.still_claimed(item.id), True):
                    continue
                try:
                    await self._dispatch(channel, item, report)
                except Exception as exc:  # a row that raises is failed with its reason
                    await self._failed(item, exc, report)
            self.claimed = []
            if len(items) < CLAIM_BATCH:
                return
            taken += len(items)

    async def _failed(self, item: OutboxItem, exc: Exception, report: TickReport) -> None:
        reason = failure_reason(exc)
        who = (item.youth_code if item.kind.to_youth else item.therapist_code) or "-"
        log.error("a %s for %s failed: %s", item.kind.value, who, reason,
                  exc_info=not isinstance(exc, InvalidToken))
        report.failed += 1
        await isolated("recording a failed row", self.services.store.finish(
            item.id, OutboxState.FAILED, self.services.clock(), reason), None)

    async def _dispatch(self, channel: Outbound, item: OutboxItem, report: TickReport) -> None:
        """Send one claimed row, or put it back (phone hours) or close it (expired)."""
        store, now = self.services.store, self.services.clock()
        by_phone_now = True
        if item.kind.to_youth:
            assert item.youth_code is not None
            reach = await reachability(store, item.youth_code, self.rules, now)
            rules = reach.checkin if item.kind is Kind.CHECKIN else reach.telegram
            by_phone_now = allowed_now(now, reach.telegram)
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
            await store.put_back(item.id, decision.at, "waiting for phone hours")
            report.waiting += 1
            return
        await self._send(channel, item, report, by_phone_now)

    async def _send(self, channel: Outbound, item: OutboxItem, report: TickReport,
                    by_phone_now: bool = True) -> None:
        """Send the row's message, then apply what `settle` decides from the outcome."""
        services = self.services
        if item.kind is Kind.CHECKIN:
            assert item.youth_code is not None
            result = await checkins.send_checkin(services, channel, item.youth_code,
                                                 item.occurrence_key, item.discipline,
                                                 item.expires_at, item.session_end,
                                                 by_phone_now=by_phone_now)
        elif item.kind is Kind.REMINDER:
            assert item.youth_code is not None
            result = await checkins.send_reminder(services, channel, item.youth_code,
                                                  item.occurrence_key)
        else:
            result = await therapist_delivery.deliver(self, channel, item)
        now = services.clock()
        update = settle(result, item.kind, item.attempts, now)
        await record(services.store, item.id, update, now)
        report.count(update)
        if isinstance(result, Blocked) and item.kind.to_youth and item.youth_code is not None:
            await self._youth_blocked(channel, item.youth_code)

    async def _youth_blocked(self, channel: Outbound, code: str) -> None:
        """A youth who blocked the bot is unreachable until they write again: say so."""
        await self.services.store.mark_unreachable(code, self.services.clock())
        log.warning("%s blocked the bot; told %d coordinator(s)", code,
                    len(self.coordinator_chats))
        await sending.tell_coordinators(channel, self.coordinator_chats,
                                        say(self.services.coordinator_language,
                                            "coordinator_blocked", code=code))
