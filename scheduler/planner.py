"""Turn schedules into outbox rows over a rolling horizon; apply coordinator changes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.delivery import Kind, Reachability, plan_for
from core.schedule import occurrences
from storage.ports import NewOutbox, PlannedRow, Store

RATING_OPEN = timedelta(days=7)


@dataclass(frozen=True)
class DeliveryRules:
    """Global delivery settings from the configuration."""

    timezone: str
    quiet_start: time
    quiet_end: time
    horizon: timedelta


async def reachability(store: Store, youth_code: str, rules: DeliveryRules) -> Reachability:
    """A youth's own phone hours win over their unit's; quiet hours always apply."""
    own, unit = await store.windows_for(youth_code)
    return Reachability(rules.timezone, tuple(own or unit), rules.quiet_start, rules.quiet_end)


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
        lookback = series.timing.send_after + series.timing.expire_after + series.duration
        for occ in occurrences(series, changes, now - lookback, now + rules.horizon):
            for code in series.youth_codes:
                if code not in cache:
                    cache[code] = await reachability(store, code, rules)
                rows.extend(PlannedRow(p, series.id, series.discipline, occ.end)
                            for p in plan_for(occ, code, cache[code]))
                ratings.append(NewOutbox(
                    f"rating:{occ.key}:{code}", Kind.RATING, occ.key, occ.end,
                    occ.end + series.timing.send_after, occ.end + RATING_OPEN, code,
                    series.therapist_code, secrets.token_urlsafe(12)))
    planned = await store.upsert_planned(rows, now) if rows else 0
    return planned + (await store.add_outbox(ratings, now) if ratings else 0)
