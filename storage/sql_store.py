"""The store on storage.sql: every SQL repository combined over one `Database`.

Nothing here knows the dialect: storage/sqlite.py opens it on a SQLite file, the
PostgreSQL adapter on its pool. What only one backend has (SQLite's WAL checkpoint, its
online backup) reaches the repositories as an optional hook or stays in the adapter.
"""

from __future__ import annotations

from storage.audit_anchor import AuditAnchor
from storage.owners import process_owner
from storage.sql import Database
from storage.sql_accounts import AccountRepository
from storage.sql_buttons import ButtonRepository
from storage.sql_checkins import CheckinRepository
from storage.sql_cluster import ClusterRepository
from storage.sql_console import ConsoleRepository
from storage.sql_crisis import CrisisRepository
from storage.sql_enrolment import EnrolmentRepository
from storage.sql_kiosk import KioskRepository
from storage.sql_loop import LoopRepository
from storage.sql_pages import PagesRepository
from storage.sql_privacy import Checkpoint, PrivacyRepository
from storage.sql_retention import RetentionRepository
from storage.sql_schedule import ScheduleRepository
from storage.sql_sealed import SealedRepository
from storage.sql_sessions import SessionRepository
from storage.sql_therapist import TherapistRepository


# The order of the bases matters: a repository that calls a method another one provides
# declares it as a stub (KioskRepository.checkin_by_ref, RetentionRepository.truncate_wal),
# so the providers come first and win in the method resolution order.
class SqlStore(EnrolmentRepository, CheckinRepository, PrivacyRepository,
               ScheduleRepository, SessionRepository, TherapistRepository, RetentionRepository,
               ButtonRepository, CrisisRepository, AccountRepository, SealedRepository,
               LoopRepository, ConsoleRepository, PagesRepository, KioskRepository,
               ClusterRepository):
    """Implements storage.ports.Store on any storage.sql.Database.

    `checkpoint` is the backend's way to make erased bytes leave its files at once
    (SQLite's WAL truncate); without one, erasure and retention have nothing to add.
    """

    def __init__(self, db: Database, audit_anchor: AuditAnchor | None = None,
                 checkpoint: Checkpoint | None = None) -> None:
        self.db = db
        self.owner = process_owner()  # owns the rows it claims
        self.audit_anchor = audit_anchor  # the audit trail's head, outside the database
        self.checkpoint = checkpoint

    async def close(self) -> None:
        await self.db.close()
