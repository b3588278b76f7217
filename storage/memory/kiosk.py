"""The twin's kiosk: channel history, tablets, one-time codes, kiosk sessions
(storage.ports.KioskRepo), mirroring storage/sqlite_kiosk.py."""

from __future__ import annotations

from datetime import datetime

from core.kiosk import Channel, CodeState, DeviceState
from core.records import ChannelChange, Checkin, KioskCode, KioskDevice, KioskSession, NewKioskCode
from storage.memory.rows import checkin_from_row
from storage.memory.tables import MemoryBase, Record
from storage.sql import IntegrityViolation
from storage.timefmt import iso, parse_iso


def _device(row: Record) -> KioskDevice:
    locked = row["locked_at"]
    return KioskDevice(row["id"], row["unit_code"], row["label"], DeviceState(
        row["failures"], parse_iso(locked) if locked else None, row["retired_at"] is not None))


def _code(row: Record) -> KioskCode:
    enc = row["code_enc"]
    return KioskCode(row["id"], row["checkin_id"], row["youth_code"], row["therapist_code"],
                     row["unit_code"], bytes(enc) if enc is not None else None,
                     parse_iso(row["created_at"]),
                     CodeState(parse_iso(row["expires_at"]), row["used_at"] is not None,
                               row["failures"]))


class MemoryKioskRepository(MemoryBase):
    async def checkin_by_id(self, checkin_id: int) -> Checkin | None:
        row = self.tables.rows["checkins"].get(checkin_id)
        return checkin_from_row(self.tables, row) if row else None

    # -- the channel setting --------------------------------------------------------------

    async def channel_history(self, youth_code: str) -> list[ChannelChange]:
        """Every change of the youth's channel, oldest first (the last one counts)."""
        return [ChannelChange(Channel(r["channel"]), parse_iso(r["changed_at"]), r["actor"],
                              r["reason"])
                for r in self.tables.scan("youth_channels", youth_code=youth_code)]

    async def add_channel_change(self, youth_code: str, change: ChannelChange) -> None:
        self.tables.insert("youth_channels", {
            "youth_code": youth_code, "channel": change.channel.value,
            "changed_at": iso(change.changed_at), "actor": change.actor,
            "reason": change.reason})

    async def set_youth_pseudonym(self, youth_code: str, pseudonym: str) -> bool:
        """Give a youth without any account a random pseudonym (their kiosk identity);
        False when they have one already (kept: their history hangs on it)."""
        return self.tables.update("youths", {"pseudonym": pseudonym},
                                  lambda r: r.get("pseudonym") is None, code=youth_code) == 1

    # -- tablets ------------------------------------------------------------------------------

    async def add_kiosk_device(self, token_digest: str, unit_code: str, label: str,
                               by: str, now: datetime) -> int:
        row: Record = {"token_digest": token_digest, "unit_code": unit_code, "label": label,
                       "registered_at": iso(now), "registered_by": by, "failures": 0,
                       "locked_at": None, "retired_at": None}
        if self.tables.conflict("kiosk_devices", row) is not None:
            raise IntegrityViolation("a tablet with this token is registered already")
        return self.tables.insert("kiosk_devices", row)

    async def kiosk_device(self, token_digest: str) -> KioskDevice | None:
        row = self.tables.first("kiosk_devices", token_digest=token_digest)
        return _device(row) if row else None

    async def kiosk_devices(self) -> list[KioskDevice]:
        rows = self.tables.scan("kiosk_devices", retired_at=None)
        return [_device(r) for r in sorted(rows, key=lambda r: (r["unit_code"], r["id"]))]

    async def retire_kiosk_device(self, device_id: int, now: datetime) -> bool:
        return self.tables.update("kiosk_devices", {"retired_at": iso(now)},
                                  id=device_id, retired_at=None) == 1

    async def unlock_kiosk_device(self, device_id: int) -> bool:
        return self.tables.update("kiosk_devices", {"failures": 0, "locked_at": None},
                                  id=device_id) == 1

    # -- codes ----------------------------------------------------------------------------------

    async def add_kiosk_code(self, new: NewKioskCode) -> int | None:
        """Store a new code for a check-in; None when a live code of the same unit has the
        same digest (the caller draws another). Earlier live codes of the check-in end."""
        created = iso(new.created_at)

        def same_unit(r: Record) -> bool:  # SQL: unit_code IS ? OR unit_code IS NULL OR ? IS NULL
            return (r["unit_code"] == new.unit_code or r["unit_code"] is None
                    or new.unit_code is None)

        if self.tables.first("kiosk_codes", lambda r: r["expires_at"] > created
                             and same_unit(r), code_digest=new.code_digest,
                             used_at=None) is not None:
            return None
        self.tables.update("kiosk_codes", {"expires_at": created, "code_enc": None},
                           lambda r: r["expires_at"] > created,
                           checkin_id=new.checkin_id, used_at=None)
        return self.tables.insert("kiosk_codes", {
            "code_digest": new.code_digest, "code_enc": new.code_enc,
            "checkin_id": new.checkin_id, "youth_code": new.youth_code,
            "therapist_code": new.therapist_code, "unit_code": new.unit_code,
            "created_at": created, "expires_at": iso(new.expires_at), "used_at": None,
            "failures": 0})

    async def kiosk_code_by_digest(self, code_digest: str, unit_code: str
                                   ) -> KioskCode | None:
        """The newest code with this digest that a tablet of `unit_code` may open."""
        rows = self.tables.scan("kiosk_codes", lambda r: r["unit_code"] in (unit_code, None),
                                code_digest=code_digest)
        row = max(rows, key=lambda r: r["id"], default=None)
        return _code(row) if row else None

    async def kiosk_codes_of_checkin(self, checkin_id: int) -> list[KioskCode]:
        return [_code(r) for r in self.tables.scan("kiosk_codes", checkin_id=checkin_id)]

    async def live_kiosk_codes(self, therapist_code: str | None,
                               now: datetime) -> list[KioskCode]:
        """Codes still usable, for the therapist's screen (all therapists' with None)."""
        stamp = iso(now)
        rows = self.tables.scan("kiosk_codes", lambda r: r["expires_at"] > stamp and (
            therapist_code is None or r["therapist_code"] == therapist_code), used_at=None)
        return [_code(r) for r in sorted(rows, key=lambda r: (r["created_at"],
                                                               r["youth_code"]))]

    async def kiosk_wrong_try(self, device_id: int, failures: int, lock: bool,
                              unit_code: str, now: datetime) -> None:
        """A wrong code on a tablet: its new count (and lock), and one more wrong try for
        every code live on the unit's tablets."""
        stamp = iso(now)
        self.tables.update("kiosk_devices", {"failures": failures,
                                             "locked_at": stamp if lock else None},
                           id=device_id)
        for r in self.tables.scan("kiosk_codes", lambda r: r["expires_at"] > stamp
                                  and r["unit_code"] in (unit_code, None), used_at=None):
            r["failures"] += 1

    async def drop_spent_kiosk_codes(self, now: datetime) -> int:
        """Forget the sealed copy of every used or expired code: only its digest stays."""
        stamp = iso(now)
        return self.tables.update("kiosk_codes", {"code_enc": None}, lambda r: (
            r["code_enc"] is not None
            and (r["used_at"] is not None or r["expires_at"] <= stamp)))

    # -- kiosk sessions ---------------------------------------------------------------------

    async def open_kiosk_session(self, token_digest: str, code_id: int, device_id: int,
                                 now: datetime) -> bool:
        """Use the code (once: False when another tablet was first) and open a session;
        the tablet's wrong-code count starts over."""
        stamp = iso(now)
        if self.tables.update("kiosk_codes", {"used_at": stamp, "code_enc": None},
                              lambda r: r["expires_at"] > stamp, id=code_id,
                              used_at=None) != 1:
            return False
        self.tables.insert("kiosk_sessions", {
            "token_digest": token_digest, "code_id": code_id, "device_id": device_id,
            "started_at": stamp, "touched_at": stamp, "ended_at": None, "crisis": 0})
        self.tables.update("kiosk_devices", {"failures": 0, "locked_at": None}, id=device_id)
        return True

    async def kiosk_session(self, token_digest: str) -> KioskSession | None:
        s = self.tables.first("kiosk_sessions", token_digest=token_digest)
        code = self.tables.rows["kiosk_codes"].get(s["code_id"]) if s else None
        if s is None or code is None:
            return None
        return KioskSession(_code(code), s["device_id"], parse_iso(s["touched_at"]),
                            s["ended_at"] is not None, bool(s["crisis"]))

    async def touch_kiosk_session(self, token_digest: str, now: datetime,
                                  crisis: bool = False) -> None:
        for s in self.tables.scan("kiosk_sessions", token_digest=token_digest, ended_at=None):
            s.update(touched_at=iso(now), crisis=max(s["crisis"], int(crisis)))

    async def end_kiosk_session(self, token_digest: str, now: datetime) -> None:
        self.tables.update("kiosk_sessions", {"ended_at": iso(now)},
                           token_digest=token_digest, ended_at=None)
