"""The kiosk's rules: which channel reaches a youth, what a kiosk code looks like, and
when typing codes locks a tablet or a code. Pure: the clock is passed in, decisions are
returned as data (conversations.kiosk applies them).

Why a kiosk at all: many youths cannot answer in Telegram (no phone in a JJI, phone
rules per treatment plan in JeugdzorgPlus, Telegram's own age limit of 16 in the EU).
They answer on the therapy room's tablet, unlocked with a short one-time code the
therapist gets for them after the session.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from core.consent import DIGITAL_CONSENT_AGE, Scope, ScopeState

CODE_DIGITS = 6                     # short enough to type, 10^6 against guessing
CODE_VALID = timedelta(minutes=30)  # right after the session, in the therapy room
MAX_TRIES = 5                       # wrong codes before a tablet, or a code, locks
DEVICE_LOCK = timedelta(minutes=15)  # a locked tablet opens again by itself after this
IDLE_WIPE = timedelta(seconds=90)   # a kiosk session without a touch ends (and wipes)
KIOSK_PREFIX = "kiosk-"             # a kiosk youth's random pseudonym: no Telegram id hashes to it


class Channel(StrEnum):
    """Where a youth answers: the youth's channel setting, set by the coordinator."""

    TELEGRAM = "telegram"
    KIOSK = "kiosk"
    BOTH = "both"

    @property
    def by_telegram(self) -> bool:
        return self in (Channel.TELEGRAM, Channel.BOTH)

    @property
    def by_kiosk(self) -> bool:
        return self in (Channel.KIOSK, Channel.BOTH)


def parse_channel(text: str) -> Channel | None:
    """The channel a coordinator typed ("kiosk", "Telegram", "beide"), or None."""
    word = text.strip().lower()
    aliases = {"beide": Channel.BOTH, "tablet": Channel.KIOSK}
    if word in aliases:
        return aliases[word]
    return Channel(word) if word in {c.value for c in Channel} else None


def may_be_under_16(birth_year: int, today: date) -> bool:
    """Only the birth year is known: someone born in Y may be 15 during all of Y + 16, so
    a youth counts as possibly under 16 until the year they certainly are 16 (as at
    enrolment, core.consent.enrolment_problems)."""
    return today.year - birth_year - 1 < DIGITAL_CONSENT_AGE


def default_channel(birth_year: int, today: date, *, telegram_linked: bool,
                    on_kiosk_before: bool) -> Channel:
    """The channel while no coordinator chose one (they can, any time: set-channel).

    A youth whose Telegram is linked answers there: somebody gave them an invite and
    they used it. A youth without it answers on the kiosk while they may be under 16
    (Telegram's terms ask for 16 in the EU), and stays there once they started on it
    (turning 16 does not silently take the kiosk away). Anyone else waits for their
    invite, as before the kiosk existed."""
    if telegram_linked:
        return Channel.TELEGRAM
    if on_kiosk_before or may_be_under_16(birth_year, today):
        return Channel.KIOSK
    return Channel.TELEGRAM


@dataclass(frozen=True)
class ChannelFacts:
    """What a youth's channel is decided from, as stored: the coordinator's newest choice
    (None while they made none) and what the default depends on."""

    chosen: Channel | None
    birth_year: int
    telegram_linked: bool
    on_kiosk_before: bool


def current_channel(facts: ChannelFacts, today: date) -> Channel:
    """The youth's channel now: the coordinator's newest choice, else the default. One
    rule for the check-in's sender and for the planner, so both see the same channel."""
    if facts.chosen is not None:
        return facts.chosen
    return default_channel(facts.birth_year, today, telegram_linked=facts.telegram_linked,
                           on_kiosk_before=facts.on_kiosk_before)


_NOT_DIGITS = re.compile(r"[\s\-.]")


def normalise_code(typed: str) -> str | None:
    """The code as stored, from what was typed ("482 193", "482-193"); None if it
    cannot be a code (then it is not counted as a wrong try: a typo of length is not a
    guess)."""
    digits = _NOT_DIGITS.sub("", typed)
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def shown_code(code: str) -> str:
    """The code as a therapist reads it aloud: two groups of three ("482 193")."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"


_CODE_DOMAIN = b"vakbot/kiosk-code/v1:"


def code_digest(key: bytes, code: str) -> str:
    """How a code is stored and found: keyed (HMAC-SHA256 under the pseudonym key, which
    lives outside the database), because a plain hash of a six-digit code is reversed by
    trying all of them."""
    return hmac.new(key, _CODE_DOMAIN + code.encode(), hashlib.sha256).hexdigest()


# -- typing a code on a tablet ---------------------------------------------------------------

@dataclass(frozen=True)
class DeviceState:
    """A registered tablet: wrong codes typed since the last right one, and its lock."""

    failures: int
    locked_at: datetime | None
    retired: bool = False


@dataclass(frozen=True)
class CodeState:
    """A kiosk code that matched what was typed."""

    expires_at: datetime
    used: bool
    failures: int      # wrong codes typed on the unit's tablets while this one was live


class Refusal(StrEnum):
    UNKNOWN_DEVICE = "unknown_device"   # not a registered tablet (or retired)
    DEVICE_LOCKED = "device_locked"     # too many wrong codes on this tablet
    MALFORMED = "malformed"             # not six digits: not counted
    WRONG = "wrong"                     # no live code matches: counted
    EXPIRED = "expired"                 # the code matched but its time is over
    USED = "used"                       # the code matched but was used already
    CODE_LOCKED = "code_locked"         # the code matched but too many wrong tries


@dataclass(frozen=True)
class Accept:
    """Open the check-in of this code on this tablet; the tablet's count starts over."""


@dataclass(frozen=True)
class Refuse:
    """Refuse the code. `counts`: store `device_failures` as the tablet's count, lock it
    when `locks_device`, and count one more wrong try for every code live on the unit."""

    reason: Refusal
    counts: bool = False
    device_failures: int = 0
    locks_device: bool = False


EntryDecision = Accept | Refuse


def device_locked(device: DeviceState, now: datetime) -> bool:
    """A tablet locked by wrong codes opens again after DEVICE_LOCK (or when a
    coordinator unlocks it)."""
    return device.locked_at is not None and now < device.locked_at + DEVICE_LOCK


def decide_entry(device: DeviceState | None, typed: str, code: CodeState | None,
                 now: datetime) -> EntryDecision:
    """What typing `typed` on a tablet does. `code` is the live or spent code whose
    digest matched, None when none did.

    A wrong code counts against the tablet and against every code live on the unit's
    tablets, so neither moving to another tablet nor waiting out a tablet's lock gives a
    guesser more than MAX_TRIES per code. A right code that is locked, used or expired
    is refused without counting: the youth typed what the therapist gave them."""
    if device is None or device.retired:
        return Refuse(Refusal.UNKNOWN_DEVICE)
    if device_locked(device, now):
        return Refuse(Refusal.DEVICE_LOCKED)
    if normalise_code(typed) is None:
        return Refuse(Refusal.MALFORMED)
    if code is None:
        # After a lock ran out the tablet starts counting again from nothing.
        failures = (0 if device.locked_at is not None else device.failures) + 1
        return Refuse(Refusal.WRONG, counts=True, device_failures=failures,
                      locks_device=failures >= MAX_TRIES)
    if code.used:
        return Refuse(Refusal.USED)
    if code.failures >= MAX_TRIES:
        return Refuse(Refusal.CODE_LOCKED)
    if now >= code.expires_at:
        return Refuse(Refusal.EXPIRED)
    return Accept()


def idle_over(last_touch: datetime, now: datetime) -> bool:
    """A kiosk session ends after IDLE_WIPE without a touch: a shared tablet in a
    therapy room must not show a youth's answers to the next person."""
    return now - last_touch >= IDLE_WIPE


# -- consent on the kiosk --------------------------------------------------------------------

def consent_to_ask(states: dict[Scope, ScopeState]) -> Scope | None:
    """The consent text the kiosk shows before the questions, one at a time: taking
    part when never answered or answered to an older text, then sharing with the
    therapist the same way. None: the questions may start. Research stays opt-in and is
    never put on the kiosk."""
    participation = states["participation"]
    if participation in (ScopeState.NOT_ASKED, ScopeState.OUTDATED):
        return "participation"
    if participation is ScopeState.DECLINED:
        return None
    if states["sharing"] in (ScopeState.NOT_ASKED, ScopeState.OUTDATED):
        return "sharing"
    return None


def kiosk_may_offer(participation: ScopeState) -> bool:
    """Whether a kiosk code is made for a session: not when the youth said no to taking
    part (or withdrew); yes when they agreed, or were never asked (the kiosk asks)."""
    return participation is not ScopeState.DECLINED
