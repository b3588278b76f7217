"""The storage contract, privacy: consent decisions, retention, the audit chain, the
youth's own records, key rotation of sealed columns, and erasure (nothing of the youth
readable afterwards through any read of the port)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, time
from pathlib import Path

from core.audit import GENESIS, verify_chain
from core.delivery import Kind, Window
from core.kiosk import Channel
from core.records import (
    AnswerWrite,
    ChannelChange,
    NewKioskCode,
    OutboxState,
    PhoneWindow,
    SealedKind,
)
from core.retention import DataKind
from storage.ports import Store
from tests.contract_coverage import NOT_IN_CONTRACT, function_source, port_methods, store_calls
from tests.contract_support import (
    CONSENT,
    DAY,
    HOUR,
    NOW,
    RESEARCH,
    SHARING,
    bound_youth,
    new_alert,
    new_checkin,
    planned,
    staff_row,
    weekly_series,
    youth,
)
from tests.storage_backends import StoreContract


def write(checkin_id: int, step: int, item: str, value: str) -> AnswerWrite:
    return AnswerWrite(checkin_id, step, item, value, "alliance-1", True, False)


class TestConsent(StoreContract):
    async def test_decisions_are_rows_and_the_newest_counts(self, store: Store) -> None:
        await bound_youth(store)
        await bound_youth(store, "J-015", "p2")
        assert await store.codes_with_consent("participation") == {"J-014", "J-015"}
        await store.set_consent("p1", SHARING, True, NOW)
        assert await store.has_consent("p1", "sharing")
        assert not await store.has_consent("p2", "sharing")
        assert await store.codes_with_consent("sharing") == {"J-014"}
        await store.set_consent("p1", SHARING, False, NOW + HOUR)
        assert not await store.has_consent("p1", "sharing")
        assert await store.codes_with_consent("sharing") == frozenset()
        assert await store.has_consent("p1", "participation")
        assert [(r.scope, r.version, r.agreed, r.withdrawn)
                for r in await store.consents_of("p1")] == [
            ("participation", "participation-2", True, False),
            ("sharing", "sharing-1", True, True), ("sharing", "sharing-1", False, False)]
        assert await store.consents_of("nobody") == []
        assert not await store.has_consent("nobody", "participation")
        await store.set_consent("p2", CONSENT, False, NOW)
        assert await store.codes_with_consent("participation") == {"J-014"}

    async def test_consent_request_is_due_until_sent(self, store: Store) -> None:
        await bound_youth(store)
        assert await store.consent_request_due("J-014", "participation-3", NOW)
        assert await store.consent_request_due("J-014", "participation-3", NOW), "not sent"
        await store.consent_request_sent("J-014", "participation-3", NOW)
        assert not await store.consent_request_due("J-014", "participation-3", NOW + DAY)
        assert await store.consent_request_due("J-014", "participation-4", NOW)

    async def test_guardian_research_consent(self, store: Store) -> None:
        await youth(store)
        assert await store.guardian_research_consent("J-014") is None
        assert await store.set_guardian_research_consent("J-014", date(2026, 11, 1))
        assert not await store.set_guardian_research_consent("J-404", date(2026, 11, 1))
        assert await store.guardian_research_consent("J-014") == date(2026, 11, 1)
        assert await store.guardian_research_consent("J-404") is None
        assert await store.erase_youth("J-014", NOW)
        assert not await store.set_guardian_research_consent("J-014", date(2026, 11, 2))
        assert await store.guardian_research_consent("J-014") is None

    async def test_export_rows_answers_only_research_filtered(self, store: Store) -> None:
        await bound_youth(store, "J-2", "p2")
        await bound_youth(store, "J-1", "p1")
        one = await store.create_checkin(new_checkin("1" * 16, "s1", "p1"))
        two = await store.create_checkin(new_checkin("2" * 16, "s1", "p2",
                                                     created=NOW + HOUR))
        await store.record_answer(write(one.id, 0, "bond", "4"), NOW)
        await store.record_answer(write(one.id, 1, "goal", "x"), NOW)
        await store.record_answer(write(two.id, 0, "bond", "2"), NOW + HOUR)
        await store.store_note(two.id, 1, b"sealed note", NOW + HOUR)
        rows = await store.export_rows(research_only=False)
        assert [(r.youth_code, r.pseudonym, r.session_at, r.status, r.item, r.value,
                 r.simple_mode, r.questionnaire_version) for r in rows] == [
            ("J-1", "p1", NOW, "open", "bond", "4", False, "alliance-1"),
            ("J-1", "p1", NOW, "open", "goal", "x", False, "alliance-1"),
            ("J-2", "p2", NOW + HOUR, "complete", "bond", "2", False, "alliance-1")]
        assert await store.export_rows(research_only=True) == []
        await store.set_consent("p2", RESEARCH, True, NOW)
        assert [r.youth_code for r in await store.export_rows(research_only=True)] == ["J-2"]


class TestRetention(StoreContract):
    async def test_purge_by_kind_and_one_run_a_day(self, store: Store) -> None:
        await bound_youth(store)
        checkin = await store.create_checkin(new_checkin())
        assert await store.store_note(checkin.id, 0, b"enc", NOW)
        later = NOW + 2 * DAY
        assert await store.purge(DataKind.NOTES, later, dry_run=True) == 1
        assert await store.purge(DataKind.NOTES, NOW) == 0
        assert await store.purge(DataKind.NOTES, later) == 1
        assert await store.purge(DataKind.NOTES, later) == 0
        kept = await store.checkin_by_ref(checkin.ref)
        assert kept is not None, "only the note went"
        [record] = await store.checkins_of("p1")
        assert record.note is None
        assert await store.purge(DataKind.INVITES, later) == 1       # the used invite
        assert await store.invite("d-J-014") is None
        assert await store.purge(DataKind.SESSIONS, later) == 1
        assert await store.checkin_by_ref(checkin.ref) is None
        assert await store.last_retention_day() is None
        assert await store.record_retention_run(NOW.date(), "x", NOW)
        assert not await store.record_retention_run(NOW.date(), "x", NOW)
        assert await store.record_retention_run(date(2026, 11, 27), "y", NOW)
        assert await store.last_retention_day() == NOW.date()

    async def test_purge_keeps_what_is_still_to_be_sent(self, store: Store) -> None:
        await bound_youth(store)
        old = NOW - 40 * DAY
        await store.upsert_planned([planned("J-014", "old", old, session_end=old),
                                    planned("J-014", "open", old, session_end=old,
                                            hours=24 * 60)], old)
        sent = [i for i in await store.due_items(NOW, 10) if i.occurrence_key == "old"]
        assert await store.claim(sent[0].id, old)
        await store.finish(sent[0].id, OutboxState.SENT, old)
        await store.rate("old", "J-014", "T-02", "bond", "3", old)
        await store.rate("new", "J-014", "T-02", "bond", "3", NOW)
        crisis = await store.create_checkin(new_checkin("C" * 16, "old", created=old))
        await store.add_crisis_flag("p1", crisis.id, ["x"], b"t", old)
        await store.add_alert(new_alert("A" * 16, escalate_at=old + DAY, due=old), old)
        await store.add_alert(new_alert("B" * 16, due=NOW), NOW)
        await store.add_outbox([staff_row("report:old", Kind.REPORT, old, ref="R" * 16),
                                staff_row("report:new", Kind.REPORT, NOW, ref="N" * 16)],
                               old)
        assert await store.expire_overdue(NOW - 30 * DAY) == 2 + 1, "alert+escalation, report"
        cutoff = NOW - 30 * DAY
        counts = {kind: await store.purge(kind, cutoff, dry_run=True) for kind in DataKind}
        assert counts == {DataKind.SESSIONS: 1 + 1 + 1, DataKind.NOTES: 1,
                          DataKind.ALERTS: 1 + 2, DataKind.DELIVERY_LOG: 1,
                          DataKind.INVITES: 0}
        assert {kind: await store.purge(kind, cutoff) for kind in DataKind} == counts
        assert await store.ratings("old", "J-014") == {}
        assert await store.ratings("new", "J-014") == {"bond": "3"}
        assert [i.occurrence_key for i in await store.due_items(NOW, 10)] == [
            "open", "rupture:" + "B" * 16, "s1"], "pending rows are never purged"
        assert not await store.crisis_in_checkin(crisis.id)
        assert await store.alert_by_ref("A" * 16) is None
        assert await store.alert_by_ref("B" * 16) is not None
        assert await store.outbox_by_ref("R" * 16) is None
        assert await store.outbox_by_ref("N" * 16) is not None
        assert [await store.purge(kind, cutoff, dry_run=True) for kind in DataKind] == [0] * 5


class TestAudit(StoreContract):
    async def test_the_chain_links_every_entry(self, store: Store) -> None:
        assert await store.audit_entries() == []
        first = await store.append_audit("cli", "enrol", "J-014", "T-02", NOW)
        second = await store.append_audit("T-02", "read:report", "", "week 48: Zoë",
                                          NOW + HOUR)
        assert (first.seq, first.prev_hash, second.seq, second.prev_hash) == (
            1, GENESIS, 2, first.hash)
        assert (second.actor, second.action, second.youth_code, second.detail) == (
            "T-02", "read:report", "", "week 48: Zoë")
        assert second.at.startswith("2026-11-28T13:00")
        assert await store.audit_entries() == [first, second]
        assert verify_chain(await store.audit_entries()) == []

    async def test_concurrent_appends_keep_one_unbroken_chain(self, store: Store) -> None:
        made = await asyncio.gather(*(store.append_audit("system", "tick", "", str(n),
                                                         NOW) for n in range(20)))
        entries = await store.audit_entries()
        assert [e.seq for e in entries] == list(range(1, 21))
        assert sorted(made, key=lambda e: e.seq) == entries
        assert verify_chain(entries) == []

    async def test_a_stored_entry_is_exactly_what_was_hashed(self, store: Store) -> None:
        """Tampering shows: the stored text is the hashed text, byte for byte, so an edit
        of any field, a gap or a reordering breaks the chain (core.audit.verify_chain)."""
        for n in range(3):
            await store.append_audit("cli", "consent", "J-014", f"scope {n}", NOW)
        entries = await store.audit_entries()
        edited = [entries[0], dataclasses.replace(entries[1], detail="scope 9"), entries[2]]
        assert verify_chain(edited) != []
        assert verify_chain([entries[0], entries[2]]) != []
        assert verify_chain([entries[1], entries[0], entries[2]]) != []
        await bound_youth(store)
        assert await store.erase_youth("J-014", NOW)
        assert await store.audit_entries() == entries, "erasure keeps the audit trail"


class TestSealed(StoreContract):
    async def test_sealed_columns_are_swapped_only_when_unchanged(self, store: Store) -> None:
        await bound_youth(store, "J-1", "p1", chat=b"chat-1")
        await bound_youth(store, "J-2", "p2", chat=b"chat-2")
        checkin = await store.create_checkin(new_checkin(pseudonym="p1"))
        await store.store_note(checkin.id, 0, b"note-1", NOW)
        await store.add_crisis_flag("p1", checkin.id, ["x"], b"crisis-1", NOW,
                                    new_alert("A" * 16, "J-1", kind="crisis",
                                              detail="rule-1", reason="text"))
        await store.add_alert(new_alert("B" * 16, "J-1", detail="not sealed"), NOW)
        contacts = await store.sealed_batch(SealedKind.CONTACTS, 0, 10)
        assert sorted(sealed for _, sealed in contacts) == [b"chat-1", b"chat-2"]
        ids = [i for i, _ in contacts]
        assert ids == sorted(ids)
        [page] = [await store.sealed_batch(SealedKind.CONTACTS, 0, 1)]
        assert page == contacts[:1]
        assert await store.sealed_batch(SealedKind.CONTACTS, ids[0], 10) == contacts[1:]
        assert [s for _, s in await store.sealed_batch(SealedKind.NOTES, 0, 10)] == [b"note-1"]
        assert [s for _, s in await store.sealed_batch(SealedKind.CRISIS_TEXTS, 0, 10)] == [
            b"crisis-1"]
        [(rule_id, rule)] = await store.sealed_batch(SealedKind.CRISIS_RULES, 0, 10)
        assert rule == b"rule-1", "only crisis alerts' details are sealed"
        by_chat = {s: i for i, s in contacts}
        changed = await store.replace_sealed(SealedKind.CONTACTS, [
            (by_chat[b"chat-1"], b"chat-1", b"new-1"),
            (by_chat[b"chat-2"], b"stale", b"new-2")])
        assert changed == 1, "a row changed meanwhile is left alone"
        assert await store.contact("p1") == b"new-1"
        assert await store.contact("p2") == b"chat-2"
        [(note_id, _)] = await store.sealed_batch(SealedKind.NOTES, 0, 10)
        assert await store.replace_sealed(SealedKind.NOTES, [(note_id, b"note-1",
                                                              b"note-2")]) == 1
        assert await store.session_notes("J-1") == {
            "s1": dataclasses.replace((await store.session_notes("J-1"))["s1"],
                                      note_enc=b"note-2")}
        [(flag_id, _)] = await store.sealed_batch(SealedKind.CRISIS_TEXTS, 0, 10)
        assert await store.replace_sealed(SealedKind.CRISIS_TEXTS, [
            (flag_id, b"crisis-1", b"crisis-2")]) == 1
        records = await store.subject_records("J-1", "p1")
        assert [r["text_enc"] for r in records.crisis_texts] == ["crisis-2"]
        assert await store.replace_sealed(SealedKind.CRISIS_RULES, [
            (rule_id, b"rule-1", b"rule-2")]) == 1
        alert = await store.alert_by_ref("A" * 16)
        assert alert is not None and alert.detail == "rule-2"
        assert await store.replace_sealed(SealedKind.NOTES, []) == 0


class TestSubjectRecords(StoreContract):
    async def test_everything_else_held_about_the_youth(self, store: Store) -> None:
        await bound_youth(store)
        await bound_youth(store, "J-2", "p2")
        assert await store.set_unit("J-014", "W-1")
        await store.set_guardian_research_consent("J-014", date(2026, 10, 1))
        series = await store.add_series(weekly_series("T-02", "J-014"), NOW)
        await store.add_series(weekly_series("T-02", "J-2"), NOW)
        evening = Window(frozenset({0}), time(19, 0), time(21, 0))
        await store.add_window(PhoneWindow("youth", "J-014", evening))
        await store.add_window(PhoneWindow("unit", "W-1", evening))
        await store.add_window(PhoneWindow("youth", "J-2", evening))
        await store.rate("s1", "J-014", "T-02", "bond", "4", NOW)
        await store.rate("s1", "J-2", "T-02", "bond", "1", NOW)
        await store.add_alert(new_alert("A" * 16), NOW)
        await store.add_crisis_flag("p1", None, ["x", "y"], b"sealed", NOW)
        records = await store.subject_records("J-014", "p1")
        profile = records.profile
        assert (profile["therapist"], profile["birth_year"], profile["unit"],
                profile["language"], profile["guardian_research_consent_date"]) == (
            "T-02", 2008, "W-1", "nl", "2026-10-01")
        assert [(r["session"], r["therapist"], r["item"], r["value"])
                for r in records.ratings] == [("s1", "T-02", "bond", "4")]
        assert [(r["kind"], r["therapist"], r["detail"]) for r in records.alerts] == [
            ("rupture", "T-02", "bond 2")]
        assert [r["text_enc"] for r in records.crisis_texts] == ["sealed"]
        assert [(r["therapist"], r["discipline"]) for r in records.schedule] == [
            ("T-02", "music")]
        assert series
        assert sorted((r["scope"], r["scope_code"]) for r in records.phone_windows) == [
            ("unit", "W-1"), ("youth", "J-014")]
        empty = await store.subject_records("J-404", "nobody")
        assert (empty.profile, empty.crisis_texts, empty.ratings, empty.alerts,
                empty.schedule, empty.phone_windows) == ({}, [], [], [], [], [])


# The port methods that change what is stored (or may: buttons_on binds a nonce on its
# first tap, consent_request_due records the question): the erasure test reads through
# every other one.
WRITES = frozenset({
    "add_therapist", "add_youth", "add_invite", "bind_youth", "set_paused", "create_checkin",
    "record_answer", "prompt_sent", "store_note", "add_crisis_flag", "expire_due",
    "bind_therapist", "mark_not_held", "rate", "add_outbox", "add_alert", "ack_alert",
    "add_unit", "bind_unit", "add_deliveries", "delivery_sent", "delivery_failed",
    "ack_told", "set_nobody", "set_consent", "consent_request_due", "consent_request_sent",
    "purge", "record_retention_run", "append_audit", "erase_youth", "truncate_wal",
    "set_guardian_research_consent", "unbind_youth", "unbind_therapist", "unbind_unit",
    "move_youths", "move_youth", "add_series", "set_series_paused", "add_change",
    "add_window", "set_unit", "save_plan", "upsert_planned", "cancel_pending", "claim",
    "finish", "retry_later", "release_sending", "release_expired", "expire_overdue",
    "mark_unreachable", "add_console_link", "redeem_console_link", "add_console_session",
    "touch_console_session", "set_console_language", "end_console_session",
    "end_console_sessions_of", "bind_buttons", "buttons_on", "record_invite_decline",
    "replace_sealed", "set_simple_mode", "discuss_alert", "add_channel_change",
    "set_youth_pseudonym", "add_kiosk_device", "retire_kiosk_device", "unlock_kiosk_device",
    "add_kiosk_code", "kiosk_wrong_try", "open_kiosk_session", "touch_kiosk_session",
    "end_kiosk_session", "drop_spent_kiosk_codes", "close",
    # the cluster's claims (a claim_due is a write: due_items reads the same rows)
    "claim_update", "finish_update", "forget_updates", "claim_due", "release_owners",
    "put_back",
})
GONE = "J-077"          # the youth erased; what is theirs is marked "gone" or "secret"
KEEP = "J-078"          # a youth who stays, so the reads are not empty by accident


class TestErasure(StoreContract):
    async def _everything(self, store: Store, code: str, pseudonym: str, mark: str,
                          ) -> dict[str, int]:
        """A youth with a row in every table a youth can have one in."""
        await bound_youth(store, code, pseudonym, chat=f"{mark}-chat".encode())
        await store.add_invite(f"{mark}-invite", "youth", code, NOW, NOW + DAY)
        await store.set_unit(code, f"W-{mark}")
        await store.set_guardian_research_consent(code, date(2026, 10, 1))
        await store.set_consent(pseudonym, SHARING, True, NOW)
        await store.set_consent(pseudonym, RESEARCH, True, NOW)
        await store.consent_request_due(code, f"{mark}-v3", NOW)
        await store.record_invite_decline(code, CONSENT, NOW)
        series = await store.add_series(weekly_series("T-02", code), NOW)
        await store.add_window(PhoneWindow("youth", code, Window(frozenset({0}), time(9),
                                                                 time(10))))
        await store.add_channel_change(code, ChannelChange(Channel.BOTH, NOW, "c:x",
                                                           f"{mark}-reason"))
        await store.upsert_planned([
            planned(code, f"{mark}-s1", NOW - DAY, series_id=series),
            planned(code, f"{mark}-s2", NOW + DAY, series_id=series)], NOW - 2 * DAY)
        checkin = await store.create_checkin(new_checkin(f"{mark}-ref-checkin", f"{mark}-s1",
                                                         pseudonym, created=NOW - DAY))
        await store.prompt_sent(checkin.id, 0, 77, NOW - DAY)
        await store.record_answer(write(checkin.id, 0, "bond", "2"), NOW - DAY)
        await store.store_note(checkin.id, 1, f"{mark}-note".encode(), NOW - DAY)
        await store.rate(f"{mark}-s1", code, "T-02", "bond", "2", NOW)
        await store.mark_not_held(code, f"{mark}-s0", "therapist", NOW)
        await store.add_outbox([staff_row(f"{mark}-rating", Kind.RATING, NOW, youth_code=code,
                                          occurrence=f"{mark}-s1",
                                          ref=f"{mark}-ref-rating")], NOW)
        await store.add_alert(new_alert(f"{mark}-ref-rupture", code, detail=f"{mark}-detail",
                                        escalate_at=NOW + DAY), NOW)
        urgent = new_alert(f"{mark}-ref-urgent", code, kind="crisis", detail=f"{mark}-rule",
                           reason="text", unit_code=f"W-{mark}")
        await store.add_crisis_flag(pseudonym, checkin.id, ["x"], f"{mark}-crisis".encode(),
                                    NOW, urgent)
        alert = await store.alert_by_ref(f"{mark}-ref-urgent")
        assert alert is not None
        await store.add_deliveries(alert.id, [f"unit:W-{mark}"], NOW)
        await store.set_nobody(alert.id, NOW)
        device = await store.add_kiosk_device(f"tablet-{code}", "W-1", "room", "c:x", NOW)
        kiosk = await store.create_checkin(new_checkin(f"{mark}-ref-kiosk", f"{mark}-s2",
                                                       pseudonym, created=NOW))
        code_id = await store.add_kiosk_code(NewKioskCode(
            f"{mark}-digest", f"{mark}-code".encode(), kiosk.id, code, "T-02", "W-1", NOW,
            NOW + HOUR))
        assert code_id is not None
        assert await store.open_kiosk_session(f"{mark}-session", code_id, device, NOW)
        await store.append_audit("cli", "enrol", code, "", NOW)
        return {"checkin": checkin.id, "kiosk": kiosk.id, "alert": alert.id}

    async def _reads(self, store: Store, code: str, pseudonym: str, mark: str,
                     ids: dict[str, int]) -> list[object]:
        """What every read of the port returns about this youth (and about everyone)."""
        far = NOW + 400 * DAY
        long_ago = NOW - 400 * DAY
        return [
            await store.youth_by_pseudonym(pseudonym), await store.contact(pseudonym),
            await store.invite(f"d-{code}"), await store.invite(f"{mark}-invite"),
            await store.checkin_by_ref(f"{mark}-ref-checkin"),
            await store.checkin_by_id(ids["checkin"]), await store.checkin_by_id(ids["kiosk"]),
            await store.checkin_for_occurrence(pseudonym, f"{mark}-s1"),
            await store.checkins_of(pseudonym), await store.open_checkin(pseudonym, NOW),
            await store.recent_checkins(pseudonym, 10),
            await store.prompt_message_id(ids["checkin"], 0),
            await store.unsent_prompts(NOW, far), await store.session_records(None, far),
            await store.session_notes(code), await store.crisis_in_checkin(ids["checkin"]),
            await store.ratings(f"{mark}-s1", code),
            await store.alert_by_ref(f"{mark}-ref-rupture"),
            await store.alert_by_ref(f"{mark}-ref-urgent"),
            await store.urgent_alerts(long_ago),
            await store.open_urgent_alert(code, "text", long_ago),
            await store.deliveries(ids["alert"]), await store.unreached_alerts(),
            await store.undiscussed_alerts(code, "T-02", long_ago),
            await store.rupture_alerts("T-02"), await store.alerts_since(long_ago),
            await store.export_alerts(research_only=False), await store.export_rows(False),
            await store.outbox_by_ref(f"{mark}-ref-rating"),
            await store.outbox_by_ref(f"{mark}-ref-rupture"), await store.due_items(far, 100),
            await store.recent_rating_requests("T-02", long_ago),
            await store.rating_requests_for(f"{mark}-s1", "T-02"),
            await store.all_series(), await store.windows_for(code),
            await store.all_windows(), await store.channel_facts([code]),
            await store.channel_history(code), await store.consents_of(pseudonym),
            await store.has_consent(pseudonym, "sharing"),
            await store.codes_with_consent("research"), await store.codes_declined_at_invite(),
            await store.guardian_research_consent(code),
            await store.subject_records(code, pseudonym), await store.youth_unit(code),
            await store.youth_units(), await store.active_youths(),
            await store.youths_of("T-02"), await store.compliance(NOW),
            await store.plan_work(far, "rules"), await store.open_invites(NOW),
            await store.kiosk_codes_of_checkin(ids["kiosk"]),
            await store.kiosk_code_by_digest(f"{mark}-digest", "W-1"),
            await store.live_kiosk_codes(None, NOW),
            await store.kiosk_session(f"{mark}-session"),
            *[await store.sealed_batch(kind, 0, 1000) for kind in SealedKind],
            await store.youth_by_code(code), await store.is_erased(code),
            await store.therapist("T-02"), await store.all_therapists(),
            await store.therapist_by_pseudonym(pseudonym),
            await store.therapist_pseudonym("T-02"), await store.unit(f"W-{mark}"),
            await store.all_units(), await store.units_of_contact(pseudonym),
            await store.changes(), await store.next_due(), await store.sending_owners(),
            await store.last_retention_day(), await store.audit_entries(),
            await store.console_session(f"{mark}-console"),
            await store.kiosk_device(f"tablet-{code}"), await store.kiosk_devices(),
            await store.handled_updates(), await store.still_claimed(ids["checkin"]),
        ]

    async def test_nothing_of_the_youth_is_readable_afterwards(self, store: Store) -> None:
        gone = await self._everything(store, GONE, "p-gone", "gone")
        keep = await self._everything(store, KEEP, "p-keep", "keep")
        before = repr(await self._reads(store, GONE, "p-gone", "gone", gone)).lower()
        assert "gone" in before and "keep" in before, "the reads see both youths"
        assert await store.erase_youth(GONE, NOW + HOUR)
        assert await store.is_erased(GONE)
        assert not await store.is_erased(KEEP)
        after = repr(await self._reads(store, GONE, "p-gone", "gone", gone)).lower()
        assert "gone" not in after, "something of the erased youth is still readable"
        kept = repr(await self._reads(store, KEEP, "p-keep", "keep", keep)).lower()
        assert kept.count("keep") >= before.count("keep"), "the other youth is untouched"
        tombstone = await store.youth_by_code(GONE)
        assert tombstone is not None
        assert (tombstone.pseudonym, tombstone.birth_year, tombstone.guardian_consent_date,
                tombstone.paused) == (None, 0, None, True)
        assert GONE not in {y.code for y in await store.active_youths()}
        [entry] = [e for e in await store.audit_entries() if e.youth_code == GONE]
        assert entry.action == "enrol", "the audit trail keeps what was done, by code"

    def test_the_erasure_check_reads_through_every_read_of_the_port(self) -> None:
        """Every port method is either a read the erasure test makes, or a write (listed
        here): a new read added to the port fails this until the erasure test reads it."""
        reads = store_calls(function_source(Path(__file__), "_reads"))
        port = port_methods() - NOT_IN_CONTRACT.keys()
        assert not reads & WRITES, f"listed as writes but read: {sorted(reads & WRITES)}"
        unread = sorted(port - reads - WRITES)
        assert not unread, f"reads the erasure test does not make: {', '.join(unread)}"
        assert not WRITES - port, f"not port methods: {sorted(WRITES - port)}"

    async def test_an_erased_youth_leaves_the_overview(self, store: Store) -> None:
        """The coordinators' overview (compliance) lists the youths care is given to, as
        the People page does (active_youths): an erased tombstone is neither."""
        await bound_youth(store, "J-1", "p1")
        await bound_youth(store, "J-2", "p2")
        assert await store.erase_youth("J-2", NOW)
        assert [y.code for y in await store.active_youths()] == ["J-1"]
        assert [c.youth_code for c in await store.compliance(NOW)] == ["J-1"]

    async def test_erasure_of_an_unknown_code_and_twice(self, store: Store) -> None:
        assert not await store.erase_youth("J-404", NOW)
        assert not await store.is_erased("J-404")
        await youth(store)
        assert await store.erase_youth("J-014", NOW)
        assert await store.erase_youth("J-014", NOW + HOUR), "erasing again is harmless"
        assert await store.is_erased("J-014")
        assert await store.truncate_wal(), "nothing holds the journal open"
        assert not store.wal_truncate_pending
