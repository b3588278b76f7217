"""The twin's schedules, phone windows and incremental planning (storage.ports.ScheduleRepo).

Mirrors storage/sqlite_schedule.py. What SQL gets from the triggers of migrations
0014/0015 (an edit of a series, its members, its changes, phone hours, a unit, a channel,
a contact or a pseudonym marks the series for planning) the twin gets from
storage.memory.tables, which runs the same rules on every insert, update and delete.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, time

from core.delivery import Window
from core.kiosk import KIOSK_PREFIX, Channel, ChannelFacts
from core.records import NewOutbox, NewSeries, PhoneWindow, PlanMark, PlannedRow, PlanWork
from core.schedule import Change, Series
from storage.memory.rows import change_from_row, days_text, outbox_row, parse_days, series_from_row
from storage.memory.tables import MemoryBase, Record, Tables
from storage.sql import IntegrityViolation
from storage.timefmt import iso, parse_iso

log = logging.getLogger(__name__)
PLAN_MISSED = "no phone window before expiry"   # as storage.sqlite_schedule.PLAN_MISSED


def _window(r: Record) -> Window:
    return Window(parse_days(r["weekdays"]), time.fromisoformat(r["start_time"]),
                  time.fromisoformat(r["end_time"]))


def upsert_planned_rows(tables: Tables, rows: list[PlannedRow], now: datetime) -> int:
    """Insert planned messages once; revive ones cancelled only because of a pause, and
    let a row never tried (or missed at planning for want of a phone window) take a new
    plan. How many rows were inserted or changed, as SQLite's total_changes counts."""
    stamp = iso(now)
    changed = 0
    for r in rows:
        p = r.planned
        state = "expired" if p.missed else "pending"
        new = outbox_row(
            dedupe_key=p.dedupe_key, kind=p.kind.value, youth_code=p.youth_code,
            series_id=r.series_id, occurrence_key=p.occurrence_key, discipline=r.discipline,
            session_end=iso(r.session_end), due_at=iso(p.due_at), expires_at=iso(p.expires_at),
            state=state, last_error=PLAN_MISSED if p.missed else None, scheduled_at=stamp,
            closed_at=stamp if p.missed else None)
        old = tables.first("outbox", dedupe_key=p.dedupe_key)
        if old is None:
            tables.insert("outbox", new)
            changed += 1
            continue
        revive = (old["state"] == "cancelled" and old["last_error"] == "series paused"
                  and state == "pending")
        replan = (((old["state"] == "pending" and old["attempts"] == 0)
                   or (old["state"] == "expired" and old["last_error"] == PLAN_MISSED))
                  and (old["due_at"] != new["due_at"] or old["state"] != state))
        if revive or replan:
            old.update(state=state, due_at=new["due_at"], expires_at=new["expires_at"],
                       last_error=new["last_error"], closed_at=new["closed_at"])
            changed += 1
    return changed


def insert_outbox_rows(tables: Tables, rows: list[NewOutbox], now: datetime) -> int:
    """Insert messages other than check-ins and reminders once (first one wins); a row
    cancelled only because its series was paused comes back (sql_schedule's upsert)."""
    added = 0
    for r in rows:
        new = outbox_row(
            dedupe_key=r.dedupe_key, kind=r.kind.value, youth_code=r.youth_code,
            therapist_code=r.therapist_code, ref=r.ref, occurrence_key=r.occurrence_key,
            session_end=iso(r.session_end), due_at=iso(r.due_at), expires_at=iso(r.expires_at),
            state="pending", scheduled_at=iso(now))
        old = tables.first("outbox", dedupe_key=r.dedupe_key)
        if old is not None:
            if old["state"] == "cancelled" and old["last_error"] == "series paused":
                old.update(state="pending", due_at=new["due_at"],
                           expires_at=new["expires_at"], last_error=None, closed_at=None)
                added += 1
            continue
        if tables.conflict("outbox", new) is None:
            tables.insert("outbox", new)
            added += 1
    return added


class MemoryScheduleRepository(MemoryBase):

    # -- schedules ---------------------------------------------------------------------

    async def add_series(self, new: NewSeries, now: datetime) -> int:
        t = new.timing
        # The schema's foreign keys and primary key, checked before any write (SQL rolls
        # the whole series back).
        self.tables.require("therapists", code=new.therapist_code)
        for code in new.youth_codes:
            self.tables.require("youths", code=code)
        if len(set(new.youth_codes)) != len(new.youth_codes):
            raise IntegrityViolation("UNIQUE constraint failed: series_youths")
        series_id = self.tables.insert("series", {
            "therapist_code": new.therapist_code, "discipline": new.discipline,
            "weekdays": days_text(new.weekdays), "start_time": new.start.strftime("%H:%M"),
            "duration_minutes": int(new.duration.total_seconds() // 60),
            "timezone": new.timezone, "first_date": new.first_date.isoformat(),
            "last_date": new.last_date.isoformat() if new.last_date else None, "paused": 0,
            "send_after_minutes": int(t.send_after.total_seconds() // 60),
            "remind_after_minutes": int(t.remind_after.total_seconds() // 60),
            "expire_after_minutes": int(t.expire_after.total_seconds() // 60),
            "created_at": iso(now)})
        for code in new.youth_codes:
            self.tables.insert("series_youths", {"series_id": series_id, "youth_code": code})
        return series_id

    def _members(self, first: int = 0, last: int | None = None) -> dict[int, list[str]]:
        members: dict[int, list[str]] = {}
        rows = self.tables.scan("series_youths", lambda r: first <= r["series_id"] and (
            last is None or r["series_id"] <= last))
        for row in sorted(rows, key=lambda r: r["youth_code"]):
            members.setdefault(row["series_id"], []).append(row["youth_code"])
        return members

    async def all_series(self) -> list[Series]:
        members = self._members()
        out = []
        for r in self.tables.scan("series"):
            try:
                out.append(series_from_row(r, members))
            except (ValueError, TypeError, KeyError) as exc:  # one bad row must not stop all
                log.error("ignored unreadable series %s: %s", r["id"], exc)
        return out

    async def set_series_paused(self, series_id: int, paused: bool) -> bool:
        return self.tables.update("series", {"paused": int(paused)},
                                  lambda r: r["paused"] != int(paused), id=series_id) == 1

    async def add_change(self, change: Change, now: datetime) -> None:
        moved = change.moved_to.isoformat(timespec="minutes") if change.moved_to else None
        self.tables.require("series", id=change.series_id)
        key: Record = {"series_id": change.series_id,
                       "original_date": change.original_date.isoformat()}
        if self.tables.update("series_changes", {"cancelled": int(change.cancelled),
                                                 "moved_to": moved}, **key) == 0:
            self.tables.insert("series_changes", {**key, "cancelled": int(change.cancelled),
                                                  "moved_to": moved, "created_at": iso(now)})

    async def changes(self) -> list[Change]:
        return [change_from_row(r) for r in self.tables.scan("series_changes")]

    async def add_window(self, window: PhoneWindow) -> None:
        w = window.window
        self.tables.insert("phone_windows", {
            "scope": window.scope, "scope_code": window.scope_code,
            "weekdays": days_text(w.weekdays), "start_time": w.start.strftime("%H:%M"),
            "end_time": w.end.strftime("%H:%M")})

    async def windows_for(self, youth_code: str) -> tuple[list[Window], list[Window]]:
        """The youth's own phone windows and those of their unit."""
        youth = self.tables.first("youths", code=youth_code)
        unit = youth.get("unit") if youth is not None else None
        own: list[Window] = []
        units: list[Window] = []
        for r in self.tables.scan("phone_windows", lambda w: (
                (w["scope"] == "youth" and w["scope_code"] == youth_code)
                or (w["scope"] == "unit" and unit is not None and w["scope_code"] == unit))):
            try:
                window = _window(r)
            except (ValueError, TypeError):
                log.error("ignored an unreadable phone window of %s (%s-%s)", youth_code,
                          r["start_time"], r["end_time"])
                continue
            (own if r["scope"] == "youth" else units).append(window)
        return own, units

    async def channel_facts(self, youth_codes: Collection[str]) -> dict[str, ChannelFacts]:
        """What each youth's channel is decided from (core.kiosk.current_channel): the
        newest choice in youth_channels, and the facts of the default."""
        wanted = set(youth_codes)
        out: dict[str, ChannelFacts] = {}
        for y in self.tables.scan("youths", lambda r: r["code"] in wanted):
            chosen = max(self.tables.scan("youth_channels", youth_code=y["code"]),
                         key=lambda c: c["id"], default=None)
            pseudonym = y.get("pseudonym")
            linked = pseudonym is not None and self.tables.first(
                "contacts", pseudonym=pseudonym) is not None
            out[y["code"]] = ChannelFacts(
                Channel(chosen["channel"]) if chosen is not None else None,
                int(y["birth_year"]), linked, (pseudonym or "").startswith(KIOSK_PREFIX))
        return out

    async def set_unit(self, youth_code: str, unit: str) -> bool:
        return self.tables.update("youths", {"unit": unit}, code=youth_code) == 1

    # -- incremental planning (see migration 0014) -------------------------------------

    async def plan_work(self, until: datetime, rules: str, after: int = 0,
                        limit: int = 1_000_000) -> PlanWork:
        """The next `limit` series after id `after` that a pass planning up to `until`
        must look at: never planned, planned under other rules, edited since, or with a
        session newly inside the horizon. With their changes and phone windows."""
        t = self.tables
        change_mark = max((r["id"] for r in t.scan("plan_changes")), default=0)
        edited = {r["series_id"] for r in t.scan("plan_changes")}
        horizon = iso(until)
        picked: list[tuple[Record, bool, str | None, str | None]] = []
        for s in sorted(t.scan("series", lambda r: r["id"] > after), key=lambda r: r["id"]):
            mark = t.first("plan_marks", series_id=s["id"])
            in_full = mark is None or mark["rules"] != rules or s["id"] in edited
            # SQL's `m.next_start < ?` is NULL, so false, for a series with no next session.
            due = mark is not None and mark["next_start"] is not None and (
                mark["next_start"] < horizon)
            if in_full or due:
                picked.append((s, in_full, mark["planned_until"] if mark else None,
                               mark["next_start"] if mark else None))
            if len(picked) >= limit:
                break
        if not picked:
            return PlanWork(change_mark, [], [], {})
        first, last = picked[0][0]["id"], picked[-1][0]["id"]
        members = self._members(first, last)
        series: list[tuple[Series, datetime | None]] = []
        caught_up: dict[int, datetime] = {}
        for s, in_full, mark_until, mark_next in picked:
            try:
                until_mark = None if in_full else parse_iso(str(mark_until))
                series.append((series_from_row(s, members), until_mark))
                if in_full and mark_next:
                    caught_up[s["id"]] = parse_iso(str(mark_next))
            except (ValueError, TypeError, KeyError) as exc:  # one bad row must not stop all
                log.error("ignored unreadable series %s: %s", s["id"], exc)
        changes = [change_from_row(r) for r in t.scan(
            "series_changes", lambda r: first <= r["series_id"] <= last)]
        windows = self._windows_of(first, last)
        return PlanWork(change_mark, series, changes, windows,
                        await self.channel_facts(windows.keys()), caught_up)

    def _windows_of(self, first: int, last: int
                    ) -> dict[str, tuple[list[Window], list[Window]]]:
        """Like `windows_for`, for every youth of the series with ids first..last."""
        units: dict[str, str | None] = {}
        for sy in self.tables.scan("series_youths", lambda r: first <= r["series_id"] <= last):
            youth = self.tables.first("youths", code=sy["youth_code"])
            units[sy["youth_code"]] = youth.get("unit") if youth is not None else None
        if not units:
            return {}
        own: dict[str, list[Window]] = {}
        unit: dict[str, list[Window]] = {}
        for r in self.tables.scan("phone_windows"):
            try:
                window = _window(r)
            except (ValueError, TypeError):
                log.error("ignored an unreadable phone window of %s (%s-%s)", r["scope_code"],
                          r["start_time"], r["end_time"])
                continue
            (own if r["scope"] == "youth" else unit).setdefault(r["scope_code"], []).append(
                window)
        return {code: (own.get(code, []), unit.get(u, []) if u is not None else [])
                for code, u in units.items()}

    async def save_plan(self, rows: list[PlannedRow], others: list[NewOutbox],
                        marks: list[PlanMark], change_mark: int, now: datetime) -> int:
        """Store one batch of a pass at once: its rows, and how far each of its series is
        now planned (edits up to `change_mark` are planned, newer ones not)."""
        t = self.tables
        added = upsert_planned_rows(t, rows, now) if rows else 0
        added += insert_outbox_rows(t, others, now) if others else 0
        for m in marks:
            values = {"rules": m.rules, "planned_until": iso(m.planned_until),
                      "next_start": iso(m.next_start) if m.next_start else None}
            if t.update("plan_marks", values, series_id=m.series_id) == 0:
                t.insert("plan_marks", {"series_id": m.series_id, **values})
        for m in marks:
            t.delete("plan_changes", lambda r: r["id"] <= change_mark, series_id=m.series_id)
        # Edits of series deleted since: nothing left to plan for them.
        series = set(t.rows["series"])
        t.delete("plan_changes", lambda r: r["id"] <= change_mark
                 and r["series_id"] not in series)
        return added
