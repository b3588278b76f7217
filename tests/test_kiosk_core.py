"""The kiosk's pure rules, table-driven: channel default, codes, lockout, idle, consent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from core.consent import ScopeState
from core.kiosk import (
    DEVICE_LOCK,
    IDLE_WIPE,
    MAX_TRIES,
    Accept,
    Channel,
    CodeState,
    DeviceState,
    Refusal,
    Refuse,
    code_digest,
    consent_to_ask,
    decide_entry,
    default_channel,
    idle_over,
    kiosk_may_offer,
    normalise_code,
    parse_channel,
    shown_code,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)
LINKED, NOT_LINKED = True, False
STARTED_ON_KIOSK, NEVER_ON_KIOSK = True, False


@pytest.mark.parametrize(("birth_year", "linked", "on_kiosk", "expected"), [
    (2013, NOT_LINKED, NEVER_ON_KIOSK, Channel.KIOSK),      # 12 or 13
    (2010, NOT_LINKED, NEVER_ON_KIOSK, Channel.KIOSK),      # 15 or 16: may be under 16
    (2009, NOT_LINKED, NEVER_ON_KIOSK, Channel.TELEGRAM),   # certainly 16: waits for invite
    (2013, LINKED, NEVER_ON_KIOSK, Channel.TELEGRAM),       # linked Telegram: answers there
    (2009, NOT_LINKED, STARTED_ON_KIOSK, Channel.KIOSK),    # turned 16 on the kiosk: stays
    (2004, LINKED, STARTED_ON_KIOSK, Channel.TELEGRAM),
])
def test_default_channel(birth_year: int, linked: bool, on_kiosk: bool,
                         expected: Channel) -> None:
    assert default_channel(birth_year, TODAY, telegram_linked=linked,
                           on_kiosk_before=on_kiosk) is expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("kiosk", Channel.KIOSK), (" Telegram ", Channel.TELEGRAM), ("both", Channel.BOTH),
    ("beide", Channel.BOTH), ("tablet", Channel.KIOSK), ("sms", None), ("", None),
])
def test_parse_channel(typed: str, expected: Channel | None) -> None:
    assert parse_channel(typed) is expected


@pytest.mark.parametrize(("channel", "by_telegram", "by_kiosk"), [
    (Channel.TELEGRAM, True, False), (Channel.KIOSK, False, True), (Channel.BOTH, True, True),
])
def test_what_a_channel_reaches(channel: Channel, by_telegram: bool, by_kiosk: bool) -> None:
    assert (channel.by_telegram, channel.by_kiosk) == (by_telegram, by_kiosk)


@pytest.mark.parametrize(("typed", "expected"), [
    ("482193", "482193"), ("482 193", "482193"), ("482-193", "482193"), (" 482.193 ", "482193"),
    ("48219", None), ("4821934", None), ("48219a", None), ("٤٨٢١٩٣", None), ("", None),
])
def test_normalise_code(typed: str, expected: str | None) -> None:
    assert normalise_code(typed) == expected


def test_shown_code_and_keyed_digest() -> None:
    assert shown_code("482193") == "482 193"
    one, other = code_digest(b"k" * 32, "482193"), code_digest(b"j" * 32, "482193")
    assert one != other != code_digest(b"k" * 32, "482194")   # keyed, and per code
    assert "482193" not in one


FRESH = DeviceState(failures=0, locked_at=None)
LIVE = CodeState(expires_at=NOW + timedelta(minutes=10), used=False, failures=0)


@pytest.mark.parametrize(("device", "typed", "code", "expected"), [
    (FRESH, "482193", LIVE, Accept()),
    (None, "482193", LIVE, Refuse(Refusal.UNKNOWN_DEVICE)),
    (DeviceState(0, None, retired=True), "482193", LIVE, Refuse(Refusal.UNKNOWN_DEVICE)),
    (FRESH, "4821", None, Refuse(Refusal.MALFORMED)),                 # not counted
    (FRESH, "111111", None, Refuse(Refusal.WRONG, counts=True, device_failures=1)),
    (DeviceState(MAX_TRIES - 2, None), "111111", None,
     Refuse(Refusal.WRONG, counts=True, device_failures=MAX_TRIES - 1)),
    (DeviceState(MAX_TRIES - 1, None), "111111", None,               # the fifth: locks
     Refuse(Refusal.WRONG, counts=True, device_failures=MAX_TRIES, locks_device=True)),
    (DeviceState(MAX_TRIES, NOW - timedelta(minutes=1)), "482193", LIVE,
     Refuse(Refusal.DEVICE_LOCKED)),                                 # even the right code
    (DeviceState(MAX_TRIES, NOW - DEVICE_LOCK), "111111", None,      # lock over: from 1
     Refuse(Refusal.WRONG, counts=True, device_failures=1)),
    (DeviceState(MAX_TRIES, NOW - DEVICE_LOCK), "482193", LIVE, Accept()),
    (FRESH, "482193", CodeState(NOW + timedelta(minutes=1), used=True, failures=0),
     Refuse(Refusal.USED)),
    (FRESH, "482193", CodeState(NOW, used=False, failures=0), Refuse(Refusal.EXPIRED)),
    (FRESH, "482193", CodeState(NOW + timedelta(minutes=1), used=False, failures=MAX_TRIES),
     Refuse(Refusal.CODE_LOCKED)),                                   # guessed at: locked
    (FRESH, "482193", CodeState(NOW + timedelta(minutes=1), used=False,
                                failures=MAX_TRIES - 1), Accept()),
])
def test_decide_entry(device: DeviceState | None, typed: str, code: CodeState | None,
                      expected: object) -> None:
    assert decide_entry(device, typed, code, NOW) == expected


@pytest.mark.parametrize(("untouched", "over"), [
    (timedelta(0), False), (IDLE_WIPE - timedelta(seconds=1), False), (IDLE_WIPE, True),
    (timedelta(hours=1), True),
])
def test_idle_wipe_after_90_seconds(untouched: timedelta, over: bool) -> None:
    assert timedelta(seconds=90) == IDLE_WIPE
    assert idle_over(NOW - untouched, NOW) is over


NEW, YES, OLD, NO = (ScopeState.NOT_ASKED, ScopeState.AGREED, ScopeState.OUTDATED,
              ScopeState.DECLINED)


@pytest.mark.parametrize(("participation", "sharing", "asked"), [
    (NEW, NEW, "participation"), (OLD, YES, "participation"), (YES, NEW, "sharing"),
    (YES, OLD, "sharing"), (OLD, NEW, "participation"), (YES, YES, None), (YES, NO, None),
    (NO, NEW, None), (NO, YES, None),
])
def test_consent_on_the_kiosk(participation: ScopeState, sharing: ScopeState,
                              asked: str | None) -> None:
    states = {"participation": participation, "sharing": sharing, "research": NEW}
    assert consent_to_ask(states) == asked   # type: ignore[arg-type]


@pytest.mark.parametrize(("participation", "offered"), [(NEW, True), (YES, True),
                                                        (OLD, True), (NO, False)])
def test_a_code_is_made_unless_the_youth_said_no(participation: ScopeState,
                                                 offered: bool) -> None:
    assert kiosk_may_offer(participation) is offered
