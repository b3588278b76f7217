"""Coordinator actions: enrol therapists and youths, issue invites, start a check-in."""

from __future__ import annotations

import os
import pwd
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from core.consent import enrolment_problems
from core.identity import new_token, token_digest
from core.questionnaire import Language
from core.records import AlreadyExists, NewYouth, Therapist
from storage.ports import ConsoleRepo, CrisisRepo, EnrolmentRepo, PrivacyRepo, TherapistRepo

# The shape of a youth or therapist code (J-103, T-02) and of a unit name (W-1, Noord):
# one definition for the command line and the console.
CODE = re.compile(r"[A-Z]{1,4}-[0-9]{1,5}")
UNIT = re.compile(r"[A-Za-z0-9_-]{1,20}")


class PeopleStore(ConsoleRepo, CrisisRepo, EnrolmentRepo, PrivacyRepo, TherapistRepo, Protocol):
    """The storage ports the people use cases need: narrower than the whole Store, so
    a test (or another backend) can see at a glance what enrolment touches."""


def cli_actor(uid: int | None = None, sudo_user: str | None = None) -> str:
    """Who ran a command on the server, for the audit trail: the real operating-system user.

    $USER/$LOGNAME can be set by anyone (`USER=dr-jansen python -m bot export`), so the
    name comes from the real uid. SUDO_USER is added only when the real uid is root: sudo
    sets it then, and an ordinary user setting it proves nothing.
    """
    uid = os.getuid() if uid is None else uid
    try:
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = f"uid{uid}"
    sudo = os.environ.get("SUDO_USER") if sudo_user is None else sudo_user
    if uid == 0 and sudo and sudo != name:
        return f"cli:{name}(sudo:{sudo})"
    return f"cli:{name}"


class EnrolmentRefused(Exception):
    """The coordinator's request cannot be carried out; the message says why.

    `key` and `values` name the reason for the console, which says it in the staff
    member's language (catalogue key `web.refused_<key>`); the CLI prints the message."""

    def __init__(self, message: str, key: str = "", **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Invitation:
    code: str
    token: str
    expires_at: datetime
    revoked: int = 0    # older open invites for the same code this one replaced

    def link(self, bot_username: str) -> str:
        return f"https://t.me/{bot_username}?start={self.token}"


async def enroll_therapist(store: PeopleStore, code: str, language: Language, now: datetime,
                           invite_ttl: timedelta | None = None) -> Invitation | None:
    """Record the therapist; with `invite_ttl`, also return a single-use invite."""
    try:
        await store.add_therapist(Therapist(code, language), now)
    except AlreadyExists:
        raise EnrolmentRefused(f"therapist {code} is enrolled already",
                               "therapist_exists", code=code) from None
    if invite_ttl is None:
        return None
    return await invite_therapist(store, code, now, invite_ttl)


async def invite_therapist(store: PeopleStore, code: str, now: datetime,
                           invite_ttl: timedelta) -> Invitation:
    if await store.therapist(code) is None:
        raise EnrolmentRefused(f"unknown therapist code {code}", "unknown_therapist",
                               code=code)
    if await _linked(store, await store.therapist_pseudonym(code)):
        raise EnrolmentRefused(f"{code} has linked Telegram already; after a lost phone or "
                               f"a departure use `unbind-therapist --code {code}` first",
                               "therapist_linked", code=code)
    token = new_token()
    revoked = await store.add_invite(token_digest(token), "therapist", code, now,
                                     now + invite_ttl)
    return Invitation(code, token, now + invite_ttl, revoked)


async def _linked(store: EnrolmentRepo, pseudonym: str | None) -> bool:
    """Whether a live account (a pseudonym with a contact) holds the code."""
    return pseudonym is not None and await store.contact(pseudonym) is not None


async def enroll_youth(
    store: PeopleStore, youth: NewYouth, now: datetime, invite_ttl: timedelta
) -> Invitation:
    """Record the youth and return a single-use invite; refuse if the law needs more."""
    if await store.therapist(youth.therapist_code) is None:
        raise EnrolmentRefused(
            f"unknown therapist {youth.therapist_code}; enrol them first with "
            f"`python -m bot enroll-therapist --code {youth.therapist_code}`",
            "unknown_therapist", code=youth.therapist_code)
    problems = enrolment_problems(youth.birth_year, youth.guardian_consent_date, now.date())
    if problems:
        raise EnrolmentRefused("; ".join(problems), "law", detail="; ".join(problems))
    try:
        await store.add_youth(youth, now)
    except AlreadyExists:
        raise EnrolmentRefused(
            f"youth {youth.code} is enrolled already; use `invite --code {youth.code}` "
            "for a new link", "youth_exists", code=youth.code) from None
    return await invite_youth(store, youth.code, now, invite_ttl)


async def invite_youth(
    store: PeopleStore, code: str, now: datetime, invite_ttl: timedelta
) -> Invitation:
    """Issue a fresh single-use invite for an enrolled youth who has not joined yet."""
    youth = await store.youth_by_code(code)
    if youth is None:
        raise EnrolmentRefused(f"unknown youth code {code}", "unknown_youth", code=code)
    if await store.is_erased(code):   # a tombstone: its data is gone, it joins nothing
        raise EnrolmentRefused(f"{code} was erased on request; enrol the youth again under "
                               "a new code if they come back", "youth_erased", code=code)
    if await _linked(store, youth.pseudonym):
        raise EnrolmentRefused(f"{code} has joined already; after a lost phone use "
                               f"`unbind --code {code}` first", "youth_joined", code=code)
    token = new_token()
    expires = now + invite_ttl
    revoked = await store.add_invite(token_digest(token), "youth", code, now, expires)
    return Invitation(code, token, expires, revoked)


def parse_guardian_date(text: str | None,
                        option: str = "--guardian-consent-date") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise EnrolmentRefused(
            f"{option}: {text!r} is not a date like 2026-11-28", "not_a_date", text=text
        ) from None


async def unbind_youth(store: PeopleStore, code: str, now: datetime,
                       invite_ttl: timedelta) -> Invitation:
    """Unlink the youth's Telegram account and issue a fresh invite for the new one."""
    if not await store.unbind_youth(code, now):
        raise EnrolmentRefused(f"{code} is unknown or has no linked account", "not_linked",
                               code=code)
    return await invite_youth(store, code, now, invite_ttl)


async def enroll_unit(store: PeopleStore, code: str, language: Language, now: datetime,
                      invite_ttl: timedelta) -> Invitation:
    """Record a unit and return the invite its 24/7 crisis contact (on-call phone) opens."""
    try:
        await store.add_unit(code, language, now)
    except AlreadyExists:
        raise EnrolmentRefused(f"unit {code} is enrolled already; `invite --unit {code}` "
                               "makes a new link while no phone is linked, `unbind-unit "
                               f"--unit {code}` replaces a linked phone", "unit_exists",
                               code=code) from None
    return await invite_unit(store, code, now, invite_ttl)


async def invite_unit(store: PeopleStore, code: str, now: datetime,
                      invite_ttl: timedelta) -> Invitation:
    """A new link for the unit's phone; a phone still linked is unbound first, explicitly
    (`unbind-unit`), as for youths and therapists: no link silently takes over."""
    unit = await store.unit(code)
    if unit is None:
        raise EnrolmentRefused(f"unknown unit {code}; enrol it with "
                               f"`enroll-unit --unit {code}`", "unknown_unit", unit=code)
    if await _linked(store, unit.pseudonym):
        raise EnrolmentRefused(f"unit {code} has a linked on-call phone; to replace it use "
                               f"`unbind-unit --unit {code}` first", "unit_linked", code=code)
    token = new_token()
    revoked = await store.add_invite(token_digest(token), "unit", code, now, now + invite_ttl)
    return Invitation(code, token, now + invite_ttl, revoked)


async def unbind_therapist(store: PeopleStore, code: str, now: datetime,
                           invite_ttl: timedelta) -> Invitation:
    """Cut a therapist's account off (lost phone, departure) and issue a new invite."""
    if await store.therapist(code) is None:
        raise EnrolmentRefused(f"unknown therapist code {code}", "unknown_therapist",
                               code=code)
    if not await store.unbind_therapist(code, now):
        raise EnrolmentRefused(f"{code} has no linked account", "not_linked", code=code)
    await store.end_console_sessions_of(code, now)   # a console open on the lost phone
    return await invite_therapist(store, code, now, invite_ttl)


async def unbind_unit(store: PeopleStore, code: str, now: datetime,
                      invite_ttl: timedelta) -> Invitation:
    """Cut a unit's on-call phone off and issue the link for the next phone."""
    if await store.unit(code) is None:
        raise EnrolmentRefused(f"unknown unit {code}", "unknown_unit", unit=code)
    if not await store.unbind_unit(code, now):
        raise EnrolmentRefused(f"unit {code} has no linked phone", "not_linked", code=code)
    await store.end_console_sessions_of(f"unit:{code}", now)
    return await invite_unit(store, code, now, invite_ttl)


async def move_youths(store: PeopleStore, from_code: str, to_code: str,
                      now: datetime) -> list[str]:
    """Hand every youth of one therapist to another (a therapist leaving)."""
    if from_code == to_code:
        raise EnrolmentRefused("--from and --to are the same therapist")
    for code in (from_code, to_code):
        if await store.therapist(code) is None:
            raise EnrolmentRefused(f"unknown therapist code {code}")
    moved = await store.move_youths(from_code, to_code, now)
    if not moved:
        raise EnrolmentRefused(f"{from_code} has no youths")
    return moved


async def move_youth(store: PeopleStore, code: str, to_code: str, now: datetime) -> None:
    """Hand one youth to another therapist (sessions already held stay where they were)."""
    youth = await store.youth_by_code(code)
    if youth is None:
        raise EnrolmentRefused(f"unknown youth code {code}", "unknown_youth", code=code)
    if await store.therapist(to_code) is None:
        raise EnrolmentRefused(f"unknown therapist code {to_code}", "unknown_therapist",
                               code=to_code)
    if youth.therapist_code == to_code:
        raise EnrolmentRefused(f"{code} is with {to_code} already", "same_therapist",
                               code=code, therapist=to_code)
    if not await store.move_youth(code, to_code, now):
        raise EnrolmentRefused(f"unknown youth code {code}", "unknown_youth", code=code)


def unit_for_enrolment(unit: str | None, default_unit: str | None) -> str:
    """The unit a new youth gets; none at all is refused: a crisis alert goes to the 24/7
    contact of the youth's unit."""
    chosen = unit or default_unit
    if chosen is None:
        raise EnrolmentRefused("--unit is required (or set units.default_unit): a crisis "
                               "alert goes to the 24/7 contact of the youth's unit",
                               "unit_required")
    return chosen
