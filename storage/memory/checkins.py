"""The twin's check-ins, answers, prompts and notes (storage.ports.CheckinRepo).

Mirrors storage/sqlite.py's check-in section: one check-in per youth and occurrence, an
answer advances only the step it was asked on, a late or second tap changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.flow import Status, expired
from core.questionnaire import Language
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
from storage.memory.rows import answers_of, checkin_from_row, checkin_live, insert_alert
from storage.memory.tables import MemoryBase, Record
from storage.timefmt import iso, parse_iso


class MemoryCheckinRepository(MemoryBase):
    async def create_checkin(self, new: NewCheckin) -> Checkin:
        """Create the check-in and its first (unsent) prompt row in one step."""
        row: Record = {
            "ref": new.ref, "youth_pseudonym": new.youth_pseudonym,
            "occurrence_key": new.occurrence_key, "discipline": new.discipline,
            "questionnaire_version": new.questionnaire_version,
            "simple_mode": int(new.simple_mode), "status": "open", "prompted_step": 0,
            "created_at": iso(new.created_at), "expires_at": iso(new.expires_at),
            "first_tap_at": None, "completed_at": None,
            "session_end": iso(new.session_end) if new.session_end else None}
        # The foreign key: a check-in belongs to an enrolled youth's pseudonym.
        if (self.tables.conflict("checkins", row) is not None
                or self.tables.first("youths", pseudonym=new.youth_pseudonym) is None):
            raise AlreadyExists(f"check-in for occurrence {new.occurrence_key} exists")
        checkin_id = self.tables.insert("checkins", row)
        self.tables.insert("prompts", {"checkin_id": checkin_id, "step": 0, "message_id": None,
                                       "created_at": iso(new.created_at), "sent_at": None})
        return checkin_from_row(self.tables, self.tables.rows["checkins"][checkin_id])

    async def checkin_by_ref(self, ref: str) -> Checkin | None:
        row = self.tables.first("checkins", ref=ref)
        return checkin_from_row(self.tables, row) if row else None

    async def checkin_for_occurrence(
        self, youth_pseudonym: str, occurrence_key: str
    ) -> Checkin | None:
        row = self.tables.first("checkins", youth_pseudonym=youth_pseudonym,
                                occurrence_key=occurrence_key)
        return checkin_from_row(self.tables, row) if row else None

    async def checkins_of(self, youth_pseudonym: str) -> list[CheckinRecord]:
        rows = sorted(self.tables.scan("checkins", youth_pseudonym=youth_pseudonym),
                      key=lambda r: r["created_at"])
        out = []
        for r in rows:
            note = self.tables.first("notes", checkin_id=r["id"])
            out.append(CheckinRecord(
                parse_iso(r["created_at"]), r["status"], answers_of(self.tables, r["id"]),
                bytes(note["text_enc"]) if note is not None else None,
                r["questionnaire_version"], bool(r["simple_mode"])))
        return out

    async def open_checkin(self, youth_pseudonym: str, now: datetime) -> Checkin | None:
        rows = sorted(self.tables.scan("checkins", youth_pseudonym=youth_pseudonym,
                                       status="open"),
                      key=lambda r: r["created_at"], reverse=True)
        row = next((r for r in rows if checkin_live(r, now)), None)
        return checkin_from_row(self.tables, row) if row else None

    async def record_answer(self, write: AnswerWrite, now: datetime) -> AnswerResult:
        """Store one answer; advance and complete only if nobody else did so first."""
        t = self.tables
        stamp = iso(now)
        row = t.rows["checkins"].get(write.checkin_id)
        if row is None or not checkin_live(row, now):
            return AnswerResult(stored=False, advanced=False, completed=False)
        answer = t.first("answers", checkin_id=write.checkin_id, item=write.item)
        if answer is None:
            t.insert("answers", {"checkin_id": write.checkin_id, "item": write.item,
                                 "value": write.value,
                                 "questionnaire_version": write.questionnaire_version,
                                 "answered_at": stamp, "changes": 0})
        elif answer["value"] != write.value:
            answer.update(value=write.value, answered_at=stamp, changes=answer["changes"] + 1)
        if row["first_tap_at"] is None:
            row["first_tap_at"] = stamp
        advanced = completed = False
        if write.advance and row["prompted_step"] == write.step_index:
            if write.completes:
                row.update(status="complete", completed_at=stamp)
                completed = True
            else:
                row["prompted_step"] = write.step_index + 1
                prompt: Record = {"checkin_id": write.checkin_id, "step": write.step_index + 1,
                                  "message_id": None, "created_at": stamp, "sent_at": None}
                if t.conflict("prompts", prompt) is None:
                    t.insert("prompts", prompt)
                advanced = True
        return AnswerResult(stored=True, advanced=advanced, completed=completed)

    async def prompt_sent(
        self, checkin_id: int, step: int, message_id: int, now: datetime
    ) -> None:
        self.tables.update("prompts", {"message_id": message_id, "sent_at": iso(now)},
                           checkin_id=checkin_id, step=step)

    async def prompt_message_id(self, checkin_id: int, step: int) -> int | None:
        row = self.tables.first("prompts", checkin_id=checkin_id, step=step)
        return int(row["message_id"]) if row and row["message_id"] is not None else None

    async def unsent_prompts(
        self, now: datetime, created_before: datetime
    ) -> list[UnsentPrompt]:
        """Prompts recorded but never confirmed sent, of open check-ins of active youths."""
        t = self.tables
        before = iso(created_before)
        found: list[tuple[str, UnsentPrompt]] = []
        for p in t.scan("prompts", lambda r: r["message_id"] is None
                        and r["created_at"] <= before):
            c = t.rows["checkins"].get(p["checkin_id"])
            if c is None or c["status"] != "open":
                continue
            y = t.first("youths", pseudonym=c["youth_pseudonym"])
            contact = t.first("contacts", pseudonym=c["youth_pseudonym"])
            if (y is None or contact is None or y["paused"] != 0
                    or y.get("unreachable_at") is not None or not checkin_live(c, now)):
                continue
            found.append((p["created_at"], UnsentPrompt(
                checkin_from_row(t, c), p["step"], cast(Language, y["language"]),
                bytes(contact["chat_id_enc"]))))
        found.sort(key=lambda pair: pair[0])
        return [prompt for _, prompt in found]

    async def store_note(
        self, checkin_id: int, step_index: int, text_enc: bytes, now: datetime
    ) -> bool:
        """Store the free-text note and complete the check-in; False if it was not open."""
        stamp = iso(now)
        row = self.tables.rows["checkins"].get(checkin_id)
        if row is None or not checkin_live(row, now) or row["prompted_step"] != step_index:
            return False
        if self.tables.first("notes", checkin_id=checkin_id) is not None:
            # notes.checkin_id is the primary key: the SQL insert fails and rolls back.
            raise AlreadyExists(f"a note for check-in {checkin_id} exists")
        row.update(status="complete", completed_at=stamp,
                   first_tap_at=row["first_tap_at"] or stamp)
        self.tables.insert("notes", {"checkin_id": checkin_id, "text_enc": text_enc,
                                     "created_at": stamp})
        return True

    async def add_crisis_flag(
        self, youth_pseudonym: str, checkin_id: int | None, phrases: list[str],
        text_enc: bytes, now: datetime, alert: NewAlert | None = None,
    ) -> None:
        """Store the flag and its urgent alert together; the phrases live only inside the
        encrypted text, the column keeps how many matched."""
        self.tables.insert("crisis_flags", {
            "youth_pseudonym": youth_pseudonym, "checkin_id": checkin_id,
            "phrases": str(len(phrases)), "text_enc": text_enc, "created_at": iso(now),
            "alerted_at": None})
        if alert is not None:
            insert_alert(self.tables, alert, now)

    async def expire_due(self, now: datetime) -> int:
        """Mark every open check-in past its expiry (core.flow.expired decides) expired."""
        return self.tables.update(
            "checkins", {"status": "expired"},
            lambda r: expired(Status.OPEN, parse_iso(r["expires_at"]), now), status="open")
