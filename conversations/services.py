"""Everything a use case needs, wired once in bot.wiring."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from conversations.pending_alerts import PendingAlerts
from conversations.urgent_wake import UrgentWake
from core.analytics import MISSED_IN_A_ROW
from core.consent import ConsentCatalogue
from core.crisis import CrisisRules
from core.flow import Step, plan_steps
from core.identity import ContactCipher, pseudonym
from core.questionnaire import Language, Questionnaire, questionnaire_version
from core.records import Checkin
from storage.audit_anchor import AuditAnchor
from storage.ports import ErasureJournal, Store

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Services:
    store: Store
    questionnaire: Questionnaire
    consents: ConsentCatalogue     # every published consent text; the newest is asked
    crisis_phrases: CrisisRules    # built-in crisis rules plus the institution's file
    pseudonym_key: bytes
    cipher: ContactCipher
    clock: Clock
    checkin_ttl: timedelta
    invite_ttl: timedelta
    free_text_limit: int
    coordinators: frozenset[str] = frozenset()  # pseudonyms of the configured coordinators
    researchers: frozenset[str] = frozenset()   # pseudonyms of the configured researchers
    timezone: str = "Europe/Amsterdam"
    escalate_after: timedelta = timedelta(minutes=20)   # an unacknowledged crisis alert
    default_unit: str | None = None       # the unit of youths enrolled without one
    erasure_log: ErasureJournal | None = None  # outside the database: a restore replays it
    audit_anchor: AuditAnchor | None = None   # the audit trail's head, outside the database
    retention_required: bool = False      # institutional rules forbid erasure on request
    missed_alert_after: int = MISSED_IN_A_ROW  # config alerts.missed_in_a_row: one threshold
    coordinator_language: Language = "nl"  # config coordinators.language: what they read
    # Urgent alerts the database refused, stored first on every crisis delivery tick.
    pending_alerts: PendingAlerts = field(default_factory=PendingAlerts, compare=False)
    # Raised when an urgent alert is stored: delivery starts at once, not at the next tick.
    urgent_wake: UrgentWake = field(default_factory=UrgentWake, compare=False)

    async def audit(self, actor: str, action: str, youth_code: str = "",
                    detail: str = "") -> None:
        """Append to the tamper-evident audit trail (NEN 7513: who, when, whom, what)."""
        await self.store.append_audit(actor, action, youth_code, detail, self.clock())

    @cached_property
    def zone(self) -> ZoneInfo:
        """The configured zone (schedule.timezone): every local time shown is in it."""
        return ZoneInfo(self.timezone)

    def staff_actor(self, role: str, telegram_user_id: int) -> str:
        """A staff member in the audit trail: role and a short pseudonym, never the id."""
        return f"{role}:{self.pseudonym(telegram_user_id)[:12]}"

    def pseudonym(self, telegram_user_id: int) -> str:
        return pseudonym(self.pseudonym_key, telegram_user_id)

    def questionnaire_of(self, checkin: Checkin) -> Questionnaire:
        """The version a check-in was opened with: one still open after an upgrade is
        completed with the items and scale it began with."""
        return questionnaire_version(self.questionnaire, checkin.questionnaire_version)

    def steps(self, checkin: Checkin) -> tuple[Step, ...]:
        return plan_steps(self.questionnaire_of(checkin),
                          with_medium=checkin.discipline is not None)


def new_checkin_ref() -> str:
    """Return an unguessable reference for a check-in, used in its buttons (16 chars)."""
    return secrets.token_urlsafe(12)
