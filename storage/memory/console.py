"""The twin's web console sign-in links and sessions (mirrors storage/sql_console.py):
digests only, single use, ended on the server."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from core.questionnaire import Language
from core.records import ConsoleGrant, ConsoleSession, LinkOutcome
from storage.memory.tables import MemoryBase, Record
from storage.sql import IntegrityViolation
from storage.timefmt import iso, parse_iso


def _grant(row: Record) -> ConsoleGrant:
    return ConsoleGrant(row["actor"], tuple(r for r in row["roles"].split(",") if r),
                        row.get("therapist_code"), row.get("unit"),
                        cast(Language, row["language"]))


def _grant_columns(grant: ConsoleGrant) -> Record:
    return {"actor": grant.actor, "roles": ",".join(grant.roles),
            "therapist_code": grant.therapist_code, "unit": grant.unit,
            "language": grant.language}


class MemoryConsoleRepository(MemoryBase):
    """storage.ports.ConsoleRepo on the twin's tables."""

    async def add_console_link(self, token_digest: str, grant: ConsoleGrant, now: datetime,
                               expires_at: datetime) -> None:
        if self.tables.first("console_links", token_digest=token_digest) is not None:
            raise IntegrityViolation("console link exists")   # the primary key
        self.tables.insert("console_links", {
            "token_digest": token_digest, **_grant_columns(grant), "created_at": iso(now),
            "expires_at": iso(expires_at), "used_at": None})

    async def redeem_console_link(self, token_digest: str, now: datetime) -> LinkOutcome:
        """Use the link once: the first caller gets the grant, every later one `used`."""
        stamp = iso(now)
        won = self.tables.update("console_links", {"used_at": stamp},
                                 lambda r: r["used_at"] is None and r["expires_at"] > stamp,
                                 token_digest=token_digest) == 1
        row = self.tables.first("console_links", token_digest=token_digest)
        if row is None:
            return LinkOutcome("unknown", None)
        if won:
            return LinkOutcome("ok", _grant(row))
        if row["used_at"] is not None:
            return LinkOutcome("used", None)
        return LinkOutcome("expired", None)

    async def add_console_session(self, id_digest: str, grant: ConsoleGrant, csrf: str,
                                  now: datetime) -> None:
        if self.tables.first("console_sessions", id_digest=id_digest) is not None:
            raise IntegrityViolation("console session exists")   # the primary key
        self.tables.insert("console_sessions", {
            "id_digest": id_digest, **_grant_columns(grant), "csrf": csrf,
            "created_at": iso(now), "last_seen": iso(now), "ended_at": None})

    async def console_session(self, id_digest: str) -> ConsoleSession | None:
        row = self.tables.first("console_sessions", id_digest=id_digest)
        if row is None:
            return None
        ended = row.get("ended_at")
        return ConsoleSession(_grant(row), row["csrf"], parse_iso(row["created_at"]),
                              parse_iso(row["last_seen"]),
                              parse_iso(ended) if ended else None)

    async def touch_console_session(self, id_digest: str, now: datetime) -> None:
        self.tables.update("console_sessions", {"last_seen": iso(now)},
                           lambda r: r["ended_at"] is None, id_digest=id_digest)

    async def set_console_language(self, id_digest: str, language: Language) -> None:
        self.tables.update("console_sessions", {"language": language}, id_digest=id_digest)

    async def end_console_session(self, id_digest: str, now: datetime) -> bool:
        return self._end(now, id_digest=id_digest) == 1

    async def end_console_sessions_of(self, actor: str, now: datetime) -> int:
        """End every open session of `actor` (a therapist or unit phone cut off)."""
        return self._end(now, actor=actor)

    def _end(self, now: datetime, **equal: str) -> int:
        return self.tables.update("console_sessions", {"ended_at": iso(now)},
                                  lambda r: r["ended_at"] is None, **equal)

    async def open_invites(self, now: datetime) -> dict[tuple[str, str], datetime]:
        """Until when each (role, code) has an unused invite link that still works."""
        stamp = iso(now)
        until: dict[tuple[str, str], str] = {}
        for r in self.tables.scan("invites", lambda r: r.get("used_at") is None
                                  and r["expires_at"] > stamp):
            key = (r["role"], r["subject_code"])
            until[key] = max(until.get(key, r["expires_at"]), r["expires_at"])
        return {key: parse_iso(value) for key, value in until.items()}
