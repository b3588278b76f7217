"""The twin's side of closing the clinical loop: simple mode, the youth's own line,
"Besproken" (storage.ports.LoopRepo), mirroring storage/sqlite_loop.py."""

from __future__ import annotations

from datetime import datetime

from core.export import AlertExportRow
from core.records import Alert, Checkin, OutboxItem, SessionNote
from storage.memory.rows import (
    alert_from_row,
    checkin_from_row,
    opt_time,
    outbox_item,
    standing,
)
from storage.memory.tables import MemoryBase
from storage.timefmt import iso, parse_iso


class MemoryLoopRepository(MemoryBase):
    async def set_simple_mode(self, youth_code: str, on: bool) -> bool | None:
        """Switch the 3-point scale on or off (from the next check-in). True when it
        changed, False when it already was so, None for an unknown code."""
        row = self.tables.first("youths", code=youth_code)
        if row is None:
            return None
        if bool(row["simple_mode"]) == on:
            return False
        self.tables.update("youths", {"simple_mode": int(on)}, code=youth_code)
        return True

    async def recent_checkins(self, youth_pseudonym: str, limit: int) -> list[Checkin]:
        """The youth's last check-ins with at least one answer, oldest first."""
        answered = {a["checkin_id"] for a in self.tables.scan("answers")}
        rows = sorted((c for c in self.tables.scan("checkins", youth_pseudonym=youth_pseudonym)
                       if c["id"] in answered),
                      key=lambda c: (c["created_at"], c["id"]), reverse=True)[:max(limit, 0)]
        return [checkin_from_row(self.tables, r) for r in reversed(rows)]

    async def discuss_alert(self, ref: str, now: datetime, by: str = "therapist") -> bool:
        """Record that the alert was talked through with the youth; it counts as seen too
        (and stops an escalation). False when it was recorded before."""
        stamp = iso(now)
        alert = self.tables.first("alerts", lambda r: r.get("discussed_at") is None, ref=ref)
        if alert is None:
            return False
        alert.update(discussed_at=stamp, discussed_by=by,
                     acked_at=alert.get("acked_at") or stamp,
                     acked_by=alert.get("acked_by") or by, nobody_since=None)
        self.tables.update("outbox", {"state": "cancelled", "last_error": "acknowledged",
                                      "closed_at": stamp},
                           ref=ref, kind="escalation", state="pending")
        return True

    async def undiscussed_alerts(self, youth_code: str, therapist_code: str,
                                 since: datetime) -> list[Alert]:
        start = iso(since)
        rows = self.tables.scan("alerts", lambda r: r.get("discussed_at") is None
                                and r["created_at"] >= start,
                                youth_code=youth_code, therapist_code=therapist_code)
        return [alert_from_row(r) for r in sorted(rows, key=lambda r: r["created_at"])]

    async def export_alerts(self, research_only: bool) -> list[AlertExportRow]:
        """Alerts to therapists for the export, with seen and discussed times."""
        research = standing(self.tables, "research") if research_only else None
        rows = []
        for a in self.tables.scan("alerts"):
            y = self.tables.first("youths", code=a["youth_code"])
            if y is None or y.get("pseudonym") is None:
                continue
            if research is not None and y["pseudonym"] not in research:
                continue
            rows.append((y["code"], a["created_at"], AlertExportRow(
                y["code"], y["pseudonym"], parse_iso(a["created_at"]), a["kind"],
                opt_time(a.get("acked_at")), opt_time(a.get("discussed_at")),
                a["therapist_code"])))
        return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]

    async def rupture_alerts(self, therapist_code: str) -> list[Alert]:
        """This therapist's rupture alerts, oldest first."""
        rows = self.tables.scan("alerts", therapist_code=therapist_code, kind="rupture")
        return [alert_from_row(r) for r in sorted(rows, key=lambda r: r["created_at"])]

    async def session_notes(self, youth_code: str) -> dict[str, SessionNote]:
        """Per occurrence of this youth: the therapy (discipline) and the sealed note."""
        youth = self.tables.first("youths", code=youth_code)
        if youth is None or youth.get("pseudonym") is None:
            return {}
        out = {}
        for c in self.tables.scan("checkins", youth_pseudonym=youth["pseudonym"]):
            note = self.tables.first("notes", checkin_id=c["id"])
            out[c["occurrence_key"]] = SessionNote(
                c["discipline"], bytes(note["text_enc"]) if note is not None else None)
        return out

    async def rating_requests_for(self, occurrence_key: str,
                                  therapist_code: str) -> list[OutboxItem]:
        """The rating rows of one session occurrence for one therapist, in youth order;
        closed ones (cancelled, expired) left out."""
        rows = self.tables.scan(
            "outbox", lambda r: r["state"] in ("pending", "sending", "sent"), kind="rating",
            occurrence_key=occurrence_key, therapist_code=therapist_code)
        return [outbox_item(r) for r in sorted(rows, key=lambda r: r["youth_code"] or "")]
