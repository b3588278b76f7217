"""The kiosk on storage.sql: channel history, tablets, one-time codes, kiosk sessions."""

from __future__ import annotations

from datetime import datetime

from core.kiosk import Channel, CodeState, DeviceState
from core.records import ChannelChange, Checkin, KioskCode, KioskDevice, KioskSession, NewKioskCode
from storage.sql import Row
from storage.sql_base import SqlQueries, equal_or_any
from storage.timefmt import iso, parse_iso


def _device(row: Row) -> KioskDevice:
    locked = row["locked_at"]
    return KioskDevice(row["id"], row["unit_code"], row["label"], DeviceState(
        row["failures"], parse_iso(locked) if locked else None, row["retired_at"] is not None))


def _code(row: Row) -> KioskCode:
    enc = row["code_enc"]
    return KioskCode(row["id"], row["checkin_id"], row["youth_code"], row["therapist_code"],
                     row["unit_code"], bytes(enc) if enc is not None else None,
                     parse_iso(row["created_at"]),
                     CodeState(parse_iso(row["expires_at"]), row["used_at"] is not None,
                               row["failures"]))


class KioskRepository(SqlQueries):
    async def checkin_by_ref(self, ref: str) -> Checkin | None:
        raise NotImplementedError  # provided by CheckinRepository

    async def checkin_by_id(self, checkin_id: int) -> Checkin | None:
        row = await self._one("SELECT ref FROM checkins WHERE id = ?", (checkin_id,))
        return await self.checkin_by_ref(row["ref"]) if row else None

    # -- the channel setting --------------------------------------------------------------

    async def channel_history(self, youth_code: str) -> list[ChannelChange]:
        """Every change of the youth's channel, oldest first (the last one counts)."""
        rows = await self._all("SELECT * FROM youth_channels WHERE youth_code = ? ORDER BY id",
                               (youth_code,))
        return [ChannelChange(Channel(r["channel"]), parse_iso(r["changed_at"]), r["actor"],
                              r["reason"]) for r in rows]

    async def add_channel_change(self, youth_code: str, change: ChannelChange) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "INSERT INTO youth_channels (youth_code, channel, changed_at, actor, reason)"
                " VALUES (?, ?, ?, ?, ?)", (youth_code, change.channel.value,
                                            iso(change.changed_at), change.actor,
                                            change.reason))

    async def set_youth_pseudonym(self, youth_code: str, pseudonym: str) -> bool:
        """Give a youth without any account a random pseudonym (their kiosk identity);
        False when they have one already (kept: their history hangs on it)."""
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE youths SET pseudonym = ? WHERE code = ? AND pseudonym IS NULL",
                (pseudonym, youth_code))
            return changed == 1

    # -- tablets ------------------------------------------------------------------------------

    async def add_kiosk_device(self, token_digest: str, unit_code: str, label: str,
                               by: str, now: datetime) -> int:
        async with self.db.write() as conn:
            row = await conn.one(
                "INSERT INTO kiosk_devices (token_digest, unit_code, label, registered_at,"
                " registered_by) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (token_digest, unit_code, label, iso(now), by))
            assert row is not None
            return int(row["id"])

    async def kiosk_device(self, token_digest: str) -> KioskDevice | None:
        row = await self._one("SELECT * FROM kiosk_devices WHERE token_digest = ?",
                              (token_digest,))
        return _device(row) if row else None

    async def kiosk_devices(self) -> list[KioskDevice]:
        return [_device(r) for r in await self._all(
            "SELECT * FROM kiosk_devices WHERE retired_at IS NULL ORDER BY unit_code, id")]

    async def retire_kiosk_device(self, device_id: int, now: datetime) -> bool:
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE kiosk_devices SET retired_at = ? WHERE id = ? AND retired_at IS NULL",
                (iso(now), device_id))
            return changed == 1

    async def unlock_kiosk_device(self, device_id: int) -> bool:
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE kiosk_devices SET failures = 0, locked_at = NULL WHERE id = ?",
                (device_id,))
            return changed == 1

    # -- codes ----------------------------------------------------------------------------------

    async def add_kiosk_code(self, new: NewKioskCode) -> int | None:
        """Store a new code for a check-in; None when a live code of the same unit has the
        same digest (the caller draws another). Earlier live codes of the check-in end."""
        created = iso(new.created_at)
        async with self.db.write() as conn:
            # A code opens on the tablets of its unit, or on every tablet without one.
            same_unit, unit_params = (("1 = 1", ()) if new.unit_code is None else
                                      ("(unit_code = ? OR unit_code IS NULL)",
                                       (new.unit_code,)))
            if await conn.one(
                "SELECT 1 FROM kiosk_codes WHERE code_digest = ?"  # noqa: S608
                f" AND used_at IS NULL AND expires_at > ? AND {same_unit}",
                (new.code_digest, created, *unit_params),
            ) is not None:
                return None
            await conn.run(
                "UPDATE kiosk_codes SET expires_at = ?, code_enc = NULL"
                " WHERE checkin_id = ? AND used_at IS NULL AND expires_at > ?",
                (created, new.checkin_id, created))
            row = await conn.one(
                "INSERT INTO kiosk_codes (code_digest, code_enc, checkin_id, youth_code,"
                " therapist_code, unit_code, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (new.code_digest, new.code_enc, new.checkin_id, new.youth_code,
                 new.therapist_code, new.unit_code, created, iso(new.expires_at)))
            assert row is not None
            return int(row["id"])

    async def kiosk_code_by_digest(self, code_digest: str, unit_code: str
                                   ) -> KioskCode | None:
        """The newest code with this digest that a tablet of `unit_code` may open."""
        row = await self._one(
            "SELECT * FROM kiosk_codes WHERE code_digest = ?"
            " AND (unit_code = ? OR unit_code IS NULL) ORDER BY id DESC LIMIT 1",
            (code_digest, unit_code))
        return _code(row) if row else None

    async def kiosk_codes_of_checkin(self, checkin_id: int) -> list[KioskCode]:
        return [_code(r) for r in await self._all(
            "SELECT * FROM kiosk_codes WHERE checkin_id = ? ORDER BY id", (checkin_id,))]

    async def live_kiosk_codes(self, therapist_code: str | None,
                               now: datetime) -> list[KioskCode]:
        """Codes still usable, for the therapist's screen (all therapists' with None)."""
        whose, params = equal_or_any("therapist_code", therapist_code)
        rows = await self._all(
            "SELECT * FROM kiosk_codes WHERE used_at IS NULL AND expires_at > ?"  # noqa: S608
            f" AND {whose} ORDER BY created_at, youth_code", (iso(now), *params))
        return [_code(r) for r in rows]

    async def kiosk_wrong_try(self, device_id: int, failures: int, lock: bool,
                              unit_code: str, now: datetime) -> None:
        """A wrong code on a tablet: its new count (and lock), and one more wrong try for
        every code live on the unit's tablets."""
        stamp = iso(now)
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE kiosk_devices SET failures = ?, locked_at = ? WHERE id = ?",
                (failures, stamp if lock else None, device_id))
            await conn.run(
                "UPDATE kiosk_codes SET failures = failures + 1"
                " WHERE used_at IS NULL AND expires_at > ?"
                " AND (unit_code = ? OR unit_code IS NULL)", (stamp, unit_code))

    async def drop_spent_kiosk_codes(self, now: datetime) -> int:
        """Forget the sealed copy of every used or expired code: only its digest stays."""
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE kiosk_codes SET code_enc = NULL WHERE code_enc IS NOT NULL"
                " AND (used_at IS NOT NULL OR expires_at <= ?)", (iso(now),))
            return changed

    # -- kiosk sessions ---------------------------------------------------------------------

    async def open_kiosk_session(self, token_digest: str, code_id: int, device_id: int,
                                 now: datetime) -> bool:
        """Use the code (once: False when another tablet was first) and open a session;
        the tablet's wrong-code count starts over."""
        stamp = iso(now)
        async with self.db.write() as conn:
            changed = await conn.run(
                "UPDATE kiosk_codes SET used_at = ?, code_enc = NULL"
                " WHERE id = ? AND used_at IS NULL AND expires_at > ?",
                (stamp, code_id, stamp))
            if changed != 1:
                return False
            await conn.run(
                "INSERT INTO kiosk_sessions (token_digest, code_id, device_id, started_at,"
                " touched_at) VALUES (?, ?, ?, ?, ?)",
                (token_digest, code_id, device_id, stamp, stamp))
            await conn.run(
                "UPDATE kiosk_devices SET failures = 0, locked_at = NULL WHERE id = ?",
                (device_id,))
            return True

    async def kiosk_session(self, token_digest: str) -> KioskSession | None:
        row = await self._one(
            "SELECT s.device_id, s.touched_at, s.ended_at, s.crisis, c.* FROM kiosk_sessions s"
            " JOIN kiosk_codes c ON c.id = s.code_id WHERE s.token_digest = ?",
            (token_digest,))
        if row is None:
            return None
        return KioskSession(_code(row), row["device_id"], parse_iso(row["touched_at"]),
                            row["ended_at"] is not None, bool(row["crisis"]))

    async def touch_kiosk_session(self, token_digest: str, now: datetime,
                                  crisis: bool = False) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE kiosk_sessions SET touched_at = ?,"
                " crisis = CASE WHEN ? = 1 THEN 1 ELSE crisis END"
                " WHERE token_digest = ? AND ended_at IS NULL",
                (iso(now), int(crisis), token_digest))

    async def end_kiosk_session(self, token_digest: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.run(
                "UPDATE kiosk_sessions SET ended_at = ? WHERE token_digest = ?"
                " AND ended_at IS NULL", (iso(now), token_digest))
