"""The schedule and outbox ports on storage.sql."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import cast

from core.cluster import SENDING_LEASE
from core.delivery import Kind, Window
from core.kiosk import KIOSK_PREFIX, Channel, ChannelFacts
from core.questionnaire import Discipline
from core.records import (
    NewOutbox,
    NewSeries,
    OutboxItem,
    OutboxState,
    PhoneWindow,
    PlanMark,
    PlannedRow,
    PlanWork,
)
from core.schedule import Change, Series, Timing
from storage.sql import Row, Sql
from storage.sql_base import SqlQueries, chunks, in_list
from storage.timefmt import iso, parse_iso

log = logging.getLogger(__name__)
PLAN_MISSED = "no phone window before expiry"   # a row missed when it was planned


def _days(days: frozenset[int]) -> str:
    return ",".join(str(d) for d in sorted(days))


def _parse_days(text: str) -> frozenset[int]:
    return frozenset(int(d) for d in text.split(",") if d)


def outbox_item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"], kind=Kind(row["kind"]), youth_code=row["youth_code"],
        occurrence_key=row["occurrence_key"],
        discipline=cast(Discipline | None, row["discipline"]),
        due_at=parse_iso(row["due_at"]), expires_at=parse_iso(row["expires_at"]),
        state=OutboxState(row["state"]), attempts=row["attempts"],
        therapist_code=row["therapist_code"], ref=row["ref"],
        session_end=parse_iso(row["session_end"]),
    )




def _series(r: Row, members: dict[int, list[str]]) -> Series:
    return Series(
        id=r["id"], youth_codes=tuple(members.get(r["id"], [])),
        therapist_code=r["therapist_code"],
        discipline=cast(Discipline, r["discipline"]),
        weekdays=_parse_days(r["weekdays"]), start=time.fromisoformat(r["start_time"]),
        duration=timedelta(minutes=r["duration_minutes"]), timezone=r["timezone"],
        first_date=date.fromisoformat(r["first_date"]),
        last_date=date.fromisoformat(r["last_date"]) if r["last_date"] else None,
        paused=bool(r["paused"]),
        timing=Timing(timedelta(minutes=r["send_after_minutes"]),
                      timedelta(minutes=r["remind_after_minutes"]),
                      timedelta(minutes=r["expire_after_minutes"])),
        created_at=parse_iso(r["created_at"]),
    )


def _change(r: Row) -> Change:
    return Change(r["series_id"], date.fromisoformat(r["original_date"]), bool(r["cancelled"]),
                  datetime.fromisoformat(r["moved_to"]) if r["moved_to"] else None)


# Rows per multi-row INSERT: 13 values each stays far below both backends' limits.
_ROWS_PER_INSERT = 400


async def _insert_counted(conn: Sql, head: str, width: int, tail: str,
                          rows: list[tuple[object, ...]]) -> int:
    """Run `head VALUES (...), (...) tail RETURNING id` over `rows` in slices; how many
    rows the statements inserted or changed (those RETURNING gives back)."""
    done = 0
    one = f"({in_list(width)})"
    for part in chunks(rows, _ROWS_PER_INSERT):
        values = ", ".join([one] * len(part))
        done += len(await conn.all(f"{head} VALUES {values}{tail} RETURNING id",
                                   [v for row in part for v in row]))
    return done


def _last_per_key(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """One row per dedupe key (the first value), the last one given, in first-seen
    order: one multi-row upsert may not touch the same row twice (PostgreSQL refuses)."""
    return list({row[0]: row for row in rows}.values())


async def upsert_planned_rows(conn: Sql, rows: list[PlannedRow],
                              now: datetime) -> int:
    """Insert planned messages once; revive ones cancelled only because of a pause."""
    stamp = iso(now)
    return await _insert_counted(
        conn,
        "INSERT INTO outbox (dedupe_key, kind, youth_code, series_id, occurrence_key,"
        " discipline, session_end, due_at, expires_at, state, last_error,"
        " scheduled_at, closed_at)", 13,
        " ON CONFLICT (dedupe_key) DO UPDATE SET state = excluded.state,"
        " due_at = excluded.due_at, expires_at = excluded.expires_at,"
        " last_error = excluded.last_error, closed_at = excluded.closed_at"
        " WHERE (outbox.state = 'cancelled' AND outbox.last_error = 'series paused'"
        "  AND excluded.state = 'pending')"
        # Planned again under other phone hours or another channel: a row never tried,
        # or missed at planning only for want of a phone window, takes the new plan.
        " OR (((outbox.state = 'pending' AND outbox.attempts = 0)"
        "   OR (outbox.state = 'expired' AND outbox.last_error = 'no phone window before expiry'))"
        "  AND (outbox.due_at != excluded.due_at OR outbox.state != excluded.state))",
        _last_per_key([(r.planned.dedupe_key, r.planned.kind.value, r.planned.youth_code,
          r.series_id, r.planned.occurrence_key, r.discipline, iso(r.session_end),
          iso(r.planned.due_at), iso(r.planned.expires_at),
          "expired" if r.planned.missed else "pending",
          PLAN_MISSED if r.planned.missed else None, stamp,
          stamp if r.planned.missed else None) for r in rows]))


async def insert_outbox_rows(conn: Sql, rows: list[NewOutbox],
                             now: datetime) -> int:
    """Insert messages other than check-ins and reminders once (first one wins); a row
    cancelled only because its series was paused comes back, as check-ins do (after a
    resume the therapist is asked to rate those sessions again)."""
    return await _insert_counted(
        conn,
        "INSERT INTO outbox (dedupe_key, kind, youth_code, therapist_code,"
        " ref, occurrence_key, session_end, due_at, expires_at, state, scheduled_at)", 11,
        " ON CONFLICT (dedupe_key) DO UPDATE SET state = 'pending',"
        " due_at = excluded.due_at, expires_at = excluded.expires_at, last_error = NULL,"
        " closed_at = NULL"
        " WHERE outbox.state = 'cancelled' AND outbox.last_error = 'series paused'",
        [(r.dedupe_key, r.kind.value, r.youth_code, r.therapist_code, r.ref,
          r.occurrence_key, iso(r.session_end), iso(r.due_at), iso(r.expires_at),
          "pending", iso(now)) for r in rows])


class ScheduleRepository(SqlQueries):
    owner: str  # this process instance, set by SqlStore

    # -- schedules -------------------------------------------------------------------

    async def add_series(self, new: NewSeries, now: datetime) -> int:
        t = new.timing
        async with self.db.write() as conn:
            row = await conn.one(
                "INSERT INTO series (therapist_code, discipline, weekdays, start_time,"
                " duration_minutes, timezone, first_date, last_date, send_after_minutes,"
                " remind_after_minutes, expire_after_minutes, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (new.therapist_code, new.discipline, _days(new.weekdays),
                 new.start.strftime("%H:%M"), int(new.duration.total_seconds() // 60),
                 new.timezone, new.first_date.isoformat(),
                 new.last_date.isoformat() if new.last_date else None,
                 int(t.send_after.total_seconds() // 60),
                 int(t.remind_after.total_seconds() // 60),
                 int(t.expire_after.total_seconds() // 60), iso(now)),
            )
            assert row is not None
            series_id = int(row["id"])
            await conn.run_many(
                "INSERT INTO series_youths (series_id, youth_code) VALUES (?, ?)",
                [(series_id, code) for code in new.youth_codes],
            )
        return series_id

    async def all_series(self) -> list[Series]:
        members: dict[int, list[str]] = {}
        for row in await self._all("SELECT series_id, youth_code FROM series_youths"
                                    " ORDER BY youth_code"):
            members.setdefault(row["series_id"], []).append(row["youth_code"])
        out = []
        for r in await self._all("SELECT * FROM series ORDER BY id"):
            try:
                out.append(_series(r, members))
            except (ValueError, TypeError, KeyError) as exc:  # one bad row must not stop all
                log.error("ignored unreadable series %s: %s", r["id"], exc)
        return out

    async def set_series_paused(self, series_id: int, paused: bool) -> bool:
        async with self.db.write() as conn:
            changed = await conn.run("UPDATE series SET paused = ? WHERE id = ? AND paused != ?",
                                     (int(paused), series_id, int(paused)))
            return changed == 1

    async def add_change(self, change: Change, now: datetime) -> None:
        moved = change.moved_to.isoformat(timespec="minutes") if change.moved_to else None
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO series_changes (series_id, original_date, cancelled, moved_to,"
                " created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (series_id, original_date)"
                " DO UPDATE SET cancelled = excluded.cancelled, moved_to = excluded.moved_to",
                (change.series_id, change.original_date.isoformat(), int(change.cancelled),
                 moved, iso(now)),
            )

    async def changes(self) -> list[Change]:
        return [_change(r) for r in await self._all("SELECT * FROM series_changes")]

    async def add_window(self, window: PhoneWindow) -> None:
        w = window.window
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO phone_windows (scope, scope_code, weekdays, start_time, end_time)"
                " VALUES (?, ?, ?, ?, ?)",
                (window.scope, window.scope_code, _days(w.weekdays), w.start.strftime("%H:%M"),
                 w.end.strftime("%H:%M")),
            )

    async def windows_for(self, youth_code: str) -> tuple[list[Window], list[Window]]:
        """The youth's own phone windows and those of their unit."""
        rows = await self._all(
            "SELECT w.scope, w.weekdays, w.start_time, w.end_time FROM phone_windows w"
            " LEFT JOIN youths y ON y.code = ?"
            " WHERE (w.scope = 'youth' AND w.scope_code = ?)"
            " OR (w.scope = 'unit' AND w.scope_code = y.unit)",
            (youth_code, youth_code),
        )
        own: list[Window] = []
        unit: list[Window] = []
        for r in rows:
            try:
                window = Window(_parse_days(r["weekdays"]), time.fromisoformat(r["start_time"]),
                                time.fromisoformat(r["end_time"]))
            except (ValueError, TypeError):
                log.error("ignored an unreadable phone window of %s (%s-%s)", youth_code,
                          r["start_time"], r["end_time"])
                continue
            (own if r["scope"] == "youth" else unit).append(window)
        return own, unit

    async def channel_facts(self, youth_codes: Collection[str]) -> dict[str, ChannelFacts]:
        """What each youth's channel is decided from (core.kiosk.current_channel): the
        newest choice in youth_channels, and the facts of the default."""
        codes = list(youth_codes)
        facts: dict[str, ChannelFacts] = {}
        for part in chunks(codes):
            for r in await self._all(
                "SELECT y.code, y.birth_year, y.pseudonym,"  # noqa: S608 - placeholders only
                " (SELECT c.channel FROM youth_channels c WHERE c.youth_code = y.code"
                "  ORDER BY c.id DESC LIMIT 1) AS chosen,"
                " EXISTS (SELECT 1 FROM contacts k WHERE k.pseudonym = y.pseudonym) AS linked"
                f" FROM youths y WHERE y.code IN ({in_list(len(part))})", part):
                facts[r["code"]] = ChannelFacts(
                    Channel(r["chosen"]) if r["chosen"] is not None else None,
                    int(r["birth_year"]), bool(r["linked"]),
                    (r["pseudonym"] or "").startswith(KIOSK_PREFIX))
        return facts

    async def set_unit(self, youth_code: str, unit: str) -> bool:
        async with self.db.write() as conn:
            changed = await conn.run("UPDATE youths SET unit = ? WHERE code = ?",
                                     (unit, youth_code))
            return changed == 1

    # -- outbox ----------------------------------------------------------------------

    async def upsert_planned(self, rows: list[PlannedRow], now: datetime) -> int:
        """Insert planned messages once; revive ones cancelled only because of a pause."""
        async with self.db.write() as conn:
            return await upsert_planned_rows(conn, rows, now)

    # -- incremental planning (see migration 0012) -------------------------------------

    async def plan_work(self, until: datetime, rules: str, after: int = 0,
                        limit: int = 1_000_000) -> PlanWork:
        """The next `limit` series after id `after` that a pass must look at: never
        planned, planned under other rules, edited since, or whose mark's `next_start`
        is before `until` (scheduler.planner.Horizons: the near horizon, the frame the
        planner keeps `next_start` in). With their changes and phone windows.

        The newest edit is read first: an edit made while the rest is read is newer than
        the mark, so the pass that stores this plan leaves it for the next pass.
        """
        mark_row = await self._one("SELECT coalesce(max(id), 0) AS mark FROM plan_changes")
        change_mark = int(mark_row["mark"]) if mark_row else 0
        rows = await self._all(
            "SELECT s.*, m.planned_until AS mark_until, m.next_start AS mark_next,"
            " (m.series_id IS NULL OR m.rules != ?"
            " OR EXISTS (SELECT 1 FROM plan_changes c WHERE c.series_id = s.id)) AS in_full"
            " FROM series s LEFT JOIN plan_marks m ON m.series_id = s.id"
            " WHERE s.id > ? AND (m.series_id IS NULL OR m.rules != ? OR m.next_start < ?"
            " OR EXISTS (SELECT 1 FROM plan_changes c WHERE c.series_id = s.id))"
            " ORDER BY s.id LIMIT ?", (rules, after, rules, iso(until), limit))
        if not rows:
            return PlanWork(change_mark, [], [], {})
        first, last = rows[0]["id"], rows[-1]["id"]
        members: dict[int, list[str]] = {}
        for row in await self._all("SELECT series_id, youth_code FROM series_youths"
                                    " WHERE series_id BETWEEN ? AND ? ORDER BY youth_code",
                                    (first, last)):
            members.setdefault(row["series_id"], []).append(row["youth_code"])
        series: list[tuple[Series, datetime | None]] = []
        caught_up: dict[int, datetime] = {}
        for r in rows:
            try:
                until_mark = None if r["in_full"] else parse_iso(r["mark_until"])
                series.append((_series(r, members), until_mark))
                if r["in_full"] and r["mark_next"]:
                    caught_up[r["id"]] = parse_iso(r["mark_next"])
            except (ValueError, TypeError, KeyError) as exc:  # one bad row must not stop all
                log.error("ignored unreadable series %s: %s", r["id"], exc)
        changes = [_change(r) for r in await self._all(
            "SELECT * FROM series_changes WHERE series_id BETWEEN ? AND ?", (first, last))]
        windows = await self._windows_of(first, last)
        return PlanWork(change_mark, series, changes, windows,
                        await self.channel_facts(windows.keys()), caught_up)

    async def _windows_of(self, first: int, last: int
                          ) -> dict[str, tuple[list[Window], list[Window]]]:
        """Like `windows_for`, for every youth of the series with ids first..last."""
        units = {r["code"]: r["unit"] for r in await self._all(
            "SELECT sy.youth_code AS code, y.unit FROM series_youths sy"
            " LEFT JOIN youths y ON y.code = sy.youth_code"
            " WHERE sy.series_id BETWEEN ? AND ?", (first, last))}
        if not units:
            return {}
        own: dict[str, list[Window]] = {}
        unit: dict[str, list[Window]] = {}
        for r in await self._all("SELECT scope, scope_code, weekdays, start_time, end_time"
                                 " FROM phone_windows ORDER BY id"):
            try:
                window = Window(_parse_days(r["weekdays"]), time.fromisoformat(r["start_time"]),
                                time.fromisoformat(r["end_time"]))
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
        """Store one batch of a pass in one transaction: its rows, and how far each of its
        series is now planned (edits up to `change_mark` are planned, newer ones not)."""
        async with self.db.write() as conn:
            added = await upsert_planned_rows(conn, rows, now) if rows else 0
            added += await insert_outbox_rows(conn, others, now) if others else 0
            await conn.run_many(
                "INSERT INTO plan_marks (series_id, rules, planned_until, next_start)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (series_id) DO UPDATE SET"
                " rules = excluded.rules, planned_until = excluded.planned_until,"
                " next_start = excluded.next_start",
                [(m.series_id, m.rules, iso(m.planned_until),
                  iso(m.next_start) if m.next_start else None) for m in marks])
            await conn.run_many("DELETE FROM plan_changes WHERE series_id = ? AND id <= ?",
                                   [(m.series_id, change_mark) for m in marks])
            # Edits of series deleted since: nothing left to plan for them.
            await conn.run("DELETE FROM plan_changes WHERE id <= ? AND series_id NOT IN"
                               " (SELECT id FROM series)", (change_mark,))
            return added

    async def cancel_pending(self, occurrence_prefix: str, reason: str, now: datetime) -> int:
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE outbox SET state = 'cancelled', last_error = ?, closed_at = ?"
                " WHERE state = 'pending' AND (occurrence_key = ? OR occurrence_key LIKE ?)",
                (reason, iso(now), occurrence_prefix, occurrence_prefix + ":%"),
            )
            return changed

    async def due_items(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Due pending rows. A row that cannot be read (a malformed field) is marked
        failed with the reason, so it cannot stop the rows after it, tick after tick."""
        items: list[OutboxItem] = []
        broken: list[tuple[str, str, int]] = []
        for r in await self._all("SELECT * FROM outbox WHERE state = 'pending' AND due_at <= ?"
                                 " ORDER BY due_at, id LIMIT ?", (iso(now), limit)):
            try:
                items.append(outbox_item(r))
            except (ValueError, TypeError, KeyError) as exc:
                broken.append((f"unreadable row: {type(exc).__name__}: {exc}"[:300], iso(now),
                               r["id"]))
        if broken:
            log.error("marked %d unreadable outbox row(s) failed", len(broken))
            async with self.db.write() as conn:
                await conn.run_many("UPDATE outbox SET state = 'failed', last_error = ?,"
                                       " closed_at = ? WHERE id = ?", broken)
        return items

    async def claim(self, item_id: int, now: datetime, lease: timedelta = SENDING_LEASE) -> bool:
        """Move pending -> sending, owned by this process until `now + lease`; False if
        someone else took it or it changed."""
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, owner = ?,"
                " lease_until = ? WHERE id = ? AND state = 'pending'",
                (self.owner, iso(now + lease), item_id))
            return changed == 1

    async def finish(
        self, item_id: int, state: OutboxState, now: datetime, error: str | None = None
    ) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE outbox SET state = ?, last_error = ?,"
                " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, closed_at = ?"
                " WHERE id = ?",
                (state.value, error, state.value, iso(now), iso(now), item_id))

    async def retry_later(self, item_id: int, at: datetime, error: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE outbox SET state = 'pending', due_at = ?, last_error = ? WHERE id = ?",
                (iso(at), error, item_id))

    async def next_due(self) -> datetime | None:
        """When the next pending message falls due (for drivers of a virtual clock)."""
        rows = await self._all("SELECT min(due_at) AS due FROM outbox WHERE state = 'pending'")
        return parse_iso(rows[0]["due"]) if rows and rows[0]["due"] else None

    async def release_sending(self, now: datetime | None = None,
                              dead_owners: Collection[str] = ()) -> int:
        """At start-up: messages caught mid-send go back to pending (at-least-once).

        Only rows this process claimed, rows without an owner, rows of `dead_owners`
        (processes known to have died), and (given `now`) rows whose lease ran out: a
        live process's rows are left alone.
        """
        release = ("UPDATE outbox SET state = 'pending', owner = NULL, lease_until = NULL"
                   " WHERE state = 'sending' AND ")
        mine = "(owner IS NULL OR owner = ?"
        params: tuple[object, ...] = (self.owner,)
        if now is not None:
            mine += " OR lease_until IS NULL OR lease_until <= ?"
            params += (iso(now),)
        dead = list(dead_owners)
        async with self.db.write() as conn:
            released = await conn.run(release + mine + ")", params)
            for part in chunks(dead):
                released += await conn.run(
                    release + f"owner IN ({in_list(len(part))})", part)
            return released

    async def release_expired(self, now: datetime) -> int:
        """Rows whose lease ran out go back to pending, whoever claimed them (every tick:
        a process that died without a restart on this host leaves none stuck)."""
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE outbox SET state = 'pending', owner = NULL, lease_until = NULL"
                " WHERE state = 'sending' AND lease_until IS NOT NULL AND lease_until <= ?",
                (iso(now),))
            return changed

    async def sending_owners(self) -> set[str]:
        """The processes that hold rows in `sending`."""
        return {r["owner"] for r in await self._all(
            "SELECT DISTINCT owner FROM outbox WHERE state = 'sending' AND owner IS NOT NULL")}

    async def expire_overdue(self, now: datetime) -> int:
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE outbox SET state = 'expired', closed_at = ?,"
                " last_error = COALESCE(last_error, 'not sent before expiry')"
                " WHERE state = 'pending' AND expires_at <= ?", (iso(now), iso(now)))
            return changed

    async def mark_unreachable(self, youth_code: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run("UPDATE youths SET unreachable_at = ? WHERE code = ?",
                               (iso(now), youth_code))
