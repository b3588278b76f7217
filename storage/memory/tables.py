"""The in-memory twin's state: the SQL schema's tables as dicts of plain rows.

The twin keeps the same table and column names as storage/migrations, so a repository of
the twin reads like the SQL it mirrors, and a rule that spans tables (erasure reaching
check-ins, answers and alerts) finds its rows where the SQL would. Nothing here awaits:
a twin method that does not await runs as one atomic step on the event loop, which is
what a serialised write transaction gives the SQL backends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


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
        return int(new["id"])

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
        gone = [row["id"] for row in self.scan(table, where, **equal)]
        for row_id in gone:
            del self.rows[table][row_id]
        return len(gone)


class MemoryBase:
    """What every repository of the twin shares: the one `Tables`."""

    tables: Tables
