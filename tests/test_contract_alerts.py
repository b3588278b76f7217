"""The storage contract, alerts: to the therapist with their escalation, urgent ones
delivered per recipient, acknowledged, discussed, reaching nobody, and exported."""

from __future__ import annotations

from core.delivery import Kind
from storage.ports import Store
from tests.contract_support import (
    DAY,
    HOUR,
    NOW,
    RESEARCH,
    bound_youth,
    new_alert,
    new_checkin,
    therapist,
    youth,
)
from tests.storage_backends import StoreContract

A, B, C = "A" * 16, "B" * 16, "C" * 16


class TestAlerts(StoreContract):
    async def test_an_alert_and_its_escalation_are_recorded_once(self, store: Store) -> None:
        await youth(store)
        alert = new_alert(A, detail="bond 2, 3 times", due=NOW + HOUR,
                          escalate_at=NOW + DAY)
        assert await store.add_alert(alert, NOW)
        assert not await store.add_alert(alert, NOW + HOUR), "known"
        found = await store.alert_by_ref(A)
        assert found is not None
        assert (found.ref, found.kind, found.youth_code, found.therapist_code, found.detail,
                found.created_at, found.acked_at, found.unit_code, found.reason,
                found.escalate_at, found.acked_by, found.nobody_since,
                found.discussed_at) == (
            A, "rupture", "J-014", "T-02", "bond 2, 3 times", NOW, None, None, None,
            NOW + DAY, None, None, None)
        assert await store.alert_by_ref(B) is None
        due = await store.due_items(NOW + DAY, 10)
        assert [(i.kind, i.due_at, i.ref, i.therapist_code, i.youth_code) for i in due] == [
            (Kind.ALERT, NOW + HOUR, A, "T-02", "J-014"),
            (Kind.ESCALATION, NOW + DAY, A, "T-02", "J-014")]
        assert due[0].expires_at == NOW + HOUR + 7 * DAY

    async def test_acknowledging_stops_the_escalation(self, store: Store) -> None:
        await youth(store)
        await store.add_alert(new_alert(A, escalate_at=NOW + DAY), NOW)
        assert await store.ack_alert(A, NOW + HOUR, by="unit")
        assert not await store.ack_alert(A, NOW + 2 * HOUR), "the first one stands"
        assert not await store.ack_alert(B, NOW)
        acked = await store.alert_by_ref(A)
        assert acked is not None
        assert (acked.acked_at, acked.acked_by) == (NOW + HOUR, "unit")
        assert [i.kind for i in await store.due_items(NOW + DAY, 10)] == [Kind.ALERT]

    async def test_discussed_counts_as_seen_once(self, store: Store) -> None:
        await youth(store)
        await youth(store, "J-015")
        await therapist(store, "T-05")
        await store.add_alert(new_alert(A, escalate_at=NOW + DAY), NOW)
        await store.add_alert(new_alert(B, kind="missed"), NOW + HOUR)
        await store.add_alert(new_alert(C, "J-015"), NOW + 2 * HOUR)
        await store.ack_alert(B, NOW + 2 * HOUR)
        assert [a.ref for a in await store.undiscussed_alerts("J-014", "T-02", NOW)] == [A, B]
        assert [a.ref for a in await store.undiscussed_alerts("J-014", "T-02",
                                                              NOW + HOUR)] == [B]
        assert await store.undiscussed_alerts("J-014", "T-05", NOW) == []
        assert await store.discuss_alert(A, NOW + 3 * HOUR)
        assert not await store.discuss_alert(A, NOW + 4 * HOUR)
        assert not await store.discuss_alert("Z" * 16, NOW)
        assert await store.discuss_alert(B, NOW + 3 * HOUR, by="coordinator")
        a, b = await store.alert_by_ref(A), await store.alert_by_ref(B)
        assert a is not None and b is not None
        assert (a.discussed_at, a.acked_at, a.acked_by) == (NOW + 3 * HOUR, NOW + 3 * HOUR,
                                                           "therapist")
        assert (b.discussed_at, b.acked_at, b.acked_by) == (NOW + 3 * HOUR, NOW + 2 * HOUR,
                                                           "therapist"), "seen earlier"
        assert await store.undiscussed_alerts("J-014", "T-02", NOW) == []
        assert [i.kind for i in await store.due_items(NOW + DAY, 10)
                if i.ref == A] == [Kind.ALERT], "the escalation stopped"
        assert [a.ref for a in await store.rupture_alerts("T-02")] == [A, C]
        assert await store.rupture_alerts("T-05") == []

    async def test_urgent_alerts_are_delivered_per_recipient(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        urgent = new_alert(A, kind="crisis", detail="sealed-rule", escalate_at=NOW + HOUR,
                           reason="text", unit_code="W-1")
        await store.add_crisis_flag("p1", checkin.id, ["x"], b"sealed", NOW, urgent)
        assert await store.crisis_in_checkin(checkin.id)
        found = await store.alert_by_ref(A)
        assert found is not None
        assert (found.reason, found.unit_code, found.kind) == ("text", "W-1", "crisis")
        assert await store.due_items(NOW + DAY, 10) == [], "no outbox rows: per recipient"
        assert [a.ref for a in await store.urgent_alerts(NOW)] == [A]
        assert await store.urgent_alerts(NOW + HOUR) == []
        await store.add_alert(new_alert(B), NOW)
        assert [a.ref for a in await store.urgent_alerts(NOW - DAY)] == [A], "urgent only"
        assert (await store.open_urgent_alert("J-014", "text", NOW)) == found
        assert await store.open_urgent_alert("J-014", "talk", NOW) is None
        assert await store.open_urgent_alert("J-014", "text", NOW + HOUR) is None
        assert await store.add_deliveries(found.id, ["therapist:T-02", "unit:W-1"], NOW) == 2
        assert await store.add_deliveries(found.id, ["unit:W-1", "coordinator:ab12"],
                                          NOW) == 1, "each recipient once"
        therapist_, unit, coordinator = await store.deliveries(found.id)
        assert (therapist_.recipient, therapist_.alert_id, therapist_.state,
                therapist_.due_at, therapist_.attempts, therapist_.last_error,
                therapist_.sent_at, therapist_.ack_told_at) == (
            "therapist:T-02", found.id, "pending", NOW, 0, None, None, None)
        await store.delivery_failed(unit.id, "failed", "timed out", NOW + HOUR, NOW)
        await store.delivery_failed(coordinator.id, "blocked", "Forbidden", NOW + DAY, NOW)
        await store.delivery_sent(therapist_.id, NOW)
        await store.delivery_sent(unit.id, NOW + HOUR)
        await store.ack_told(unit.id, NOW + 2 * HOUR)
        t, u, c = await store.deliveries(found.id)
        assert (t.state, t.sent_at, t.attempts) == ("sent", NOW, 1)
        assert (u.state, u.sent_at, u.attempts, u.last_error, u.ack_told_at) == (
            "sent", NOW + HOUR, 2, None, NOW + 2 * HOUR)
        assert (c.state, c.last_error, c.due_at, c.attempts) == (
            "blocked", "Forbidden", NOW + DAY, 1)
        assert await store.deliveries(found.id + 100) == []

    async def test_an_alert_that_reached_nobody_is_loud_until_acknowledged(
            self, store: Store) -> None:
        await youth(store)
        await store.add_alert(new_alert(A, kind="crisis", reason="talk"), NOW)
        await store.add_alert(new_alert(B), NOW)
        urgent = await store.alert_by_ref(A)
        assert urgent is not None
        assert await store.unreached_alerts() == []
        await store.set_nobody(urgent.id, NOW + HOUR)
        [loud] = await store.unreached_alerts()
        assert loud.ref == A and loud.nobody_since == NOW + HOUR
        await store.set_nobody(urgent.id, None)
        assert await store.unreached_alerts() == []
        await store.set_nobody(urgent.id, NOW + HOUR)
        assert await store.ack_alert(A, NOW + 2 * HOUR, by="coordinator")
        assert await store.unreached_alerts() == []
        acked = await store.alert_by_ref(A)
        assert acked is not None and acked.nobody_since is None

    async def test_alerts_since_keep_the_unacknowledged(self, store: Store) -> None:
        await youth(store)
        await youth(store, "J-2", "T-05")
        await store.add_alert(new_alert(A), NOW - 10 * DAY)
        await store.add_alert(new_alert(B), NOW - 9 * DAY)
        await store.add_alert(new_alert(C, "J-2", therapist_code="T-05"), NOW)
        await store.ack_alert(B, NOW - 9 * DAY)
        assert [a.ref for a in await store.alerts_since(NOW - DAY)] == [C, A], "newest first"
        assert [a.ref for a in await store.alerts_since(NOW - 20 * DAY)] == [C, B, A]
        assert [a.ref for a in await store.alerts_since(NOW - DAY, "T-02")] == [A]
        assert [a.ref for a in await store.alerts_since(NOW - DAY, "T-05")] == [C]
        assert await store.alerts_since(NOW, "T-09") == []

    async def test_alert_export_with_seen_and_discussed(self, store: Store) -> None:
        await bound_youth(store, "J-1", "p1")
        await bound_youth(store, "J-2", "p2")
        await youth(store, "J-3")                     # never joined: not exported
        await store.add_alert(new_alert(A, "J-1"), NOW)
        await store.add_alert(new_alert(B, "J-2", kind="missed"), NOW + HOUR)
        await store.add_alert(new_alert(C, "J-3"), NOW)
        await store.ack_alert(A, NOW + HOUR)
        await store.discuss_alert(A, NOW + 2 * HOUR)
        rows = await store.export_alerts(research_only=False)
        assert [(r.youth_code, r.pseudonym, r.created_at, r.kind, r.acked_at,
                 r.discussed_at, r.therapist_code) for r in rows] == [
            ("J-1", "p1", NOW, "rupture", NOW + HOUR, NOW + 2 * HOUR, "T-02"),
            ("J-2", "p2", NOW + HOUR, "missed", None, None, "T-02")]
        assert await store.export_alerts(research_only=True) == []
        await store.set_consent("p2", RESEARCH, True, NOW)
        assert [r.youth_code for r in await store.export_alerts(research_only=True)] == [
            "J-2"]
