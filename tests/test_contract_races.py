"""The storage contract, races: what two coroutines (or, on PostgreSQL, two pooled
connections) try at once happens once. Nothing doubled is the storage's promise; the
use cases do not lock around these calls."""

from __future__ import annotations

import asyncio

from core.delivery import Kind
from core.records import AnswerWrite, BindOutcome, NewCheckin, NewKioskCode, OutboxState
from storage.ports import Store
from tests.contract_support import (
    CONSENT,
    DAY,
    GRANT,
    NOW,
    bound_youth,
    new_alert,
    new_checkin,
    planned,
    staff_row,
    therapist,
    youth,
)
from tests.storage_backends import StoreContract

TIMES = 8


class TestRaces(StoreContract):
    async def test_a_row_is_claimed_by_one(self, store: Store) -> None:
        await therapist(store)
        await store.add_outbox([staff_row("r", Kind.REPORT, NOW, ref="A" * 16)], NOW)
        [item] = await store.due_items(NOW, 10)
        won = await asyncio.gather(*(store.claim(item.id, NOW) for _ in range(TIMES)))
        assert won.count(True) == 1
        claimed = await store.outbox_by_ref("A" * 16)
        assert claimed is not None
        assert (claimed.state, claimed.attempts) == (OutboxState.SENDING, 1)

    async def test_a_double_tap_advances_once(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        write = AnswerWrite(checkin.id, 0, "bond", "4", "alliance-1", True, False)
        results = await asyncio.gather(*(store.record_answer(write, NOW) for _ in range(TIMES)))
        assert [r.advanced for r in results].count(True) == 1
        assert all(r.stored for r in results)
        after = await store.checkin_by_id(checkin.id)
        assert after is not None and after.prompted_step == 1
        assert [p.step for p in await store.unsent_prompts(NOW, NOW)] == [0, 1]

    async def test_the_last_answer_completes_once(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        write = AnswerWrite(checkin.id, 0, "bond", "4", "alliance-1", True, True)
        results = await asyncio.gather(*(store.record_answer(write, NOW) for _ in range(TIMES)))
        assert [r.completed for r in results].count(True) == 1

    async def test_an_invite_binds_one_account(self, store: Store) -> None:
        await youth(store)
        await store.add_invite("d", "youth", "J-014", NOW, NOW + DAY)
        outcomes = await asyncio.gather(*(
            store.bind_youth("d", f"p{n}", b"x", CONSENT, NOW) for n in range(TIMES)))
        assert outcomes.count(BindOutcome.BOUND) == 1
        assert set(outcomes) <= {BindOutcome.BOUND, BindOutcome.USED, BindOutcome.TAKEN}
        bound = await store.youth_by_code("J-014")
        assert bound is not None and bound.pseudonym is not None
        assert [await store.contact(f"p{n}") is not None
                for n in range(TIMES)].count(True) == 1

    async def test_a_sign_in_link_opens_one_session(self, store: Store) -> None:
        await store.add_console_link("link", GRANT, NOW, NOW + DAY)
        outcomes = await asyncio.gather(*(store.redeem_console_link("link", NOW)
                                          for _ in range(TIMES)))
        assert sorted(o.result for o in outcomes) == ["ok"] + ["used"] * (TIMES - 1)

    async def test_an_alert_is_raised_once(self, store: Store) -> None:
        await youth(store)
        raised = await asyncio.gather(*(store.add_alert(new_alert("A" * 16), NOW)
                                        for _ in range(TIMES)))
        assert raised.count(True) == 1
        assert [i.kind for i in await store.due_items(NOW, 10)] == [Kind.ALERT]
        acked = await asyncio.gather(*(store.ack_alert("A" * 16, NOW) for _ in range(TIMES)))
        assert acked.count(True) == 1

    async def test_a_kiosk_code_opens_one_session(self, store: Store) -> None:
        await youth(store, "J-103")
        await store.set_youth_pseudonym("J-103", "kiosk-abc")
        checkin = await store.create_checkin(NewCheckin(
            "r" * 16, "kiosk-abc", "s1", None, "alliance-2", False, NOW, NOW + DAY))
        code = await store.add_kiosk_code(NewKioskCode("d", b"c", checkin.id, "J-103",
                                                       "T-02", "W-1", NOW, NOW + DAY))
        assert code is not None
        device = await store.add_kiosk_device("t", "W-1", "", "c:x", NOW)
        opened = await asyncio.gather(*(store.open_kiosk_session(f"s{n}", code, device, NOW)
                                        for n in range(TIMES)))
        assert opened.count(True) == 1
        assert [await store.kiosk_session(f"s{n}") is not None
                for n in range(TIMES)].count(True) == 1

    async def test_planning_twice_at_once_adds_each_row_once(self, store: Store) -> None:
        await youth(store)
        rows = [planned("J-014", f"s{n}", NOW) for n in range(5)]
        added = await asyncio.gather(*(store.upsert_planned(rows, NOW) for _ in range(TIMES)))
        assert sum(added) == 5
        assert len(await store.due_items(NOW, 100)) == 5
