"""The coordinator's overview as a use case: role checked, read audited, data returned.

The Telegram handler (conversations.coordinator) and the web console render the same
`Overview`; neither checks the role or writes the audit entry itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations import crisis
from conversations.services import Services
from core.compliance import render_overview


@dataclass(frozen=True)
class Overview:
    table: str   # the compliance table, one youth a line under a column header
    loud: str    # urgent alerts that reached nobody, or "" (shown first, never hidden)


async def overview(services: Services, user_id: int) -> Overview | None:
    """The overview for a configured coordinator in Telegram; None for anyone else
    (nothing read, nothing audited)."""
    if services.pseudonym(user_id) not in services.coordinators:
        return None
    return await read_overview(services, services.staff_actor("coordinator", user_id))


async def read_overview(services: Services, actor: str) -> Overview:
    """The overview for `actor`, whose coordinator role the caller has checked (the web
    console's session); the read is audited here."""
    await services.audit(actor, "read:overview")
    lang = services.coordinator_language
    rows = await services.store.compliance(services.clock())
    loud = "\n".join(await crisis.unreached_section(services, lang))
    return Overview(render_overview(rows, lang, services.missed_alert_after), loud)
