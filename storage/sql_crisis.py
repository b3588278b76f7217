"""The crisis route on storage.sql: unit contacts and per-recipient delivery of urgent
alerts."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.questionnaire import Language
from core.records import Alert, AlertDelivery, AlreadyExists, BindOutcome, Unit, Youth
from storage.sql import Row
from storage.sql_base import SqlQueries, youth_from_row
from storage.sql_invites import (
    drop_contact_if_orphaned,
    previous_pseudonym,
    redeem_invite,
    store_contact,
)
from storage.sql_therapist import alert_from_row
from storage.timefmt import iso, parse_iso


def _unit(row: Row) -> Unit:
    return Unit(row["code"], cast(Language, row["language"]), row["pseudonym"])


def _delivery(row: Row) -> AlertDelivery:
    def opt(name: str) -> datetime | None:
        return parse_iso(row[name]) if row[name] else None

    return AlertDelivery(row["id"], row["alert_id"], row["recipient"], row["state"],
                         parse_iso(row["due_at"]), row["attempts"], row["last_error"],
                         opt("sent_at"), opt("ack_told_at"))


class CrisisRepository(SqlQueries):

    async def add_unit(self, code: str, language: Language, now: datetime) -> None:
        async with self.db.write() as conn:
            changed = await conn.run(
                "INSERT INTO units (code, language, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (code, language, iso(now)))
            if changed != 1:
                raise AlreadyExists(code)

    async def unit(self, code: str) -> Unit | None:
        row = await self._one("SELECT * FROM units WHERE code = ?", (code,))
        return _unit(row) if row else None

    async def all_units(self) -> list[Unit]:
        return [_unit(r) for r in await self._all("SELECT * FROM units ORDER BY code")]

    async def bind_unit(self, token_digest: str, pseudonym: str, chat_id_enc: bytes,
                        now: datetime) -> BindOutcome:
        """Link the unit's on-call phone; a phone still linked must be unbound first."""
        async with self.db.write() as conn:
            code = await redeem_invite(conn, token_digest, "unit", now)
            if isinstance(code, BindOutcome):
                return code
            before = await previous_pseudonym(conn, "unit", code)
            await conn.run("UPDATE units SET pseudonym = ?, linked_at = ? WHERE code = ?",
                               (pseudonym, iso(now), code))
            await store_contact(conn, pseudonym, chat_id_enc)
            await drop_contact_if_orphaned(conn, before)
        return BindOutcome.BOUND

    async def units_of_contact(self, pseudonym: str) -> list[Unit]:
        return [_unit(r) for r in await self._all(
            "SELECT * FROM units WHERE pseudonym = ? ORDER BY code", (pseudonym,))]

    async def youth_unit(self, code: str) -> str | None:
        row = await self._one("SELECT unit FROM youths WHERE code = ?", (code,))
        return row["unit"] if row else None

    async def active_youths(self) -> list[Youth]:
        """Every youth not erased: each needs a crisis route."""

        return [youth_from_row(r) for r in await self._all(
            "SELECT * FROM youths WHERE code NOT IN (SELECT youth_code FROM erasures)"
            " ORDER BY code")]

    async def youth_units(self) -> dict[str, str | None]:
        return {r["code"]: r["unit"] for r in await self._all("SELECT code, unit FROM youths")}

    async def urgent_alerts(self, since: datetime) -> list[Alert]:
        """Urgent alerts created since `since`, acknowledged or not, oldest first."""
        return [alert_from_row(r) for r in await self._all(
            "SELECT * FROM alerts WHERE reason IS NOT NULL AND created_at >= ?"
            " ORDER BY created_at, id", (iso(since),))]

    async def open_urgent_alert(self, youth_code: str, reason: str,
                                since: datetime) -> Alert | None:
        row = await self._one(
            "SELECT * FROM alerts WHERE youth_code = ? AND reason = ? AND acked_at IS NULL"
            " AND created_at >= ? ORDER BY created_at DESC, id DESC LIMIT 1",
            (youth_code, reason, iso(since)))
        return alert_from_row(row) if row else None

    async def add_deliveries(self, alert_id: int, recipients: list[str],
                             now: datetime) -> int:
        async with self.db.write() as conn:
            added = 0
            for recipient in recipients:   # a handful: the unit phones and the therapist
                added += await conn.run(
                    "INSERT INTO alert_deliveries (alert_id, recipient, state, due_at,"
                    " created_at) VALUES (?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING",
                    (alert_id, recipient, iso(now), iso(now)))
            return added

    async def deliveries(self, alert_id: int) -> list[AlertDelivery]:
        return [_delivery(r) for r in await self._all(
            "SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY id", (alert_id,))]

    async def delivery_sent(self, delivery_id: int, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE alert_deliveries SET state = 'sent', sent_at = ?, attempts = attempts"
                " + 1, last_error = NULL WHERE id = ?", (iso(now), delivery_id))

    async def delivery_failed(self, delivery_id: int, state: str, error: str,
                              retry_at: datetime, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE alert_deliveries SET state = ?, last_error = ?, due_at = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                (state, error, iso(retry_at), delivery_id))

    async def ack_told(self, delivery_id: int, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run("UPDATE alert_deliveries SET ack_told_at = ? WHERE id = ?",
                               (iso(now), delivery_id))

    async def set_nobody(self, alert_id: int, since: datetime | None) -> None:
        async with self.db.write() as conn:
            await conn.run("UPDATE alerts SET nobody_since = ? WHERE id = ?",
                               (iso(since) if since else None, alert_id))

    async def unreached_alerts(self) -> list[Alert]:
        """Urgent alerts that reached nobody and nobody acknowledged: for the overview."""
        return [alert_from_row(r) for r in await self._all(
            "SELECT * FROM alerts WHERE reason IS NOT NULL AND acked_at IS NULL"
            " AND nobody_since IS NOT NULL ORDER BY created_at, id")]

    async def crisis_in_checkin(self, checkin_id: int) -> bool:
        row = await self._one("SELECT 1 FROM crisis_flags WHERE checkin_id = ? LIMIT 1",
                              (checkin_id,))
        return row is not None
