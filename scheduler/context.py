"""What the parts of a tick (therapist, crisis and talk delivery) need from the engine.

A protocol, so the parts depend on this small view and never import the engine that
calls them (no cycle, not even one hidden behind TYPE_CHECKING).
"""

from __future__ import annotations

from datetime import time
from typing import Protocol
from zoneinfo import ZoneInfo

from conversations.services import Services
from core.records import OutboxItem


class DeliveryContext(Protocol):
    services: Services
    coordinator_chats: tuple[int, ...]   # configured coordinators' chats (config only)
    report_weekday: int
    report_time: time
    claimed: list[OutboxItem]   # due rows this process claimed and is sending this tick

    @property
    def rules_zone(self) -> ZoneInfo: ...
