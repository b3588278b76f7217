"""The storage contract, schedules and the outbox: series and their edits, phone windows,
channels, incremental planning marks, and every state of an outbox row (pending,
sending, sent, failed, blocked, expired, cancelled) with its lease."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.compliance import summarise
from core.delivery import Kind, Window
from core.kiosk import Channel, ChannelFacts
from core.records import ChannelChange, OutboxState, PhoneWindow, PlanMark
from core.schedule import Change
from storage.ports import Store
from tests.contract_support import (
    CONSENT,
    DAY,
    HOUR,
    NOW,
    TIMING,
    bound_youth,
    new_checkin,
    planned,
    staff_row,
    therapist,
    weekly_series,
    youth,
)
from tests.storage_backends import StoreContract

MINUTE = timedelta(minutes=1)


async def one_report(store: Store, due: datetime = NOW) -> int:
    """A pending weekly report to T-02; its outbox id."""
    await therapist(store)
    assert await store.add_outbox([staff_row("report:T-02:W48", Kind.REPORT, due,
                                             ref="REP" * 5 + "T")], NOW) == 1
    item = await store.outbox_by_ref("REP" * 5 + "T")
    assert item is not None
    return item.id


async def state_of(store: Store, ref: str) -> tuple[OutboxState, int]:
    item = await store.outbox_by_ref(ref)
    assert item is not None
    return item.state, item.attempts


class TestSchedules(StoreContract):
    async def test_series_read_back_with_their_youths(self, store: Store) -> None:
        await youth(store, "J-2")
        await youth(store, "J-1")
        assert await store.all_series() == []
        first = await store.add_series(weekly_series("T-02", "J-2", "J-1"), NOW)
        second = await store.add_series(weekly_series("T-02", "J-1", first=date(2026, 12, 1),
                                                      weekdays=frozenset({1, 3})), NOW)
        assert second != first
        one, two = await store.all_series()
        assert (one.id, one.youth_codes, one.therapist_code, one.discipline, one.weekdays,
                one.start, one.duration, one.timezone, one.first_date, one.last_date,
                one.paused, one.timing) == (
            first, ("J-1", "J-2"), "T-02", "music", frozenset({0}), time(14, 0),
            timedelta(minutes=45), "Europe/Amsterdam", date(2026, 11, 2), None, False, TIMING)
        assert (two.id, two.weekdays, two.first_date) == (second, frozenset({1, 3}),
                                                          date(2026, 12, 1))
        assert await store.set_series_paused(first, True)
        assert not await store.set_series_paused(first, True)
        assert not await store.set_series_paused(second + 100, True)
        assert [s.paused for s in await store.all_series()] == [True, False]
        assert await store.set_series_paused(first, False)

    async def test_one_change_per_session_the_last_word_counts(self, store: Store) -> None:
        await youth(store)
        series = await store.add_series(weekly_series("T-02", "J-014"), NOW)
        assert await store.changes() == []
        moved = datetime(2026, 11, 10, 15, 30)
        await store.add_change(Change(series, date(2026, 11, 9), False, moved), NOW)
        await store.add_change(Change(series, date(2026, 11, 16), True, None), NOW)
        await store.add_change(Change(series, date(2026, 11, 16), False,
                                      datetime(2026, 11, 17, 9, 0)), NOW)
        assert sorted(await store.changes(), key=lambda c: c.original_date) == [
            Change(series, date(2026, 11, 9), False, moved),
            Change(series, date(2026, 11, 16), False, datetime(2026, 11, 17, 9, 0))]

    async def test_phone_windows_of_the_youth_and_their_unit(self, store: Store) -> None:
        await youth(store, "J-1")
        await youth(store, "J-2")
        assert await store.windows_for("J-1") == ([], [])
        evening = Window(frozenset({0, 1, 2, 3, 4}), time(19, 0), time(21, 0))
        weekend = Window(frozenset({5, 6}), time(10, 0), time(12, 30))
        await store.add_window(PhoneWindow("youth", "J-1", evening))
        await store.add_window(PhoneWindow("unit", "W-1", weekend))
        await store.add_window(PhoneWindow("unit", "W-2", evening))
        assert await store.windows_for("J-1") == ([evening], [])
        assert await store.set_unit("J-1", "W-1")
        assert await store.windows_for("J-1") == ([evening], [weekend])
        assert await store.windows_for("J-2") == ([], [])
        assert await store.windows_for("J-404") == ([], [])
        windows = await store.all_windows()
        assert sorted(windows, key=lambda w: (w.scope, w.scope_code)) == [
            PhoneWindow("unit", "W-1", weekend), PhoneWindow("unit", "W-2", evening),
            PhoneWindow("youth", "J-1", evening)]
        scopes = [w.scope for w in windows]
        assert scopes == sorted(scopes), "units first, as the port says"
        assert [w.scope_code for w in windows if w.scope == "unit"] == ["W-1", "W-2"]

    async def test_channel_facts_decide_the_channel(self, store: Store) -> None:
        assert await store.channel_facts([]) == {}
        await bound_youth(store, "J-1", "p1")
        await youth(store, "J-2", birth_year=2014)
        await youth(store, "J-3")
        assert await store.set_youth_pseudonym("J-2", "kiosk-abc")
        await store.add_channel_change("J-3", ChannelChange(Channel.KIOSK, NOW, "c:x", ""))
        await store.add_channel_change("J-3", ChannelChange(Channel.BOTH, NOW + MINUTE,
                                                            "c:x", "phone back"))
        facts = await store.channel_facts(["J-1", "J-2", "J-3", "J-404"])
        assert facts == {
            "J-1": ChannelFacts(None, 2008, True, False),
            "J-2": ChannelFacts(None, 2014, False, True),
            "J-3": ChannelFacts(Channel.BOTH, 2008, False, False)}
        assert await store.channel_facts({"J-3"}) == {"J-3": facts["J-3"]}

    async def test_planning_marks_and_the_edits_that_undo_them(self, store: Store) -> None:
        await youth(store, "J-1")
        await youth(store, "J-2")
        a = await store.add_series(weekly_series("T-02", "J-1"), NOW)
        b = await store.add_series(weekly_series("T-02", "J-2"), NOW)
        until = NOW + 7 * DAY
        work = await store.plan_work(until, "rules-1")
        assert [(s.id, mark) for s, mark in work.series] == [(a, None), (b, None)]
        assert set(work.windows) == {"J-1", "J-2"}
        assert set(work.channels) == {"J-1", "J-2"}
        page = await store.plan_work(until, "rules-1", after=a, limit=1)
        assert [s.id for s, _ in page.series] == [b]
        assert [s.id for s, _ in (await store.plan_work(until, "rules-1",
                                                        limit=1)).series] == [a]
        row = planned("J-1", f"{a}:2026-11-30", NOW + 2 * DAY, series_id=a)
        next_start = NOW + 9 * DAY
        marks = [PlanMark(a, "rules-1", until, next_start),
                 PlanMark(b, "rules-1", until, None)]
        added = await store.save_plan([row], [staff_row("talk:1", Kind.TALK, NOW + DAY)],
                                      marks, work.change_mark, NOW)
        assert added == 2
        assert await store.plan_work(until, "rules-1") == (
            await store.plan_work(until, "rules-1")), "reads change nothing"
        assert (await store.plan_work(until, "rules-1")).series == []
        later = await store.plan_work(next_start + MINUTE, "rules-1")
        assert [(s.id, mark) for s, mark in later.series] == [(a, until)], "due again"
        again = await store.plan_work(until, "rules-2")
        assert [s.id for s, m in again.series if m is None] == [a, b], (
            "other rules: plan all again in full")
        assert again.caught_up == {a: next_start}, "b's mark has no next session"
        assert later.caught_up == {}, "only series planned in full"
        await store.add_change(Change(b, date(2026, 11, 30), True, None), NOW)
        edited = await store.plan_work(until, "rules-1")
        assert [(s.id, mark) for s, mark in edited.series] == [(b, None)]
        assert edited.changes == [Change(b, date(2026, 11, 30), True, None)]
        assert edited.change_mark > work.change_mark
        # An edit after the pass read its work stays for the next pass.
        await store.add_window(PhoneWindow("youth", "J-2", Window(frozenset({0}), time(9),
                                                                  time(10))))
        await store.save_plan([], [], [PlanMark(b, "rules-1", until, None)],
                              edited.change_mark, NOW)
        again = await store.plan_work(until, "rules-1")
        assert [s.id for s, mark in again.series] == [b]
        assert again.windows["J-2"] == ([Window(frozenset({0}), time(9), time(10))], [])
        await store.add_window(PhoneWindow("unit", "W-1", Window(frozenset({6}), time(11),
                                                                 time(12))))
        assert (await store.plan_work(until, "rules-1", after=b)).series == []
        assert await store.set_unit("J-2", "W-1")
        moved = await store.plan_work(until, "rules-1")
        assert [s.id for s, _ in moved.series] == [b], "a new unit: planned again"
        assert moved.windows["J-2"][1] == [Window(frozenset({6}), time(11), time(12))]
        again = moved
        await store.save_plan([], [], [PlanMark(b, "rules-1", until, None)],
                              again.change_mark, NOW)
        assert (await store.plan_work(until, "rules-1")).series == []
        await store.set_series_paused(a, True)
        assert [s.paused for s, _ in (await store.plan_work(until, "rules-1")).series] == [
            True]
        await store.add_channel_change("J-2", ChannelChange(Channel.KIOSK, NOW, "c:x", ""))
        assert {s.id for s, _ in (await store.plan_work(until, "rules-1")).series} == {a, b}


class TestOutbox(StoreContract):
    async def test_staff_messages_are_stored_once(self, store: Store) -> None:
        await therapist(store)
        row = staff_row("report:T-02:W48", Kind.REPORT, NOW, ref="A" * 16)
        assert await store.add_outbox([row], NOW) == 1
        assert await store.add_outbox([row, staff_row("report:T-02:W48", Kind.REPORT,
                                                      NOW + DAY, ref="B" * 16)], NOW) == 0
        assert await store.outbox_by_ref("B" * 16) is None, "the first one wins"
        item = await store.outbox_by_ref("A" * 16)
        assert item is not None
        assert (item.kind, item.youth_code, item.occurrence_key, item.discipline,
                item.due_at, item.expires_at, item.state, item.attempts,
                item.therapist_code, item.ref, item.session_end) == (
            Kind.REPORT, None, "s1", None, NOW, NOW + 36 * HOUR, OutboxState.PENDING, 0,
            "T-02", "A" * 16, NOW)
        assert await store.outbox_by_ref("Z" * 16) is None
        assert await store.add_outbox([], NOW) == 0

    async def test_times_are_instants_whatever_their_zone(self, store: Store) -> None:
        """A time given in another zone, or to the microsecond, is the same instant when
        read back and compared (the use cases pass UTC; nothing may depend on that)."""
        await therapist(store)
        amsterdam = ZoneInfo("Europe/Amsterdam")
        due = (NOW + timedelta(microseconds=1)).astimezone(amsterdam)
        await store.add_outbox([staff_row("r", Kind.REPORT, due, ref="A" * 16)], NOW)
        assert await store.due_items(NOW, 10) == [], "one microsecond early"
        [item] = await store.due_items(due, 10)
        assert item.due_at == NOW + timedelta(microseconds=1)
        assert item.due_at.utcoffset() is not None, "read back timezone-aware"
        assert await store.next_due() == due

    async def test_due_items_in_order_and_limited(self, store: Store) -> None:
        await therapist(store)
        await store.add_outbox([
            staff_row("r3", Kind.REPORT, NOW + HOUR, ref="3" * 16),
            staff_row("r1", Kind.REPORT, NOW - HOUR, ref="1" * 16),
            staff_row("r2", Kind.REPORT, NOW, ref="2" * 16)], NOW)
        assert [i.ref for i in await store.due_items(NOW, 10)] == ["1" * 16, "2" * 16]
        assert [i.ref for i in await store.due_items(NOW, 1)] == ["1" * 16]
        assert [i.ref for i in await store.due_items(NOW + HOUR, 10)] == [
            "1" * 16, "2" * 16, "3" * 16]
        assert await store.next_due() == NOW - HOUR

    async def test_a_row_is_claimed_sent_and_never_again(self, store: Store) -> None:
        row = await one_report(store)
        ref = "REP" * 5 + "T"
        assert await store.claim(row, NOW)
        assert not await store.claim(row, NOW), "claimed once"
        assert await state_of(store, ref) == (OutboxState.SENDING, 1)
        assert await store.due_items(NOW + DAY, 10) == []
        assert await store.sending_owners() == {store.owner}
        await store.finish(row, OutboxState.SENT, NOW)
        assert await state_of(store, ref) == (OutboxState.SENT, 1)
        assert await store.sending_owners() == set()
        assert not await store.claim(row, NOW)
        assert await store.release_sending(NOW + DAY) == 0
        assert await store.release_expired(NOW + DAY) == 0
        assert await store.expire_overdue(NOW + 10 * DAY) == 0, "sent stays sent"
        assert await state_of(store, ref) == (OutboxState.SENT, 1)
        assert await store.next_due() is None

    async def test_failed_and_blocked_rows_are_closed(self, store: Store) -> None:
        await therapist(store)
        await store.add_outbox([staff_row("a", Kind.REPORT, NOW, ref="A" * 16),
                                staff_row("b", Kind.REPORT, NOW, ref="B" * 16)], NOW)
        for ref, state in (("A" * 16, OutboxState.FAILED), ("B" * 16, OutboxState.BLOCKED)):
            item = await store.outbox_by_ref(ref)
            assert item is not None and await store.claim(item.id, NOW)
            await store.finish(item.id, state, NOW, error="Forbidden: bot was blocked")
            assert await state_of(store, ref) == (state, 1)
            assert not await store.claim(item.id, NOW)
        assert await store.due_items(NOW + DAY, 10) == []
        assert await store.next_due() is None

    async def test_retry_later_keeps_the_attempts(self, store: Store) -> None:
        row = await one_report(store)
        ref = "REP" * 5 + "T"
        assert await store.claim(row, NOW)
        await store.retry_later(row, NOW + 5 * MINUTE, "timed out", NOW)
        assert await state_of(store, ref) == (OutboxState.PENDING, 1)
        assert await store.due_items(NOW, 10) == []
        assert await store.next_due() == NOW + 5 * MINUTE
        [item] = await store.due_items(NOW + 5 * MINUTE, 10)
        assert item.id == row and item.due_at == NOW + 5 * MINUTE
        assert await store.claim(row, NOW + 5 * MINUTE)
        assert await state_of(store, ref) == (OutboxState.SENDING, 2)

    async def test_released_rows_go_back_to_pending(self, store: Store) -> None:
        row = await one_report(store)
        ref = "REP" * 5 + "T"
        assert await store.claim(row, NOW, timedelta(minutes=10))
        assert await store.release_expired(NOW + 9 * MINUTE) == 0
        assert await store.release_expired(NOW + 10 * MINUTE) == 1, "the lease ran out"
        assert await state_of(store, ref) == (OutboxState.PENDING, 1)
        assert await store.sending_owners() == set()
        assert await store.claim(row, NOW, timedelta(minutes=10))
        assert await store.release_sending() == 1, "its own rows, at start-up"
        assert await store.claim(row, NOW)
        assert await store.release_sending(NOW, dead_owners={"host:1:dead"}) == 1, "own"
        assert await store.claim(row, NOW)
        assert await store.release_sending(dead_owners={store.owner}) == 1
        assert [i.id for i in await store.due_items(NOW, 10)] == [row]
        assert await state_of(store, ref) == (OutboxState.PENDING, 4)

    async def test_overdue_rows_expire(self, store: Store) -> None:
        row = await one_report(store)
        ref = "REP" * 5 + "T"
        assert await store.expire_overdue(NOW + 35 * HOUR) == 0
        assert await store.expire_overdue(NOW + 36 * HOUR) == 1
        assert await store.expire_overdue(NOW + 36 * HOUR) == 0
        assert await state_of(store, ref) == (OutboxState.EXPIRED, 0)
        assert not await store.claim(row, NOW)
        assert await store.next_due() is None

    async def test_cancel_pending_by_occurrence_prefix(self, store: Store) -> None:
        await youth(store)
        await store.upsert_planned([
            planned("J-014", "7:2026-11-30", NOW),
            planned("J-014", "7:2026-11-30", NOW + HOUR, Kind.REMINDER),
            planned("J-014", "70:2026-11-30", NOW),
            planned("J-014", "7", NOW)], NOW)
        due = await store.due_items(NOW, 10)
        assert await store.claim(due[0].id, NOW)
        assert await store.cancel_pending("7:2026-11-30", "series paused", NOW) == 1
        assert await store.cancel_pending("7", "cancelled", NOW) == 1, "not 70, not sending"
        assert sorted(i.occurrence_key for i in await store.due_items(NOW + DAY, 10)) == [
            "70:2026-11-30"]
        assert await store.cancel_pending("7", "cancelled", NOW) == 0

    async def test_planned_rows_once_and_revived_after_a_pause(self, store: Store) -> None:
        await youth(store)
        rows = [planned("J-014", "s1", NOW), planned("J-014", "s1", NOW + HOUR,
                                                     Kind.REMINDER)]
        assert await store.upsert_planned(rows, NOW) == 2
        assert await store.upsert_planned(rows, NOW) == 0, "planning again adds nothing"
        [checkin, reminder] = await store.due_items(NOW + HOUR, 10)
        assert (checkin.kind, checkin.youth_code, checkin.discipline, checkin.session_end,
                checkin.expires_at) == (Kind.CHECKIN, "J-014", "music", NOW, NOW + DAY)
        assert reminder.kind is Kind.REMINDER
        assert await store.cancel_pending("s1", "series paused", NOW) == 2
        assert await store.due_items(NOW + HOUR, 10) == []
        assert await store.upsert_planned(rows, NOW) == 2, "resumed: planned again"
        assert len(await store.due_items(NOW + HOUR, 10)) == 2
        await store.cancel_pending("s1", "cancelled by therapist", NOW)
        assert await store.upsert_planned(rows, NOW) == 0, "only a pause is undone"
        assert await store.due_items(NOW + HOUR, 10) == []

    async def test_an_untried_row_takes_a_new_plan_a_tried_one_keeps_it(
            self, store: Store) -> None:
        await youth(store)
        await store.upsert_planned([planned("J-014", "s1", NOW),
                                    planned("J-014", "s2", NOW)], NOW)
        first = await store.due_items(NOW, 10)
        tried = next(i for i in first if i.occurrence_key == "s2")
        assert await store.claim(tried.id, NOW)
        await store.retry_later(tried.id, NOW + MINUTE, "timed out", NOW)
        moved = [planned("J-014", "s1", NOW + 2 * HOUR), planned("J-014", "s2", NOW + 2 * HOUR)]
        assert await store.upsert_planned(moved, NOW) == 1
        due = {i.occurrence_key: i.due_at for i in await store.due_items(NOW + DAY, 10)}
        assert due == {"s1": NOW + 2 * HOUR, "s2": NOW + MINUTE}

    async def test_a_row_missed_at_planning_is_planned_again(self, store: Store) -> None:
        await youth(store)
        assert await store.upsert_planned([planned("J-014", "s1", NOW, missed=True)], NOW) == 1
        assert await store.due_items(NOW + DAY, 10) == []
        assert await store.next_due() is None
        [record] = await store.session_records(None, NOW + DAY)
        assert record.state is OutboxState.EXPIRED
        assert await store.upsert_planned([planned("J-014", "s1", NOW + HOUR)], NOW) == 1
        [item] = await store.due_items(NOW + HOUR, 10)
        assert item.state is OutboxState.PENDING and item.due_at == NOW + HOUR

    async def test_rating_requests(self, store: Store) -> None:
        await youth(store, "J-2")
        await youth(store, "J-1")
        await therapist(store, "T-05")
        end = NOW - DAY
        await store.add_outbox([
            staff_row("rating:J-2", Kind.RATING, end, youth_code="J-2", occurrence="g1",
                      ref="2" * 16, session_end=end),
            staff_row("rating:J-1", Kind.RATING, end, youth_code="J-1", occurrence="g1",
                      ref="1" * 16, session_end=end),
            staff_row("rating:old", Kind.RATING, end - 7 * DAY, youth_code="J-1",
                      occurrence="g0", ref="0" * 16, session_end=end - 7 * DAY),
            staff_row("rating:T-05", Kind.RATING, end, therapist_code="T-05",
                      youth_code="J-1", occurrence="g1", ref="5" * 16, session_end=end),
            staff_row("report", Kind.REPORT, end, occurrence="g1", ref="R" * 16)], NOW)
        assert [i.ref for i in await store.rating_requests_for("g1", "T-02")] == [
            "1" * 16, "2" * 16]
        assert await store.recent_rating_requests("T-02", end - 30 * DAY) == [], "none sent"
        for ref in ("1" * 16, "0" * 16):
            item = await store.outbox_by_ref(ref)
            assert item is not None and await store.claim(item.id, NOW)
            await store.finish(item.id, OutboxState.SENT, NOW)
        item = await store.outbox_by_ref("2" * 16)
        assert item is not None and await store.claim(item.id, NOW)
        await store.finish(item.id, OutboxState.EXPIRED, NOW)
        assert [i.ref for i in await store.rating_requests_for("g1", "T-02")] == ["1" * 16]
        assert [i.ref for i in await store.recent_rating_requests("T-02", end - 30 * DAY)
                ] == ["0" * 16, "1" * 16]
        assert [i.ref for i in await store.recent_rating_requests("T-02", end)] == ["1" * 16]
        assert await store.recent_rating_requests("T-05", end) == []

    async def test_compliance_counts_from_the_session_records(self, store: Store) -> None:
        await bound_youth(store, "J-1", "p1")
        await youth(store, "J-2")
        await bound_youth(store, "J-3", "p3")
        await store.record_invite_decline("J-2", CONSENT, NOW)
        end = NOW - 3 * DAY
        await store.upsert_planned([planned("J-1", "s1", end, session_end=end),
                                    planned("J-1", "s2", end + DAY, session_end=end + DAY)],
                                   end - DAY)
        for item in await store.due_items(NOW, 10):
            assert await store.claim(item.id, NOW)
            await store.finish(item.id, OutboxState.SENT, NOW)
        checkin = await store.create_checkin(new_checkin(occurrence="s1", created=end))
        await store.store_note(checkin.id, 0, b"n", end)
        await store.set_paused("p3", True)
        await store.mark_unreachable("J-3", NOW)
        rows = {c.youth_code: c for c in await store.compliance(NOW)}
        assert list(rows) == ["J-1", "J-2", "J-3"]
        j1, j2, j3 = rows["J-1"], rows["J-2"], rows["J-3"]
        assert (j1.therapist_code, j1.joined, j1.paused, j1.unreachable, j1.takes_part,
                j1.declined, j1.sent, j1.sessions, j1.completed, j1.missed) == (
            "T-02", True, False, False, True, False, 2, 2, 1, 1)
        points = [r.point(NOW) for r in await store.session_records(None, NOW)
                  if r.youth_code == "J-1"]
        assert {k: getattr(j1, k) for k in summarise(points)} == summarise(points)
        assert (j2.joined, j2.declined, j2.sessions, j2.sent) == (False, True, 0, 0)
        assert (j3.joined, j3.paused, j3.unreachable) == (True, True, True)
        await store.set_consent("p1", CONSENT, False, NOW)
        assert not {c.youth_code: c for c in await store.compliance(NOW)}["J-1"].takes_part
