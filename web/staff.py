"""The signed-in staff member and their roles: plain data that auth, nav and render share
(kept apart from auth so rendering and navigation do not import the middleware)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from starlette.requests import Request

from core.questionnaire import Language
from core.records import ConsoleGrant


class Role(StrEnum):
    COORDINATOR = "coordinator"
    THERAPIST = "therapist"
    RESEARCHER = "researcher"
    UNIT = "unit"


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member, on request.state.staff."""

    roles: frozenset[Role]
    actor: str                   # the audit actor, never a Telegram id
    therapist_code: str | None
    unit: str | None
    lang: Language
    session: str = ""            # digest of the session id (for sign-out, language)
    csrf: str = ""

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def staff_of(grant: ConsoleGrant, session: str = "", csrf: str = "") -> Staff:
    return Staff(frozenset(Role(r) for r in grant.roles if r in Role.__members__.values()),
                 grant.actor, grant.therapist_code, grant.unit, grant.language, session, csrf)


def current_staff(request: Request) -> Staff | None:
    return cast(Staff | None, getattr(request.state, "staff", None))
