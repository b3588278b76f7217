"""The SQLite implementation of the repository ports."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import cast

import aiosqlite

from core.flow import Status, expired, live
from core.questionnaire import Discipline, Language
from core.records import (
    AlreadyExists,
    AnswerResult,
    AnswerWrite,
    BindOutcome,
    Checkin,
    CheckinRecord,
    Consent,
    Invite,
    NewAlert,
    NewCheckin,
    NewYouth,
    Therapist,
    UnsentPrompt,
    Youth,
)
from storage.audit_anchor import AuditAnchor
from storage.database import Database, Migration
from storage.owners import process_owner
from storage.sql_cluster import SqlClusterMixin, SqliteBridge
from storage.sqlite_accounts import SqliteAccountsMixin
from storage.sqlite_base import SqliteQueries, youth_from_row
from storage.sqlite_buttons import SqliteButtonsMixin
from storage.sqlite_console import SqliteConsoleMixin
from storage.sqlite_crisis import SqliteCrisisMixin
from storage.sqlite_invites import (
    drop_contact_if_orphaned,
    redeem_invite,
    revoke_open_invites,
    store_contact,
)
from storage.sqlite_kiosk import SqliteKioskMixin
from storage.sqlite_loop import SqliteLoopMixin
from storage.sqlite_pages import SqlitePagesMixin
from storage.sqlite_privacy import SqlitePrivacyMixin
from storage.sqlite_retention import SqliteRetentionMixin
from storage.sqlite_schedule import SqliteScheduleMixin
from storage.sqlite_sealed import SqliteSealedMixin
from storage.sqlite_sessions import SqliteSessionsMixin
from storage.sqlite_therapist import SqliteTherapistMixin, insert_alert
from storage.timefmt import iso, parse_iso


def _checkin(row: aiosqlite.Row, answers: dict[str, str]) -> Checkin:
    completed = row["completed_at"]
    return Checkin(
        ref=row["ref"],
        youth_pseudonym=row["youth_pseudonym"],
        occurrence_key=row["occurrence_key"],
        discipline=cast(Discipline | None, row["discipline"]),
        questionnaire_version=row["questionnaire_version"],
        simple_mode=bool(row["simple_mode"]),
        created_at=parse_iso(row["created_at"]),
        expires_at=parse_iso(row["expires_at"]),
        session_end=parse_iso(row["session_end"]) if row["session_end"] else None,
        id=row["id"],
        status=Status(row["status"]),
        prompted_step=row["prompted_step"],
        completed_at=parse_iso(completed) if completed else None,
        answers=answers,
    )


def _live(row: aiosqlite.Row, now: datetime) -> bool:
    """The check-in row still takes answers (core.flow.live decides)."""
    return live(Status(row["status"]), parse_iso(row["expires_at"]), now)


class SqliteStore(SqliteScheduleMixin, SqliteSessionsMixin, SqliteTherapistMixin,
                  SqlitePrivacyMixin, SqliteRetentionMixin, SqliteButtonsMixin,
                  SqliteCrisisMixin, SqliteAccountsMixin, SqliteSealedMixin, SqliteLoopMixin,
                  SqliteConsoleMixin, SqlitePagesMixin, SqliteKioskMixin, SqlClusterMixin,
                  SqliteQueries):
    """Implements storage.ports.Store on one SQLite file."""

    def __init__(self, db: Database, audit_anchor: AuditAnchor | None = None) -> None:
        self.db = db
        self.owner = process_owner()  # owns the rows it claims
        self.audit_anchor = audit_anchor  # the audit trail's head, outside the database
        self.cluster_db = SqliteBridge(db)  # storage.sql.Database for storage/sql_cluster.py

    @classmethod
    async def open(
        cls, path: Path, migrations: Sequence[Migration] | None = None,
        audit_anchor: AuditAnchor | None = None,
    ) -> SqliteStore:
        return cls(await Database.open(path, migrations), audit_anchor)

    async def close(self) -> None:
        await self.db.close()

    async def backup(self, target: Path) -> None:
        await self.db.backup(target)

    # -- enrolment ---------------------------------------------------------------------

    async def add_therapist(self, therapist: Therapist, now: datetime) -> None:
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    "INSERT INTO therapists (code, language, created_at) VALUES (?, ?, ?)",
                    (therapist.code, therapist.language, iso(now)),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"therapist {therapist.code} exists already") from exc

    async def therapist(self, code: str) -> Therapist | None:
        row = await self._one("SELECT code, language FROM therapists WHERE code = ?", (code,))
        return Therapist(row["code"], cast(Language, row["language"])) if row else None

    async def add_youth(self, youth: NewYouth, now: datetime) -> None:
        consent = youth.guardian_consent_date
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    "INSERT INTO youths (code, therapist_code, birth_year, language,"
                    " simple_mode, guardian_consent_date, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (youth.code, youth.therapist_code, youth.birth_year, youth.language,
                     int(youth.simple_mode), consent.isoformat() if consent else None,
                     iso(now)),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"youth {youth.code} exists already") from exc

    async def youth_by_code(self, code: str) -> Youth | None:
        row = await self._one("SELECT * FROM youths WHERE code = ?", (code,))
        return youth_from_row(row) if row else None

    async def youth_by_pseudonym(self, pseudonym: str) -> Youth | None:
        row = await self._one("SELECT * FROM youths WHERE pseudonym = ?", (pseudonym,))
        return youth_from_row(row) if row else None

    async def add_invite(
        self, token_digest: str, role: str, subject_code: str, now: datetime, expires: datetime
    ) -> int:
        """Store a new invite and revoke the code's other open ones; return how many."""
        async with self.db.write() as conn:
            revoked = await revoke_open_invites(conn, role, subject_code, now)
            await conn.execute(
                "INSERT INTO invites (token_digest, role, subject_code, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (token_digest, role, subject_code, iso(now), iso(expires)),
            )
        return revoked

    async def invite(self, token_digest: str) -> Invite | None:
        row = await self._one("SELECT * FROM invites WHERE token_digest = ?", (token_digest,))
        if row is None:
            return None
        used = row["used_at"]
        return Invite(row["token_digest"], row["role"], row["subject_code"],
                      parse_iso(row["expires_at"]), parse_iso(used) if used else None)

    async def bind_youth(
        self, token_digest: str, pseudonym: str, chat_id_enc: bytes, consent: Consent,
        now: datetime,
    ) -> BindOutcome:
        """Redeem the invite, bind the account, store contact and consent: all or nothing."""
        async with self.db.write() as conn:
            async with conn.execute(
                "SELECT code FROM youths WHERE pseudonym = ?", (pseudonym,)
            ) as cur:
                if await cur.fetchone() is not None:
                    return BindOutcome.ALREADY_BOUND
            code = await redeem_invite(conn, token_digest, "youth", now)
            if isinstance(code, BindOutcome):
                return code
            async with conn.execute("SELECT pseudonym FROM youths WHERE code = ?",
                                    (code,)) as cur:
                before = await cur.fetchone()
            await conn.execute(
                "UPDATE youths SET pseudonym = ?, paused = 0 WHERE code = ?", (pseudonym, code)
            )
            if before is not None and before[0] is not None:
                # After an unbind the youth's earlier decisions follow them to the new account.
                await conn.execute("UPDATE consents SET pseudonym = ? WHERE pseudonym = ?",
                                   (pseudonym, before[0]))
            await store_contact(conn, pseudonym, chat_id_enc)
            if before is not None:
                await drop_contact_if_orphaned(conn, before[0])
            await conn.execute(
                "INSERT INTO consents (pseudonym, scope, text_version, text_sha256, language,"
                " agreed_at) VALUES (?, ?, ?, ?, ?, ?)",
                (pseudonym, consent.scope, consent.text_version, consent.text_sha256,
                 consent.language, iso(now)),
            )
        return BindOutcome.BOUND

    async def set_paused(self, pseudonym: str, paused: bool) -> bool:
        async with self.db.write() as conn:
            cur = await conn.execute(
                "UPDATE youths SET paused = ? WHERE pseudonym = ? AND paused != ?",
                (int(paused), pseudonym, int(paused)),
            )
            return cur.rowcount == 1

    async def contact(self, pseudonym: str) -> bytes | None:
        row = await self._one("SELECT chat_id_enc FROM contacts WHERE pseudonym = ?",
                              (pseudonym,))
        return bytes(row["chat_id_enc"]) if row else None

    # -- check-ins ---------------------------------------------------------------------

    async def _answers(self, checkin_id: int) -> dict[str, str]:
        rows = await self._all("SELECT item, value FROM answers WHERE checkin_id = ?",
                               (checkin_id,))
        return {r["item"]: r["value"] for r in rows}

    async def create_checkin(self, new: NewCheckin) -> Checkin:
        """Create the check-in and its first (unsent) prompt row in one transaction."""
        try:
            async with self.db.write() as conn:
                cur = await conn.execute(
                    "INSERT INTO checkins (ref, youth_pseudonym, occurrence_key, discipline,"
                    " questionnaire_version, simple_mode, status, created_at, expires_at,"
                    " session_end) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                    (new.ref, new.youth_pseudonym, new.occurrence_key, new.discipline,
                     new.questionnaire_version, int(new.simple_mode), iso(new.created_at),
                     iso(new.expires_at), iso(new.session_end) if new.session_end else None),
                )
                checkin_id = cast(int, cur.lastrowid)
                await conn.execute(
                    "INSERT INTO prompts (checkin_id, step, created_at) VALUES (?, 0, ?)",
                    (checkin_id, iso(new.created_at)),
                )
        except sqlite3.IntegrityError as exc:
            raise AlreadyExists(f"check-in for occurrence {new.occurrence_key} exists") from exc
        found = await self.checkin_by_ref(new.ref)
        assert found is not None
        return found

    async def checkin_by_ref(self, ref: str) -> Checkin | None:
        row = await self._one("SELECT * FROM checkins WHERE ref = ?", (ref,))
        return _checkin(row, await self._answers(row["id"])) if row else None

    async def checkin_for_occurrence(
        self, youth_pseudonym: str, occurrence_key: str
    ) -> Checkin | None:
        row = await self._one(
            "SELECT * FROM checkins WHERE youth_pseudonym = ? AND occurrence_key = ?",
            (youth_pseudonym, occurrence_key))
        return _checkin(row, await self._answers(row["id"])) if row else None

    async def checkins_of(self, youth_pseudonym: str) -> list[CheckinRecord]:
        rows = await self._all(
            "SELECT c.id, c.created_at, c.status, n.text_enc, c.questionnaire_version,"
            " c.simple_mode FROM checkins c"
            " LEFT JOIN notes n ON n.checkin_id = c.id WHERE c.youth_pseudonym = ?"
            " ORDER BY c.created_at", (youth_pseudonym,))
        return [CheckinRecord(parse_iso(r["created_at"]), r["status"],
                              await self._answers(r["id"]),
                              bytes(r["text_enc"]) if r["text_enc"] is not None else None,
                              r["questionnaire_version"], bool(r["simple_mode"]))
                for r in rows]

    async def open_checkin(self, youth_pseudonym: str, now: datetime) -> Checkin | None:
        rows = await self._all(
            "SELECT * FROM checkins WHERE youth_pseudonym = ? AND status = 'open'"
            " ORDER BY created_at DESC", (youth_pseudonym,))
        row = next((r for r in rows if _live(r, now)), None)
        return _checkin(row, await self._answers(row["id"])) if row else None

    async def record_answer(self, write: AnswerWrite, now: datetime) -> AnswerResult:
        """Store one answer; advance and complete only if nobody else did so first."""
        stamp = iso(now)
        async with self.db.write() as conn:
            async with conn.execute(
                "SELECT status, prompted_step, expires_at FROM checkins WHERE id = ?",
                (write.checkin_id,),
            ) as cur:
                row = await cur.fetchone()
            if row is None or not _live(row, now):
                return AnswerResult(stored=False, advanced=False, completed=False)
            await conn.execute(
                "INSERT INTO answers (checkin_id, item, value, questionnaire_version,"
                " answered_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (checkin_id, item) DO UPDATE SET value = excluded.value,"
                " answered_at = excluded.answered_at, changes = changes + 1"
                " WHERE value != excluded.value",
                (write.checkin_id, write.item, write.value, write.questionnaire_version, stamp),
            )
            await conn.execute(
                "UPDATE checkins SET first_tap_at = ? WHERE id = ? AND first_tap_at IS NULL",
                (stamp, write.checkin_id),
            )
            advanced = completed = False
            if write.advance and row["prompted_step"] == write.step_index:
                if write.completes:
                    await conn.execute(
                        "UPDATE checkins SET status = 'complete', completed_at = ? WHERE id = ?",
                        (stamp, write.checkin_id),
                    )
                    completed = True
                else:
                    await conn.execute(
                        "UPDATE checkins SET prompted_step = ? WHERE id = ?",
                        (write.step_index + 1, write.checkin_id),
                    )
                    await conn.execute(
                        "INSERT OR IGNORE INTO prompts (checkin_id, step, created_at)"
                        " VALUES (?, ?, ?)",
                        (write.checkin_id, write.step_index + 1, stamp),
                    )
                    advanced = True
        return AnswerResult(stored=True, advanced=advanced, completed=completed)

    async def prompt_sent(
        self, checkin_id: int, step: int, message_id: int, now: datetime
    ) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                "UPDATE prompts SET message_id = ?, sent_at = ? WHERE checkin_id = ? AND step = ?",
                (message_id, iso(now), checkin_id, step),
            )

    async def prompt_message_id(self, checkin_id: int, step: int) -> int | None:
        row = await self._one(
            "SELECT message_id FROM prompts WHERE checkin_id = ? AND step = ?", (checkin_id, step)
        )
        return int(row["message_id"]) if row and row["message_id"] is not None else None

    async def unsent_prompts(
        self, now: datetime, created_before: datetime
    ) -> list[UnsentPrompt]:
        """Prompts recorded but never confirmed sent, of open check-ins of active youths."""
        rows = await self._all(
            "SELECT p.step, c.id AS checkin_id, y.language, ct.chat_id_enc FROM prompts p"
            " JOIN checkins c ON c.id = p.checkin_id"
            " JOIN youths y ON y.pseudonym = c.youth_pseudonym"
            " JOIN contacts ct ON ct.pseudonym = c.youth_pseudonym"
            " WHERE p.message_id IS NULL AND c.status = 'open'"
            " AND p.created_at <= ? AND y.paused = 0 AND y.unreachable_at IS NULL"
            " ORDER BY p.created_at",
            (iso(created_before),),
        )
        found: list[UnsentPrompt] = []
        for r in rows:
            row = await self._one("SELECT * FROM checkins WHERE id = ?", (r["checkin_id"],))
            assert row is not None
            if not _live(row, now):
                continue
            checkin = _checkin(row, await self._answers(row["id"]))
            found.append(UnsentPrompt(checkin, r["step"], cast(Language, r["language"]),
                                      bytes(r["chat_id_enc"])))
        return found

    async def store_note(
        self, checkin_id: int, step_index: int, text_enc: bytes, now: datetime
    ) -> bool:
        """Store the free-text note and complete the check-in; False if it was not open."""
        stamp = iso(now)
        async with self.db.write() as conn:
            async with conn.execute(
                "SELECT status, prompted_step, expires_at FROM checkins WHERE id = ?",
                (checkin_id,),
            ) as cur:
                row = await cur.fetchone()
            if row is None or not _live(row, now) or row["prompted_step"] != step_index:
                return False
            await conn.execute(
                "UPDATE checkins SET status = 'complete', completed_at = ?,"
                " first_tap_at = COALESCE(first_tap_at, ?) WHERE id = ?",
                (stamp, stamp, checkin_id),
            )
            await conn.execute(
                "INSERT INTO notes (checkin_id, text_enc, created_at) VALUES (?, ?, ?)",
                (checkin_id, text_enc, stamp),
            )
        return True

    async def add_crisis_flag(
        self, youth_pseudonym: str, checkin_id: int | None, phrases: list[str],
        text_enc: bytes, now: datetime, alert: NewAlert | None = None,
    ) -> None:
        """Store the flag and its urgent alert in one transaction: a crash loses neither.

        The phrases themselves live only inside the encrypted text; the column keeps
        how many matched."""
        async with self.db.write() as conn:
            await conn.execute(
                "INSERT INTO crisis_flags (youth_pseudonym, checkin_id, phrases, text_enc,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (youth_pseudonym, checkin_id, str(len(phrases)), text_enc, iso(now)),
            )
            if alert is not None:
                await insert_alert(conn, alert, now)

    async def expire_due(self, now: datetime) -> int:
        """Mark every open check-in past its expiry (core.flow.expired decides) expired."""
        async with self.db.write() as conn:
            async with conn.execute(
                    "SELECT id, expires_at FROM checkins WHERE status = 'open'") as cur:
                due = [(r["id"],) for r in await cur.fetchall()
                       if expired(Status.OPEN, parse_iso(r["expires_at"]), now)]
            await conn.executemany(
                "UPDATE checkins SET status = 'expired' WHERE id = ? AND status = 'open'", due)
            return len(due)
