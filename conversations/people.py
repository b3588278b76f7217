"""The coordinator's people use cases: enrol, invite, unbind, move, set unit or simple mode.

Each one checks, writes, writes its audit entry (NEN 7513: who, when, whom, what) and
returns what happened as data; a refusal is an `EnrolmentRefused` saying why (with a
catalogue key for the console), before any write it should not cause. The command line
prints the result and the web console shows it: neither audits nor branches itself.
`actor` names who asked (`conversations.enrolment.cli_actor()` on the command line, the
signed-in staff member on the web).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from conversations import enrolment
from conversations.enrolment import EnrolmentRefused, Invitation
from conversations.services import Services
from core.questionnaire import Language
from core.records import NewYouth

InviteKind = Literal["youth", "therapist", "unit"]


@dataclass(frozen=True)
class Enrolled:
    """A youth enrolled: the invite, the unit whose crisis contact covers them, and whether
    that unit has a linked on-call phone yet (if not, the youth should not start)."""

    invitation: Invitation
    unit: str
    unit_linked: bool


@dataclass(frozen=True)
class Invited:
    invitation: Invitation
    kind: InviteKind


async def enroll_youth(services: Services, actor: str, youth: NewYouth, *,
                       unit: str | None = None, research_date: date | None = None
                       ) -> Enrolled:
    """Enrol a youth with an invite. `unit` defaults to the configured default unit (a
    crisis alert goes to the unit's 24/7 contact, so one is required); `research_date`
    is the date the guardian's research consent was filed, if given."""
    now = services.clock()
    if research_date is not None and research_date > now.date():
        raise EnrolmentRefused("the guardian's research consent date lies in the future",
                               "future_date", date=research_date.isoformat())
    covering = enrolment.unit_for_enrolment(unit, services.default_unit)
    invitation = await enrolment.enroll_youth(services.store, youth, now, services.invite_ttl)
    await services.audit(actor, "enrol", youth.code, f"therapist {youth.therapist_code}")
    if research_date is not None:
        await record_guardian_research(services, actor, youth.code, research_date)
    if unit:
        await services.store.set_unit(youth.code, unit)
    return Enrolled(invitation, covering, await _unit_linked(services, covering))


async def _unit_linked(services: Services, unit: str) -> bool:
    contact = await services.store.unit(unit)
    return contact is not None and contact.pseudonym is not None


async def record_guardian_research(services: Services, actor: str, code: str,
                                   when: date) -> None:
    """Record the date a guardian's consent to research use was filed."""
    if when > services.clock().date():
        raise EnrolmentRefused("the guardian's research consent date lies in the future",
                               "future_date", date=when.isoformat())
    if not await services.store.set_guardian_research_consent(code, when):
        raise EnrolmentRefused(f"unknown or erased youth code {code}", "unknown_youth",
                               code=code)
    await services.audit(actor, "guardian-consent:research", code, when.isoformat())


async def enroll_therapist(services: Services, actor: str, code: str,
                           language: Language) -> Invitation:
    """Enrol a therapist with an invite."""
    invitation = await enrolment.enroll_therapist(services.store, code, language,
                                                  services.clock(), services.invite_ttl)
    assert invitation is not None   # an invite_ttl was given
    await services.audit(actor, "enrol", "", f"therapist {code}")
    return invitation


async def enroll_unit(services: Services, actor: str, unit: str,
                      language: Language) -> Invitation:
    """Enrol a unit with the invite its on-call phone opens."""
    invitation = await enrolment.enroll_unit(services.store, unit, language,
                                             services.clock(), services.invite_ttl)
    await services.audit(actor, "enrol", "", f"unit {unit}")
    return invitation


async def invite(services: Services, actor: str, code: str) -> Invited:
    """A new invite for a therapist or youth who has not joined (the code says which);
    older open invites for the code stop working."""
    now = services.clock()
    if await services.store.therapist(code) is not None:
        invitation = await enrolment.invite_therapist(services.store, code, now,
                                                      services.invite_ttl)
        kind: InviteKind = "therapist"
    else:
        invitation = await enrolment.invite_youth(services.store, code, now,
                                                  services.invite_ttl)
        kind = "youth"
    await services.audit(actor, "invite", code if kind == "youth" else "",
                         f"{code}; {invitation.revoked} older invites revoked")
    return Invited(invitation, kind)


async def invite_unit(services: Services, actor: str, unit: str) -> Invitation:
    """A new invite for a unit's on-call phone while none is linked."""
    invitation = await enrolment.invite_unit(services.store, unit, services.clock(),
                                             services.invite_ttl)
    await services.audit(actor, "invite:unit", "",
                         f"{unit}; {invitation.revoked} older invites revoked")
    return invitation


async def unbind_youth(services: Services, actor: str, code: str) -> Invitation:
    """Unlink a youth's account (lost or confiscated phone) and issue a new invite."""
    invitation = await enrolment.unbind_youth(services.store, code, services.clock(),
                                              services.invite_ttl)
    await services.audit(actor, "unbind", code, "account unlinked; new invite")
    return invitation


async def unbind_therapist(services: Services, actor: str, code: str) -> Invitation:
    """Cut a therapist's account off at once and issue a new invite."""
    invitation = await enrolment.unbind_therapist(services.store, code, services.clock(),
                                                  services.invite_ttl)
    await services.audit(actor, "unbind:therapist", "", f"{code}: account unlinked; new invite")
    return invitation


async def unbind_unit(services: Services, actor: str, unit: str) -> Invitation:
    """Cut a unit's on-call phone off at once and issue the link for the next phone."""
    invitation = await enrolment.unbind_unit(services.store, unit, services.clock(),
                                             services.invite_ttl)
    await services.audit(actor, "unbind:unit", "", f"{unit}: on-call phone unlinked; new invite")
    return invitation


async def move_youths(services: Services, actor: str, from_code: str,
                      to_code: str) -> list[str]:
    """Give every youth of one therapist to another; each move is audited."""
    moved = await enrolment.move_youths(services.store, from_code, to_code, services.clock())
    for code in moved:
        await services.audit(actor, "move-youth", code, f"therapist {from_code} -> {to_code}")
    return moved


async def move_youth(services: Services, actor: str, code: str, to_code: str) -> None:
    """Give one youth to another therapist; audited."""
    youth = await services.store.youth_by_code(code)
    await enrolment.move_youth(services.store, code, to_code, services.clock())
    before = youth.therapist_code if youth is not None else "?"
    await services.audit(actor, "move-youth", code, f"therapist {before} -> {to_code}")


async def set_unit(services: Services, actor: str, code: str, unit: str) -> bool:
    """Put a youth on an enrolled unit (a crisis alert goes to its 24/7 contact); True
    when the unit has a linked on-call phone."""
    if await services.store.unit(unit) is None:
        raise EnrolmentRefused(f"unknown unit {unit}; enrol it first with `enroll-unit`",
                               "unknown_unit", unit=unit)
    if not await services.store.set_unit(code, unit):
        raise EnrolmentRefused(f"unknown youth code {code}", "unknown_youth", code=code)
    await services.audit(actor, "set-unit", code, unit)
    return await _unit_linked(services, unit)


async def set_simple(services: Services, actor: str, code: str, simple: bool) -> bool:
    """Switch a youth's 3-point answers on or off; False when it was so already."""
    changed = await services.store.set_simple_mode(code, simple)
    if changed is None:
        raise EnrolmentRefused(f"unknown youth code {code}", "unknown_youth", code=code)
    if changed:
        await services.audit(actor, "set-simple", code, "on" if simple else "off")
    return changed
