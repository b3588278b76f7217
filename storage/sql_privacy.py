"""The audit trail, consent and erasure on storage.sql."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import cast

from core.audit import GENESIS, AuditEntry, entry_hash
from core.consent import ConsentRecord, stands
from core.export import ExportRow
from core.records import Consent, SubjectRecords
from core.records import Row as Record
from storage.audit_anchor import AuditAnchor
from storage.sql import Database, Sql
from storage.sql_invites import UNBOUND_PREFIX
from storage.timefmt import iso, parse_iso

log = logging.getLogger(__name__)

# Tables keyed by the youth's pseudonym or code, in an order that respects foreign keys.
_BY_PSEUDONYM = ("DELETE FROM crisis_flags WHERE youth_pseudonym = ?",
                 "DELETE FROM checkins WHERE youth_pseudonym = ?",
                 "DELETE FROM consents WHERE pseudonym = ?",
                 "DELETE FROM contacts WHERE pseudonym = ?")
_BY_CODE = ("DELETE FROM therapist_ratings WHERE youth_code = ?",
            "DELETE FROM outbox WHERE youth_code = ?",
            "DELETE FROM alerts WHERE youth_code = ?",
            "DELETE FROM consent_requests WHERE youth_code = ?",
            "DELETE FROM series_youths WHERE youth_code = ?",
            "DELETE FROM phone_windows WHERE scope = 'youth' AND scope_code = ?",
            "DELETE FROM invite_declines WHERE youth_code = ?",
            "DELETE FROM sessions_not_held WHERE youth_code = ?",
            "DELETE FROM kiosk_codes WHERE youth_code = ?",
            "DELETE FROM youth_channels WHERE youth_code = ?")



async def standing(conn: Sql, scope: str) -> frozenset[str]:
    """The pseudonyms whose consent to `scope` stands: every decision on the scope is
    fetched, oldest first, and core.consent.stands decides per youth."""
    rows = await conn.all(
        "SELECT pseudonym, scope, text_version, answer, withdrawn_at FROM consents"
        " WHERE scope = ? ORDER BY id", (scope,))
    records: dict[str, list[ConsentRecord]] = {}
    for r in rows:
        records.setdefault(r[0], []).append(
            ConsentRecord(r[1], r[2], r[3] == "yes", r[4] is not None))
    return frozenset(p for p, mine in records.items() if stands(mine, scope))



# A backend's way to make deleted bytes leave its files at once (SQLite: checkpoint and
# truncate the WAL, see SqliteDatabase.checkpoint_truncate); True when it completed.
Checkpoint = Callable[[], Awaitable[bool]]


class PrivacyRepository:
    db: Database
    audit_anchor: AuditAnchor | None
    checkpoint: Checkpoint | None = None   # None: the backend has nothing to clear
    wal_truncate_pending: bool = False   # an erasure whose WAL truncate is still owed

    async def append_audit(self, actor: str, action: str, youth_code: str, detail: str,
                           now: datetime) -> AuditEntry:
        async with self.db.write() as conn:
            last = await conn.one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            seq, prev = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
            at = iso(now)
            digest = entry_hash(prev, seq, at, actor, action, youth_code, detail)
            await conn.run(
                "INSERT INTO audit_log (seq, at, actor, action, youth_code, detail, prev_hash,"
                " hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, at, actor, action, youth_code, detail, prev, digest))
        if self.audit_anchor is not None:
            # After the commit: a crash in between leaves the database one entry ahead of
            # the anchor, which verify accepts; the reverse would be a false alarm.
            # Concurrent appends may anchor out of order; verify takes the highest seq.
            self.audit_anchor.record(seq, digest, at)
        return AuditEntry(seq, at, actor, action, youth_code, detail, prev, digest)

    async def audit_entries(self) -> list[AuditEntry]:
        rows = await self.db.all("SELECT * FROM audit_log ORDER BY seq")
        return [AuditEntry(r["seq"], r["at"], r["actor"], r["action"], r["youth_code"],
                           r["detail"], r["prev_hash"], r["hash"]) for r in rows]

    async def erase_youth(self, code: str, now: datetime) -> bool:
        """Erase a youth's answers, notes, contact and consent; keep a bare tombstone.

        On SQLite secure_delete zeroes the freed pages, and the WAL is checkpointed and
        truncated afterwards (the `checkpoint` hook), so the erased bytes are gone from
        both files.
        """
        async with self.db.write() as conn:
            row = await conn.one("SELECT pseudonym FROM youths WHERE code = ?", (code,))
            if row is None:
                return False
            if row["pseudonym"] is not None:
                for sql in _BY_PSEUDONYM:
                    await conn.run(sql, (row["pseudonym"],))
            for sql in _BY_CODE:
                await conn.run(sql, (code,))
            await conn.run("DELETE FROM invites WHERE subject_code = ? AND role = 'youth'",
                               (code,))
            await conn.run(
                "UPDATE youths SET pseudonym = NULL, paused = 1, birth_year = 0,"
                " guardian_consent_date = NULL, guardian_research_consent_date = NULL,"
                " unit = NULL, unreachable_at = NULL"
                " WHERE code = ?", (code,))
            await conn.run("INSERT INTO erasures (youth_code, erased_at) VALUES (?, ?)"
                           " ON CONFLICT DO NOTHING", (code, iso(now)))
        self.wal_truncate_pending = True
        await self.truncate_wal()
        return True

    async def truncate_wal(self, attempts: int = 5, first_wait: float = 0.05) -> bool:
        """Checkpoint and truncate the WAL, so erased bytes leave it; True when done.

        While any reader is open (a backup, `audit show`, another tool) SQLite answers
        "busy" and the erased rows stay in the WAL. This retries a few times with a short
        backoff; when it still cannot, `wal_truncate_pending` stays set and the engine's
        next tick (or the next start-up, which always truncates) tries again. A backend
        without a `checkpoint` hook has nothing to truncate: done at once.
        """
        if self.checkpoint is None:
            self.wal_truncate_pending = False
            return True
        wait = first_wait
        for attempt in range(attempts):
            if await self.checkpoint():
                self.wal_truncate_pending = False
                return True
            if attempt + 1 < attempts:
                await asyncio.sleep(wait)
                wait *= 2
        log.warning("the WAL could not be truncated (a reader holds it open); erased data "
                    "leaves the disk when it can, retried every tick")
        return False

    async def unbind_youth(self, code: str, now: datetime) -> bool:
        """Cut the link to the youth's Telegram account (lost or confiscated phone).

        The pseudonym is replaced by a random placeholder that no Telegram id can hash to,
        so the old account receives nothing and can do nothing; the history stays with the
        youth and follows them to the account that redeems the next invite.
        """
        async with self.db.write() as conn:
            row = await conn.one("SELECT pseudonym FROM youths WHERE code = ?", (code,))
            if row is None or row["pseudonym"] is None:
                return False
            placeholder = f"{UNBOUND_PREFIX}{secrets.token_hex(16)}"
            await conn.run("DELETE FROM contacts WHERE pseudonym = ?", (row["pseudonym"],))
            await conn.run("UPDATE youths SET pseudonym = ? WHERE code = ?",
                               (placeholder, code))
            await conn.run("UPDATE consents SET pseudonym = ? WHERE pseudonym = ?",
                               (placeholder, row["pseudonym"]))
            await conn.run(
                "UPDATE invites SET used_at = ? WHERE subject_code = ? AND role = 'youth'"
                " AND used_at IS NULL", (iso(now), code))
        return True

    async def set_consent(self, pseudonym: str, consent: Consent, agree: bool,
                          now: datetime) -> None:
        """Record one decision on one scope: a row of its own, yes or no, with the text's
        version and digest; an earlier yes to the same scope is marked withdrawn."""
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE consents SET withdrawn_at = ? WHERE pseudonym = ? AND scope = ?"
                " AND withdrawn_at IS NULL AND answer = 'yes'",
                (iso(now), pseudonym, consent.scope))
            await conn.run(
                "INSERT INTO consents (pseudonym, scope, text_version, text_sha256,"
                " language, agreed_at, answer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (pseudonym, consent.scope, consent.text_version, consent.text_sha256,
                 consent.language, iso(now), "yes" if agree else "no"))

    async def has_consent(self, pseudonym: str, scope: str) -> bool:
        return stands(await self.consents_of(pseudonym), scope)

    async def consents_of(self, pseudonym: str) -> list[ConsentRecord]:
        rows = await self.db.all(
            "SELECT scope, text_version, answer, withdrawn_at FROM consents"
            " WHERE pseudonym = ? ORDER BY id", (pseudonym,))
        return [ConsentRecord(r[0], r[1], r[2] == "yes", r[3] is not None) for r in rows]

    async def codes_with_consent(self, scope: str) -> frozenset[str]:
        agreed = await standing(self.db, scope)
        return frozenset(r[0] for r in await self.db.all(
            "SELECT code, pseudonym FROM youths WHERE pseudonym IS NOT NULL") if r[1] in agreed)

    async def consent_request_due(self, youth_code: str, version: str,
                                  now: datetime) -> bool:
        """True when the question about this text still has to reach the youth."""
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO consent_requests (youth_code, version, asked_at)"
                " VALUES (?, ?, ?) ON CONFLICT DO NOTHING", (youth_code, version, iso(now)))
            row = await conn.one(
                "SELECT sent_at FROM consent_requests WHERE youth_code = ? AND version = ?",
                (youth_code, version))
        return row is not None and row[0] is None

    async def consent_request_sent(self, youth_code: str, version: str,
                                   now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE consent_requests SET sent_at = ? WHERE youth_code = ? AND version = ?",
                (iso(now), youth_code, version))

    async def export_rows(self, research_only: bool) -> list[ExportRow]:
        # Answers have no id column (keyed by check-in and item): within a check-in they
        # come in item order, the same on every backend.
        rows = await self.db.all(
            "SELECT y.code, y.pseudonym, c.created_at, c.status, a.item, a.value,"
            " c.simple_mode, a.questionnaire_version FROM answers a"
            " JOIN checkins c ON c.id = a.checkin_id"
            " JOIN youths y ON y.pseudonym = c.youth_pseudonym"
            " WHERE a.item != 'note'"
            " ORDER BY y.code, c.created_at, c.id, a.item")
        research = await standing(self.db, "research") if research_only else None
        return [ExportRow(r[0], r[1], parse_iso(r[2]), r[3], r[4], r[5], bool(r[6]), r[7])
                for r in rows if research is None or r[1] in research]

    async def guardian_research_consent(self, code: str) -> date | None:
        row = await self.db.one(
            "SELECT guardian_research_consent_date FROM youths WHERE code = ?", (code,))
        return date.fromisoformat(row[0]) if row and row[0] else None

    async def set_guardian_research_consent(self, code: str, when: date) -> bool:
        """Record the date the guardian's research consent was filed; False if unknown."""
        async with self.db.write() as conn:
            return await conn.run(
                "UPDATE youths SET guardian_research_consent_date = ? WHERE code = ?"
                " AND code NOT IN (SELECT youth_code FROM erasures)",
                (when.isoformat(), code)) > 0

    async def _rows(self, sql: str, params: tuple[str, ...]) -> list[Record]:
        return [{name: _text(r[name]) for name in r.keys()}  # noqa: SIM118 - a Row iterates values
                for r in await self.db.all(sql, params)]

    async def subject_records(self, code: str, pseudonym: str) -> SubjectRecords:
        """Everything about the youth beyond check-ins and consents (see SubjectRecords)."""
        profile = await self._rows(
            "SELECT therapist_code AS therapist, birth_year, unit, language, simple_mode,"
            " guardian_consent_date, guardian_research_consent_date, paused,"
            " created_at AS enrolled_at FROM youths WHERE code = ?", (code,))
        return SubjectRecords(
            profile=profile[0] if profile else {},
            crisis_texts=await self._rows(
                "SELECT created_at, text_enc, phrases, alerted_at FROM crisis_flags"
                " WHERE youth_pseudonym = ? ORDER BY id", (pseudonym,)),
            ratings=await self._rows(
                "SELECT occurrence_key AS session, therapist_code AS therapist, item, value,"
                " rated_at FROM therapist_ratings WHERE youth_code = ?"
                " ORDER BY rated_at, item", (code,)),
            alerts=await self._rows(
                "SELECT kind, created_at, therapist_code AS therapist, detail, reason,"
                " unit_code AS unit, acked_at, acked_by FROM alerts WHERE youth_code = ?"
                " ORDER BY id", (code,)),
            schedule=await self._rows(
                "SELECT s.discipline, s.weekdays, s.start_time, s.duration_minutes,"
                " s.timezone, s.first_date, s.last_date, s.paused,"
                " s.therapist_code AS therapist FROM series s"
                " JOIN series_youths sy ON sy.series_id = s.id WHERE sy.youth_code = ?"
                " ORDER BY s.id", (code,)),
            phone_windows=await self._rows(
                "SELECT w.scope, w.scope_code, w.weekdays, w.start_time, w.end_time"
                " FROM phone_windows w WHERE (w.scope = 'youth' AND w.scope_code = ?)"
                " OR (w.scope = 'unit' AND w.scope_code = (SELECT unit FROM youths"
                " WHERE code = ?)) ORDER BY w.scope DESC, w.id", (code, code)))

    async def is_erased(self, code: str) -> bool:
        return await self.db.one("SELECT 1 FROM erasures WHERE youth_code = ?",
                                 (code,)) is not None


def _text(value: object) -> str | int | None:
    """A BLOB as its text (the sealed columns hold ASCII tokens); anything else as is."""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode()
    return cast(str | int | None, value)
