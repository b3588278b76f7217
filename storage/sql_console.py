"""The web console's sign-in links and sessions: digests only, single use, ended on the
server."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.questionnaire import Language
from core.records import ConsoleGrant, ConsoleSession, LinkOutcome
from storage.sql import Row
from storage.sql_base import SqlQueries
from storage.timefmt import iso, parse_iso


def _grant(row: Row) -> ConsoleGrant:
    return ConsoleGrant(row["actor"], tuple(r for r in row["roles"].split(",") if r),
                        row["therapist_code"], row["unit"], cast(Language, row["language"]))


def _grant_values(grant: ConsoleGrant) -> tuple[object, ...]:
    return (grant.actor, ",".join(grant.roles), grant.therapist_code, grant.unit,
            grant.language)


class ConsoleRepository(SqlQueries):
    async def add_console_link(self, token_digest: str, grant: ConsoleGrant, now: datetime,
                               expires_at: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO console_links (token_digest, actor, roles, therapist_code, unit,"
                " language, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token_digest, *_grant_values(grant), iso(now), iso(expires_at)))

    async def redeem_console_link(self, token_digest: str, now: datetime) -> LinkOutcome:
        """Use the link once: the first caller gets the grant, every later one `used`."""
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE console_links SET used_at = ? WHERE token_digest = ?"
                " AND used_at IS NULL AND expires_at > ?",
                (iso(now), token_digest, iso(now)))
            won = changed == 1
        row = await self._one(
            "SELECT actor, roles, therapist_code, unit, language, expires_at, used_at"
            " FROM console_links WHERE token_digest = ?", (token_digest,))
        if row is None:
            return LinkOutcome("unknown", None)
        if won:
            return LinkOutcome("ok", _grant(row))
        if row["used_at"] is not None:
            return LinkOutcome("used", None)
        return LinkOutcome("expired", None)

    async def add_console_session(self, id_digest: str, grant: ConsoleGrant, csrf: str,
                                  now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO console_sessions (id_digest, actor, roles, therapist_code, unit,"
                " language, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (id_digest, *_grant_values(grant), csrf, iso(now), iso(now)))

    async def console_session(self, id_digest: str) -> ConsoleSession | None:
        row = await self._one(
            "SELECT actor, roles, therapist_code, unit, language, csrf, created_at, last_seen,"
            " ended_at FROM console_sessions"
            " WHERE id_digest = ?", (id_digest,))
        if row is None:
            return None
        ended = row["ended_at"]
        return ConsoleSession(_grant(row), row["csrf"], parse_iso(row["created_at"]),
                              parse_iso(row["last_seen"]),
                              parse_iso(ended) if ended else None)

    async def touch_console_session(self, id_digest: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run("UPDATE console_sessions SET last_seen = ? WHERE id_digest = ?"
                               " AND ended_at IS NULL", (iso(now), id_digest))

    async def set_console_language(self, id_digest: str, language: Language) -> None:
        async with self.db.write() as conn:
            await conn.run("UPDATE console_sessions SET language = ? WHERE id_digest = ?",
                               (language, id_digest))

    async def end_console_session(self, id_digest: str, now: datetime) -> bool:
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE console_sessions SET ended_at = ? WHERE id_digest = ?"
                " AND ended_at IS NULL", (iso(now), id_digest))
            return changed == 1

    async def end_console_sessions_of(self, actor: str, now: datetime) -> int:
        """End every open session of `actor` (a therapist or unit phone cut off)."""
        async with self.db.write() as conn:
            changed = await conn.run("UPDATE console_sessions SET ended_at = ? WHERE actor = ?"
                                     " AND ended_at IS NULL", (iso(now), actor))
            return changed

    async def open_invites(self, now: datetime) -> dict[tuple[str, str], datetime]:
        """Until when each (role, code) has an unused invite link that still works: the
        People page tells "not joined, link valid until ..." from "not joined, no link"."""
        rows = await self._all(
            "SELECT role, subject_code, max(expires_at) AS until FROM invites"
            " WHERE used_at IS NULL AND expires_at > ? GROUP BY role, subject_code",
            (iso(now),))
        return {(r["role"], r["subject_code"]): parse_iso(r["until"]) for r in rows}
