"""Invite redemption and contacts, shared by the youth and therapist bindings."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.ports import BindOutcome
from storage.timefmt import iso, parse_iso


async def redeem_invite(conn: aiosqlite.Connection, token_digest: str, role: str,
                        now: datetime) -> BindOutcome | str:
    """Inside a write transaction: mark a valid invite used and return its subject code,
    or the reason it cannot be used (nothing is changed then)."""
    async with conn.execute(
        "SELECT subject_code, expires_at, used_at FROM invites"
        " WHERE token_digest = ? AND role = ?", (token_digest, role)
    ) as cur:
        invite = await cur.fetchone()
    if invite is None:
        return BindOutcome.UNKNOWN
    if invite["used_at"] is not None:
        return BindOutcome.USED
    if parse_iso(invite["expires_at"]) <= now:
        return BindOutcome.EXPIRED
    await conn.execute("UPDATE invites SET used_at = ? WHERE token_digest = ?",
                       (iso(now), token_digest))
    return str(invite["subject_code"])


async def store_contact(conn: aiosqlite.Connection, pseudonym: str, chat_id_enc: bytes) -> None:
    await conn.execute(
        "INSERT INTO contacts (pseudonym, chat_id_enc) VALUES (?, ?)"
        " ON CONFLICT (pseudonym) DO UPDATE SET chat_id_enc = excluded.chat_id_enc",
        (pseudonym, chat_id_enc))
