"""The storage contract, check-ins: answers, prompts, notes, crisis flags, expiry, and the
session records the therapist's image and the overview are drawn from."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.delivery import Kind
from core.flow import Status
from core.records import AlreadyExists, AnswerWrite, OutboxState, SessionNote
from storage.ports import Store
from tests.contract_support import (
    DAY,
    HOUR,
    NOW,
    bound_youth,
    new_checkin,
    planned,
    weekly_series,
    youth,
)
from tests.storage_backends import StoreContract

ITEMS = ["bond", "goal", "task", "medium", "event"]


def answer(checkin_id: int, step: int, value: str = "3", *, advance: bool = True,
           completes: bool = False) -> AnswerWrite:
    return AnswerWrite(checkin_id, step, ITEMS[step], value, "alliance-1", advance, completes)


class TestCheckins(StoreContract):
    async def test_a_checkin_reads_back_as_created(self, store: Store) -> None:
        await bound_youth(store)
        created = await store.create_checkin(new_checkin(session_end=NOW - HOUR))
        assert created.status is Status.OPEN and created.prompted_step == 0
        assert (created.ref, created.youth_pseudonym, created.occurrence_key,
                created.discipline, created.questionnaire_version, created.simple_mode,
                created.created_at, created.expires_at, created.session_end,
                created.completed_at, created.answers) == (
            "R" * 16, "p1", "s1", "music", "alliance-1", False, NOW, NOW + DAY,
            NOW - HOUR, None, {})
        assert await store.checkin_by_ref("R" * 16) == created
        assert await store.checkin_by_id(created.id) == created
        assert await store.checkin_for_occurrence("p1", "s1") == created
        assert await store.checkin_for_occurrence("p1", "s2") is None
        assert await store.checkin_for_occurrence("p2", "s1") is None
        assert await store.checkin_by_ref("X" * 16) is None
        assert await store.checkin_by_id(created.id + 1000) is None
        with pytest.raises(AlreadyExists):
            await store.create_checkin(new_checkin(ref="S" * 16))   # same occurrence
        second = await store.create_checkin(new_checkin(ref="S" * 16, occurrence="s2"))
        assert second.id != created.id

    async def test_answers_advance_once_and_complete(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        first = await store.record_answer(answer(checkin.id, 0, "4"), NOW)
        again = await store.record_answer(answer(checkin.id, 0, "4"), NOW)
        assert (first.stored, first.advanced, first.completed) == (True, True, False)
        assert (again.stored, again.advanced) == (True, False), "a double tap advances once"
        changed = await store.record_answer(answer(checkin.id, 0, "2"), NOW + HOUR)
        assert changed.stored and not changed.advanced
        reloaded = await store.checkin_by_ref(checkin.ref)
        assert reloaded is not None
        assert reloaded.prompted_step == 1 and reloaded.answers == {"bond": "2"}
        stay = await store.record_answer(answer(checkin.id, 1, advance=False), NOW)
        assert stay.stored and not stay.advanced
        for step in (1, 2, 3):
            assert (await store.record_answer(answer(checkin.id, step), NOW)).advanced
        done = await store.record_answer(answer(checkin.id, 4, completes=True), NOW + HOUR)
        assert (done.stored, done.advanced, done.completed) == (True, False, True)
        complete = await store.checkin_by_id(checkin.id)
        assert complete is not None
        assert complete.status is Status.COMPLETE and complete.completed_at == NOW + HOUR
        assert complete.answers == {"bond": "2", "goal": "3", "task": "3", "medium": "3",
                                    "event": "3"}
        late = await store.record_answer(answer(checkin.id, 0, "5"), NOW + 2 * HOUR)
        assert not late.stored, "a complete check-in takes no more answers"
        assert await store.open_checkin("p1", NOW) is None
        unknown = await store.record_answer(answer(checkin.id + 99, 0), NOW)
        assert not unknown.stored

    async def test_prompts_stay_unsent_until_recorded(self, store: Store) -> None:
        await bound_youth(store, chat=b"chat-1")
        checkin = await store.create_checkin(new_checkin())
        [prompt] = await store.unsent_prompts(NOW, NOW)
        assert (prompt.checkin, prompt.step, prompt.language, prompt.chat_id_enc) == (
            checkin, 0, "nl", b"chat-1")
        assert await store.unsent_prompts(NOW, NOW - timedelta(seconds=1)) == []
        assert await store.prompt_message_id(checkin.id, 0) is None
        await store.prompt_sent(checkin.id, 0, 42, NOW)
        assert await store.unsent_prompts(NOW, NOW) == []
        assert await store.prompt_message_id(checkin.id, 0) == 42
        await store.record_answer(answer(checkin.id, 0), NOW + HOUR)
        [next_prompt] = await store.unsent_prompts(NOW + HOUR, NOW + HOUR)
        assert next_prompt.step == 1 and next_prompt.checkin.prompted_step == 1
        assert await store.prompt_message_id(checkin.id, 1) is None
        await store.prompt_sent(checkin.id, 1, 43, NOW + HOUR)
        assert await store.prompt_message_id(checkin.id, 1) == 43
        assert await store.prompt_message_id(checkin.id, 0) == 42

    async def test_no_prompt_to_a_paused_unreachable_or_expired_youth(
            self, store: Store) -> None:
        await bound_youth(store)
        await bound_youth(store, "J-015", "p2")
        await store.create_checkin(new_checkin())
        await store.create_checkin(new_checkin("S" * 16, pseudonym="p2"))
        assert len(await store.unsent_prompts(NOW, NOW)) == 2
        assert await store.set_paused("p1", True)
        assert [p.checkin.youth_pseudonym for p in await store.unsent_prompts(NOW, NOW)] == [
            "p2"]
        await store.mark_unreachable("J-015", NOW)
        assert await store.unsent_prompts(NOW, NOW) == []
        assert await store.set_paused("p1", False)
        assert len(await store.unsent_prompts(NOW, NOW)) == 1
        assert await store.unsent_prompts(NOW + DAY, NOW) == [], "expired: no prompt"

    async def test_the_open_checkin_is_the_newest_live_one(self, store: Store) -> None:
        await bound_youth(store)
        assert await store.open_checkin("p1", NOW) is None
        old = await store.create_checkin(new_checkin("A" * 16, "s1", hours=2))
        new = await store.create_checkin(new_checkin("B" * 16, "s2", created=NOW + HOUR))
        found = await store.open_checkin("p1", NOW + HOUR)
        assert found is not None and found.id == new.id
        assert (await store.open_checkin("p1", NOW + 2 * HOUR)) == found
        await store.store_note(new.id, 0, b"note", NOW + HOUR)
        found = await store.open_checkin("p1", NOW + HOUR)
        assert found is not None and found.id == old.id
        assert await store.open_checkin("p1", NOW + 3 * HOUR) is None, "old one expired"
        assert await store.open_checkin("p2", NOW) is None

    async def test_expiry_stops_writes(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        other = await store.create_checkin(new_checkin("S" * 16, "s2", created=NOW + HOUR))
        late = NOW + DAY
        assert not (await store.record_answer(answer(checkin.id, 0), late)).stored
        assert not await store.store_note(checkin.id, 0, b"enc", late)
        assert await store.expire_due(NOW) == 0
        assert await store.expire_due(late) == 1
        assert await store.expire_due(late) == 0, "expired once"
        expired = await store.checkin_by_id(checkin.id)
        assert expired is not None and expired.status is Status.EXPIRED
        still = await store.checkin_by_id(other.id)
        assert still is not None and still.status is Status.OPEN
        assert await store.unsent_prompts(late, late) != []
        assert [p.checkin.id for p in await store.unsent_prompts(late, late)] == [other.id]

    async def test_note_completes_once(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        assert not await store.store_note(checkin.id, 5, b"enc", NOW)  # not asked yet
        for step in range(5):
            await store.record_answer(answer(checkin.id, step), NOW)
        assert await store.store_note(checkin.id, 5, b"enc", NOW + HOUR)
        assert not await store.store_note(checkin.id, 5, b"enc2", NOW)
        done = await store.checkin_by_ref(checkin.ref)
        assert done is not None and done.status is Status.COMPLETE
        assert done.completed_at == NOW + HOUR
        [record] = await store.checkins_of("p1")
        assert (record.created_at, record.status, record.note, record.questionnaire_version,
                record.simple_mode) == (NOW, "complete", b"enc", "alliance-1", False)
        assert record.answers == dict.fromkeys(ITEMS, "3")
        assert await store.session_notes("J-014") == {"s1": SessionNote("music", b"enc")}

    async def test_checkins_of_and_recent_checkins_in_order(self, store: Store) -> None:
        await bound_youth(store)
        await bound_youth(store, "J-015", "p2")
        ids = []
        for n in range(4):
            c = await store.create_checkin(new_checkin(f"{n}" * 16, f"s{n}",
                                                       created=NOW + n * HOUR))
            ids.append(c.id)
            if n != 2:   # the third one is never answered
                await store.record_answer(answer(c.id, 0, str(n + 1)), NOW + n * HOUR)
        assert [r.created_at for r in await store.checkins_of("p1")] == [
            NOW + n * HOUR for n in range(4)]
        assert [r.answers for r in await store.checkins_of("p1")] == [
            {"bond": "1"}, {"bond": "2"}, {}, {"bond": "4"}]
        assert await store.checkins_of("p2") == []
        assert [c.id for c in await store.recent_checkins("p1", 2)] == [ids[1], ids[3]]
        assert [c.id for c in await store.recent_checkins("p1", 10)] == [ids[0], ids[1],
                                                                         ids[3]]
        assert await store.recent_checkins("p2", 3) == []
        notes = await store.session_notes("J-014")
        assert notes == {f"s{n}": SessionNote("music", None) for n in range(4)}
        assert await store.session_notes("J-015") == {}

    async def test_simple_mode_switches_for_the_next_checkin(self, store: Store) -> None:
        await bound_youth(store)
        before = await store.create_checkin(new_checkin())
        assert await store.set_simple_mode("J-014", True)
        assert await store.set_simple_mode("J-014", True) is False
        assert await store.set_simple_mode("J-404", True) is None
        found = await store.youth_by_code("J-014")
        assert found is not None and found.simple_mode
        kept = await store.checkin_by_id(before.id)
        assert kept is not None and not kept.simple_mode, "a check-in keeps its mode"
        assert await store.set_simple_mode("J-014", False)

    async def test_crisis_flags_belong_to_their_checkin(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        other = await store.create_checkin(new_checkin("S" * 16, "s2"))
        assert not await store.crisis_in_checkin(checkin.id)
        await store.add_crisis_flag("p1", checkin.id, ["dood"], b"sealed-text", NOW)
        await store.add_crisis_flag("p1", None, ["weg"], b"sealed-free", NOW)
        assert await store.crisis_in_checkin(checkin.id)
        assert not await store.crisis_in_checkin(other.id)
        records = await store.subject_records("J-014", "p1")
        assert [r["text_enc"] for r in records.crisis_texts] == ["sealed-text",
                                                                  "sealed-free"]
        assert "dood" not in repr(records.crisis_texts), "the phrases only inside the text"

    async def test_not_held_closes_the_session_once(self, store: Store) -> None:
        await bound_youth(store)
        await store.upsert_planned([planned("J-014", "s1", NOW + 4 * HOUR, Kind.REMINDER)],
                                   NOW)
        checkin = await store.create_checkin(new_checkin())
        assert await store.mark_not_held("J-014", "s1", "youth", NOW)
        assert not await store.mark_not_held("J-014", "s1", "therapist", NOW), "first word"
        closed = await store.checkin_by_id(checkin.id)
        assert closed is not None and closed.status is Status.COMPLETE
        assert await store.due_items(NOW + DAY, 10) == [], "its reminder was cancelled"
        [record] = await store.session_records(None, NOW + DAY)
        assert record.not_held == "youth"

    async def test_ratings_per_session_and_item(self, store: Store) -> None:
        await youth(store)
        assert await store.ratings("s1", "J-014") == {}
        await store.rate("s1", "J-014", "T-02", "bond", "3", NOW)
        await store.rate("s1", "J-014", "T-02", "goal", "4", NOW)
        await store.rate("s1", "J-014", "T-02", "bond", "5", NOW + HOUR)   # corrected
        await store.rate("s2", "J-014", "T-02", "bond", "1", NOW)
        assert await store.ratings("s1", "J-014") == {"bond": "5", "goal": "4"}
        assert await store.ratings("s2", "J-014") == {"bond": "1"}
        assert await store.ratings("s1", "J-015") == {}

    async def test_session_records_join_plan_answers_notes_ratings(self, store: Store) -> None:
        await bound_youth(store)
        await youth(store, "J-020", "T-05")
        series = await store.add_series(weekly_series("T-02", "J-014"), NOW)
        end1, end2 = NOW - 2 * DAY, NOW - DAY
        await store.upsert_planned([
            planned("J-014", "s1", end1 + HOUR, series_id=series, session_end=end1),
            planned("J-014", "s2", end2 + HOUR, series_id=series, session_end=end2),
            planned("J-014", "s9", NOW + 5 * DAY, series_id=series,
                    session_end=NOW + 5 * DAY)], NOW - 3 * DAY)
        checkin = await store.create_checkin(new_checkin(occurrence="s1", created=end1 + HOUR))
        for step in range(5):
            await store.record_answer(answer(checkin.id, step, "4"), end1 + HOUR)
        await store.store_note(checkin.id, 5, b"note", end1 + HOUR)
        await store.add_crisis_flag("p1", checkin.id, ["x"], b"t", end1 + HOUR)
        await store.rate("s1", "J-014", "T-02", "bond", "4", end1 + 2 * HOUR)
        await store.mark_not_held("J-014", "s2", "therapist", end2)
        unplanned = await store.create_checkin(new_checkin("M" * 16, "m1",
                                                           created=NOW - HOUR))
        records = await store.session_records("T-02", NOW)
        assert [(r.youth_code, r.occurrence_key, r.session_end) for r in records] == [
            ("J-014", "s1", end1), ("J-014", "s2", end2), ("J-014", "m1", NOW - HOUR)]
        s1, s2, m1 = records
        assert (s1.state, s1.checkin_status, s1.answers, s1.therapist, s1.note, s1.crisis,
                s1.therapist_code, s1.questionnaire_version, s1.simple_mode) == (
            OutboxState.PENDING, Status.COMPLETE, dict.fromkeys(ITEMS, "4"), {"bond": "4"},
            True, True, "T-02", "alliance-1", False)
        assert s1.expires_at == end1 + HOUR + DAY
        assert (s2.not_held, s2.checkin_status, s2.answers, s2.note) == (
            "therapist", None, {}, False)
        assert (m1.state, m1.checkin_status, m1.therapist_code, m1.expires_at) == (
            None, Status.OPEN, "T-02", unplanned.expires_at)
        assert await store.session_records("T-05", NOW) == []
        assert [r.occurrence_key for r in await store.session_records(None, end2)] == [
            "s1", "s2"]
        assert len(await store.session_records(None, NOW + 6 * DAY)) == 4
