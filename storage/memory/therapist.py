"""The twin's therapist port: bindings, ratings, session records, outbox rows, alerts.

Mirrors storage/sql_therapist.py and sql_sessions.py (session_records,
mark_not_held). session_records is the one query the therapist's views and the
coordinators' overview read, so it follows the SQL's UNION step by step.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from core.questionnaire import Language
from core.records import (
    Alert,
    BindOutcome,
    NewAlert,
    NewOutbox,
    OutboxItem,
    SessionRecord,
    Therapist,
    Youth,
)
from storage.memory.people import drop_contact_if_orphaned, redeem_invite, store_contact
from storage.memory.rows import alert_from_row, insert_alert, outbox_item, youth_from_row
from storage.memory.schedule import insert_outbox_rows
from storage.memory.tables import MemoryBase, Record, Tables
from storage.session_rows import SessionFacts, session_records
from storage.sql import IntegrityViolation
from storage.timefmt import iso

log = logging.getLogger(__name__)


def bind_account(t: Tables, table: str, role: str, token_digest: str, pseudonym: str,
                 chat_id_enc: bytes, now: datetime, **more: object) -> BindOutcome:
    """Redeem a staff invite (therapist or unit) and link the account to its code; the
    contact of an account linked before goes when nobody refers to it any more."""
    code = redeem_invite(t, token_digest, role, now)
    if isinstance(code, BindOutcome):
        return code
    row = t.first(table, code=code)
    before = row.get("pseudonym") if row is not None else None
    t.update(table, {"pseudonym": pseudonym, **more}, code=code)
    store_contact(t, pseudonym, chat_id_enc)
    drop_contact_if_orphaned(t, before)
    return BindOutcome.BOUND


def _session_rows(t: Tables, therapist_code: str | None, until: datetime) -> list[Record]:
    """The sessions of storage.sql_sessions._SESSIONS: a check-in row of the outbox,
    or a check-in started without one (ending when it started, the enrolled therapist's).
    The joins go through dicts, so a caseload report stays linear in the rows."""
    stamp = iso(until)
    youths = {y["code"]: y for y in t.scan("youths")}
    by_pseudonym = {y["pseudonym"]: y for y in youths.values() if y["pseudonym"] is not None}
    series = {s["id"]: s for s in t.scan("series")}
    checkins = {(c["youth_pseudonym"], c["occurrence_key"]): c for c in t.scan("checkins")}
    outbox = list(t.scan("outbox", kind="checkin"))
    planned = {(o["youth_code"], o["occurrence_key"]) for o in outbox}
    rows: list[Record] = []
    for o in outbox:
        youth = youths.get(o["youth_code"])
        if youth is None or not o["session_end"] <= stamp:
            continue
        plan = series.get(o["series_id"])
        # A NULL pseudonym joins no check-in.
        checkin = checkins.get((youth["pseudonym"], o["occurrence_key"]))
        rows.append({
            "youth_code": o["youth_code"],
            "session_therapist": o["therapist_code"]
            or (plan["therapist_code"] if plan else None) or youth["therapist_code"],
            "occurrence_key": o["occurrence_key"], "session_end": o["session_end"],
            "expires_at": o["expires_at"], "state": o["state"], "last_error": o["last_error"],
            "checkin_id": checkin["id"] if checkin else None,
            "status": checkin["status"] if checkin else None,
            "simple_mode": checkin["simple_mode"] if checkin else youth["simple_mode"],
            "questionnaire_version": checkin["questionnaire_version"] if checkin else None})
    for c in checkins.values():
        youth = by_pseudonym.get(c["youth_pseudonym"])
        if (youth is None or not c["created_at"] <= stamp
                or (youth["code"], c["occurrence_key"]) in planned):
            continue
        rows.append({
            "youth_code": youth["code"], "session_therapist": youth["therapist_code"],
            "occurrence_key": c["occurrence_key"], "session_end": c["created_at"],
            "expires_at": c["expires_at"], "state": None, "last_error": None,
            "checkin_id": c["id"], "status": c["status"], "simple_mode": c["simple_mode"],
            "questionnaire_version": c["questionnaire_version"]})
    rows = [r for r in rows if therapist_code is None or r["session_therapist"] == therapist_code]
    rows.sort(key=lambda r: (r["youth_code"], r["session_end"]))
    return rows


class MemoryTherapistRepository(MemoryBase):
    """storage.ports.TherapistRepo on the twin's tables."""

    async def bind_therapist(
        self, token_digest: str, pseudonym: str, chat_id_enc: bytes, now: datetime
    ) -> BindOutcome:
        return bind_account(self.tables, "therapists", "therapist", token_digest, pseudonym,
                            chat_id_enc, now)

    async def therapist_by_pseudonym(self, pseudonym: str) -> Therapist | None:
        row = self.tables.first("therapists", pseudonym=pseudonym)
        return Therapist(row["code"], cast(Language, row["language"])) if row else None

    async def therapist_pseudonym(self, code: str) -> str | None:
        row = self.tables.first("therapists", code=code)
        return row.get("pseudonym") if row else None

    async def all_therapists(self) -> list[Therapist]:
        return [Therapist(r["code"], cast(Language, r["language"]))
                for r in sorted(self.tables.scan("therapists"), key=lambda r: r["code"])]

    async def youths_of(self, therapist_code: str) -> list[Youth]:
        return [youth_from_row(r) for r in sorted(
            self.tables.scan("youths", therapist_code=therapist_code), key=lambda r: r["code"])]

    async def session_records(self, therapist_code: str | None,
                              until: datetime) -> list[SessionRecord]:
        """Every session up to `until` held by this therapist (None: anyone), oldest first
        per youth."""
        t = self.tables
        rows = _session_rows(t, therapist_code, until)
        ids = {r["checkin_id"] for r in rows if r["checkin_id"] is not None}
        answers: dict[int, dict[str, str]] = {}
        for a in t.scan("answers", lambda r: r["checkin_id"] in ids):
            answers.setdefault(a["checkin_id"], {})[a["item"]] = a["value"]
        notes = {r["checkin_id"] for r in t.scan("notes", lambda r: r["checkin_id"] in ids)}
        crises = {r["checkin_id"] for r in t.scan("crisis_flags",
                                                  lambda r: r.get("checkin_id") in ids)}
        ratings: dict[tuple[str, str], dict[str, str]] = {}
        for r in t.scan("therapist_ratings", lambda r: therapist_code is None
                        or r["therapist_code"] == therapist_code):
            ratings.setdefault((r["occurrence_key"], r["youth_code"]), {})[r["item"]] = r["value"]
        not_held = {(r["youth_code"], r["occurrence_key"]): r["marked_by"]
                    for r in t.scan("sessions_not_held")}
        return session_records(rows, SessionFacts(answers, notes, crises, ratings, not_held))

    async def mark_not_held(self, youth_code: str, occurrence_key: str, by: str,
                            now: datetime) -> bool:
        """Record that a session did not take place and close what waits on it; False
        when it was marked before (the first word stands)."""
        t = self.tables
        stamp = iso(now)
        if by not in ("youth", "therapist"):
            raise IntegrityViolation(f"marked_by {by!r}")   # the table's CHECK
        new = t.first("sessions_not_held", youth_code=youth_code,
                      occurrence_key=occurrence_key) is None
        if new:
            t.insert("sessions_not_held", {"youth_code": youth_code,
                                           "occurrence_key": occurrence_key,
                                           "marked_by": by, "marked_at": stamp})
        youth = t.first("youths", code=youth_code)
        pseudonym = youth.get("pseudonym") if youth else None
        if pseudonym is not None:
            t.update("checkins", {"status": "complete", "completed_at": stamp},
                     youth_pseudonym=pseudonym, status="open", occurrence_key=occurrence_key)
        t.update("outbox", {"state": "cancelled", "last_error": "did not take place",
                            "closed_at": stamp}, kind="reminder", state="pending",
                 youth_code=youth_code, occurrence_key=occurrence_key)
        return new

    async def rate(self, occurrence_key: str, youth_code: str, therapist_code: str, item: str,
                   value: str, now: datetime) -> None:
        if self.tables.update("therapist_ratings", {"value": value, "rated_at": iso(now)},
                              occurrence_key=occurrence_key, youth_code=youth_code,
                              item=item):
            return
        self.tables.insert("therapist_ratings", {
            "occurrence_key": occurrence_key, "youth_code": youth_code,
            "therapist_code": therapist_code, "item": item, "value": value,
            "rated_at": iso(now)})

    async def ratings(self, occurrence_key: str, youth_code: str) -> dict[str, str]:
        return {r["item"]: r["value"] for r in self.tables.scan(
            "therapist_ratings", occurrence_key=occurrence_key, youth_code=youth_code)}

    async def add_outbox(self, rows: list[NewOutbox], now: datetime) -> int:
        return insert_outbox_rows(self.tables, rows, now)

    async def outbox_by_ref(self, ref: str) -> OutboxItem | None:
        row = self.tables.first("outbox", ref=ref)
        return outbox_item(row) if row else None

    async def recent_rating_requests(self, therapist_code: str,
                                     since: datetime) -> list[OutboxItem]:
        stamp = iso(since)
        rows = self.tables.scan("outbox", lambda r: r["session_end"] >= stamp, kind="rating",
                                therapist_code=therapist_code, state="sent")
        return [outbox_item(r) for r in sorted(rows, key=lambda r: r["session_end"])]

    async def add_alert(self, alert: NewAlert, now: datetime) -> bool:
        """Record the alert and its delivery (and escalation) at once; False if known."""
        return insert_alert(self.tables, alert, now)

    async def alert_by_ref(self, ref: str) -> Alert | None:
        row = self.tables.first("alerts", ref=ref)
        return alert_from_row(row) if row else None

    async def ack_alert(self, ref: str, now: datetime, by: str = "therapist") -> bool:
        """Record the first acknowledgement (by a role); False when one came first."""
        t = self.tables
        if t.update("alerts", {"acked_at": iso(now), "acked_by": by, "nobody_since": None},
                    lambda r: r["acked_at"] is None, ref=ref) != 1:
            return False
        t.update("outbox", {"state": "cancelled", "last_error": "acknowledged",
                            "closed_at": iso(now)}, ref=ref, kind="escalation",
                 state="pending")
        return True
