"""Shared set-up of the storage contract: a fixed clock and a few enrolled people.

Only the port API is used (no SQL, no files), and every time is passed explicitly, so
the same helpers serve SQLite, the in-memory twin and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core.delivery import Kind, Planned
from core.records import (
    BindOutcome,
    Consent,
    NewAlert,
    NewCheckin,
    NewOutbox,
    NewSeries,
    NewYouth,
    PlannedRow,
    Therapist,
    Youth,
)
from core.schedule import Timing
from storage.ports import Store

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
CONSENT = Consent("participation", "participation-2", "0" * 64, "nl")
SHARING = Consent("sharing", "sharing-1", "1" * 64, "nl")
RESEARCH = Consent("research", "research-1", "2" * 64, "nl")
TIMING = Timing(timedelta(minutes=5), timedelta(hours=4), timedelta(hours=24))


async def therapist(store: Store, code: str = "T-02") -> None:
    """Enrol the therapist unless enrolled already."""
    if await store.therapist(code) is None:
        await store.add_therapist(Therapist(code, "nl"), NOW)


async def youth(store: Store, code: str = "J-014", therapist_code: str = "T-02",
                birth_year: int = 2008) -> None:
    """Enrol a youth who has not joined on Telegram (yet)."""
    await therapist(store, therapist_code)
    await store.add_youth(NewYouth(code, therapist_code, birth_year, "nl", False, None), NOW)


async def bound_youth(store: Store, code: str = "J-014", pseudonym: str = "p1",
                      therapist_code: str = "T-02", chat: bytes = b"sealed") -> Youth:
    """Enrol a youth and link their Telegram account (participation consent given)."""
    await youth(store, code, therapist_code)
    await store.add_invite(f"d-{code}", "youth", code, NOW, NOW + 14 * DAY)
    assert await store.bind_youth(f"d-{code}", pseudonym, chat, CONSENT, NOW) == (
        BindOutcome.BOUND)
    found = await store.youth_by_code(code)
    assert found is not None
    return found


def new_checkin(ref: str = "R" * 16, occurrence: str = "s1", pseudonym: str = "p1",
                created: datetime = NOW, hours: int = 24,
                session_end: datetime | None = None) -> NewCheckin:
    return NewCheckin(ref, pseudonym, occurrence, "music", "alliance-1", False, created,
                      created + timedelta(hours=hours), session_end=session_end)


def planned(youth_code: str, occurrence: str, due: datetime, kind: Kind = Kind.CHECKIN,
            series_id: int | None = None, hours: int = 24, missed: bool = False,
            session_end: datetime | None = None) -> PlannedRow:
    """A check-in (or reminder) row as the planner makes it."""
    key = f"{kind.value}:{youth_code}:{occurrence}"
    return PlannedRow(Planned(key, kind, youth_code, occurrence, due,
                              due + timedelta(hours=hours), missed),
                      series_id, "music", session_end or due)


def staff_row(key: str, kind: Kind, due: datetime, therapist_code: str = "T-02",
              youth_code: str | None = None, occurrence: str = "s1",
              ref: str | None = None, session_end: datetime | None = None,
              hours: int = 36) -> NewOutbox:
    """A message to staff (report, rating request, talk) for the outbox."""
    return NewOutbox(key, kind, occurrence, session_end or due, due,
                     due + timedelta(hours=hours), youth_code=youth_code,
                     therapist_code=therapist_code, ref=ref)


def new_alert(ref: str, youth_code: str = "J-014", kind: str = "rupture",
              therapist_code: str = "T-02", detail: str = "bond 2",
              due: datetime = NOW, escalate_at: datetime | None = None,
              reason: str | None = None, unit_code: str | None = None) -> NewAlert:
    return NewAlert(ref, f"{kind}:{ref}", kind, youth_code, therapist_code, detail, due,
                    escalate_at, unit_code=unit_code, reason=reason)


def weekly_series(therapist_code: str, *youth_codes: str, first: date = date(2026, 11, 2),
                  weekdays: frozenset[int] = frozenset({0})) -> NewSeries:
    """A weekly music therapy series on Mondays at 14:00 in Amsterdam."""
    return NewSeries(therapist_code, youth_codes, "music", weekdays, time(14, 0),
                     timedelta(minutes=45), "Europe/Amsterdam", first, None, TIMING)
