"""Revoking staff accounts and handing a caseload over: the storage side.

Unbinding replaces the pseudonym by a placeholder no Telegram id can hash to, deletes
the contact and revokes the open invites, all in one transaction: from that moment the
old account is nobody (no staff command, no alert, no button on an old message works),
and the next invite links a new account.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from storage.sql import Sql
from storage.sql_base import SqlQueries
from storage.sql_invites import (
    UNBOUND_PREFIX,
    drop_contact_if_orphaned,
    live_pseudonym,
    revoke_open_invites,
)
from storage.timefmt import iso


async def _unbind(conn: Sql, role: str, table: str, code: str,
                  now: datetime) -> bool:
    old = await live_pseudonym(conn, role, code)
    await revoke_open_invites(conn, role, code, now)
    if old is None:
        return False
    placeholder = f"{UNBOUND_PREFIX}{secrets.token_hex(16)}"
    await conn.run(f"UPDATE {table} SET pseudonym = ? WHERE code = ?",  # noqa: S608
                       (placeholder, code))
    await drop_contact_if_orphaned(conn, old)
    return True


class AccountRepository(SqlQueries):

    async def unbind_therapist(self, code: str, now: datetime) -> bool:
        """Cut the therapist's Telegram account off; False when none was linked."""
        async with self.db.write() as conn:
            return await _unbind(conn, "therapist", "therapists", code, now)

    async def unbind_unit(self, code: str, now: datetime) -> bool:
        """Cut the unit's on-call phone off; False when none was linked."""
        async with self.db.write() as conn:
            done = await _unbind(conn, "unit", "units", code, now)
            if done:
                await conn.run("UPDATE units SET linked_at = NULL WHERE code = ?", (code,))
            return done

    async def move_youths(self, from_code: str, to_code: str, now: datetime) -> list[str]:
        """Give every youth of one therapist to another, with their series and every
        message still to come; what was sent or rated stays with who held the session."""
        async with self.db.write() as conn:
            await conn.run("UPDATE alerts SET therapist_code = ? WHERE therapist_code = ?"
                               " AND acked_at IS NULL", (to_code, from_code))
            moved = [str(r[0]) for r in await conn.all(
                "SELECT code FROM youths WHERE therapist_code = ? ORDER BY code", (from_code,))]
            await conn.run("UPDATE youths SET therapist_code = ? WHERE therapist_code = ?",
                               (to_code, from_code))
            await conn.run("UPDATE series SET therapist_code = ? WHERE therapist_code = ?",
                               (to_code, from_code))
            # Sessions still to come, and open alerts, go to the new therapist; a session
            # already held keeps its therapist (and their rating request).
            await conn.run(
                "UPDATE outbox SET therapist_code = ? WHERE therapist_code = ?"
                " AND state = 'pending' AND (session_end > ? OR kind IN ('alert',"
                " 'escalation'))", (to_code, from_code, iso(now)))
        return moved

    async def move_youth(self, code: str, to_code: str, now: datetime) -> bool:
        """Give one youth to another therapist: their open alerts and messages still to
        come go along, and a series of theirs alone; a group series stays with its
        therapist (who holds those sessions). What was held or rated stays put."""
        async with self.db.write() as conn:
            changed = await conn.run("UPDATE youths SET therapist_code = ? WHERE code = ?"
                                     " AND therapist_code != ?", (to_code, code, to_code))
            if changed != 1:
                return False
            await conn.run("UPDATE alerts SET therapist_code = ? WHERE youth_code = ?"
                               " AND acked_at IS NULL", (to_code, code))
            await conn.run(
                "UPDATE series SET therapist_code = ? WHERE id IN (SELECT series_id FROM"
                " series_youths GROUP BY series_id HAVING count(*) = 1"
                " AND max(youth_code) = ?)", (to_code, code))
            await conn.run(
                "UPDATE outbox SET therapist_code = ? WHERE youth_code = ?"
                " AND state = 'pending' AND (session_end > ? OR kind IN ('alert',"
                " 'escalation'))", (to_code, code, iso(now)))
        return True
