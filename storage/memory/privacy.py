"""The twin's privacy port: audit chain, erasure, consent, accounts, retention.

Mirrors the SQL of storage/sql_privacy.py, sql_accounts.py and sql_retention.py (the
sqlite_*.py of before the dialect-neutral port) statement for statement. What the
database does behind those statements (the foreign keys' cascades that take a check-in's
answers, notes and kiosk codes along, the pseudonym change that follows into check-ins
and crisis flags, the planning triggers) is run by `Tables.update` and `Tables.delete`,
so erasure and retention here reach every row the SQL reaches: nothing of an erased
youth stays readable through any read method.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import cast

from core.audit import GENESIS, AuditEntry, entry_hash
from core.consent import ConsentRecord, stands
from core.export import ExportRow
from core.records import Consent, Row, SubjectRecords
from core.retention import DataKind
from storage.audit_anchor import AuditAnchor
from storage.memory.people import drop_contact_if_orphaned, live_pseudonym, revoke_open_invites
from storage.memory.rows import standing
from storage.memory.tables import MemoryBase, Record
from storage.timefmt import iso, parse_iso

UNBOUND_PREFIX = "unbound-"   # as storage.sql_invites: no Telegram id hashes to this
_ROLE_TABLES = {"youth": "youths", "therapist": "therapists", "unit": "units"}


def _consent_record(row: Record) -> ConsentRecord:
    return ConsentRecord(row["scope"], row["text_version"], row.get("answer", "yes") == "yes",
                         row.get("withdrawn_at") is not None)


# -- retention (storage.sql_retention) ------------------------------------------------------

_OPEN = ("pending", "sending")


def _older(column: str, cutoff: str) -> Callable[[Record], bool]:
    return lambda r: r[column] < cutoff


def _outbox(kinds: tuple[str, ...], column: str, cutoff: str) -> Callable[[Record], bool]:
    return lambda r: r["kind"] in kinds and r[column] < cutoff and r["state"] not in _OPEN


def _purges(kind: DataKind, cutoff: str) -> tuple[tuple[str, Callable[[Record], bool]], ...]:
    """Per kind, the tables and the rows of them older than the cutoff (as _PURGES)."""
    if kind is DataKind.SESSIONS:
        return (("checkins", _older("created_at", cutoff)),
                ("therapist_ratings", _older("rated_at", cutoff)),
                ("outbox", _outbox(("checkin", "reminder", "rating"), "session_end", cutoff)))
    if kind is DataKind.NOTES:
        return (("notes", _older("created_at", cutoff)),
                ("crisis_flags", _older("created_at", cutoff)))
    if kind is DataKind.ALERTS:
        return (("alerts", _older("created_at", cutoff)),
                ("outbox", _outbox(("alert", "escalation"), "due_at", cutoff)))
    if kind is DataKind.DELIVERY_LOG:
        return (("outbox", _outbox(("report",), "due_at", cutoff)),)
    return (("invites", lambda r: (r.get("used_at") or r["expires_at"]) < cutoff),)


def _as_text(value: object) -> str | int | None:
    """As SqlitePrivacyMixin._rows: a stored blob is handed over as text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode()
    return cast(str | int | None, value)


def _pick(row: Record, **columns: str) -> Row:
    """SELECT column AS name, ...: the named columns of one row, in that order."""
    return {name: _as_text(row.get(column)) for name, column in columns.items()}


class MemoryPrivacyRepository(MemoryBase):
    """storage.ports.PrivacyRepo on the twin's tables."""

    audit_anchor: AuditAnchor | None
    wal_truncate_pending: bool = False   # never set: the twin has no WAL

    # -- audit chain --------------------------------------------------------------------

    async def append_audit(self, actor: str, action: str, youth_code: str, detail: str,
                           now: datetime) -> AuditEntry:
        t = self.tables
        last = t.rows["audit_log"].get(t.last_id["audit_log"])   # rows are keyed by seq
        seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
        at = iso(now)
        digest = entry_hash(prev, seq, at, actor, action, youth_code, detail)
        t.insert("audit_log", {"id": seq, "seq": seq, "at": at, "actor": actor,
                               "action": action, "youth_code": youth_code, "detail": detail,
                               "prev_hash": prev, "hash": digest})
        if self.audit_anchor is not None:
            self.audit_anchor.record(seq, digest, at)
        return AuditEntry(seq, at, actor, action, youth_code, detail, prev, digest)

    async def audit_entries(self) -> list[AuditEntry]:
        return [AuditEntry(r["seq"], r["at"], r["actor"], r["action"], r["youth_code"],
                           r["detail"], r["prev_hash"], r["hash"])
                for r in self.tables.scan("audit_log")]

    # -- erasure --------------------------------------------------------------------------

    async def erase_youth(self, code: str, now: datetime) -> bool:
        """Erase everything of the youth but a bare tombstone (as the SQLite store)."""
        t = self.tables
        youth = t.first("youths", code=code)
        if youth is None:
            return False
        pseudonym = youth.get("pseudonym")
        if pseudonym is not None:   # the check-ins take answers, notes, prompts along
            t.delete("crisis_flags", youth_pseudonym=pseudonym)
            t.delete("checkins", youth_pseudonym=pseudonym)
            t.delete("consents", pseudonym=pseudonym)
            t.delete("contacts", pseudonym=pseudonym)
        for table in ("therapist_ratings", "outbox", "alerts", "consent_requests",
                      "series_youths"):
            t.delete(table, youth_code=code)
        t.delete("phone_windows", scope="youth", scope_code=code)
        for table in ("invite_declines", "sessions_not_held", "kiosk_codes",
                      "youth_channels"):
            t.delete(table, youth_code=code)
        t.delete("invites", subject_code=code, role="youth")
        t.update("youths", {"pseudonym": None, "paused": 1, "birth_year": 0,
                            "guardian_consent_date": None,
                            "guardian_research_consent_date": None, "unit": None,
                            "unreachable_at": None}, code=code)
        if t.first("erasures", youth_code=code, erased_at=iso(now)) is None:
            t.insert("erasures", {"youth_code": code, "erased_at": iso(now)})
        return True

    async def truncate_wal(self, attempts: int = 5, first_wait: float = 0.05) -> bool:
        """Nothing to truncate: erased rows are gone from memory at once."""
        self.wal_truncate_pending = False
        return True

    async def is_erased(self, code: str) -> bool:
        return self.tables.first("erasures", youth_code=code) is not None

    # -- accounts -------------------------------------------------------------------------

    async def unbind_youth(self, code: str, now: datetime) -> bool:
        """Cut the link to the youth's Telegram account; the history stays with the youth
        under a placeholder pseudonym and follows them to the next invite's account."""
        t = self.tables
        youth = t.first("youths", code=code)
        old = youth.get("pseudonym") if youth else None
        if old is None or old.startswith(UNBOUND_PREFIX):
            # Nothing linked (any more): unbound before.
            return False
        placeholder = f"{UNBOUND_PREFIX}{secrets.token_hex(16)}"
        t.delete("contacts", pseudonym=old)
        t.update("youths", {"pseudonym": placeholder}, code=code)
        t.update("consents", {"pseudonym": placeholder}, pseudonym=old)
        t.update("invites", {"used_at": iso(now)}, lambda r: r["used_at"] is None,
                 subject_code=code, role="youth")
        return True

    def _unbind(self, role: str, code: str, now: datetime) -> bool:
        t = self.tables
        old = live_pseudonym(t, role, code)
        revoke_open_invites(t, role, code, now)
        if old is None:
            return False
        t.update(_ROLE_TABLES[role], {"pseudonym": f"{UNBOUND_PREFIX}{secrets.token_hex(16)}"},
                 code=code)
        drop_contact_if_orphaned(t, old)
        return True

    async def unbind_therapist(self, code: str, now: datetime) -> bool:
        return self._unbind("therapist", code, now)

    async def unbind_unit(self, code: str, now: datetime) -> bool:
        done = self._unbind("unit", code, now)
        if done:
            self.tables.update("units", {"linked_at": None}, code=code)
        return done

    @staticmethod
    def _to_come(now: datetime) -> Callable[[Record], bool]:
        """Outbox rows that move with a youth: sessions still to come, and alerts; what
        was held (or its rating request) stays with who held it."""
        stamp = iso(now)
        return lambda r: r["state"] == "pending" and (
            r["session_end"] > stamp or r["kind"] in ("alert", "escalation"))

    async def move_youths(self, from_code: str, to_code: str, now: datetime) -> list[str]:
        t = self.tables
        t.update("alerts", {"therapist_code": to_code}, lambda r: r["acked_at"] is None,
                 therapist_code=from_code)
        moved = sorted(str(y["code"]) for y in t.scan("youths", therapist_code=from_code))
        t.update("youths", {"therapist_code": to_code}, therapist_code=from_code)
        t.update("series", {"therapist_code": to_code}, therapist_code=from_code)
        t.update("outbox", {"therapist_code": to_code}, self._to_come(now),
                 therapist_code=from_code)
        return moved

    async def move_youth(self, code: str, to_code: str, now: datetime) -> bool:
        t = self.tables
        if t.update("youths", {"therapist_code": to_code},
                    lambda r: r["therapist_code"] != to_code, code=code) != 1:
            return False
        t.update("alerts", {"therapist_code": to_code}, lambda r: r["acked_at"] is None,
                 youth_code=code)
        members: dict[int, list[str]] = {}
        for row in t.scan("series_youths"):
            members.setdefault(row["series_id"], []).append(row["youth_code"])
        alone = {sid for sid, codes in members.items() if codes == [code]}
        t.update("series", {"therapist_code": to_code}, lambda r: r["id"] in alone)
        t.update("outbox", {"therapist_code": to_code}, self._to_come(now), youth_code=code)
        return True

    # -- consent --------------------------------------------------------------------------

    async def set_consent(self, pseudonym: str, consent: Consent, agree: bool,
                          now: datetime) -> None:
        """One decision on one scope, a row of its own; an earlier yes is withdrawn."""
        t = self.tables
        t.update("consents", {"withdrawn_at": iso(now)},
                 lambda r: r["withdrawn_at"] is None and r["answer"] == "yes",
                 pseudonym=pseudonym, scope=consent.scope)
        t.insert("consents", {
            "pseudonym": pseudonym, "scope": consent.scope,
            "text_version": consent.text_version, "text_sha256": consent.text_sha256,
            "language": consent.language, "agreed_at": iso(now), "withdrawn_at": None,
            "answer": "yes" if agree else "no"})

    async def has_consent(self, pseudonym: str, scope: str) -> bool:
        return stands(await self.consents_of(pseudonym), scope)

    async def consents_of(self, pseudonym: str) -> list[ConsentRecord]:
        return [_consent_record(r) for r in self.tables.scan("consents", pseudonym=pseudonym)]

    async def codes_with_consent(self, scope: str) -> frozenset[str]:
        agreed = standing(self.tables, scope)
        return frozenset(r["code"] for r in self.tables.scan("youths")
                         if r.get("pseudonym") is not None and r["pseudonym"] in agreed)

    async def consent_request_due(self, youth_code: str, version: str,
                                  now: datetime) -> bool:
        """True when the question about this text still has to reach the youth."""
        t = self.tables
        row = t.first("consent_requests", youth_code=youth_code, version=version)
        if row is None:
            t.insert("consent_requests", {"youth_code": youth_code, "version": version,
                                          "asked_at": iso(now), "sent_at": None})
            return True
        return row.get("sent_at") is None

    async def consent_request_sent(self, youth_code: str, version: str,
                                   now: datetime) -> None:
        self.tables.update("consent_requests", {"sent_at": iso(now)}, youth_code=youth_code,
                           version=version)

    async def guardian_research_consent(self, code: str) -> date | None:
        row = self.tables.first("youths", code=code)
        when = row.get("guardian_research_consent_date") if row else None
        return date.fromisoformat(when) if when else None

    async def set_guardian_research_consent(self, code: str, when: date) -> bool:
        """Record the date the guardian's research consent was filed; False if unknown."""
        if self.tables.first("erasures", youth_code=code) is not None:
            return False
        return self.tables.update("youths", {"guardian_research_consent_date": when.isoformat()},
                                  code=code) > 0

    # -- the youth's own data and the research export -----------------------------------

    async def export_rows(self, research_only: bool) -> list[ExportRow]:
        t = self.tables
        youths = {y["pseudonym"]: y for y in t.scan("youths") if y["pseudonym"] is not None}
        checkins = {c["id"]: c for c in t.scan("checkins")}
        found = []
        for answer in t.scan("answers", lambda r: r["item"] != "note"):
            checkin = checkins.get(answer["checkin_id"])
            youth = youths.get(checkin["youth_pseudonym"]) if checkin else None
            if checkin is not None and youth is not None:
                found.append((youth, checkin, answer))
        # As the SQL: answers have no id of their own there, so within a check-in they
        # come in item order.
        found.sort(key=lambda f: (f[0]["code"], f[1]["created_at"], f[1]["id"], f[2]["item"]))
        research = standing(t, "research") if research_only else None
        return [ExportRow(y["code"], y["pseudonym"], parse_iso(c["created_at"]), c["status"],
                          a["item"], a["value"], bool(c["simple_mode"]),
                          a["questionnaire_version"])
                for y, c, a in found if research is None or y["pseudonym"] in research]

    async def subject_records(self, code: str, pseudonym: str) -> SubjectRecords:
        """Everything about the youth beyond check-ins and consents (see SubjectRecords)."""
        t = self.tables
        youth = t.first("youths", code=code)
        profile = _pick(youth, therapist="therapist_code", birth_year="birth_year",
                        unit="unit", language="language", simple_mode="simple_mode",
                        guardian_consent_date="guardian_consent_date",
                        guardian_research_consent_date="guardian_research_consent_date",
                        paused="paused", enrolled_at="created_at") if youth else {}
        ratings = sorted(t.scan("therapist_ratings", youth_code=code),
                         key=lambda r: (r["rated_at"], r["item"]))
        members = {r["series_id"] for r in t.scan("series_youths", youth_code=code)}
        unit = youth.get("unit") if youth else None
        windows = sorted(
            t.scan("phone_windows", lambda w: (w["scope"] == "youth" and w["scope_code"] == code)
                   or (w["scope"] == "unit" and unit is not None and w["scope_code"] == unit)),
            key=lambda w: w["id"])
        windows.sort(key=lambda w: w["scope"], reverse=True)
        return SubjectRecords(
            profile=profile,
            crisis_texts=[_pick(r, created_at="created_at", text_enc="text_enc",
                                phrases="phrases", alerted_at="alerted_at")
                          for r in t.scan("crisis_flags", youth_pseudonym=pseudonym)],
            ratings=[_pick(r, session="occurrence_key", therapist="therapist_code",
                           item="item", value="value", rated_at="rated_at") for r in ratings],
            alerts=[_pick(r, kind="kind", created_at="created_at",
                          therapist="therapist_code", detail="detail", reason="reason",
                          unit="unit_code", acked_at="acked_at", acked_by="acked_by")
                    for r in t.scan("alerts", youth_code=code)],
            schedule=[_pick(s, discipline="discipline", weekdays="weekdays",
                            start_time="start_time", duration_minutes="duration_minutes",
                            timezone="timezone", first_date="first_date",
                            last_date="last_date", paused="paused",
                            therapist="therapist_code")
                      for s in t.scan("series", lambda r: r["id"] in members)],
            phone_windows=[_pick(w, scope="scope", scope_code="scope_code",
                                 weekdays="weekdays", start_time="start_time",
                                 end_time="end_time") for w in windows])

    # -- retention ------------------------------------------------------------------------

    async def purge(self, kind: DataKind, before: datetime, *, dry_run: bool = False) -> int:
        """Remove (or, dry, count) the records of one kind from before the cutoff."""
        removed = 0
        for table, where in _purges(kind, iso(before)):
            if dry_run:
                removed += sum(1 for _ in self.tables.scan(table, where))
            else:
                removed += self.tables.delete(table, where)
        return removed

    async def last_retention_day(self) -> date | None:
        days = [r["day"] for r in self.tables.scan("retention_runs")]
        return date.fromisoformat(max(days)) if days else None

    async def record_retention_run(self, day: date, report: str, now: datetime) -> bool:
        """Record today's run; False when it was already recorded."""
        if self.tables.first("retention_runs", day=day.isoformat()) is not None:
            return False
        self.tables.insert("retention_runs", {"day": day.isoformat(), "ran_at": iso(now),
                                              "report": report})
        return True

