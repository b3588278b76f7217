"""The kiosk's staff side, free of the web: a youth's channel setting, the one-time codes
that open a check-in on a tablet, and the tablets themselves.

The tablet's own side (a code entered, one question per screen) is conversations.kiosk.
Codes are stored as an HMAC under the pseudonym key (core.kiosk.code_digest); only the
therapist who gives one sees it in plain digits.
"""


import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from conversations import consent, usecases
from conversations.services import Services
from core import flow
from core.crisis_route import unit_of
from core.identity import token_digest
from core.kiosk import (
    CODE_DIGITS,
    CODE_VALID,
    KIOSK_PREFIX,
    Channel,
    ChannelFacts,
    code_digest,
    current_channel,
    kiosk_may_offer,
    may_be_under_16,
    parse_channel,
    shown_code,
)
from core.questionnaire import Discipline, Language
from core.records import ChannelChange, Checkin, NewKioskCode, Youth
from core.texts import say

log = logging.getLogger(__name__)


# -- the channel setting ------------------------------------------------------------------

async def channel_of(services: Services, youth: Youth) -> Channel:
    """The youth's channel: the coordinator's newest choice, or the default while they
    made none; the planner's rule (core.kiosk.current_channel) on the same stored facts."""
    facts = (await services.store.channel_facts([youth.code])).get(youth.code)
    today = services.clock().astimezone(services.zone).date()
    if facts is None:   # erased between the lookup and now: the default of a stranger
        facts = ChannelFacts(None, youth.birth_year, telegram_linked=False,
                             on_kiosk_before=False)
    return current_channel(facts, today)


class ChannelRefused(Exception):
    """The channel cannot be set; the message says why, for the coordinator."""


@dataclass(frozen=True)
class ChannelSet:
    before: Channel
    after: Channel
    notes: tuple[str, ...]   # what the coordinator should know (English, for staff)

    @property
    def changed(self) -> bool:
        return self.before is not self.after


async def set_channel(services: Services, code: str, typed: str, actor: str) -> ChannelSet:
    """A coordinator sets where the youth answers. Every change is a row of its own and
    an audit entry; the answers given so far stay theirs whatever the channel."""
    youth = await services.store.youth_by_code(code)
    if youth is None or await services.store.is_erased(code):
        raise ChannelRefused(f"unknown youth code {code}")
    channel = parse_channel(typed)
    if channel is None:
        raise ChannelRefused(f"{typed!r} is not a channel: use telegram, kiosk or both")
    before = await channel_of(services, youth)
    notes: list[str] = []
    today = services.clock().astimezone(services.zone).date()
    if channel.by_telegram and may_be_under_16(youth.birth_year, today):
        notes.append(f"{code} may be under 16 (born {youth.birth_year}); Telegram's terms "
                     "ask for 16 in the EU")
    if channel.by_telegram and (youth.pseudonym is None
                                or await services.store.contact(youth.pseudonym) is None):
        notes.append(f"{code} has no linked Telegram account: give them an invite link "
                     f"(invite --code {code}); until then the check-in reaches them "
                     + ("on the kiosk" if channel.by_kiosk else "nowhere"))
    if channel is before:
        return ChannelSet(before, channel, tuple(notes))
    await services.store.add_channel_change(
        code, ChannelChange(channel, services.clock(), actor, f"was {before.value}"))
    await services.audit(actor, "channel", code, f"{before.value} -> {channel.value}")
    if channel.by_kiosk:
        await kiosk_identity(services, youth)
    return ChannelSet(before, channel, tuple(notes))


async def kiosk_identity(services: Services, youth: Youth) -> Youth:
    """A youth who never linked Telegram gets a random pseudonym, so their check-ins,
    consents and history hang on it as on a Telegram pseudonym. Random tokens are
    pseudonyms nobody can recompute; linking Telegram later moves everything to the
    Telegram pseudonym (storage: bind_youth), so nothing is lost either way."""
    if youth.pseudonym is not None:
        return youth
    await services.store.set_youth_pseudonym(youth.code,
                                             f"{KIOSK_PREFIX}{secrets.token_hex(24)}")
    found = await services.store.youth_by_code(youth.code)
    assert found is not None
    return found


# -- the check-in as a code ---------------------------------------------------------------

async def ready_for_kiosk(services: Services, code: str) -> Youth:
    """The youth, if a kiosk code may be made for their session; otherwise raise
    usecases.CheckinNotPossible with the reason. Consent is asked on the tablet the first
    time, so only a "no" (or a withdrawal) stops it."""
    youth = await services.store.youth_by_code(code)
    if youth is None:
        raise usecases.CheckinNotPossible(f"unknown youth code {code}")
    if youth.paused:
        raise usecases.CheckinNotPossible(f"{code} paused messages with /stop")
    youth = await kiosk_identity(services, youth)
    assert youth.pseudonym is not None
    states = await consent.states_of(services, youth.pseudonym)
    if not kiosk_may_offer(states["participation"]):
        raise usecases.CheckinNotPossible(
            f"{code} does not take part (consent declined or withdrawn)")
    return youth


async def open_for_kiosk(services: Services, youth: Youth, occurrence_key: str,
                         discipline: Discipline | None, expires_at: datetime,
                         session_end: datetime | None) -> Checkin | None:
    """The session's check-in (the same one Telegram would ask), or None when a code was
    made for it before: offering twice for one session is never right."""
    checkin = await usecases.session_checkin(services, youth, occurrence_key, discipline,
                                             expires_at, session_end)
    if await services.store.kiosk_codes_of_checkin(checkin.id):
        return None
    return checkin


@dataclass(frozen=True)
class IssuedCode:
    id: int
    code: str
    youth_code: str
    therapist_code: str
    expires_at: datetime


async def issue_code(services: Services, checkin_id: int) -> IssuedCode | None:
    """A new code for a check-in (an earlier live one ends); None when the check-in is
    gone, over, or its youth unknown."""
    checkin = await services.store.checkin_by_id(checkin_id)
    if checkin is None:
        return None
    youth = await services.store.youth_by_pseudonym(checkin.youth_pseudonym)
    now = services.clock()
    if youth is None or checkin.status is not flow.Status.OPEN or checkin.expires_at <= now:
        return None
    unit = unit_of(await services.store.youth_unit(youth.code), services.default_unit)
    expires = min(now + CODE_VALID, checkin.expires_at)
    for _ in range(50):    # a clash with a live code of the unit is rare: draw again
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        code_id = await services.store.add_kiosk_code(NewKioskCode(
            code_digest(services.pseudonym_key, code), services.cipher.seal_text(code),
            checkin.id, youth.code, youth.therapist_code, unit, now, expires))
        if code_id is not None:
            await services.audit("kiosk", "code-issued", youth.code, checkin.occurrence_key)
            return IssuedCode(code_id, code, youth.code, youth.therapist_code, expires)
    raise RuntimeError("no free kiosk code after 50 draws")


def code_notice(services: Services, issued: IssuedCode, lang: Language) -> str:
    """The therapist's message: which youth, the code, until when (codes only, no names)."""
    until = issued.expires_at.astimezone(services.zone).strftime("%H:%M")
    return say(lang, "kiosk.therapist_code", code=issued.youth_code,
               kiosk_code=shown_code(issued.code), until=until)


@dataclass(frozen=True)
class LiveCode:
    youth_code: str
    code: str          # as shown: "482 193"
    expires_at: datetime


async def live_codes(services: Services, therapist_code: str | None) -> list[LiveCode]:
    """The codes a therapist can still give (for the console); spent ones are forgotten."""
    now = services.clock()
    await services.store.drop_spent_kiosk_codes(now)
    found = []
    for code in await services.store.live_kiosk_codes(therapist_code, now):
        if code.code_enc is not None:
            found.append(LiveCode(code.youth_code,
                                  shown_code(services.cipher.open_text(code.code_enc)),
                                  code.state.expires_at))
    return found


# -- the tablet -----------------------------------------------------------------------------

async def register_device(services: Services, unit_code: str, label: str,
                          actor: str) -> str:
    """Register a tablet for a unit; return the device token for its cookie (only its
    digest is stored)."""
    if await services.store.unit(unit_code) is None:
        raise ChannelRefused(f"unknown unit {unit_code}")
    token = secrets.token_urlsafe(32)
    device_id = await services.store.add_kiosk_device(token_digest(token), unit_code, label,
                                                      actor, services.clock())
    await services.audit(actor, "kiosk-device", "", f"tablet {device_id} for unit {unit_code}")
    return token


# -- for staff: codes to give again, tablets ------------------------------------------------

@dataclass(frozen=True)
class Reissuable:
    """A kiosk check-in still open whose code was used up, locked or ran out."""

    youth_code: str
    checkin_id: int


async def reissuable(services: Services, therapist_code: str | None) -> list[Reissuable]:
    """Open kiosk check-ins without a live code: the therapist can give a new code
    (after a code locked by wrong tries, or one that ran out before the tablet was free)."""
    store, now = services.store, services.clock()
    youths = (await store.youths_of(therapist_code) if therapist_code
              else await store.active_youths())
    live = {c.checkin_id for c in await store.live_kiosk_codes(therapist_code, now)}
    found = []
    for youth in youths:
        if youth.pseudonym is None or not (await channel_of(services, youth)).by_kiosk:
            continue
        checkin = await store.open_checkin(youth.pseudonym, now)
        if checkin is None or checkin.id in live or checkin.status is not flow.Status.OPEN:
            continue
        if await store.kiosk_codes_of_checkin(checkin.id):
            found.append(Reissuable(youth.code, checkin.id))
    return found


async def new_code(services: Services, youth_code: str, therapist_code: str | None,
                   actor: str) -> IssuedCode | None:
    """A new code for the youth's open kiosk check-in, asked by their therapist (or a
    coordinator: `therapist_code` None); None when there is nothing to give a code for."""
    for item in await reissuable(services, therapist_code):
        if item.youth_code == youth_code:
            issued = await issue_code(services, item.checkin_id)
            if issued is not None:
                await services.audit(actor, "code-reissued", youth_code)
            return issued
    return None


async def set_device_state(services: Services, device_id: int, action: str,
                           actor: str) -> bool:
    """A coordinator unlocks a tablet locked by wrong codes, or retires one (lost,
    replaced): its cookie then opens nothing."""
    store = services.store
    done = (await store.unlock_kiosk_device(device_id) if action == "unlock"
            else await store.retire_kiosk_device(device_id, services.clock())
            if action == "retire" else False)
    if done:
        await services.audit(actor, f"kiosk-device-{action}", "", f"tablet {device_id}")
    return done
