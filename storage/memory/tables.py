"""The in-memory twin's state: the SQL schema's tables as dicts of plain rows.

The twin keeps the same table and column names as storage/migrations, so a repository of
the twin reads like the SQL it mirrors, and a rule that spans tables (erasure reaching
check-ins, answers and alerts) finds its rows where the SQL would. Nothing here awaits:
a twin method that does not await runs as one atomic step on the event loop, which is
what a serialised write transaction gives the SQL backends.

Rows hold what the SQL stores, so comparisons and orderings match it: times as the ISO
text of storage.timefmt.iso (which sorts as time), dates as ISO text, flags as 0/1,
sealed values as bytes, absent values as None. Change rows through `insert`, `update` and
`delete`: those run what the schema does by itself (the foreign keys' cascades and the
planning triggers of migrations 0014/0015), so every twin repository sees an edit the way
every SQL writer is seen. `conflict` answers what a UNIQUE constraint would refuse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

# The UNIQUE and PRIMARY KEY constraints of storage/migrations (other than integer ids).
UNIQUE: dict[str, tuple[tuple[str, ...], ...]] = {
    "therapists": (("code",), ("pseudonym",)),
    "youths": (("code",), ("pseudonym",)),
    "units": (("code",),),
    "invites": (("token_digest",),),
    "contacts": (("pseudonym",),),
    "checkins": (("ref",), ("youth_pseudonym", "occurrence_key")),
    "prompts": (("checkin_id", "step"),),
    "answers": (("checkin_id", "item"),),
    "notes": (("checkin_id",),),
    "series_youths": (("series_id", "youth_code"),),
    "series_changes": (("series_id", "original_date"),),
    "outbox": (("dedupe_key",),),
    "plan_marks": (("series_id",),),
    "alerts": (("ref",), ("dedupe_key",)),
    "alert_deliveries": (("alert_id", "recipient"),),
    "therapist_ratings": (("occurrence_key", "youth_code", "item"),),
    "consent_requests": (("youth_code", "version"),),
    "retention_runs": (("day",),),
    "button_messages": (("nonce",),),
    "kiosk_devices": (("token_digest",),),
    "kiosk_sessions": (("token_digest",),),
}

# ON DELETE CASCADE / SET NULL of the schema: parent table -> (child table, its column).
_CASCADE: dict[str, tuple[tuple[str, str], ...]] = {
    "checkins": (("prompts", "checkin_id"), ("answers", "checkin_id"),
                 ("notes", "checkin_id"), ("kiosk_codes", "checkin_id")),
    "series": (("series_youths", "series_id"), ("series_changes", "series_id")),
    "alerts": (("alert_deliveries", "alert_id"),),
    "kiosk_codes": (("kiosk_sessions", "code_id"),),
}
_SET_NULL: dict[str, tuple[tuple[str, str], ...]] = {
    "checkins": (("crisis_flags", "checkin_id"),),
}


@dataclass
class Tables:
    """Every table as {id: row}; ids count up per table from 1, as SQL's would."""

    rows: defaultdict[str, dict[int, Record]] = field(
        default_factory=lambda: defaultdict(dict))
    last_id: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    def insert(self, table: str, row: Record) -> int:
        """Add a row (a copy); its `id` is the next one unless the row brings its own."""
        new = dict(row)
        if new.get("id") is None:
            self.last_id[table] += 1
            new["id"] = self.last_id[table]
        else:
            self.last_id[table] = max(self.last_id[table], int(new["id"]))
        self.rows[table][int(new["id"])] = new
        self._after_insert(table, new)
        return int(new["id"])

    def conflict(self, table: str, row: Record) -> Record | None:
        """The row a UNIQUE constraint of `table` would refuse `row` for, if any (NULLs
        never conflict, as in SQL)."""
        row_id = row.get("id")
        for key in UNIQUE.get(table, ()):
            values = {col: row.get(col) for col in key}
            if any(v is None for v in values.values()):
                continue
            found = self.first(table, lambda r: r["id"] != row_id, **values)
            if found is not None:
                return found
        return None

    def update(self, table: str, changes: Record,
               where: Callable[[Record], bool] | None = None, **equal: Any) -> int:
        """Set `changes` on every matching row; how many matched (SQL's rowcount)."""
        matched = list(self.scan(table, where, **equal))
        for row in matched:
            old = dict(row)
            row.update(changes)
            self._after_update(table, old, row)
        return len(matched)

    def scan(self, table: str, where: Callable[[Record], bool] | None = None,
             **equal: Any) -> Iterator[Record]:
        """The live rows of `table` (in id order) matching every `column=value` and `where`."""
        for row in list(self.rows[table].values()):
            if all(row.get(col) == val for col, val in equal.items()) and (
                    where is None or where(row)):
                yield row

    def first(self, table: str, where: Callable[[Record], bool] | None = None,
              **equal: Any) -> Record | None:
        return next(self.scan(table, where, **equal), None)

    def delete(self, table: str, where: Callable[[Record], bool] | None = None,
               **equal: Any) -> int:
        """Remove the matching rows; how many went."""
        gone = list(self.scan(table, where, **equal))
        for row in gone:
            del self.rows[table][row["id"]]
        for row in gone:
            self._after_delete(table, row)
        return len(gone)

    # -- what the schema does by itself: cascades and the planning triggers -------------

    def plan_changed(self, series_ids: Iterator[int] | list[int]) -> None:
        """Record that an edit may have changed these series' plans (table plan_changes,
        which the planner reads and clears: storage/migrations/0014)."""
        for series_id in dict.fromkeys(series_ids):
            self.insert("plan_changes", {"series_id": series_id})

    def _series_of(self, youth_code: str) -> list[int]:
        return [r["series_id"] for r in self.scan("series_youths", youth_code=youth_code)]

    def _series_under_window(self, window: Record) -> list[int]:
        if window["scope"] == "youth":
            return self._series_of(window["scope_code"])
        units = {y["code"] for y in self.scan("youths", unit=window["scope_code"])}
        return [r["series_id"] for r in self.scan(
            "series_youths", lambda r: r["youth_code"] in units)]

    def _after_insert(self, table: str, row: Record) -> None:
        if table == "series":
            self.delete("plan_marks", series_id=row["id"])
        elif table in ("series_youths", "series_changes"):
            self.plan_changed([row["series_id"]])
        elif table == "phone_windows":
            self.plan_changed(self._series_under_window(row))
        elif table == "youth_channels":
            self.plan_changed(self._series_of(row["youth_code"]))
        elif table == "contacts":
            self.plan_changed([sid for y in self.scan("youths", pseudonym=row["pseudonym"])
                               for sid in self._series_of(y["code"])])

    def _after_update(self, table: str, old: Record, new: Record) -> None:
        if table == "series":
            self.plan_changed([new["id"]])
        elif table in ("series_youths", "series_changes"):
            self.plan_changed([old["series_id"], new["series_id"]])
        elif table == "phone_windows":
            self.plan_changed(self._series_under_window(old) + self._series_under_window(new))
        elif table == "youths":
            if old.get("unit") != new.get("unit"):
                self.plan_changed(self._series_of(new["code"]))
            if old.get("pseudonym") != new.get("pseudonym"):
                self.plan_changed(self._series_of(new["code"]))
                if old.get("pseudonym") is not None:  # ON UPDATE CASCADE
                    for child in ("checkins", "crisis_flags"):
                        for r in self.scan(child, youth_pseudonym=old["pseudonym"]):
                            r["youth_pseudonym"] = new.get("pseudonym")

    def _after_delete(self, table: str, row: Record) -> None:
        for child, column in _CASCADE.get(table, ()):
            self.delete(child, **{column: row["id"]})
        for child, column in _SET_NULL.get(table, ()):
            for r in self.scan(child, **{column: row["id"]}):
                r[column] = None
        if table == "series":
            self.delete("plan_marks", series_id=row["id"])
        elif table in ("series_youths", "series_changes"):
            self.plan_changed([row["series_id"]])
        elif table == "phone_windows":
            self.plan_changed(self._series_under_window(row))


class MemoryBase:
    """What every repository of the twin shares: the one `Tables`."""

    tables: Tables
