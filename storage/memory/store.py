"""The in-memory twin of the store: every twin repository over one shared `Tables`.

It passes the same storage contract as SQLite (tests/test_storage_contract.py) and lets
the use cases be tested below the HTTP level in milliseconds (tests/test_usecases_memory.py).
Nothing is kept when the process ends; there is no file to back up.
"""

from __future__ import annotations

from pathlib import Path

from storage.audit_anchor import AuditAnchor
from storage.memory.buttons import MemoryButtonRepository
from storage.memory.checkins import MemoryCheckinRepository
from storage.memory.cluster import MemoryClusterRepository
from storage.memory.console import MemoryConsoleRepository
from storage.memory.crisis import MemoryCrisisRepository
from storage.memory.kiosk import MemoryKioskRepository
from storage.memory.loop import MemoryLoopRepository
from storage.memory.outbox import MemoryOutboxRepository
from storage.memory.pages import MemoryPagesRepository
from storage.memory.people import MemoryEnrolmentRepository
from storage.memory.privacy import MemoryPrivacyRepository
from storage.memory.schedule import MemoryScheduleRepository
from storage.memory.sealed import MemorySealedRepository
from storage.memory.tables import Tables
from storage.memory.therapist import MemoryTherapistRepository
from storage.owners import process_owner
from storage.ports import Store


class MemoryStore(MemoryEnrolmentRepository, MemoryCheckinRepository,
                  MemoryScheduleRepository, MemoryOutboxRepository, MemoryLoopRepository,
                  MemoryPagesRepository, MemoryKioskRepository, MemoryTherapistRepository,
                  MemoryCrisisRepository, MemoryPrivacyRepository, MemoryConsoleRepository,
                  MemoryButtonRepository, MemorySealedRepository, MemoryClusterRepository):
    """Implements storage.ports.Store in memory."""

    def __init__(self, owner: str | None = None,
                 audit_anchor: AuditAnchor | None = None) -> None:
        self.tables = Tables()
        self.owner = owner or process_owner()  # owns the outbox rows it claims
        self.audit_anchor = audit_anchor  # the audit trail's head, outside the "database"
        self.closed = False

    async def close(self) -> None:
        self.closed = True

    async def backup(self, target: Path) -> None:
        """A twin has no file: a backup of it would restore nothing the tests need."""
        raise NotImplementedError("the in-memory store has nothing to back up")


def _is_a_store(store: MemoryStore) -> Store:
    """Never called: mypy --strict checks here that the twin implements the whole port."""
    return store
