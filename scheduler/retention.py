"""The daily retention run: remove what has outlived its period, and say what went."""

from __future__ import annotations

import logging
from datetime import datetime, time

from conversations.sending import tell_coordinators
from conversations.services import Services
from core.channel import Outbound
from core.questionnaire import Language
from core.retention import RetentionPolicy, RetentionReport, run_due
from core.texts import say

log = logging.getLogger(__name__)


async def apply_policy(services: Services, policy: RetentionPolicy, now: datetime, *,
                       dry_run: bool = False) -> RetentionReport:
    """Remove (or, dry, count) every kind of data older than its period."""
    removed = {kind: await services.store.purge(kind, cutoff, dry_run=dry_run)
               for kind, cutoff in policy.cutoffs(now).items()}
    local_day = now.astimezone(services.zone).date()
    return RetentionReport(local_day, removed)


def coordinator_text(report: RetentionReport, lang: Language) -> str:
    """The daily line to the coordinators, in their configured language."""
    items = ", ".join(say(lang, f"retention_{kind.value}", n=n)
                      for kind, n in report.removed.items() if n)
    return say(lang, "retention_report", day=report.day.strftime("%d/%m"), items=items)


async def run_daily(services: Services, policy: RetentionPolicy, at: time, channel: Outbound,
                    coordinator_chats: tuple[int, ...]) -> RetentionReport | None:
    """Once a local day, from `at` on: apply the policy, audit it, tell the coordinators.

    The day is recorded after the removal, so a crash in between only means the next
    tick removes again (nothing left) and reports then.
    """
    if not policy.days:
        return None
    now = services.clock()
    day = run_due(now, services.timezone, at, await services.store.last_retention_day())
    if day is None:
        return None
    report = await apply_policy(services, policy, now)
    if not await services.store.record_retention_run(day, report.summary(), now):
        return None
    await services.audit("system", "retention", "", report.summary())
    log.info("retention run %s", report.summary())
    if report.total:
        await tell_coordinators(channel, coordinator_chats,
                                coordinator_text(report, services.coordinator_language))
    return report
