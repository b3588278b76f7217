"""The storage contract, the web console and the kiosk: single-use sign-in links,
server-side sessions, button bindings, "not now" at the invite, tablets, one-time codes
and kiosk sessions."""

from __future__ import annotations

from datetime import timedelta

from core.kiosk import Channel, DeviceState
from core.records import ChannelChange, ConsoleGrant, KioskDevice, NewCheckin, NewKioskCode
from storage.ports import Store
from tests.contract_support import CONSENT, DAY, HOUR, NOW, bound_youth, youth
from tests.storage_backends import StoreContract

MINUTE = timedelta(minutes=1)
GRANT = ConsoleGrant("coordinator:ab12", ("coordinator", "therapist"), "T-02", None, "nl")
UNIT_GRANT = ConsoleGrant("unit:W-1", ("unit",), None, "W-1", "en")


class TestConsole(StoreContract):
    async def test_a_sign_in_link_works_once(self, store: Store) -> None:
        await store.add_console_link("link-1", GRANT, NOW, NOW + 15 * MINUTE)
        await store.add_console_link("link-2", UNIT_GRANT, NOW, NOW + 15 * MINUTE)
        first = await store.redeem_console_link("link-1", NOW + MINUTE)
        assert (first.result, first.grant) == ("ok", GRANT)
        again = await store.redeem_console_link("link-1", NOW + 2 * MINUTE)
        assert (again.result, again.grant) == ("used", None)
        late = await store.redeem_console_link("link-2", NOW + 15 * MINUTE)
        assert (late.result, late.grant) == ("expired", None)
        unknown = await store.redeem_console_link("link-9", NOW)
        assert (unknown.result, unknown.grant) == ("unknown", None)

    async def test_sessions_are_kept_touched_and_ended_on_the_server(
            self, store: Store) -> None:
        assert await store.console_session("s-1") is None
        await store.add_console_session("s-1", GRANT, "csrf-1", NOW)
        await store.add_console_session("s-2", GRANT, "csrf-2", NOW)
        await store.add_console_session("s-3", UNIT_GRANT, "csrf-3", NOW)
        session = await store.console_session("s-1")
        assert session is not None
        assert (session.grant, session.csrf, session.created_at, session.last_seen,
                session.ended_at) == (GRANT, "csrf-1", NOW, NOW, None)
        await store.touch_console_session("s-1", NOW + MINUTE)
        await store.set_console_language("s-1", "en")
        touched = await store.console_session("s-1")
        assert touched is not None
        assert (touched.last_seen, touched.grant.language, touched.created_at) == (
            NOW + MINUTE, "en", NOW)
        assert await store.end_console_session("s-1", NOW + HOUR)
        assert not await store.end_console_session("s-1", NOW + 2 * HOUR), "once"
        assert not await store.end_console_session("s-9", NOW)
        await store.touch_console_session("s-1", NOW + 3 * HOUR)
        ended = await store.console_session("s-1")
        assert ended is not None
        assert (ended.ended_at, ended.last_seen) == (NOW + HOUR, NOW + MINUTE)
        assert await store.end_console_sessions_of("coordinator:ab12", NOW + HOUR) == 1
        assert await store.end_console_sessions_of("coordinator:ab12", NOW + HOUR) == 0
        other = await store.console_session("s-3")
        assert other is not None and other.ended_at is None, "another actor's stays"
        two = await store.console_session("s-2")
        assert two is not None and two.ended_at == NOW + HOUR


class TestButtons(StoreContract):
    async def test_buttons_belong_to_one_message(self, store: Store) -> None:
        await store.bind_buttons("nonce-01", 7, NOW)
        assert await store.buttons_on("nonce-01", 7)
        assert not await store.buttons_on("nonce-01", 8)
        assert not await store.buttons_on("unknown1", 7)
        await store.bind_buttons("nonce-02", None, NOW)      # timed out: id unknown
        assert await store.buttons_on("nonce-02", 9)         # the first tap binds it
        assert not await store.buttons_on("nonce-02", 10)
        assert await store.buttons_on("nonce-02", 9)
        await store.bind_buttons("nonce-01", 8, NOW)         # a known binding never moves
        assert await store.buttons_on("nonce-01", 7)
        await store.bind_buttons("nonce-03", None, NOW)
        await store.bind_buttons("nonce-03", 11, NOW)        # the id learnt later
        assert await store.buttons_on("nonce-03", 11)
        assert not await store.buttons_on("nonce-03", 12)

    async def test_a_not_now_at_the_invite_is_kept_by_code(self, store: Store) -> None:
        await youth(store, "J-015")
        assert await store.codes_declined_at_invite() == frozenset()
        await store.record_invite_decline("J-015", CONSENT, NOW)
        await store.record_invite_decline("J-015", CONSENT, NOW + HOUR)
        assert await store.codes_declined_at_invite() == frozenset({"J-015"})
        await bound_youth(store, "J-016")
        await store.record_invite_decline("J-016", CONSENT, NOW)  # joined anyway: not shown
        assert await store.codes_declined_at_invite() == frozenset({"J-015"})
        await store.add_invite("d2", "youth", "J-015", NOW, NOW + DAY)
        await store.bind_youth("d2", "p15", b"x", CONSENT, NOW + 2 * HOUR)
        assert await store.codes_declined_at_invite() == frozenset()


class TestKiosk(StoreContract):
    async def _kiosk_youth(self, store: Store) -> int:
        """J-103 on the kiosk, with an open check-in; its id."""
        await youth(store, "J-103", birth_year=2013)
        assert await store.set_youth_pseudonym("J-103", "kiosk-abc")
        checkin = await store.create_checkin(NewCheckin(
            "r" * 16, "kiosk-abc", "s1", None, "alliance-2", False, NOW, NOW + 2 * HOUR))
        return checkin.id

    def _code(self, checkin_id: int, digest: str, unit: str | None = "W-1",
              therapist: str = "T-02", at: timedelta = timedelta(0)) -> NewKioskCode:
        return NewKioskCode(digest, f"sealed-{digest}".encode(), checkin_id, "J-103",
                            therapist, unit, NOW + at, NOW + at + 30 * MINUTE)

    async def test_channel_history_in_order_and_a_pseudonym_given_once(
            self, store: Store) -> None:
        await youth(store, "J-103")
        assert await store.channel_history("J-103") == []
        changes = [ChannelChange(Channel.KIOSK, NOW, "coordinator:x", ""),
                   ChannelChange(Channel.BOTH, NOW + MINUTE, "coordinator:y", "phone back")]
        for change in changes:
            await store.add_channel_change("J-103", change)
        assert await store.channel_history("J-103") == changes
        assert await store.channel_history("J-104") == []
        assert await store.set_youth_pseudonym("J-103", "kiosk-abc")
        assert not await store.set_youth_pseudonym("J-103", "kiosk-def"), "kept once given"
        assert not await store.set_youth_pseudonym("J-404", "kiosk-ghi")
        found = await store.youth_by_pseudonym("kiosk-abc")
        assert found is not None and found.code == "J-103"
        await bound_youth(store, "J-105", "p5")
        assert not await store.set_youth_pseudonym("J-105", "kiosk-x"), "has an account"

    async def test_tablets_are_registered_locked_unlocked_and_retired(
            self, store: Store) -> None:
        assert await store.kiosk_devices() == []
        second = await store.add_kiosk_device("t2", "W-2", "", "coordinator:x", NOW)
        first = await store.add_kiosk_device("t1", "W-1", "room 3", "coordinator:x", NOW)
        assert first != second
        assert await store.kiosk_device("t1") == KioskDevice(first, "W-1", "room 3",
                                                             DeviceState(0, None, False))
        assert await store.kiosk_device("t9") is None
        assert [d.id for d in await store.kiosk_devices()] == [first, second], "by unit"
        await store.kiosk_wrong_try(first, 5, True, "W-1", NOW)
        locked = await store.kiosk_device("t1")
        assert locked is not None and locked.state == DeviceState(5, NOW, False)
        assert await store.unlock_kiosk_device(first)
        assert not await store.unlock_kiosk_device(first + second + 100)
        unlocked = await store.kiosk_device("t1")
        assert unlocked is not None and unlocked.state == DeviceState(0, None, False)
        assert await store.retire_kiosk_device(second, NOW)
        assert not await store.retire_kiosk_device(second, NOW), "once"
        assert [d.id for d in await store.kiosk_devices()] == [first]
        retired = await store.kiosk_device("t2")
        assert retired is not None and retired.state.retired

    async def test_codes_devices_and_sessions(self, store: Store) -> None:
        """A digest clash refused, a code used once, wrong tries counted on the tablet and
        on the unit's live codes only, a session touched and ended."""
        await bound_youth(store)
        checkin_id = await self._kiosk_youth(store)
        checkin = await store.checkin_by_id(checkin_id)
        assert checkin is not None and checkin.youth_pseudonym == "kiosk-abc"
        first = await store.add_kiosk_code(self._code(checkin_id, "d1"))
        assert first is not None
        assert await store.add_kiosk_code(self._code(checkin_id, "d1")) is None, "clash"
        assert await store.add_kiosk_code(self._code(checkin_id, "d1", unit=None)) is None
        [live] = await store.kiosk_codes_of_checkin(checkin_id)
        assert (live.id, live.checkin_id, live.youth_code, live.therapist_code,
                live.unit_code, live.code_enc, live.created_at, live.state.expires_at,
                live.state.used, live.state.failures) == (
            first, checkin_id, "J-103", "T-02", "W-1", b"sealed-d1", NOW,
            NOW + 30 * MINUTE, False, 0)
        device = await store.add_kiosk_device("t1", "W-1", "room", "coordinator:x", NOW)
        other_unit = await store.add_kiosk_device("t2", "W-2", "", "coordinator:x", NOW)
        assert await store.kiosk_code_by_digest("d1", "W-2") is None, "another unit's code"
        assert await store.kiosk_code_by_digest("d9", "W-1") is None
        await store.kiosk_wrong_try(other_unit, 1, False, "W-2", NOW)
        await store.kiosk_wrong_try(device, 5, True, "W-1", NOW)
        found = await store.kiosk_code_by_digest("d1", "W-1")
        assert found is not None and found.id == first and found.state.failures == 1
        assert await store.open_kiosk_session("s1", first, device, NOW + MINUTE)
        assert not await store.open_kiosk_session("s2", first, device, NOW), "once"
        assert await store.kiosk_session("s2") is None
        unlocked = await store.kiosk_device("t1")
        assert unlocked is not None and unlocked.state.failures == 0, "a right code resets"
        assert unlocked.state.locked_at is None
        session = await store.kiosk_session("s1")
        assert session is not None
        assert (session.code.id, session.code.code_enc, session.code.state.used,
                session.device_id, session.touched_at, session.ended, session.crisis) == (
            first, None, True, device, NOW + MINUTE, False, False), "sealed copy dropped"
        await store.touch_kiosk_session("s1", NOW + 2 * MINUTE, crisis=True)
        await store.touch_kiosk_session("s1", NOW + 3 * MINUTE)
        touched = await store.kiosk_session("s1")
        assert touched is not None
        assert (touched.touched_at, touched.crisis) == (NOW + 3 * MINUTE, True), "crisis stays"
        await store.end_kiosk_session("s1", NOW + 4 * MINUTE)
        await store.touch_kiosk_session("s1", NOW + 5 * MINUTE)
        ended = await store.kiosk_session("s1")
        assert ended is not None and ended.ended and ended.touched_at == NOW + 3 * MINUTE
        assert await store.kiosk_session("s9") is None

    async def test_a_new_code_ends_the_old_and_spent_codes_lose_their_copy(
            self, store: Store) -> None:
        checkin_id = await self._kiosk_youth(store)
        await therapist_codes(store)
        old = await store.add_kiosk_code(self._code(checkin_id, "d1"))
        new = await store.add_kiosk_code(self._code(checkin_id, "d2", at=MINUTE))
        assert old is not None and new is not None
        codes = {c.id: c for c in await store.kiosk_codes_of_checkin(checkin_id)}
        assert codes[old].state.expires_at == NOW + MINUTE and codes[old].code_enc is None
        assert codes[new].code_enc == b"sealed-d2"
        assert [c.id for c in await store.live_kiosk_codes(None, NOW + MINUTE)] == [new]
        assert [c.id for c in await store.live_kiosk_codes("T-02", NOW + MINUTE)] == [new]
        assert await store.live_kiosk_codes("T-05", NOW + MINUTE) == []
        assert await store.live_kiosk_codes(None, NOW + HOUR) == [], "expired"
        assert await store.drop_spent_kiosk_codes(NOW + MINUTE) == 0, "the old one had none"
        assert await store.drop_spent_kiosk_codes(NOW + HOUR) == 1
        assert await store.drop_spent_kiosk_codes(NOW + HOUR) == 0
        [_, spent] = await store.kiosk_codes_of_checkin(checkin_id)
        assert spent.id == new and spent.code_enc is None, "only the digest stays"
        assert await store.add_kiosk_code(self._code(checkin_id, "d1", at=HOUR)) is not None, (
            "a digest is free again once its code expired")


async def therapist_codes(store: Store) -> None:
    """A second therapist, whose screen shows none of T-02's codes."""
    await youth(store, "J-500", "T-05")
