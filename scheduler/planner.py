"""Turn schedules into outbox rows over a rolling horizon; apply coordinator changes."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.delivery import Kind, Reachability, plan_for, window_problem
from core.loop import TALK_LEAD
from core.schedule import LATE_ENTRY, MAX_LOOKBACK, occurrences
from storage.ports import NewOutbox, PlannedRow, Store

RATING_OPEN = timedelta(days=7)
log = logging.getLogger(__name__)
_REPORTED: set[tuple[str, str]] = set()  # unusable windows already logged, per youth


@dataclass(frozen=True)
class DeliveryRules:
    """Global delivery settings from the configuration."""

    timezone: str
    quiet_start: time
    quiet_end: time
    horizon: timedelta


async def reachability(store: Store, youth_code: str, rules: DeliveryRules) -> Reachability:
    """A youth's own phone hours win over their unit's; quiet hours always apply.

    A window that can never carry a message (set before windows were checked, or written
    straight into the database) is kept: with no usable window the youth is never
    reachable and their messages are recorded as missed. The reason is logged once.
    """
    own, unit = await store.windows_for(youth_code)
    windows = tuple(own or unit)
    for window in windows:
        problem = window_problem(window, rules.quiet_start, rules.quiet_end)
        if problem is not None and (youth_code, problem) not in _REPORTED:
            _REPORTED.add((youth_code, problem))
            log.error("%s: %s", youth_code, problem)
    return Reachability(rules.timezone, windows, rules.quiet_start, rules.quiet_end)


async def plan(store: Store, now: datetime, rules: DeliveryRules) -> int:
    """Plan every message of sessions ending from one expiry ago up to the horizon.

    Idempotent: rows are keyed by occurrence, kind and youth, so planning again adds
    nothing, and a restart derives the same rows from the database.
    """
    changes = await store.changes()
    rows: list[PlannedRow] = []
    ratings: list[NewOutbox] = []
    cache: dict[str, Reachability] = {}
    for series in await store.all_series():
        try:  # one bad series or youth must not stop the planning of the others
            # Only sessions whose check-in may still be open, and none that ended well
            # before the series existed (LATE_ENTRY): a series entered with a first date
            # years back (or a stored timing from before the bounds) plans from now on,
            # not a back-fill of past sessions all due at once.
            lookback = min(MAX_LOOKBACK, series.timing.send_after
                           + series.timing.expire_after + series.duration)
            since = now - lookback
            for occ in occurrences(series, changes, since, now + rules.horizon):
                if series.created_at is not None and occ.end < series.created_at - LATE_ENTRY:
                    continue
                for code in series.youth_codes:
                    if code not in cache:
                        cache[code] = await reachability(store, code, rules)
                    rows.extend(PlannedRow(p, series.id, series.discipline, occ.end)
                                for p in plan_for(occ, code, cache[code]))
                    ratings.append(NewOutbox(
                        f"rating:{occ.key}:{code}", Kind.RATING, occ.key, occ.end,
                        occ.end + series.timing.send_after, occ.end + RATING_OPEN, code,
                        series.therapist_code, secrets.token_urlsafe(12)))
                if occ.start > now:   # one prompt per session; sent only if there is a reason
                    ratings.append(NewOutbox(
                        f"talk:{occ.key}", Kind.TALK, occ.key, occ.end, occ.start - TALK_LEAD,
                        occ.start, None, series.therapist_code))
        except Exception as exc:  # isolate, record the reason, go on
            log.error("could not plan series %d: %s: %s", series.id, type(exc).__name__, exc)
    planned = await store.upsert_planned(rows, now) if rows else 0
    return planned + (await store.add_outbox(ratings, now) if ratings else 0)
