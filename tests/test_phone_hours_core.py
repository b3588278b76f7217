"""core.delivery.phone_hours and core.kiosk.current_channel: which phone windows hold a
youth's messages, by channel, and which channel a youth is on. Table-driven."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.delivery import PhoneHours, Reachability, Window, phone_hours, plan_for
from core.kiosk import Channel, ChannelFacts, current_channel
from core.schedule import Occurrence, Series, Timing

OWN = (Window(frozenset({0}), time(18, 0), time(19, 0)),)
UNIT = (Window(frozenset({2}), time(19, 0), time(19, 20)),)
ANY_HOUR: tuple[Window, ...] = ()


@pytest.mark.parametrize(("channel", "own", "unit", "expected"), [
    # Telegram: everything waits for the phone, the youth's own windows first.
    (Channel.TELEGRAM, OWN, UNIT, PhoneHours(OWN, OWN)),
    (Channel.TELEGRAM, ANY_HOUR, UNIT, PhoneHours(UNIT, UNIT)),
    (Channel.TELEGRAM, ANY_HOUR, ANY_HOUR, PhoneHours(ANY_HOUR, ANY_HOUR)),
    # Kiosk: the code comes right after the session; nothing goes to a phone.
    (Channel.KIOSK, OWN, UNIT, PhoneHours(ANY_HOUR, ANY_HOUR)),
    (Channel.KIOSK, ANY_HOUR, UNIT, PhoneHours(ANY_HOUR, ANY_HOUR)),
    # Both: the check-in (its kiosk code) right after; the phone part in phone time.
    (Channel.BOTH, OWN, UNIT, PhoneHours(ANY_HOUR, OWN)),
    (Channel.BOTH, ANY_HOUR, UNIT, PhoneHours(ANY_HOUR, UNIT)),
    (Channel.BOTH, ANY_HOUR, ANY_HOUR, PhoneHours(ANY_HOUR, ANY_HOUR)),
])
def test_phone_hours_by_channel(channel: Channel, own: tuple[Window, ...],
                                unit: tuple[Window, ...], expected: PhoneHours) -> None:
    assert phone_hours(channel, own, unit) == expected


TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(("facts", "expected"), [
    (ChannelFacts(Channel.BOTH, 2013, telegram_linked=False, on_kiosk_before=False),
     Channel.BOTH),                                   # a coordinator's choice wins
    (ChannelFacts(Channel.TELEGRAM, 2005, telegram_linked=False, on_kiosk_before=True),
     Channel.TELEGRAM),
    (ChannelFacts(None, 2013, telegram_linked=False, on_kiosk_before=False),
     Channel.KIOSK),                                  # may be under 16: the kiosk
    (ChannelFacts(None, 2013, telegram_linked=True, on_kiosk_before=False),
     Channel.TELEGRAM),                               # linked: Telegram
    (ChannelFacts(None, 2005, telegram_linked=False, on_kiosk_before=True),
     Channel.KIOSK),                                  # started on the kiosk: stays
    (ChannelFacts(None, 2005, telegram_linked=False, on_kiosk_before=False),
     Channel.TELEGRAM),
])
def test_current_channel(facts: ChannelFacts, expected: Channel) -> None:
    assert current_channel(facts, TODAY) == expected


@pytest.mark.parametrize(("expiry_hours", "reminder_at"), [
    (72, datetime(2026, 11, 25, 18, 0, tzinfo=UTC)),   # Wednesday 19:00 local
    (48, None),                                        # Wednesday evening is too late
])
def test_a_reminder_on_both_channels_waits_for_phone_time(
        expiry_hours: int, reminder_at: datetime | None) -> None:
    """The check-in of a youth on both goes right after the session; its reminder (to
    the phone only) waits for the phone window, and is dropped when that is too late."""
    timing = Timing(timedelta(minutes=15), timedelta(hours=3), timedelta(hours=expiry_hours))
    series = Series(1, ("J-103",), "T-02", "music", frozenset({0}), time(14, 0),
                    timedelta(hours=1), "Europe/Amsterdam", date(2026, 11, 23), None, False,
                    timing)
    start = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)        # Monday 14:00 local
    occ = Occurrence("s1:2026-11-23", series, start, start + timedelta(hours=1))
    hours = phone_hours(Channel.BOTH, (), UNIT)
    rules = Reachability("Europe/Amsterdam", hours.checkin, time(21, 30), time(8, 0))
    phone = Reachability("Europe/Amsterdam", hours.telegram, time(21, 30), time(8, 0))
    checkin, *reminders = plan_for(occ, "J-103", rules, phone)
    assert checkin.due_at == datetime(2026, 11, 23, 14, 15, tzinfo=UTC) and not checkin.missed
    assert [r.due_at for r in reminders] == ([reminder_at] if reminder_at else [])
