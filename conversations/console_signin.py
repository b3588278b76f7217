"""Single-use sign-in links for the web console: who may have one, and issuing it.

One use case for the /console command in Telegram and for `python -m bot login-link` on
the server: the roles come from the bot's own records (configured coordinators and
researchers, therapists and unit contacts who linked Telegram), the link's token is
stored as a digest only, and every link issued is audited by its actor, never a
Telegram id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from conversations.actions import Action, Reply
from conversations.services import Services
from core.console import LINK_LIFETIME
from core.identity import new_token, token_digest
from core.questionnaire import Language
from core.records import ConsoleGrant
from core.texts import say

SIGNIN_PATH = "/signin/"


@dataclass(frozen=True)
class SignInLink:
    url: str
    expires_at: datetime


def signin_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + SIGNIN_PATH + token


async def telegram_grant(services: Services, user_id: int,
                         hint: Language) -> ConsoleGrant | None:
    """The console roles of a Telegram account, or None for anyone who is not staff.

    The actor names the first of coordinator, therapist, researcher and unit contact the
    account is: as in the bot's own audit lines.
    """
    me = services.pseudonym(user_id)
    store = services.store
    roles: list[str] = []
    actor: str | None = None
    language: Language = hint
    if me in services.coordinators:
        roles.append("coordinator")
        actor = services.staff_actor("coordinator", user_id)
    therapist = await store.therapist_by_pseudonym(me)
    if therapist is not None and await store.contact(me) is not None:
        roles.append("therapist")
        actor = actor or therapist.code
        language = therapist.language
    if me in services.researchers:
        roles.append("researcher")
        actor = actor or services.staff_actor("researcher", user_id)
    units = sorted(await store.units_of_contact(me), key=lambda u: u.code)
    if units:
        roles.append("unit")
        actor = actor or f"unit:{units[0].code}"
    if actor is None:
        return None
    return ConsoleGrant(actor, tuple(roles), therapist.code if therapist else None,
                        units[0].code if units else None, language)


async def issue_link(services: Services, grant: ConsoleGrant, base_url: str,
                     issued_by: str) -> SignInLink:
    """Store a fresh single-use link for `grant` and audit who asked for it."""
    token = new_token()
    now = services.clock()
    expires = now + LINK_LIFETIME
    await services.store.add_console_link(token_digest(token), grant, now, expires)
    await services.audit(issued_by, "console:link", "", f"for {grant.actor} "
                         f"({', '.join(grant.roles)})")
    return SignInLink(signin_url(base_url, token), expires)


async def console_command(services: Services, user_id: int, hint: Language,
                          base_url: str) -> list[Action]:
    """/console: a sign-in link for staff; everyone else hears it is for staff only."""
    grant = await telegram_grant(services, user_id, hint)
    if grant is None:
        return [Reply(say(hint, "web.console_staff_only"))]
    link = await issue_link(services, grant, base_url, grant.actor)
    return [Reply(say(grant.language, "web.console_link", url=link.url,
                      minutes=int(LINK_LIFETIME.total_seconds() // 60)))]


CONSOLE_URL = "console_url"   # bot_data key: the console's public address
