"""The twin's encrypted columns, read and replaced in batches for `rotate-keys` (mirrors
storage/sql_sealed.py): each replacement is a compare-and-swap on the old
ciphertext, so a row changed in the meantime is left alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from core.records import SealedKind
from storage.memory.tables import MemoryBase, Record

# kind -> (table, encrypted column, which rows). alerts.detail is a TEXT column.
_COLUMNS: dict[SealedKind, tuple[str, str, Callable[[Record], bool] | None]] = {
    SealedKind.CONTACTS: ("contacts", "chat_id_enc", None),
    SealedKind.NOTES: ("notes", "text_enc", None),
    SealedKind.CRISIS_TEXTS: ("crisis_flags", "text_enc", None),
    SealedKind.CRISIS_RULES: ("alerts", "detail", lambda r: r["kind"] == "crisis"),
}
# The batches count in SQLite's rowid; a table whose INTEGER PRIMARY KEY is another column
# has that column as its rowid (a note is keyed by its check-in).
_ROWID = {"notes": "checkin_id"}


def _rowid(table: str, row: Record) -> int:
    return int(row[_ROWID.get(table, "id")])


def _as_bytes(value: object) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[call-overload]


class MemorySealedRepository(MemoryBase):
    """storage.ports.SealedRepo on the twin's tables."""

    async def sealed_batch(self, kind: SealedKind, after: int,
                           limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` (id, ciphertext) pairs with id > after, in id order."""
        table, column, which = _COLUMNS[kind]
        rows = sorted(self.tables.scan(table, lambda r: _rowid(table, r) > after
                                       and (which is None or which(r))),
                      key=lambda r: _rowid(table, r))
        rows = rows if limit < 0 else rows[:limit]   # SQL: a negative LIMIT is none
        return [(_rowid(table, r), _as_bytes(r[column])) for r in rows]

    async def replace_sealed(self, kind: SealedKind,
                             changes: Sequence[tuple[int, bytes, bytes]]) -> int:
        """Swap old for new ciphertext per id; return the rows changed."""
        table, column, _ = _COLUMNS[kind]
        as_text = kind is SealedKind.CRISIS_RULES
        changed = 0
        by_rowid = {_rowid(table, r): r for r in self.tables.scan(table)}
        for row_id, old, new in changes:
            before: object = old.decode() if as_text else old
            row = by_rowid.get(row_id)
            if row is not None and row[column] == before:
                self.tables.update(table, {column: new.decode() if as_text else new},
                                   id=row["id"])
                changed += 1
        return changed
