"""The check-ins port on storage.sql: a check-in, its prompts, answers and note."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.flow import Status, expired, live
from core.questionnaire import Discipline, Language
from core.records import (
    AlreadyExists,
    AnswerResult,
    AnswerWrite,
    Checkin,
    CheckinRecord,
    NewAlert,
    NewCheckin,
    UnsentPrompt,
)
from storage.sql import IntegrityViolation, Row
from storage.sql_base import SqlQueries
from storage.sql_therapist import insert_alert
from storage.timefmt import iso, parse_iso


def _checkin(row: Row, answers: dict[str, str]) -> Checkin:
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


def _live(row: Row, now: datetime) -> bool:
    """The check-in row still takes answers (core.flow.live decides)."""
    return live(Status(row["status"]), parse_iso(row["expires_at"]), now)



class CheckinRepository(SqlQueries):

    async def _answers(self, checkin_id: int) -> dict[str, str]:
        rows = await self._all("SELECT item, value FROM answers WHERE checkin_id = ?",
                               (checkin_id,))
        return {r["item"]: r["value"] for r in rows}

    async def create_checkin(self, new: NewCheckin) -> Checkin:
        """Create the check-in and its first (unsent) prompt row in one transaction."""
        try:
            async with self.db.write() as conn:
                row = await conn.one(
                    "INSERT INTO checkins (ref, youth_pseudonym, occurrence_key, discipline,"
                    " questionnaire_version, simple_mode, status, created_at, expires_at,"
                    " session_end) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?) RETURNING id",
                    (new.ref, new.youth_pseudonym, new.occurrence_key, new.discipline,
                     new.questionnaire_version, int(new.simple_mode), iso(new.created_at),
                     iso(new.expires_at), iso(new.session_end) if new.session_end else None),
                )
                assert row is not None
                checkin_id = int(row["id"])
                await conn.run(
                    "INSERT INTO prompts (checkin_id, step, created_at) VALUES (?, 0, ?)",
                    (checkin_id, iso(new.created_at)),
                )
        except IntegrityViolation as exc:
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
            " ORDER BY c.created_at, c.id", (youth_pseudonym,))
        return [CheckinRecord(parse_iso(r["created_at"]), r["status"],
                              await self._answers(r["id"]),
                              bytes(r["text_enc"]) if r["text_enc"] is not None else None,
                              r["questionnaire_version"], bool(r["simple_mode"]))
                for r in rows]

    async def open_checkin(self, youth_pseudonym: str, now: datetime) -> Checkin | None:
        rows = await self._all(
            "SELECT * FROM checkins WHERE youth_pseudonym = ? AND status = 'open'"
            " ORDER BY created_at DESC, id DESC", (youth_pseudonym,))
        row = next((r for r in rows if _live(r, now)), None)
        return _checkin(row, await self._answers(row["id"])) if row else None

    async def record_answer(self, write: AnswerWrite, now: datetime) -> AnswerResult:
        """Store one answer; advance and complete only if nobody else did so first."""
        stamp = iso(now)
        async with self.db.write() as conn:
            row = await conn.one(
                "SELECT status, prompted_step, expires_at FROM checkins WHERE id = ?",
                (write.checkin_id,))
            if row is None or not _live(row, now):
                return AnswerResult(stored=False, advanced=False, completed=False)
            await conn.run(
                "INSERT INTO answers (checkin_id, item, value, questionnaire_version,"
                " answered_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (checkin_id, item) DO UPDATE SET value = excluded.value,"
                " answered_at = excluded.answered_at, changes = answers.changes + 1"
                " WHERE answers.value != excluded.value",
                (write.checkin_id, write.item, write.value, write.questionnaire_version, stamp),
            )
            moves = write.advance and row["prompted_step"] == write.step_index
            completed = moves and write.completes
            advanced = moves and not write.completes
            # One statement for the first tap's time and the step (one round trip less
            # per tap: when 200 youths tap at once, each waits behind the others' trips).
            await conn.run(
                "UPDATE checkins SET first_tap_at = coalesce(first_tap_at, ?),"
                " prompted_step = ?, status = ?, completed_at = coalesce(?, completed_at)"
                " WHERE id = ?",
                (stamp, write.step_index + 1 if advanced else row["prompted_step"],
                 "complete" if completed else row["status"], stamp if completed else None,
                 write.checkin_id),
            )
            if advanced:
                await conn.run(
                    "INSERT INTO prompts (checkin_id, step, created_at)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (write.checkin_id, write.step_index + 1, stamp),
                )
        return AnswerResult(stored=True, advanced=advanced, completed=completed)

    async def prompt_sent(
        self, checkin_id: int, step: int, message_id: int, now: datetime
    ) -> None:
        async with self.db.write() as conn:
            await conn.run(
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
            " ORDER BY p.created_at, c.id, p.step",
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
            row = await conn.one(
                "SELECT status, prompted_step, expires_at FROM checkins WHERE id = ?",
                (checkin_id,))
            if row is None or not _live(row, now) or row["prompted_step"] != step_index:
                return False
            await conn.run(
                "UPDATE checkins SET status = 'complete', completed_at = ?,"
                " first_tap_at = COALESCE(first_tap_at, ?) WHERE id = ?",
                (stamp, stamp, checkin_id),
            )
            await conn.run(
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
            await conn.run(
                "INSERT INTO crisis_flags (youth_pseudonym, checkin_id, phrases, text_enc,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (youth_pseudonym, checkin_id, str(len(phrases)), text_enc, iso(now)),
            )
            if alert is not None:
                await insert_alert(conn, alert, now)

    async def expire_due(self, now: datetime) -> int:
        """Mark every open check-in past its expiry (core.flow.expired decides) expired."""
        async with self.db.write() as conn:
            due = [(r["id"],) for r in await conn.all(
                "SELECT id, expires_at FROM checkins WHERE status = 'open'")
                if expired(Status.OPEN, parse_iso(r["expires_at"]), now)]
            await conn.run_many(
                "UPDATE checkins SET status = 'expired' WHERE id = ? AND status = 'open'", due)
            return len(due)
