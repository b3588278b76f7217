"""When a message may go out: delivery windows, quiet hours, reminders and expiry.

Youths in secure care may only have their phone at set hours. A message that falls due
outside those hours waits for the next window if that is still before expiry; otherwise
it is recorded as missed. Never a message at night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from core.kiosk import Channel
from core.schedule import Occurrence

DAY_END = time(23, 59, 59, 999999)
SEARCH_DAYS = 9
# What next_allowed answers when no window in the coming week lets a message through (e.g.
# a window wholly inside quiet hours): later than any expiry, so the message is recorded
# as missed with its reason instead of stopping the planner or the tick.
NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """Hours in which a phone may be used, on some weekdays (local time)."""

    weekdays: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True)
class Reachability:
    """All the rules for one youth: phone windows (empty = any hour) and quiet hours."""

    timezone: str
    windows: tuple[Window, ...]
    quiet_start: time
    quiet_end: time


@dataclass(frozen=True)
class PhoneHours:
    """The phone windows that hold a youth's messages (empty = any hour outside quiet
    hours): `checkin` for the check-in row, `telegram` for anything that goes to the
    youth's phone (the reminder, and the Telegram half of a check-in on both channels)."""

    checkin: tuple[Window, ...]
    telegram: tuple[Window, ...]


def phone_hours(channel: Channel, own: tuple[Window, ...],
                unit: tuple[Window, ...]) -> PhoneHours:
    """Which phone windows apply to a youth on `channel` (own windows win over the unit's).

    Phone windows are about the phone. A kiosk youth answers on the therapy room's tablet
    with a code the therapist gets right after the session (valid for minutes), so their
    check-in keeps only the quiet hours: held to phone time it would wait for days, or
    expire, and the code would never come. A youth on both channels gets the kiosk code
    right after the session too; what goes to their phone still waits for phone time
    (outside it, the check-in is offered on the kiosk only, and the Telegram reminder
    comes in the next window before expiry).
    """
    windows = tuple(own or unit)
    if channel is Channel.KIOSK:
        return PhoneHours((), ())
    if channel is Channel.BOTH:
        return PhoneHours((), windows)
    return PhoneHours(windows, windows)


def _awake(quiet_start: time, quiet_end: time) -> list[tuple[time, time]]:
    """The [start, end) intervals of a local day outside the quiet hours."""
    if quiet_start == quiet_end:      # no quiet hours at all
        return [(time(0), DAY_END)]
    if quiet_start > quiet_end:       # e.g. 21:30-08:00 wraps midnight
        return [(quiet_end, quiet_start)]
    return [(time(0), quiet_start), (quiet_end, DAY_END)]  # e.g. 00:00-07:00


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def window_problem(window: Window, quiet_start: time, quiet_end: time) -> str | None:
    """Why a phone window can never carry a message, in one sentence; None if it can.

    A window wholly inside the quiet hours would hold every check-in for that unit or
    youth until it expired: refuse it when it is set, naming both.
    """
    span = f"{_hhmm(window.start)}-{_hhmm(window.end)}"
    if window.start >= window.end:
        return f"the phone window {span} must start before it ends"
    if not window.weekdays:
        return f"the phone window {span} has no weekdays"
    if not any(max(window.start, a0) < min(window.end, a1)
               for a0, a1 in _awake(quiet_start, quiet_end)):
        return (f"the phone window {span} lies wholly inside the quiet hours "
                f"{_hhmm(quiet_start)}-{_hhmm(quiet_end)}, so no message could ever reach "
                "it; choose hours outside the quiet hours")
    return None


def _day_intervals(rules: Reachability, weekday: int) -> list[tuple[time, time]]:
    """Allowed [start, end) intervals of one local day, windows minus quiet hours."""
    if rules.windows:
        base = [(w.start, w.end) for w in rules.windows if weekday in w.weekdays]
    else:
        base = [(time(0), DAY_END)]
    out = []
    for a0, a1 in base:
        for b0, b1 in _awake(rules.quiet_start, rules.quiet_end):
            lo, hi = max(a0, b0), min(a1, b1)
            if lo < hi:
                out.append((lo, hi))
    return sorted(out)


@lru_cache(maxsize=8192)  # planning asks the same for thousands of youths
def next_allowed(moment: datetime, rules: Reachability) -> datetime:
    """The first moment at or after `moment` when a message may be delivered (UTC).

    NEVER when no window of the coming week lets a message through: never an exception,
    which would stop start-up and every tick at this one youth.
    """
    tz = ZoneInfo(rules.timezone)
    local = moment.astimezone(tz)
    for offset in range(SEARCH_DAYS):
        day = (local + timedelta(days=offset)).date()
        for start, end in _day_intervals(rules, day.weekday()):
            lo = datetime.combine(day, start, tzinfo=tz)
            hi = datetime.combine(day, end, tzinfo=tz)
            if hi <= local:
                continue
            return max(lo, local).astimezone(UTC)
    return NEVER


def allowed_now(moment: datetime, rules: Reachability) -> bool:
    return next_allowed(moment, rules) == moment.astimezone(UTC)


class Kind(StrEnum):
    CHECKIN = "checkin"
    REMINDER = "reminder"
    RATING = "rating"          # the therapist's own rating of the session
    REPORT = "report"          # the therapist's weekly trend image
    ALERT = "alert"            # something needs the therapist's attention
    ESCALATION = "escalation"  # an urgent alert nobody acknowledged, to the coordinators
    TALK = "talk"              # before a session: "J-103: band was laag. Even bespreken?"

    @property
    def to_youth(self) -> bool:
        """A message to the youth (the check-in and its reminder); the rest go to staff."""
        return self in (Kind.CHECKIN, Kind.REMINDER)


@dataclass(frozen=True)
class Planned:
    dedupe_key: str
    kind: Kind
    youth_code: str
    occurrence_key: str
    due_at: datetime
    expires_at: datetime
    missed: bool


def plan_for(occurrence: Occurrence, youth_code: str, rules: Reachability,
             remind_rules: Reachability | None = None, *,
             remind: bool = True) -> list[Planned]:
    """The check-in and its reminder for one youth after one session. The reminder keeps
    to `remind_rules` when given: it goes to the phone (core.delivery.phone_hours).
    `remind=False`: the check-in only (its reminder is planned nearer the session)."""
    timing = occurrence.series.timing
    nominal = occurrence.end + timing.send_after
    expires = nominal + timing.expire_after
    due = next_allowed(nominal, rules)
    missed = due >= expires
    if due == NEVER:  # no usable phone window: recorded as missed, at its nominal time
        due = nominal

    def key(kind: Kind) -> str:
        return f"{kind.value}:{occurrence.key}:{youth_code}"

    planned = [Planned(key(Kind.CHECKIN), Kind.CHECKIN, youth_code, occurrence.key, due,
                       expires, missed)]
    if remind and not missed:
        reminded = next_allowed(due + timing.remind_after, remind_rules or rules)
        if reminded < expires:
            planned.append(Planned(key(Kind.REMINDER), Kind.REMINDER, youth_code,
                                   occurrence.key, reminded, expires, False))
    return planned


class Dispatch(StrEnum):
    SEND = "send"
    WAIT = "wait"
    EXPIRE = "expire"


@dataclass(frozen=True)
class DispatchDecision:
    action: Dispatch
    at: datetime | None = None


def decide_dispatch(
    due_at: datetime, expires_at: datetime, now: datetime, rules: Reachability
) -> DispatchDecision:
    """Decide, at `now`, what to do with a pending message: send, wait, or mark missed.

    After downtime this sends what is still inside its expiry and inside a window, and
    marks the rest missed: never a burst of stale prompts, never a message at night.
    """
    if now >= expires_at:
        return DispatchDecision(Dispatch.EXPIRE)
    if now < due_at:
        return DispatchDecision(Dispatch.WAIT, due_at)
    at = next_allowed(now, rules)
    if at >= expires_at:
        return DispatchDecision(Dispatch.EXPIRE)
    if at > now:
        return DispatchDecision(Dispatch.WAIT, at)
    return DispatchDecision(Dispatch.SEND)


def next_working_moment(moment: datetime, timezone: str, start: time = time(8, 30),
                        end: time = time(17, 30)) -> datetime:
    """`moment` if it falls in working hours (Mon-Fri), else the next working morning."""
    tz = ZoneInfo(timezone)
    local = moment.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if day.weekday() >= 5:
            continue
        lo = datetime.combine(day, start, tzinfo=tz)
        hi = datetime.combine(day, end, tzinfo=tz)
        if local < hi:
            return max(lo, local).astimezone(UTC)
    raise AssertionError("a working day falls within any eight days")


def report_due(moment: datetime, timezone: str, weekday: int, at: time) -> datetime:
    """The next weekly report moment (e.g. Monday 08:00 local) at or after `moment`."""
    tz = ZoneInfo(timezone)
    local = moment.astimezone(tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        candidate = datetime.combine(day, at, tzinfo=tz)
        if day.weekday() == weekday and candidate >= local:
            return candidate.astimezone(UTC)
    raise AssertionError("the weekday comes round within eight days")
