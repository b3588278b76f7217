"""`python -m bot login-link`: a single-use sign-in link for the web console, for staff
without Telegram (or without their phone at hand), printed on the server and audited
under the operating-system user who asked.

--code T-02 (an enrolled therapist), --unit W-1 (a unit's crisis contact),
--coordinator NAME or --researcher NAME (configured by Telegram id in the bot, so a
name stands in for them here: it becomes the audit actor, e.g. coordinator:anna).
"""

from __future__ import annotations

import argparse
import re
from typing import Any, cast
from zoneinfo import ZoneInfo

from bot.config import Secrets, Settings
from conversations.enrolment import EnrolmentRefused, cli_actor
from conversations.services import Services
from core.console import LINK_LIFETIME
from core.questionnaire import Language
from core.records import ConsoleGrant

# A name, never a number: a Telegram id must not become an audit actor.
NAME = re.compile(r"[a-z][a-z0-9._-]{1,31}")


def _name(text: str) -> str:
    if not NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a name like anna or j.devries (lower-case letters first, "
            "then letters, digits, . _ or -; at most 32)")
    return text


def add_parsers(sub: Any, command: Any) -> None:
    """Register `login-link` on the main parser."""
    p = command("login-link", "Print a single-use sign-in link for the web console "
                              f"(valid {int(LINK_LIFETIME.total_seconds() // 60)} "
                              "minutes), audited.")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--code", help="an enrolled therapist, e.g. T-02")
    who.add_argument("--unit", help="a unit's crisis contact, e.g. W-1")
    who.add_argument("--coordinator", type=_name, metavar="NAME",
                     help="a coordinator, named for the audit trail (e.g. anna)")
    who.add_argument("--researcher", type=_name, metavar="NAME",
                     help="a researcher, named for the audit trail")
    p.add_argument("--lang", choices=["nl", "en"], help="language of the console "
                   "(default: the therapist's or unit's, else nl)")


async def grant_for(args: argparse.Namespace, services: Services) -> ConsoleGrant:
    store = services.store
    lang = cast(Language | None, args.lang)
    if args.code is not None:
        therapist = await store.therapist(args.code)
        if therapist is None:
            raise EnrolmentRefused(f"unknown therapist code {args.code}")
        return ConsoleGrant(therapist.code, ("therapist",), therapist.code, None,
                            lang or therapist.language)
    if args.unit is not None:
        unit = await store.unit(args.unit)
        if unit is None:
            raise EnrolmentRefused(f"unknown unit {args.unit}")
        return ConsoleGrant(f"unit:{unit.code}", ("unit",), None, unit.code,
                            lang or unit.language)
    role = "coordinator" if args.coordinator is not None else "researcher"
    name = args.coordinator or args.researcher
    return ConsoleGrant(f"{role}:{name}", (role,), None, None, lang or "nl")


async def run(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from bot.wiring import with_services  # noqa: PLC0415 - keeps --help fast
    from conversations.console_signin import issue_link  # noqa: PLC0415 - keeps --help fast

    async def work(services: Services) -> int:
        grant = await grant_for(args, services)
        link = await issue_link(services, grant, settings.console.public_url, cli_actor())
        until = link.expires_at.astimezone(ZoneInfo(settings.schedule.timezone))
        print(f"Sign-in link for {grant.actor} ({', '.join(grant.roles)}); works once, "
              f"until {until:%H:%M} {settings.schedule.timezone} time:")
        print(f"  {link.url}")
        print("Give it only to that person; it signs them in to the console.")
        return 0

    return await with_services(settings, secrets, work)
