"""The twin's button bindings and "not now" decisions at an invite (mirrors
storage/sql_buttons.py)."""

from __future__ import annotations

from datetime import datetime

from core.records import Consent
from storage.memory.tables import MemoryBase
from storage.timefmt import iso


class MemoryButtonRepository(MemoryBase):
    """storage.ports.ButtonRepo on the twin's tables."""

    async def bind_buttons(self, nonce: str, message_id: int | None, now: datetime) -> None:
        """Record the message whose buttons carry `nonce` (None: sent, id unknown); a
        nonce already bound to a message keeps it."""
        if self.tables.first("button_messages", nonce=nonce) is None:
            self.tables.insert("button_messages", {"nonce": nonce, "message_id": message_id,
                                                   "created_at": iso(now)})
        else:
            self.tables.update("button_messages", {"message_id": message_id},
                               lambda r: r["message_id"] is None, nonce=nonce)

    async def buttons_on(self, nonce: str, message_id: int) -> bool:
        """True when `nonce` was made for this message; a nonce recorded without a message
        id is bound to the first message it is tapped on."""
        row = self.tables.first("button_messages", nonce=nonce)
        if row is None:
            return False
        if row["message_id"] is None:
            self.tables.update("button_messages", {"message_id": message_id}, nonce=nonce)
            return True
        return bool(row["message_id"] == message_id)

    async def record_invite_decline(self, youth_code: str, consent: Consent,
                                    now: datetime) -> None:
        """A "not now" at the invite: the decision, tied to the youth's code only."""
        self.tables.insert("invite_declines", {
            "youth_code": youth_code, "text_version": consent.text_version,
            "text_sha256": consent.text_sha256, "language": consent.language,
            "decided_at": iso(now)})

    async def codes_declined_at_invite(self) -> frozenset[str]:
        """Youths whose last word at the invite was "not now" and who never joined."""
        t = self.tables
        return frozenset(
            d["youth_code"] for d in t.scan("invite_declines")
            if t.first("youths", lambda y: y.get("pseudonym") is None,
                       code=d["youth_code"]) is not None)
