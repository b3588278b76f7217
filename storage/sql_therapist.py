"""The therapist, report and alert ports on storage.sql."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import cast

from core.questionnaire import Language
from core.records import (
    Alert,
    BindOutcome,
    NewAlert,
    NewOutbox,
    OutboxItem,
    OutboxState,
    Therapist,
    Youth,
)
from storage.sql import Row, Sql
from storage.sql_base import SqlQueries, youth_from_row
from storage.sql_invites import (
    drop_contact_if_orphaned,
    previous_pseudonym,
    redeem_invite,
    store_contact,
)
from storage.sql_schedule import insert_outbox_rows, outbox_item
from storage.timefmt import iso, parse_iso

ALERT_LIFETIME = timedelta(days=7)


log = logging.getLogger(__name__)


def alert_from_row(r: Row) -> Alert:
    def opt(name: str) -> datetime | None:
        return parse_iso(r[name]) if r[name] else None

    return Alert(r["id"], r["ref"], r["kind"], r["youth_code"], r["therapist_code"],
                 r["detail"], parse_iso(r["created_at"]), opt("acked_at"), r["unit_code"],
                 r["reason"], opt("escalate_at"), r["acked_by"], opt("nobody_since"),
                 opt("discussed_at"))


async def insert_alert(conn: Sql, alert: NewAlert, now: datetime) -> bool:
    """Inside the caller's transaction: the alert row plus its outbox rows.

    An urgent alert (with a `reason`) gets no outbox rows: scheduler/crisis_delivery.py
    sends it to each recipient on a row of its own (alert_deliveries)."""
    changed = await conn.run(
        "INSERT INTO alerts (ref, dedupe_key, kind, youth_code,"
        " therapist_code, detail, created_at, unit_code, reason, escalate_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (alert.ref, alert.dedupe_key, alert.kind, alert.youth_code,
         alert.therapist_code, alert.detail, iso(now), alert.unit_code, alert.reason,
         iso(alert.escalate_at) if alert.escalate_at else None))
    if changed != 1:
        return False
    if alert.reason is not None:
        return True
    deliveries = [("alert", alert.due_at)]
    if alert.escalate_at is not None:
        deliveries.append(("escalation", alert.escalate_at))
    for kind, due in deliveries:
        await conn.run(
            "INSERT INTO outbox (dedupe_key, kind, youth_code, therapist_code, ref,"
            " occurrence_key, session_end, due_at, expires_at, state, scheduled_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
            (f"{kind}:{alert.dedupe_key}", kind, alert.youth_code, alert.therapist_code,
             alert.ref, alert.dedupe_key, iso(now), iso(due), iso(due + ALERT_LIFETIME),
             iso(now)))
    return True


class TherapistRepository(SqlQueries):

    async def bind_therapist(
        self, token_digest: str, pseudonym: str, chat_id_enc: bytes, now: datetime
    ) -> BindOutcome:
        async with self.db.write() as conn:
            code = await redeem_invite(conn, token_digest, "therapist", now)
            if isinstance(code, BindOutcome):
                return code
            before = await previous_pseudonym(conn, "therapist", code)
            await conn.run("UPDATE therapists SET pseudonym = ? WHERE code = ?",
                               (pseudonym, code))
            await store_contact(conn, pseudonym, chat_id_enc)
            await drop_contact_if_orphaned(conn, before)
        return BindOutcome.BOUND

    async def therapist_by_pseudonym(self, pseudonym: str) -> Therapist | None:
        rows = await self._all("SELECT code, language FROM therapists WHERE pseudonym = ?",
                                 (pseudonym,))
        return Therapist(rows[0]["code"], cast(Language, rows[0]["language"])) if rows else None

    async def therapist_pseudonym(self, code: str) -> str | None:
        rows = await self._all("SELECT pseudonym FROM therapists WHERE code = ?", (code,))
        return rows[0]["pseudonym"] if rows else None

    async def all_therapists(self) -> list[Therapist]:
        return [Therapist(r["code"], cast(Language, r["language"]))
                for r in await self._all("SELECT code, language FROM therapists ORDER BY code")]

    async def youths_of(self, therapist_code: str) -> list[Youth]:
        return [youth_from_row(r) for r in await self._all(
            "SELECT * FROM youths WHERE therapist_code = ? ORDER BY code", (therapist_code,))]

    async def rate(self, occurrence_key: str, youth_code: str, therapist_code: str, item: str,
                   value: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO therapist_ratings (occurrence_key, youth_code, therapist_code,"
                " item, value, rated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (occurrence_key, youth_code, item) DO UPDATE"
                " SET value = excluded.value, rated_at = excluded.rated_at",
                (occurrence_key, youth_code, therapist_code, item, value, iso(now)))

    async def ratings(self, occurrence_key: str, youth_code: str) -> dict[str, str]:
        return {r["item"]: r["value"] for r in await self._all(
            "SELECT item, value FROM therapist_ratings WHERE occurrence_key = ?"
            " AND youth_code = ?", (occurrence_key, youth_code))}

    async def add_outbox(self, rows: list[NewOutbox], now: datetime) -> int:
        async with self.db.write() as conn:
            return await insert_outbox_rows(conn, rows, now)

    async def outbox_by_ref(self, ref: str) -> OutboxItem | None:
        rows = await self._all("SELECT * FROM outbox WHERE ref = ?", (ref,))
        return outbox_item(rows[0]) if rows else None

    async def recent_rating_requests(self, therapist_code: str,
                                     since: datetime) -> list[OutboxItem]:
        return [outbox_item(r) for r in await self._all(
            "SELECT * FROM outbox WHERE kind = 'rating' AND therapist_code = ?"
            " AND state = 'sent' AND session_end >= ? ORDER BY session_end, id",
            (therapist_code, iso(since)))]

    async def add_alert(self, alert: NewAlert, now: datetime) -> bool:
        """Record the alert and its delivery (and escalation) at once; False if known."""
        async with self.db.write() as conn:
            return await insert_alert(conn, alert, now)

    async def alert_by_ref(self, ref: str) -> Alert | None:
        rows = await self._all("SELECT * FROM alerts WHERE ref = ?", (ref,))
        return alert_from_row(rows[0]) if rows else None

    async def ack_alert(self, ref: str, now: datetime, by: str = "therapist") -> bool:
        """Record the first acknowledgement (by a role); False when one came first."""
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE alerts SET acked_at = ?, acked_by = ?, nobody_since = NULL"
                " WHERE ref = ? AND acked_at IS NULL", (iso(now), by, ref))
            if changed == 1:
                await conn.run(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'acknowledged',"
                    " closed_at = ? WHERE ref = ? AND kind = 'escalation' AND state = 'pending'",
                    (iso(now), ref))
            return changed == 1


__all__ = ["OutboxState", "TherapistRepository"]
