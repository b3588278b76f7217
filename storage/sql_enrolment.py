"""The enrolment port on storage.sql: therapists, youths, invites, binding, contacts."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.questionnaire import Language
from core.records import (
    AlreadyExists,
    BindOutcome,
    Consent,
    Invite,
    NewYouth,
    Therapist,
    Youth,
)
from storage.sql import IntegrityViolation
from storage.sql_base import SqlQueries, youth_from_row
from storage.sql_invites import (
    drop_contact_if_orphaned,
    redeem_invite,
    revoke_open_invites,
    store_contact,
)
from storage.timefmt import iso, parse_iso


class EnrolmentRepository(SqlQueries):

    async def add_therapist(self, therapist: Therapist, now: datetime) -> None:
        try:
            async with self.db.write() as conn:
                await conn.run(
                    "INSERT INTO therapists (code, language, created_at) VALUES (?, ?, ?)",
                    (therapist.code, therapist.language, iso(now)),
                )
        except IntegrityViolation as exc:
            raise AlreadyExists(f"therapist {therapist.code} exists already") from exc

    async def therapist(self, code: str) -> Therapist | None:
        row = await self._one("SELECT code, language FROM therapists WHERE code = ?", (code,))
        return Therapist(row["code"], cast(Language, row["language"])) if row else None

    async def add_youth(self, youth: NewYouth, now: datetime) -> None:
        consent = youth.guardian_consent_date
        try:
            async with self.db.write() as conn:
                await conn.run(
                    "INSERT INTO youths (code, therapist_code, birth_year, language,"
                    " simple_mode, guardian_consent_date, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (youth.code, youth.therapist_code, youth.birth_year, youth.language,
                     int(youth.simple_mode), consent.isoformat() if consent else None,
                     iso(now)),
                )
        except IntegrityViolation as exc:
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
            await conn.run(
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
            if await conn.one("SELECT code FROM youths WHERE pseudonym = ?",
                              (pseudonym,)) is not None:
                return BindOutcome.ALREADY_BOUND
            code = await redeem_invite(conn, token_digest, "youth", now)
            if isinstance(code, BindOutcome):
                return code
            before = await conn.one("SELECT pseudonym FROM youths WHERE code = ?", (code,))
            await conn.run(
                "UPDATE youths SET pseudonym = ?, paused = 0 WHERE code = ?", (pseudonym, code)
            )
            if before is not None and before[0] is not None:
                # After an unbind the youth's earlier decisions follow them to the new account.
                await conn.run("UPDATE consents SET pseudonym = ? WHERE pseudonym = ?",
                                   (pseudonym, before[0]))
            await store_contact(conn, pseudonym, chat_id_enc)
            if before is not None:
                await drop_contact_if_orphaned(conn, before[0])
            await conn.run(
                "INSERT INTO consents (pseudonym, scope, text_version, text_sha256, language,"
                " agreed_at) VALUES (?, ?, ?, ?, ?, ?)",
                (pseudonym, consent.scope, consent.text_version, consent.text_sha256,
                 consent.language, iso(now)),
            )
        return BindOutcome.BOUND

    async def set_paused(self, pseudonym: str, paused: bool) -> bool:
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE youths SET paused = ? WHERE pseudonym = ? AND paused != ?",
                (int(paused), pseudonym, int(paused)),
            )
            return changed == 1

    async def contact(self, pseudonym: str) -> bytes | None:
        row = await self._one("SELECT chat_id_enc FROM contacts WHERE pseudonym = ?",
                              (pseudonym,))
        return bytes(row["chat_id_enc"]) if row else None

