"""Weekly reports built side by side: while one is sent, the pool draws the next ones.

The engine sends due rows one at a time (claimed in small batches). A weekly run is
fifty reports due at the same moment; drawn one after another, the process pool
(reports/pool.py) would use one core.
When the first report row is delivered, every other report row due then is started at
once, so the pool keeps every core busy; each row then takes its own finished report.
A report started ahead and never taken (its row expired or was skipped) is dropped at
the next look, and its failure, if any, is raised where the row takes it, never lost.
"""

from __future__ import annotations

import asyncio
import weakref

from conversations.reporting import weekly_report
from core.delivery import Kind
from core.questionnaire import Language
from core.records import OutboxItem
from reports.weekly import WeeklyReport
from scheduler.context import DeliveryContext

LOOK_AHEAD = 200  # due rows looked at for other reports
Ahead = dict[tuple[int, int], asyncio.Task[WeeklyReport]]
_AHEAD: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Ahead] = (
    weakref.WeakKeyDictionary())


def _build(engine: DeliveryContext, item: OutboxItem, lang: Language) -> asyncio.Task[WeeklyReport]:
    services = engine.services
    assert item.therapist_code is not None
    label = item.occurrence_key.rsplit(":", 1)[-1]
    task = asyncio.create_task(weekly_report(
        services.store, item.therapist_code, label, services.timezone, lang,
        missed_after=services.missed_alert_after))
    task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved: no warning
    return task


async def weekly(engine: DeliveryContext, item: OutboxItem, lang: Language) -> WeeklyReport:
    """The report of this row; the other due report rows are started alongside."""
    store = engine.services.store
    ahead = _AHEAD.setdefault(asyncio.get_running_loop(), {})
    # The rows claimed with this one (no longer pending), and those due after them.
    waiting = await store.due_items(engine.services.clock(), LOOK_AHEAD)
    due = [other for other in [*engine.claimed, *waiting]
           if other.kind is Kind.REPORT and other.therapist_code is not None]
    keys = {(id(store), other.id) for other in due}
    for key in [k for k, task in ahead.items() if k not in keys and task.done()]:
        del ahead[key]
    for other in due:
        key = (id(store), other.id)
        if other.id == item.id or key in ahead:
            continue
        assert other.therapist_code is not None
        therapist = await store.therapist(other.therapist_code)
        if therapist is not None and await store.therapist_pseudonym(therapist.code):
            ahead[key] = _build(engine, other, therapist.language)
    task = ahead.pop((id(store), item.id), None)
    return await (task if task is not None else _build(engine, item, lang))
