"""Encrypted columns read and replaced in batches, for `rotate-keys`.

Each replacement is a compare-and-swap on the old ciphertext, so a row the running bot
changed in the meantime (a re-linked phone) is left alone, never overwritten with an
older value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from core.records import SealedKind
from storage.sqlite_base import SqliteQueries

# kind -> (table, encrypted column, extra condition). Chat ids are under the contact keys,
# everything else is free text under the text keys.
_COLUMNS: dict[SealedKind, tuple[str, str, str]] = {
    SealedKind.CONTACTS: ("contacts", "chat_id_enc", ""),
    SealedKind.NOTES: ("notes", "text_enc", ""),
    SealedKind.CRISIS_TEXTS: ("crisis_flags", "text_enc", ""),
    SealedKind.CRISIS_RULES: ("alerts", "detail", " AND kind = 'crisis'"),
}


class SqliteSealedMixin(SqliteQueries):
    async def sealed_batch(self, kind: SealedKind, after: int,
                           limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` (rowid, ciphertext) pairs with rowid > after, in rowid order."""
        table, column, extra = _COLUMNS[kind]
        rows = await self._all(
            f"SELECT rowid AS id, {column} AS sealed FROM {table}"  # noqa: S608 - fixed names
            f" WHERE rowid > ?{extra} ORDER BY rowid LIMIT ?", (after, limit))
        return [(int(r["id"]), _as_bytes(r["sealed"])) for r in rows]

    async def replace_sealed(self, kind: SealedKind,
                             changes: Sequence[tuple[int, bytes, bytes]]) -> int:
        """Swap old for new ciphertext per rowid in one transaction; return rows changed."""
        table, column, _ = _COLUMNS[kind]
        as_text = kind is SealedKind.CRISIS_RULES  # alerts.detail is a TEXT column
        changed = 0
        async with self.db.write() as conn:
            for rowid, old, new in changes:
                before: object = old.decode() if as_text else old
                after: object = new.decode() if as_text else new
                cur = await conn.execute(
                    f"UPDATE {table} SET {column} = ? WHERE rowid = ?"  # noqa: S608
                    f" AND {column} = ?", (after, rowid, before))
                changed += cur.rowcount
        return changed


def _as_bytes(value: object) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(cast(bytes, value))
