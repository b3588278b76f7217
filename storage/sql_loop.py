"""Closing the clinical loop on storage.sql: simple mode, the youth's line, Besproken."""

from __future__ import annotations

from datetime import datetime

from core.export import AlertExportRow
from core.records import Alert, Checkin, OutboxItem, SessionNote
from storage.sql_base import SqlQueries
from storage.sql_privacy import standing
from storage.sql_schedule import outbox_item
from storage.sql_therapist import alert_from_row
from storage.timefmt import iso, parse_iso


class LoopRepository(SqlQueries):
    async def checkin_by_ref(self, ref: str) -> Checkin | None:
        raise NotImplementedError  # provided by CheckinRepository

    async def set_simple_mode(self, youth_code: str, on: bool) -> bool | None:
        """Switch the 3-point scale on or off; it applies from the next check-in, because
        every check-in keeps the mode it was opened with. True when it changed, False when
        it already was so, None for an unknown code."""
        async with self.db.write() as conn:
            row = await conn.one("SELECT simple_mode FROM youths WHERE code = ?",
                                 (youth_code,))
            if row is None:
                return None
            if bool(row[0]) == on:
                return False
            await conn.run("UPDATE youths SET simple_mode = ? WHERE code = ?",
                               (int(on), youth_code))
            return True

    async def recent_checkins(self, youth_pseudonym: str, limit: int) -> list[Checkin]:
        """The youth's last check-ins with at least one answer, oldest first."""
        rows = await self._all(
            "SELECT ref FROM checkins c WHERE youth_pseudonym = ?"
            " AND EXISTS (SELECT 1 FROM answers a WHERE a.checkin_id = c.id)"
            " ORDER BY created_at DESC, id DESC LIMIT ?", (youth_pseudonym, limit))
        found = [await self.checkin_by_ref(r["ref"]) for r in reversed(rows)]
        return [c for c in found if c is not None]

    async def discuss_alert(self, ref: str, now: datetime, by: str = "therapist") -> bool:
        """Record that the alert was talked through with the youth; it counts as seen too
        (and stops an escalation). False when it was recorded before."""
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE alerts SET discussed_at = ?, discussed_by = ?,"
                " acked_at = coalesce(acked_at, ?), acked_by = coalesce(acked_by, ?),"
                " nobody_since = NULL WHERE ref = ? AND discussed_at IS NULL",
                (iso(now), by, iso(now), by, ref))
            if changed == 1:
                await conn.run(
                    "UPDATE outbox SET state = 'cancelled', last_error = 'acknowledged',"
                    " closed_at = ? WHERE ref = ? AND kind = 'escalation' AND state = 'pending'",
                    (iso(now), ref))
            return changed == 1

    async def undiscussed_alerts(self, youth_code: str, therapist_code: str,
                                 since: datetime) -> list[Alert]:
        rows = await self._all(
            "SELECT * FROM alerts WHERE youth_code = ? AND therapist_code = ?"
            " AND discussed_at IS NULL AND created_at >= ? ORDER BY created_at, id",
            (youth_code, therapist_code, iso(since)))
        return [alert_from_row(r) for r in rows]

    async def export_alerts(self, research_only: bool) -> list[AlertExportRow]:
        """Alerts to therapists for the export, with seen and discussed times."""
        rows = await self._all(
            "SELECT y.code, y.pseudonym, a.created_at, a.kind, a.acked_at, a.discussed_at,"
            " a.therapist_code"
            " FROM alerts a JOIN youths y ON y.code = a.youth_code"
            " WHERE y.pseudonym IS NOT NULL ORDER BY y.code, a.created_at, a.id")
        research = await standing(self.db, "research") if research_only else None

        def opt(value: str | None) -> datetime | None:
            return parse_iso(value) if value else None

        return [AlertExportRow(r["code"], r["pseudonym"], parse_iso(r["created_at"]),
                               r["kind"], opt(r["acked_at"]), opt(r["discussed_at"]),
                               r["therapist_code"])
                for r in rows if research is None or r["pseudonym"] in research]

    async def rupture_alerts(self, therapist_code: str) -> list[Alert]:
        """This therapist's rupture alerts, oldest first: whether and when each was
        discussed decides 'repaired after discussion' (core.repair)."""
        rows = await self._all(
            "SELECT * FROM alerts WHERE therapist_code = ? AND kind = 'rupture'"
            " ORDER BY created_at, id", (therapist_code,))
        return [alert_from_row(r) for r in rows]

    async def session_notes(self, youth_code: str) -> dict[str, SessionNote]:
        """Per occurrence of this youth: the therapy (discipline) and the sealed note.

        Only for the per-youth view of a therapist the youth shares with; the caller
        checks sharing and ownership before opening a note."""
        rows = await self._all(
            "SELECT c.occurrence_key, c.discipline, n.text_enc FROM checkins c"
            " JOIN youths y ON y.pseudonym = c.youth_pseudonym"
            " LEFT JOIN notes n ON n.checkin_id = c.id WHERE y.code = ?", (youth_code,))
        return {r["occurrence_key"]: SessionNote(
            r["discipline"], bytes(r["text_enc"]) if r["text_enc"] is not None else None)
            for r in rows}

    async def rating_requests_for(self, occurrence_key: str,
                                  therapist_code: str) -> list[OutboxItem]:
        """The rating rows of one session occurrence for one therapist (a group session
        has one per youth), in youth order; closed ones (cancelled, expired) left out."""
        rows = await self._all(
            "SELECT * FROM outbox WHERE kind = 'rating' AND occurrence_key = ?"
            " AND therapist_code = ? AND state IN ('pending', 'sending', 'sent')"
            " ORDER BY youth_code", (occurrence_key, therapist_code))
        return [outbox_item(r) for r in rows]
