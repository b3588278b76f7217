"""The twin's enrolment: therapists, youths, invites and binding (storage.ports.EnrolmentRepo).

Mirrors storage/sqlite.py's enrolment section: one live account per code, an invite
revokes the code's other open invites, binding is all or nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.questionnaire import Language
from core.records import AlreadyExists, BindOutcome, Consent, Invite, NewYouth, Therapist, Youth
from storage.memory.rows import opt_time, youth_from_row
from storage.memory.tables import MemoryBase, Record, Tables
from storage.timefmt import iso, parse_iso

_TABLES = {"youth": "youths", "therapist": "therapists", "unit": "units"}


def revoke_open_invites(tables: Tables, role: str, code: str, now: datetime,
                        keep: str = "") -> int:
    """Close every open invite for this code (except `keep`); return how many."""
    return tables.update("invites", {"used_at": iso(now)},
                         lambda r: r["used_at"] is None and r["token_digest"] != keep,
                         role=role, subject_code=code)


def live_pseudonym(tables: Tables, role: str, code: str) -> str | None:
    """The pseudonym of the account linked to this code, if one is linked and reachable."""
    row = tables.first(_TABLES[role], code=code)
    if row is None or row.get("pseudonym") is None:
        return None
    return str(row["pseudonym"]) if tables.first(
        "contacts", pseudonym=row["pseudonym"]) is not None else None


def redeem_invite(tables: Tables, token_digest: str, role: str,
                  now: datetime) -> BindOutcome | str:
    """Mark a valid invite used, revoke the code's other open invites and return its
    subject code, or the reason it cannot be used (nothing changed then)."""
    invite = tables.first("invites", token_digest=token_digest, role=role)
    if invite is None:
        return BindOutcome.UNKNOWN
    if invite["used_at"] is not None:
        return BindOutcome.USED
    if parse_iso(invite["expires_at"]) <= now:
        return BindOutcome.EXPIRED
    code = str(invite["subject_code"])
    if live_pseudonym(tables, role, code) is not None:
        return BindOutcome.TAKEN
    invite["used_at"] = iso(now)
    revoke_open_invites(tables, role, code, now, keep=token_digest)
    return code


def drop_contact_if_orphaned(tables: Tables, pseudonym: str | None) -> None:
    """Delete a contact row no youth, therapist or unit refers to any more."""
    if pseudonym is None:
        return
    if any(tables.first(t, pseudonym=pseudonym) is not None
           for t in ("youths", "therapists", "units")):
        return
    tables.delete("contacts", pseudonym=pseudonym)


def store_contact(tables: Tables, pseudonym: str, chat_id_enc: bytes) -> None:
    """Insert the contact, or replace its sealed chat id (an upsert: no insert trigger)."""
    if tables.update("contacts", {"chat_id_enc": chat_id_enc}, pseudonym=pseudonym) == 0:
        tables.insert("contacts", {"pseudonym": pseudonym, "chat_id_enc": chat_id_enc})


class MemoryEnrolmentRepository(MemoryBase):
    async def add_therapist(self, therapist: Therapist, now: datetime) -> None:
        row: Record = {"code": therapist.code, "language": therapist.language,
                       "pseudonym": None, "created_at": iso(now)}
        if self.tables.conflict("therapists", row) is not None:
            raise AlreadyExists(f"therapist {therapist.code} exists already")
        self.tables.insert("therapists", row)

    async def therapist(self, code: str) -> Therapist | None:
        row = self.tables.first("therapists", code=code)
        return Therapist(row["code"], cast(Language, row["language"])) if row else None

    async def add_youth(self, youth: NewYouth, now: datetime) -> None:
        consent = youth.guardian_consent_date
        row: Record = {
            "code": youth.code, "therapist_code": youth.therapist_code,
            "birth_year": youth.birth_year, "language": youth.language,
            "simple_mode": int(youth.simple_mode),
            "guardian_consent_date": consent.isoformat() if consent else None,
            "pseudonym": None, "paused": 0, "created_at": iso(now), "unit": None,
            "unreachable_at": None, "guardian_research_consent_date": None}
        # The foreign key to therapists holds in SQL: a youth of no therapist is refused.
        if (self.tables.conflict("youths", row) is not None
                or self.tables.first("therapists", code=youth.therapist_code) is None):
            raise AlreadyExists(f"youth {youth.code} exists already")
        self.tables.insert("youths", row)

    async def youth_by_code(self, code: str) -> Youth | None:
        row = self.tables.first("youths", code=code)
        return youth_from_row(row) if row else None

    async def youth_by_pseudonym(self, pseudonym: str) -> Youth | None:
        row = self.tables.first("youths", pseudonym=pseudonym)
        return youth_from_row(row) if row else None

    async def add_invite(
        self, token_digest: str, role: str, subject_code: str, now: datetime, expires: datetime
    ) -> int:
        """Store a new invite and revoke the code's other open ones; return how many."""
        revoked = revoke_open_invites(self.tables, role, subject_code, now)
        self.tables.insert("invites", {
            "token_digest": token_digest, "role": role, "subject_code": subject_code,
            "created_at": iso(now), "expires_at": iso(expires), "used_at": None})
        return revoked

    async def invite(self, token_digest: str) -> Invite | None:
        row = self.tables.first("invites", token_digest=token_digest)
        if row is None:
            return None
        return Invite(row["token_digest"], row["role"], row["subject_code"],
                      parse_iso(row["expires_at"]), opt_time(row["used_at"]))

    async def bind_youth(
        self, token_digest: str, pseudonym: str, chat_id_enc: bytes, consent: Consent,
        now: datetime,
    ) -> BindOutcome:
        """Redeem the invite, bind the account, store contact and consent: all or nothing."""
        t = self.tables
        if t.first("youths", pseudonym=pseudonym) is not None:
            return BindOutcome.ALREADY_BOUND
        code = redeem_invite(t, token_digest, "youth", now)
        if isinstance(code, BindOutcome):
            return code
        youth = t.first("youths", code=code)
        before = youth.get("pseudonym") if youth is not None else None
        t.update("youths", {"pseudonym": pseudonym, "paused": 0}, code=code)
        if before is not None:
            # After an unbind the youth's earlier decisions follow them to the new account.
            t.update("consents", {"pseudonym": pseudonym}, pseudonym=before)
        store_contact(t, pseudonym, chat_id_enc)
        drop_contact_if_orphaned(t, before)
        t.insert("consents", {
            "pseudonym": pseudonym, "scope": consent.scope,
            "text_version": consent.text_version, "text_sha256": consent.text_sha256,
            "language": consent.language, "agreed_at": iso(now), "withdrawn_at": None,
            "answer": "yes"})
        return BindOutcome.BOUND

    async def set_paused(self, pseudonym: str, paused: bool) -> bool:
        return self.tables.update("youths", {"paused": int(paused)},
                                  lambda r: r["paused"] != int(paused),
                                  pseudonym=pseudonym) == 1

    async def contact(self, pseudonym: str) -> bytes | None:
        row = self.tables.first("contacts", pseudonym=pseudonym)
        return bytes(row["chat_id_enc"]) if row else None
