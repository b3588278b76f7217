"""The kiosk as an adapter of the channel port (core.channel.Outbound).

On the kiosk nothing is pushed to the youth: "sending" a check-in's question makes the
check-in available as a one-time code, and the therapist, who is in the room with the
youth, is told the code (in Telegram when they linked it; always on the console). The
address is the check-in: a tablet knows no person, only a code for one check-in.

The delivery engine sends through this like through Telegram, so a kiosk check-in is
planned, expires and counts in compliance exactly the same way.
"""

from __future__ import annotations

import logging

from conversations import kiosk_staff
from conversations.services import Services
from core.channel import (
    UNKNOWN_REF,
    Address,
    Image,
    Message,
    Outbound,
    Outcome,
    Rejected,
    Sent,
    Text,
    why,
)

log = logging.getLogger(__name__)


class KioskChannel:
    """Outbound for kiosk youths; `staff` is the channel that reaches the therapist."""

    def __init__(self, services: Services, staff: Outbound | None) -> None:
        self.services = services
        self.staff = staff

    async def send(self, to: Address, message: Message) -> Outcome:
        """Make check-in `to` available as a code, and tell the therapist the code."""
        if isinstance(message, Image):
            return Rejected("the kiosk shows no pictures")
        issued = await kiosk_staff.issue_code(self.services, to)
        if issued is None:
            return Rejected("the check-in is over or gone: no kiosk code")
        await self._tell_therapist(issued)
        # No message id: nothing on the kiosk can be edited later, and a Telegram edit of
        # the same check-in (a youth on both channels) must never aim at a code's row id.
        return Sent(UNKNOWN_REF)

    async def edit(self, to: Address, ref: int, message: Text) -> Outcome:
        return Rejected("the kiosk keeps no messages to change")

    async def _tell_therapist(self, issued: kiosk_staff.IssuedCode) -> None:
        """One message per code. Not reaching the therapist here loses nothing: the code
        is on the console's page too (kiosk_staff.live_codes)."""
        store = self.services.store
        therapist = await store.therapist(issued.therapist_code)
        pseudonym = await store.therapist_pseudonym(issued.therapist_code)
        sealed = await store.contact(pseudonym) if pseudonym else None
        if self.staff is None or therapist is None or sealed is None:
            log.info("kiosk code for %s: %s has no linked Telegram; the code is on the "
                     "console", issued.youth_code, issued.therapist_code)
            return
        outcome = await self.staff.send(self.services.cipher.open(sealed), Text(
            kiosk_staff.code_notice(self.services, issued, therapist.language)))
        if not isinstance(outcome, Sent):
            log.warning("could not tell %s the kiosk code for %s (%s); it is on the console",
                        issued.therapist_code, issued.youth_code, why(outcome))
