"""Reading and verifying the audit trail: one function for `python -m bot audit verify`
and the console's audit page, so both say the same thing about the same chain."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.services import Services
from core.audit import AuditEntry, compare_with_anchor, verify_chain


@dataclass(frozen=True)
class AuditCheck:
    """The verdict on the whole trail: one line per problem, empty when intact."""

    entries: int
    problems: list[str]
    latest_hash: str | None

    @property
    def intact(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return (f"{self.entries} entries; chain {'intact' if self.intact else 'BROKEN'}"
                + (f"; latest hash {self.latest_hash}" if self.latest_hash else ""))


async def verify_audit(services: Services) -> tuple[list[AuditEntry], AuditCheck]:
    """Check every link of the chain and, when an anchor is configured, that the
    database still holds the anchored head (nothing cut off, no older copy restored)."""
    entries = await services.store.audit_entries()
    problems = verify_chain(entries)
    if services.audit_anchor is not None:
        head, unreadable = services.audit_anchor.head()
        problems += unreadable + compare_with_anchor(entries, head)
    return entries, AuditCheck(len(entries), problems,
                               entries[-1].hash if entries else None)
