"""Turn schedules into outbox rows over a rolling horizon; apply coordinator changes.

Two horizons. A youth's check-in is planned the whole horizon ahead (14 days by
default), so what is coming can be seen and is kept through any outage. What follows a
session (the reminder, the therapist's rating request, the talk prompt before it) is
planned only `FOLLOW_UP_AHEAD` before the session starts: each of them is due at the
session or after it, passes run every few minutes, and planning them weeks ahead made
the first plan four rows a session instead of one (10,000 youths x 4 weeks: 160,000
rows, 5.3 s on a 2-core machine; issue 16 asks for < 2 s). A follow-up is always
planned from the same inputs as before, so it is the same row; only when differs.

Planning is incremental (issue 16): a pass plans only the series that are new or were
edited since the last pass (every writer is seen, through the triggers of migration
0012) in full, and of the others only sessions that came inside the horizon since. A
pass with nothing new reads one index and writes nothing. The rows are the same as a
full plan of every series at every pass would give: rows are keyed by occurrence, kind
and youth, so what an earlier pass planned is exactly what this one would add again.

A pass never holds the event loop for long: it reads and stores in batches of series,
each batch in one transaction (a youth's answer waits for at most one batch), and gives
the loop back every few milliseconds of computing.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.delivery import Kind, Reachability, Window, phone_hours, plan_for, window_problem
from core.kiosk import Channel, ChannelFacts, current_channel
from core.loop import TALK_LEAD
from core.records import NewOutbox, PlanMark, PlannedRow, PlanWork
from core.schedule import LATE_ENTRY, MAX_LOOKBACK, Change, Occurrence, Series, occurrences
from storage.ports import ScheduleRepo

RATING_OPEN = timedelta(days=7)
# Follow-ups (reminder, rating request, talk prompt) are planned this long before their
# session starts. It must exceed TALK_LEAD plus the time between passes by a wide margin.
FOLLOW_UP_AHEAD = timedelta(days=2)
BATCH_SERIES = 200     # series read, planned and stored together, in one transaction
SLICE_S = 0.003        # computing this long, the pass lets the event loop run
# With no session in this span after the horizon (a first date far ahead, a run of
# cancellations), the series is looked at again when the horizon has moved this far.
NEXT_SEARCH = timedelta(days=15)
RECHECK = timedelta(days=14)
# A moved session is found through its original date, which a pass sees up to two days
# beyond its range: while such a move could still matter, its series is planned in full.
MOVE_REACH = MAX_LOOKBACK + timedelta(days=3)
log = logging.getLogger(__name__)
_REPORTED: set[tuple[str, str]] = set()  # unusable windows already logged, per youth


@dataclass(frozen=True)
class DeliveryRules:
    """Global delivery settings from the configuration."""

    timezone: str
    quiet_start: time
    quiet_end: time
    horizon: timedelta


def rules_key(rules: DeliveryRules) -> str:
    """The rules a plan depends on: other quiet hours, zone or horizon mean planning
    again (a plan mark's horizons are read back from its `planned_until`)."""
    return (f"{rules.timezone}|{rules.quiet_start.isoformat()}|{rules.quiet_end.isoformat()}"
            f"|{rules.horizon.total_seconds():.0f}|{FOLLOW_UP_AHEAD.total_seconds():.0f}")


@dataclass(frozen=True)
class Horizons:
    """How far one pass plans: check-ins up to `far`, follow-ups up to `near`.

    A series' mark stores `far` as `planned_until`; its follow-ups were planned up to
    `planned_until - lag`. The mark's `next_start` is kept in the near frame: the pass
    looks at a series again when `near` has passed it (plan_work compares with `near`).
    """

    now: datetime
    far: datetime
    near: datetime

    @classmethod
    def of(cls, now: datetime, rules: DeliveryRules) -> Horizons:
        far = now + rules.horizon
        return cls(now, far, min(now + FOLLOW_UP_AHEAD, far))

    @property
    def lag(self) -> timedelta:
        return self.far - self.near


@dataclass(frozen=True)
class YouthReach:
    """When a youth's messages may go (core.delivery.phone_hours): the check-in, and
    what goes to their phone (the reminder; the Telegram half on both channels)."""

    checkin: Reachability
    telegram: Reachability


def _reachability(youth_code: str, own: list[Window], unit: list[Window],
                  facts: ChannelFacts | None, rules: DeliveryRules,
                  now: datetime) -> YouthReach:
    windows = tuple(own or unit)
    for window in windows:
        problem = window_problem(window, rules.quiet_start, rules.quiet_end)
        if problem is not None and (youth_code, problem) not in _REPORTED:
            _REPORTED.add((youth_code, problem))
            log.error("%s: %s", youth_code, problem)
    today = now.astimezone(ZoneInfo(rules.timezone)).date()
    channel = Channel.TELEGRAM if facts is None else current_channel(facts, today)
    hours = phone_hours(channel, tuple(own), tuple(unit))
    return YouthReach(
        Reachability(rules.timezone, hours.checkin, rules.quiet_start, rules.quiet_end),
        Reachability(rules.timezone, hours.telegram, rules.quiet_start, rules.quiet_end))


async def reachability(store: ScheduleRepo, youth_code: str, rules: DeliveryRules,
                       now: datetime) -> YouthReach:
    """A youth's own phone hours win over their unit's, for what their channel sends to
    the phone (a kiosk youth's check-in keeps quiet hours only); quiet hours always apply.

    A window that can never carry a message (set before windows were checked, or written
    straight into the database) is kept: with no usable window the youth is never
    reachable and their messages are recorded as missed. The reason is logged once.
    """
    own, unit = await store.windows_for(youth_code)
    facts = (await store.channel_facts([youth_code])).get(youth_code)
    return _reachability(youth_code, own, unit, facts, rules, now)


@dataclass
class _Batch:
    rows: list[PlannedRow]
    others: list[NewOutbox]
    marks: list[PlanMark]


def _live_move(changes: list[Change], now: datetime) -> bool:
    floor = (now - MOVE_REACH).date()
    return any(c.moved_to is not None and c.original_date >= floor for c in changes)


def _next_start(series: Series, changes: list[Change], until: datetime) -> datetime | None:
    """When the series next needs a pass: its first session from `until` on."""
    if series.paused:
        return None  # resuming is an edit, and edits are always planned
    ahead = occurrences(series, changes, until, until + NEXT_SEARCH)
    if ahead:
        return ahead[0].start
    if series.last_date is not None and series.last_date < (until + NEXT_SEARCH).date():
        return None
    return until + RECHECK


def _plan_series(series: Series, planned_until: datetime | None, changes: list[Change],
                 reach: dict[str, YouthReach], span: Horizons, key: str,
                 batch: _Batch, caught_up: datetime | None = None) -> None:
    """Plan one series: in full, or only what came inside a horizon since its mark.

    `caught_up`: for a series planned in full, the `next_start` of its last mark
    (PlanWork): what followed every session before it was planned then.
    """
    now, until = span.now, span.far
    full = planned_until is None or _live_move(changes, now)
    # Follow-ups of sessions starting before this were planned by an earlier pass.
    followed = None if full or planned_until is None else planned_until - span.lag
    followed_before = planned_until - span.lag if planned_until is not None else caught_up
    # Only sessions whose check-in may still be open, and none that ended well before
    # the series existed (LATE_ENTRY): a series entered with a first date years back (or
    # a stored timing from before the bounds) plans from now on, not a back-fill of past
    # sessions all due at once.
    lookback = min(MAX_LOOKBACK, series.timing.send_after + series.timing.expire_after
                   + series.duration)
    fresh = since = now - lookback
    if followed_before is not None:   # after an outage: a rating request still open is asked
        since = min(since, max(followed_before, now - RATING_OPEN))
    rows: list[PlannedRow] = []
    others: list[NewOutbox] = []
    if changes:  # a moved session may depend on the range: ask for exactly this one
        found = occurrences(series, changes, since, until)
        next_far = until if _live_move(changes, now) else _next_start(series, changes, until)
    else:        # regular sessions only: one look covers the range and the next session
        found = occurrences(series, changes, since, until + NEXT_SEARCH)
        ahead = [o for o in found if o.start >= until]
        found = found[:len(found) - len(ahead)]
        next_far = ahead[0].start if ahead else _next_start(series, changes, until)
    for occ in found:
        if series.created_at is not None and occ.end < series.created_at - LATE_ENTRY:
            continue
        checkin = occ.start >= fresh and (
            planned_until is None or full or occ.start >= planned_until)
        follow = occ.start < span.near and (followed is None or occ.start >= followed)
        if not (checkin or follow):
            continue  # planned by an earlier pass, from the same series
        for code in series.youth_codes:
            rows.extend(PlannedRow(p, series.id, series.discipline, occ.end)
                         for p in plan_for(occ, code, reach[code].checkin,
                                           reach[code].telegram, remind=follow)
                         if checkin or p.kind is not Kind.CHECKIN)
            if follow:
                others.append(NewOutbox(
                    f"rating:{occ.key}:{code}", Kind.RATING, occ.key, occ.end,
                    occ.end + series.timing.send_after, occ.end + RATING_OPEN, code,
                    series.therapist_code, secrets.token_urlsafe(12)))
        if follow and occ.start > now:   # one prompt per session; sent only if there is a reason
            others.append(NewOutbox(
                f"talk:{occ.key}", Kind.TALK, occ.key, occ.end, occ.start - TALK_LEAD,
                occ.start, None, series.therapist_code))
    batch.rows += rows
    batch.others += others
    batch.marks.append(PlanMark(series.id, key, until, _look_again(found, next_far, span)))


def _look_again(found: list[Occurrence], next_far: datetime | None,
                span: Horizons) -> datetime | None:
    """The mark's `next_start`, in the near frame: the start of the first session whose
    follow-ups this pass left for later, or the moment a new check-in comes inside the
    far horizon (`next_far`, moved back by the lag between the horizons)."""
    moments = [o.start for o in found if o.start >= span.near][:1]
    if next_far is not None:
        moments.append(next_far - span.lag)
    return min(moments) if moments else None


def _compute_slices(work: PlanWork, span: Horizons, key: str,
                    rules: DeliveryRules) -> Iterator[_Batch | None]:
    """Plan one batch of series, yielding None every SLICE_S of computing (the caller
    lets the event loop run then), and the batch at the end."""
    by_series: dict[int, list[Change]] = {}
    for change in work.changes:
        by_series.setdefault(change.series_id, []).append(change)
    reach = {code: _reachability(code, own, unit, work.channels.get(code), rules, span.now)
             for code, (own, unit) in work.windows.items()}
    batch = _Batch([], [], [])
    started = clock.perf_counter()
    for series, planned_until in work.series:
        if clock.perf_counter() - started > SLICE_S:
            yield None
            started = clock.perf_counter()
        try:  # one bad series or youth must not stop the planning of the others
            _plan_series(series, planned_until, by_series.get(series.id, []), reach,
                         span, key, batch, work.caught_up.get(series.id))
        except Exception as exc:  # isolate, record the reason, go on (planned again)
            log.error("could not plan series %d: %s: %s", series.id, type(exc).__name__, exc)
    yield batch


async def plan(store: ScheduleRepo, now: datetime, rules: DeliveryRules) -> int:
    """Plan check-ins of sessions ending from one expiry ago up to the horizon, and what
    follows each session up to `FOLLOW_UP_AHEAD` before it starts.

    Idempotent: rows are keyed by occurrence, kind and youth, so planning again adds
    nothing, and a restart derives the same rows from the database. Returns how many
    rows were added.
    """
    key, span = rules_key(rules), Horizons.of(now, rules)
    added, after = 0, 0
    while (work := await store.plan_work(span.near, key, after, BATCH_SERIES)).series:
        after = work.series[-1][0].id
        for batch in _compute_slices(work, span, key, rules):
            if batch is None:
                await asyncio.sleep(0)  # let answers through
            else:
                added += await store.save_plan(batch.rows, batch.others, batch.marks,
                                               work.change_mark, now)
    return added
