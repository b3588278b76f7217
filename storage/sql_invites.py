"""Invite redemption and contacts, shared by the youth, therapist and unit bindings.

One code has at most one live account. An invite for a code that has one is refused
(the coordinator unbinds first), and issuing or redeeming an invite revokes every other
open invite for that code, so an old link can never take over an account later.
"""

from __future__ import annotations

from datetime import datetime

from core.records import BindOutcome
from storage.sql import Sql
from storage.timefmt import iso, parse_iso

_TABLES = {"youth": "youths", "therapist": "therapists", "unit": "units"}
UNBOUND_PREFIX = "unbound-"   # a placeholder pseudonym no Telegram id can hash to


async def revoke_open_invites(conn: Sql, role: str, code: str,
                              now: datetime, keep: str = "") -> int:
    """Close every open invite for this code (except `keep`); return how many."""
    return await conn.run(
        "UPDATE invites SET used_at = ? WHERE role = ? AND subject_code = ?"
        " AND used_at IS NULL AND token_digest != ?", (iso(now), role, code, keep))


async def live_pseudonym(conn: Sql, role: str, code: str) -> str | None:
    """The pseudonym of the account linked to this code, if one is linked and reachable."""
    row = await conn.one(
        f"SELECT t.pseudonym FROM {_TABLES[role]} t JOIN contacts c"  # noqa: S608 - fixed names
        " ON c.pseudonym = t.pseudonym WHERE t.code = ?", (code,))
    return str(row[0]) if row is not None else None


async def redeem_invite(conn: Sql, token_digest: str, role: str,
                        now: datetime) -> BindOutcome | str:
    """Inside a write transaction: mark a valid invite used, revoke the code's other open
    invites and return its subject code, or the reason it cannot be used (nothing is
    changed then). A code that already has a live account is refused with TAKEN."""
    invite = await conn.one(
        "SELECT subject_code, expires_at, used_at FROM invites"
        " WHERE token_digest = ? AND role = ?", (token_digest, role))
    if invite is None:
        return BindOutcome.UNKNOWN
    if invite["used_at"] is not None:
        return BindOutcome.USED
    if parse_iso(invite["expires_at"]) <= now:
        return BindOutcome.EXPIRED
    code = str(invite["subject_code"])
    if await live_pseudonym(conn, role, code) is not None:
        return BindOutcome.TAKEN
    await conn.run("UPDATE invites SET used_at = ? WHERE token_digest = ?",
                       (iso(now), token_digest))
    await revoke_open_invites(conn, role, code, now, keep=token_digest)
    return code


async def drop_contact_if_orphaned(conn: Sql, pseudonym: str | None) -> None:
    """Delete a contact row no youth, therapist or unit refers to any more."""
    if pseudonym is None:
        return
    await conn.run(
        "DELETE FROM contacts WHERE pseudonym = ?"
        " AND NOT EXISTS (SELECT 1 FROM youths WHERE pseudonym = ?)"
        " AND NOT EXISTS (SELECT 1 FROM therapists WHERE pseudonym = ?)"
        " AND NOT EXISTS (SELECT 1 FROM units WHERE pseudonym = ?)",
        (pseudonym, pseudonym, pseudonym, pseudonym))


async def previous_pseudonym(conn: Sql, role: str, code: str) -> str | None:
    row = await conn.one(
        f"SELECT pseudonym FROM {_TABLES[role]} WHERE code = ?", (code,))  # noqa: S608
    return None if row is None or row[0] is None else str(row[0])


async def store_contact(conn: Sql, pseudonym: str, chat_id_enc: bytes) -> None:
    await conn.run(
        "INSERT INTO contacts (pseudonym, chat_id_enc) VALUES (?, ?)"
        " ON CONFLICT (pseudonym) DO UPDATE SET chat_id_enc = excluded.chat_id_enc",
        (pseudonym, chat_id_enc))
