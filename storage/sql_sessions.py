"""Session occurrences as the one state rule needs them (storage.sql).

One query serves the therapist's views (image, /clients, alerts) and the coordinators'
/overview, so they read the same rows and, through core.analytics.occurrence_state, the
same states. A session belongs to the therapist of its series, not to the therapist the
youth is enrolled with: alliance is a youth-therapist pair.
"""

from __future__ import annotations

import logging
from datetime import datetime

from core.analytics import SessionPoint
from core.compliance import Compliance, summarise
from core.records import SessionRecord
from storage.session_rows import SessionFacts, session_records
from storage.sql_base import SqlQueries, chunks, equal_or_any, in_list
from storage.sql_privacy import standing
from storage.timefmt import iso

log = logging.getLogger(__name__)

_SESSIONS = (
    "SELECT * FROM ("
    " SELECT o.youth_code, COALESCE(o.therapist_code, s.therapist_code, y.therapist_code)"
    "   AS session_therapist, o.occurrence_key, o.session_end, o.expires_at, o.state,"
    "   o.last_error, c.id AS checkin_id, c.status,"
    "   COALESCE(c.simple_mode, y.simple_mode) AS simple_mode, c.questionnaire_version"
    " FROM outbox o"
    " JOIN youths y ON y.code = o.youth_code"
    " LEFT JOIN series s ON s.id = o.series_id"
    " LEFT JOIN checkins c ON c.youth_pseudonym = y.pseudonym"
    "   AND c.occurrence_key = o.occurrence_key"
    " WHERE o.kind = 'checkin' AND o.session_end <= ?"
    " UNION ALL"
    " SELECT y.code, y.therapist_code, c.occurrence_key, c.created_at, c.expires_at, NULL,"
    "   NULL, c.id, c.status, c.simple_mode, c.questionnaire_version FROM checkins c"
    " JOIN youths y ON y.pseudonym = c.youth_pseudonym"
    " WHERE c.created_at <= ? AND NOT EXISTS (SELECT 1"
    "   FROM outbox p WHERE p.kind = 'checkin' AND p.youth_code = y.code"
    "   AND p.occurrence_key = c.occurrence_key)"
    ") sessions WHERE {therapist}"
    " ORDER BY youth_code, session_end")


class SessionRepository(SqlQueries):

    async def session_records(self, therapist_code: str | None,
                              until: datetime) -> list[SessionRecord]:
        """Every session up to `until` held by this therapist (None: by anyone), oldest first.

        A session is a check-in row of the outbox (planned, or queued by send-checkin), or a
        check-in started without one, which then ends when it was started and belongs to
        the youth's enrolled therapist.
        """
        held_by, by_params = equal_or_any("session_therapist", therapist_code)
        rows = await self._all(_SESSIONS.format(therapist=held_by),
                               (iso(until), iso(until), *by_params))
        ids = [r["checkin_id"] for r in rows if r["checkin_id"] is not None]
        answers: dict[int, dict[str, str]] = {}
        notes: set[int] = set()
        crises: set[int] = set()
        for part in chunks(ids):
            marks = in_list(len(part))
            for a in await self._all(
                f"SELECT checkin_id, item, value FROM answers WHERE checkin_id IN ({marks})",  # noqa: S608
                    part):
                answers.setdefault(a["checkin_id"], {})[a["item"]] = a["value"]
            notes |= {r["checkin_id"] for r in await self._all(
                f"SELECT checkin_id FROM notes WHERE checkin_id IN ({marks})", part)}  # noqa: S608
            crises |= {r["checkin_id"] for r in await self._all(
                f"SELECT checkin_id FROM crisis_flags WHERE checkin_id IN ({marks})",  # noqa: S608
                part)}
        ratings: dict[tuple[str, str], dict[str, str]] = {}
        rated_by, rated_params = equal_or_any("therapist_code", therapist_code)
        for t in await self._all(
                "SELECT occurrence_key, youth_code, item, value FROM therapist_ratings"  # noqa: S608
                f" WHERE {rated_by}", rated_params):
            ratings.setdefault((t["occurrence_key"], t["youth_code"]), {})[t["item"]] = t["value"]
        not_held = {(r["youth_code"], r["occurrence_key"]): r["marked_by"]
                    for r in await self._all(
                        "SELECT youth_code, occurrence_key, marked_by FROM sessions_not_held")}
        return session_records(rows, SessionFacts(answers, notes, crises, ratings, not_held))

    async def mark_not_held(self, youth_code: str, occurrence_key: str, by: str,
                            now: datetime) -> bool:
        """Record that a session did not take place; close its open check-in, if any.

        False when it was already marked (the first word stands: nothing doubled).
        """
        async with self.db.write() as conn:
            changed = await conn.run(
                "INSERT INTO sessions_not_held (youth_code, occurrence_key,"
                " marked_by, marked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (youth_code, occurrence_key, by, iso(now)))
            await conn.run(
                "UPDATE checkins SET status = 'complete', completed_at = ?"
                " WHERE status = 'open' AND occurrence_key = ? AND youth_pseudonym ="
                " (SELECT pseudonym FROM youths WHERE code = ?)",
                (iso(now), occurrence_key, youth_code))
            await conn.run(
                "UPDATE outbox SET state = 'cancelled', last_error = 'did not take place',"
                " closed_at = ? WHERE kind = 'reminder' AND state = 'pending'"
                " AND youth_code = ? AND occurrence_key = ?",
                (iso(now), youth_code, occurrence_key))
            return changed == 1

    async def compliance(self, now: datetime) -> list[Compliance]:
        """Per youth: sessions, prompts sent, answered, missed, a missed streak, and the
        sessions that do not count (cancelled/paused, undelivered, did not take place).

        The counted fields come from the same session records and the same state rule
        (core.analytics.occurrence_state, via core.compliance.summarise) as the
        therapist's image and alerts, over all of a youth's therapies together.
        """
        rows = await self._all(
            "SELECT y.code, y.therapist_code, y.pseudonym, y.pseudonym IS NOT NULL AS joined,"
            " y.paused,"
            " y.unreachable_at IS NOT NULL AS unreachable,"
            " (SELECT count(*) FROM outbox o WHERE o.youth_code = y.code AND o.kind = 'checkin'"
            "   AND o.state = 'sent') AS sent,"
            " (SELECT count(*) FROM checkins c WHERE c.youth_pseudonym = y.pseudonym"
            "   AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.kind = 'checkin'"
            "   AND p.youth_code = y.code AND p.occurrence_key = c.occurrence_key))"
            " AS unplanned,"
            " y.pseudonym IS NULL AND EXISTS (SELECT 1 FROM invite_declines d"
            "   WHERE d.youth_code = y.code) AS declined"
            " FROM youths y WHERE y.code NOT IN (SELECT youth_code FROM erasures)"
            " ORDER BY y.code")
        taking_part = await standing(self.db, "participation")
        points: dict[str, list[SessionPoint]] = {}
        for rec in await self.session_records(None, now):
            points.setdefault(rec.youth_code, []).append(rec.point(now))
        return [Compliance(r["code"], r["therapist_code"], bool(r["joined"]),
                           bool(r["paused"]), bool(r["unreachable"]),
                           sent=r["sent"] + r["unplanned"],
                           takes_part=r["pseudonym"] in taking_part,
                           declined=bool(r["declined"]),
                           **summarise(points.get(r["code"], [])))
                for r in rows]
