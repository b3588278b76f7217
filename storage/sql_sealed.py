"""Encrypted columns read and replaced in batches, for `rotate-keys`.

Each replacement is a compare-and-swap on the old ciphertext, so a row the running bot
changed in the meantime (a re-linked phone) is left alone, never overwritten with an
older value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from core.records import SealedKind
from storage.sql_base import SqlQueries

# kind -> (table, integer key, encrypted column, extra condition). Chat ids are under the
# contact keys, everything else is free text under the text keys.
_COLUMNS: dict[SealedKind, tuple[str, str, str, str]] = {
    SealedKind.CONTACTS: ("contacts", "id", "chat_id_enc", ""),
    SealedKind.NOTES: ("notes", "checkin_id", "text_enc", ""),
    SealedKind.CRISIS_TEXTS: ("crisis_flags", "id", "text_enc", ""),
    SealedKind.CRISIS_RULES: ("alerts", "id", "detail", " AND kind = 'crisis'"),
}


class SealedRepository(SqlQueries):
    def _table(self, kind: SealedKind) -> tuple[str, str, str, str]:
        table, key, column, extra = _COLUMNS[kind]
        if kind is SealedKind.CONTACTS and self.db.dialect == "sqlite":
            # Dialect branch: the SQLite `contacts` table (migration 0001) is keyed by the
            # pseudonym and has no id column; its implicit rowid is the stable integer key
            # (kept by the upsert in store_contact). The PostgreSQL schema gives contacts
            # an identity `id` column instead.
            key = "rowid"
        return table, key, column, extra

    async def sealed_batch(self, kind: SealedKind, after: int,
                           limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` (key, ciphertext) pairs with key > after, in key order."""
        table, key, column, extra = self._table(kind)
        rows = await self._all(
            f"SELECT {key} AS id, {column} AS sealed FROM {table}"  # noqa: S608 - fixed names
            f" WHERE {key} > ?{extra} ORDER BY {key} LIMIT ?", (after, limit))
        return [(int(r["id"]), _as_bytes(r["sealed"])) for r in rows]

    async def replace_sealed(self, kind: SealedKind,
                             changes: Sequence[tuple[int, bytes, bytes]]) -> int:
        """Swap old for new ciphertext per key in one transaction; return rows changed."""
        table, key, column, _ = self._table(kind)
        as_text = kind is SealedKind.CRISIS_RULES  # alerts.detail is a TEXT column
        changed = 0
        async with self.db.write() as conn:
            for row_key, old, new in changes:
                before: object = old.decode() if as_text else old
                after: object = new.decode() if as_text else new
                changed += await conn.run(
                    f"UPDATE {table} SET {column} = ? WHERE {key} = ?"  # noqa: S608
                    f" AND {column} = ?", (after, row_key, before))
        return changed


def _as_bytes(value: object) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(cast(bytes, value))
