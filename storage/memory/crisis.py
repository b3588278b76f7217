"""The twin's crisis route: units and their 24/7 contacts, and the per-recipient delivery
of urgent alerts (mirrors storage/sql_crisis.py)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.questionnaire import Language
from core.records import Alert, AlertDelivery, AlreadyExists, BindOutcome, Unit, Youth
from storage.memory.rows import alert_from_row, youth_from_row
from storage.memory.tables import MemoryBase, Record
from storage.memory.therapist import bind_account
from storage.sql import IntegrityViolation
from storage.timefmt import iso, parse_iso


def _unit(row: Record) -> Unit:
    return Unit(row["code"], cast(Language, row["language"]), row.get("pseudonym"))


def _delivery(row: Record) -> AlertDelivery:
    def opt(name: str) -> datetime | None:
        return parse_iso(row[name]) if row.get(name) else None

    return AlertDelivery(row["id"], row["alert_id"], row["recipient"], row["state"],
                         parse_iso(row["due_at"]), row["attempts"], row.get("last_error"),
                         opt("sent_at"), opt("ack_told_at"))


class MemoryCrisisRepository(MemoryBase):
    """storage.ports.CrisisRepo on the twin's tables."""

    async def add_unit(self, code: str, language: Language, now: datetime) -> None:
        if language not in ("nl", "en"):
            raise IntegrityViolation(f"unit language {language!r}")   # the table's CHECK
        if self.tables.first("units", code=code) is not None:
            raise AlreadyExists(code)
        self.tables.insert("units", {"code": code, "language": language, "pseudonym": None,
                                     "created_at": iso(now), "linked_at": None})

    async def unit(self, code: str) -> Unit | None:
        row = self.tables.first("units", code=code)
        return _unit(row) if row else None

    async def all_units(self) -> list[Unit]:
        return [_unit(r) for r in sorted(self.tables.scan("units"), key=lambda r: r["code"])]

    async def bind_unit(self, token_digest: str, pseudonym: str, chat_id_enc: bytes,
                        now: datetime) -> BindOutcome:
        """Link the unit's on-call phone; a phone still linked must be unbound first."""
        return bind_account(self.tables, "units", "unit", token_digest, pseudonym,
                            chat_id_enc, now, linked_at=iso(now))

    async def units_of_contact(self, pseudonym: str) -> list[Unit]:
        return [_unit(r) for r in sorted(self.tables.scan("units", pseudonym=pseudonym),
                                         key=lambda r: r["code"])]

    async def youth_unit(self, code: str) -> str | None:
        row = self.tables.first("youths", code=code)
        return row.get("unit") if row else None

    async def active_youths(self) -> list[Youth]:
        """Every youth not erased: each needs a crisis route."""
        erased = {r["youth_code"] for r in self.tables.scan("erasures")}
        return [youth_from_row(r) for r in sorted(
            self.tables.scan("youths", lambda r: r["code"] not in erased),
            key=lambda r: r["code"])]

    async def youth_units(self) -> dict[str, str | None]:
        return {r["code"]: r.get("unit") for r in self.tables.scan("youths")}

    async def urgent_alerts(self, since: datetime) -> list[Alert]:
        """Urgent alerts created since `since`, acknowledged or not, oldest first."""
        stamp = iso(since)
        rows = self.tables.scan("alerts", lambda r: r.get("reason") is not None
                                and r["created_at"] >= stamp)
        return [alert_from_row(r) for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]))]

    async def open_urgent_alert(self, youth_code: str, reason: str,
                                since: datetime) -> Alert | None:
        stamp = iso(since)
        rows = self.tables.scan("alerts", lambda r: r.get("acked_at") is None
                                and r["created_at"] >= stamp, youth_code=youth_code,
                                reason=reason)
        newest = sorted(rows, key=lambda r: r["created_at"], reverse=True)
        return alert_from_row(newest[0]) if newest else None

    async def add_deliveries(self, alert_id: int, recipients: list[str],
                             now: datetime) -> int:
        t = self.tables
        if recipients and t.first("alerts", id=alert_id) is None:
            raise IntegrityViolation(f"no alert {alert_id}")   # the foreign key
        added = 0
        for recipient in recipients:
            if t.first("alert_deliveries", alert_id=alert_id, recipient=recipient) is None:
                t.insert("alert_deliveries", {
                    "alert_id": alert_id, "recipient": recipient, "state": "pending",
                    "due_at": iso(now), "attempts": 0, "last_error": None, "sent_at": None,
                    "ack_told_at": None, "created_at": iso(now)})
                added += 1
        return added

    async def deliveries(self, alert_id: int) -> list[AlertDelivery]:
        return [_delivery(r) for r in self.tables.scan("alert_deliveries", alert_id=alert_id)]

    async def delivery_sent(self, delivery_id: int, now: datetime) -> None:
        for row in self.tables.scan("alert_deliveries", id=delivery_id):
            self.tables.update("alert_deliveries", {
                "state": "sent", "sent_at": iso(now), "attempts": row["attempts"] + 1,
                "last_error": None}, id=delivery_id)

    async def delivery_failed(self, delivery_id: int, state: str, error: str,
                              retry_at: datetime, now: datetime) -> None:
        for row in self.tables.scan("alert_deliveries", id=delivery_id):
            self.tables.update("alert_deliveries", {
                "state": state, "last_error": error, "due_at": iso(retry_at),
                "attempts": row["attempts"] + 1}, id=delivery_id)

    async def ack_told(self, delivery_id: int, now: datetime) -> None:
        self.tables.update("alert_deliveries", {"ack_told_at": iso(now)}, id=delivery_id)

    async def set_nobody(self, alert_id: int, since: datetime | None) -> None:
        self.tables.update("alerts", {"nobody_since": iso(since) if since else None},
                           id=alert_id)

    async def unreached_alerts(self) -> list[Alert]:
        """Urgent alerts that reached nobody and nobody acknowledged: for the overview."""
        rows = self.tables.scan("alerts", lambda r: r.get("reason") is not None
                                and r.get("acked_at") is None
                                and r.get("nobody_since") is not None)
        return [alert_from_row(r) for r in sorted(rows, key=lambda r: r["created_at"])]

    async def crisis_in_checkin(self, checkin_id: int) -> bool:
        return self.tables.first("crisis_flags", checkin_id=checkin_id) is not None
