"""Which message a button belongs to, and "not now" decisions at an invite."""

from __future__ import annotations

from datetime import datetime

from core.records import Consent
from storage.sql_base import SqlQueries
from storage.timefmt import iso


class ButtonRepository(SqlQueries):
    async def bind_buttons(self, nonce: str, message_id: int | None, now: datetime) -> None:
        """Record the message whose buttons carry `nonce` (None: sent, id unknown)."""
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO button_messages (nonce, message_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (nonce) DO UPDATE SET message_id = excluded.message_id"
                " WHERE button_messages.message_id IS NULL",
                (nonce, message_id, iso(now)))

    async def buttons_on(self, nonce: str, message_id: int) -> bool:
        """True when `nonce` was made for this message.

        A nonce recorded without a message id (the send timed out, so Telegram may have
        delivered it) is bound to the first message it is tapped on.
        """
        row = await self._one("SELECT message_id FROM button_messages WHERE nonce = ?",
                              (nonce,))
        if row is None:
            return False
        if row["message_id"] is not None:
            return bool(row["message_id"] == message_id)
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE button_messages SET message_id = ? WHERE nonce = ?"
                " AND message_id IS NULL", (message_id, nonce))
            if changed == 1:
                return True
        row = await self._one("SELECT message_id FROM button_messages WHERE nonce = ?",
                              (nonce,))
        return row is not None and row["message_id"] == message_id

    async def record_invite_decline(self, youth_code: str, consent: Consent,
                                    now: datetime) -> None:
        """A "not now" at the invite: the decision, tied to the youth's code only."""
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO invite_declines (youth_code, text_version, text_sha256,"
                " language, decided_at) VALUES (?, ?, ?, ?, ?)",
                (youth_code, consent.text_version, consent.text_sha256, consent.language,
                 iso(now)))

    async def codes_declined_at_invite(self) -> frozenset[str]:
        """Youths whose last word at the invite was "not now" and who never joined."""
        return frozenset(r["youth_code"] for r in await self._all(
            "SELECT DISTINCT d.youth_code FROM invite_declines d"
            " JOIN youths y ON y.code = d.youth_code WHERE y.pseudonym IS NULL"))
