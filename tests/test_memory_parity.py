"""The in-memory twin answers as SQLite does, call for call.

One scenario drives the therapist, crisis, privacy (audit chain, consent, accounts,
erasure, retention), console, button and sealed-column ports through their edge cases
(duplicates, second acknowledgements, expired links, unbound accounts, an erased youth)
and writes down every answer; the scenario runs on a real SQLite file and on the twin,
and the two logs must be equal line by line. The storage contract states the rules; this
test catches what it does not state (orderings, counts, what a second call returns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from core.delivery import Kind, Window
from core.records import (
    AlreadyExists,
    AnswerWrite,
    ConsoleGrant,
    OutboxState,
    PhoneWindow,
    SealedKind,
)
from core.retention import DataKind
from storage.audit_anchor import AuditAnchor, anchor_key
from storage.memory.store import MemoryStore
from storage.ports import Store
from storage.sqlite import SqliteStore
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
    therapist,
    weekly_series,
    youth,
)

_PLACEHOLDER = re.compile(r"unbound-[0-9a-f]{32}")


@dataclass
class Log:
    """Every answer of the scenario, as comparable text (placeholders made equal)."""

    lines: list[str] = field(default_factory=list)

    def __call__(self, label: str, value: object) -> None:
        if isinstance(value, set | frozenset):
            value = sorted(value)
        self.lines.append(f"{label}: {_PLACEHOLDER.sub('unbound-*', repr(value))}")


async def _staff_and_units(store: Store, log: Log) -> None:
    for code in ("T-02", "T-05", "T-09"):
        await therapist(store, code)
    await store.add_invite("t-old", "therapist", "T-02", NOW - 20 * DAY, NOW - DAY)
    log("bind expired", await store.bind_therapist("t-old", "pt", b"c", NOW))
    log("bind unknown", await store.bind_therapist("nope", "pt", b"c", NOW))
    await store.add_invite("t1", "therapist", "T-02", NOW, NOW + 7 * DAY)
    log("bind", await store.bind_therapist("t1", "pt", b"chat-t2", NOW))
    log("bind again", await store.bind_therapist("t1", "pt", b"c", NOW))
    await store.add_invite("t2", "therapist", "T-02", NOW, NOW + 7 * DAY)
    log("bind taken", await store.bind_therapist("t2", "px", b"c", NOW))
    log("by pseudonym", await store.therapist_by_pseudonym("pt"))
    log("pseudonym", await store.therapist_pseudonym("T-02"))
    log("no pseudonym", await store.therapist_pseudonym("T-05"))
    log("all", await store.all_therapists())
    await store.add_unit("W-2", "en", NOW)
    await store.add_unit("W-1", "nl", NOW)
    try:
        await store.add_unit("W-1", "nl", NOW)
        log("unit twice", "accepted")
    except AlreadyExists:
        log("unit twice", "AlreadyExists")
    log("unit", await store.unit("W-1"))
    log("no unit", await store.unit("W-9"))
    await store.add_invite("u1", "unit", "W-1", NOW, NOW + DAY)
    log("bind unit", await store.bind_unit("u1", "pu", b"chat-w1", NOW))
    await store.add_invite("u2", "unit", "W-2", NOW, NOW + DAY)
    log("bind unit 2", await store.bind_unit("u2", "pu", b"chat-w1b", NOW))
    log("units of contact", await store.units_of_contact("pu"))
    log("all units", await store.all_units())


async def _youths(store: Store, log: Log) -> None:
    await bound_youth(store, "J-014", "p1", chat=b"chat-p1")
    await bound_youth(store, "J-015", "p2", therapist_code="T-05")
    await youth(store, "J-016")
    await store.set_unit("J-014", "W-1")
    await store.add_window(PhoneWindow("unit", "W-1", Window(frozenset({0, 1}),
                                                              time(16), time(20))))
    await store.add_window(PhoneWindow("youth", "J-014", Window(frozenset({2}),
                                                                 time(9), time(10))))
    await store.add_series(weekly_series("T-02", "J-014"), NOW)
    await store.add_series(weekly_series("T-05", "J-014", "J-015"), NOW)
    log("youths of", await store.youths_of("T-02"))
    log("youth unit", (await store.youth_unit("J-014"), await store.youth_unit("J-016"),
                       await store.youth_unit("J-99")))
    log("youth units", sorted((await store.youth_units()).items()))
    log("active", await store.active_youths())


async def _sessions_and_alerts(store: Store, log: Log) -> None:
    end = NOW - 2 * DAY
    await store.upsert_planned([planned("J-014", "s1", end, session_end=end),
                                planned("J-014", "s2", end + DAY, session_end=end + DAY),
                                planned("J-015", "s1", end, session_end=end)], end - DAY)
    c1 = await store.create_checkin(new_checkin("A" * 16, "s1", "p1", created=end))
    await store.record_answer(AnswerWrite(c1.id, 0, "bond", "4", "alliance-1", True, False),
                              end)
    await store.store_note(c1.id, 1, b"note-1", end)
    c2 = await store.create_checkin(new_checkin("B" * 16, "s9", "p1", created=end + HOUR))
    await store.add_crisis_flag("p1", c2.id, ["x"], b"crisis-1", end + HOUR,
                                new_alert("U1", kind="crisis", detail="rule-1",
                                          reason="text", unit_code="W-1"))
    log("crisis in", (await store.crisis_in_checkin(c2.id),
                      await store.crisis_in_checkin(c1.id)))
    await store.rate("s1", "J-014", "T-02", "bond", "3", end)
    await store.rate("s1", "J-014", "T-02", "bond", "5", end + HOUR)
    await store.rate("s1", "J-014", "T-02", "goal", "4", end)
    log("ratings", sorted((await store.ratings("s1", "J-014")).items()))
    log("not held", await store.mark_not_held("J-014", "s2", "therapist", NOW))
    log("not held again", await store.mark_not_held("J-014", "s2", "youth", NOW))
    log("sessions all", await store.session_records(None, NOW))
    log("sessions T-05", await store.session_records("T-05", NOW))
    log("sessions early", await store.session_records("T-02", end - HOUR))
    rows = [staff_row("rating:s1", Kind.RATING, end, ref="r1", youth_code="J-014",
                      session_end=end),
            staff_row("report:w1", Kind.REPORT, NOW - 40 * DAY),
            staff_row("rating:s1", Kind.RATING, end, ref="r-dup")]
    log("add outbox", await store.add_outbox(rows, end))
    log("add outbox again", await store.add_outbox(rows, end))
    for item in await store.due_items(NOW, 10):
        if item.kind in (Kind.RATING, Kind.REPORT) and await store.claim(item.id, NOW):
            await store.finish(item.id, OutboxState.SENT, NOW)
    log("outbox by ref", await store.outbox_by_ref("r1"))
    log("rating requests", await store.recent_rating_requests("T-02", end - DAY))
    log("rating requests late", await store.recent_rating_requests("T-02", NOW))
    log("alert", await store.add_alert(new_alert("A1", escalate_at=NOW + HOUR), NOW))
    log("alert twice", await store.add_alert(new_alert("A1", escalate_at=NOW + HOUR), NOW))
    log("alert T-05", await store.add_alert(new_alert("A2", "J-015", therapist_code="T-05",
                                                      kind="missed"), NOW - 30 * DAY))
    log("alert by ref", await store.alert_by_ref("A1"))
    log("escalation", await store.outbox_by_ref("A1"))
    log("ack", await store.ack_alert("A1", NOW, by="unit"))
    log("ack twice", await store.ack_alert("A1", NOW + HOUR))
    log("acked", await store.alert_by_ref("A1"))
    log("due after ack", [(i.kind, i.ref) for i in await store.due_items(NOW + DAY, 20)])


async def _crisis_delivery(store: Store, log: Log) -> None:
    urgent = await store.alert_by_ref("U1")
    assert urgent is not None
    log("urgent", await store.urgent_alerts(NOW - 5 * DAY))
    log("urgent later", await store.urgent_alerts(NOW))
    log("open urgent", await store.open_urgent_alert("J-014", "text", NOW - 5 * DAY))
    log("open urgent talk", await store.open_urgent_alert("J-014", "talk", NOW - 5 * DAY))
    log("deliveries added", await store.add_deliveries(
        urgent.id, ["therapist:T-02", "unit:W-1", "therapist:T-02"], NOW))
    log("deliveries again", await store.add_deliveries(urgent.id, ["unit:W-1"], NOW))
    first, second = await store.deliveries(urgent.id)
    await store.delivery_sent(first.id, NOW)
    await store.delivery_failed(second.id, "blocked", "Forbidden", NOW + HOUR, NOW)
    await store.delivery_failed(second.id, "failed", "timeout", NOW + 2 * HOUR, NOW)
    await store.ack_told(first.id, NOW + HOUR)
    log("deliveries", await store.deliveries(urgent.id))
    await store.set_nobody(urgent.id, NOW)
    log("unreached", await store.unreached_alerts())
    await store.set_nobody(urgent.id, None)
    log("unreached cleared", await store.unreached_alerts())
    await store.set_nobody(urgent.id, NOW)
    log("ack urgent", await store.ack_alert("U1", NOW, by="unit"))
    log("unreached acked", await store.unreached_alerts())


async def _consent_and_audit(store: Store, log: Log) -> None:
    await store.set_consent("p1", SHARING, True, NOW)
    await store.set_consent("p1", RESEARCH, True, NOW)
    await store.set_consent("p2", RESEARCH, True, NOW)
    await store.set_consent("p2", RESEARCH, False, NOW + HOUR)
    log("consents", await store.consents_of("p1"))
    log("consents p2", await store.consents_of("p2"))
    log("has", [await store.has_consent(p, s) for p in ("p1", "p2", "p9")
                for s in ("participation", "sharing", "research")])
    log("codes research", await store.codes_with_consent("research"))
    log("codes participation", await store.codes_with_consent("participation"))
    log("request due", await store.consent_request_due("J-014", "v2", NOW))
    log("request due again", await store.consent_request_due("J-014", "v2", NOW))
    await store.consent_request_sent("J-014", "v2", NOW)
    log("request after sent", await store.consent_request_due("J-014", "v2", NOW))
    log("guardian none", await store.guardian_research_consent("J-014"))
    log("set guardian", await store.set_guardian_research_consent("J-014", date(2026, 1, 2)))
    log("set guardian unknown", await store.set_guardian_research_consent("J-99",
                                                                          date(2026, 1, 2)))
    log("guardian", await store.guardian_research_consent("J-014"))
    log("export", await store.export_rows(False))
    log("export research", await store.export_rows(True))
    for n in range(3):
        log(f"audit {n}", await store.append_audit("cli", "read", "J-014", f"n{n}", NOW))
    log("audit", await store.audit_entries())


async def _console_and_buttons(store: Store, log: Log) -> None:
    grant = ConsoleGrant("coordinator:ab12", ("coordinator", "therapist"), "T-02", None, "nl")
    await store.add_console_link("l1", grant, NOW, NOW + HOUR)
    await store.add_console_link("l2", grant, NOW - 2 * HOUR, NOW - HOUR)
    log("redeem", await store.redeem_console_link("l1", NOW))
    log("redeem twice", await store.redeem_console_link("l1", NOW))
    log("redeem expired", await store.redeem_console_link("l2", NOW))
    log("redeem unknown", await store.redeem_console_link("l9", NOW))
    await store.add_console_session("s1", grant, "csrf", NOW)
    await store.add_console_session("s2", grant, "csrf2", NOW)
    await store.touch_console_session("s1", NOW + HOUR)
    await store.set_console_language("s1", "en")
    log("session", await store.console_session("s1"))
    log("end", await store.end_console_session("s1", NOW + HOUR))
    log("end twice", await store.end_console_session("s1", NOW + HOUR))
    await store.touch_console_session("s1", NOW + 2 * HOUR)
    log("ended session", await store.console_session("s1"))
    log("end of actor", await store.end_console_sessions_of("coordinator:ab12", NOW))
    log("no session", await store.console_session("s9"))
    await store.add_invite("y1", "youth", "J-016", NOW, NOW + DAY)
    await store.add_invite("y2", "youth", "J-016", NOW, NOW + 2 * DAY)
    log("open invites", sorted((await store.open_invites(NOW)).items()))
    await store.bind_buttons("n1", 10, NOW)
    await store.bind_buttons("n1", 11, NOW)
    await store.bind_buttons("n2", None, NOW)
    log("buttons", [await store.buttons_on("n1", 10), await store.buttons_on("n1", 11),
                    await store.buttons_on("n2", 12), await store.buttons_on("n2", 13),
                    await store.buttons_on("n9", 1)])
    await store.bind_buttons("n2", 14, NOW)
    log("buttons kept", await store.buttons_on("n2", 12))
    await store.record_invite_decline("J-016", CONSENT, NOW)
    await store.record_invite_decline("J-016", CONSENT, NOW)
    await store.record_invite_decline("J-014", CONSENT, NOW)
    log("declined", await store.codes_declined_at_invite())


async def _sealed(store: Store, log: Log) -> None:
    for kind in SealedKind:
        batch = await store.sealed_batch(kind, 0, 10)
        log(f"sealed {kind}", batch)
        log(f"sealed {kind} after", await store.sealed_batch(kind, batch[0][0], 1)
            if batch else [])
        changes = [(i, old, old + b"!") for i, old in batch]
        stale = [(i, b"stale", b"x") for i, _ in batch]
        log(f"replace {kind}", await store.replace_sealed(kind, changes + stale))
    log("contact after rotation", await store.contact("p1"))


async def _accounts_and_erasure(store: Store, log: Log) -> None:
    log("subject", await store.subject_records("J-014", "p1"))
    log("move one", await store.move_youth("J-014", "T-09", NOW))
    log("move one again", await store.move_youth("J-014", "T-09", NOW))
    log("move all", await store.move_youths("T-05", "T-02", NOW))
    log("all series", await store.all_series())
    log("youths moved", await store.youths_of("T-02"))
    log("unbind therapist", await store.unbind_therapist("T-02", NOW))
    log("unbind therapist again", await store.unbind_therapist("T-02", NOW))
    log("therapist contact", await store.contact("pt"))
    log("unbind unit", await store.unbind_unit("W-1", NOW))
    log("unit contact shared", await store.contact("pu"))
    log("unbind unit 2", await store.unbind_unit("W-2", NOW))
    log("unit contact", await store.contact("pu"))
    log("units", await store.all_units())
    log("unbind youth", await store.unbind_youth("J-015", NOW))
    log("unbound youth", await store.youth_by_code("J-015"))
    log("unbound contact", await store.contact("p2"))
    log("not linked", await store.unbind_youth("J-016", NOW))
    log("erase unknown", await store.erase_youth("J-99", NOW))
    log("erased before", await store.is_erased("J-014"))
    log("erase", await store.erase_youth("J-014", NOW))
    log("erased", await store.is_erased("J-014"))
    log("erased youth", await store.youth_by_code("J-014"))
    log("erased pseudonym", await store.youth_by_pseudonym("p1"))
    log("erased contact", await store.contact("p1"))
    log("erased consents", await store.consents_of("p1"))
    log("erased checkins", await store.checkins_of("p1"))
    log("erased subject", await store.subject_records("J-014", "p1"))
    log("erased alert", await store.alert_by_ref("A1"))
    log("erased sessions", await store.session_records(None, NOW + DAY))
    log("erased export", await store.export_rows(False))
    log("erased ratings", await store.ratings("s1", "J-014"))
    log("erased active", await store.active_youths())
    log("erased urgent", await store.urgent_alerts(NOW - 30 * DAY))
    log("erased declined", await store.codes_declined_at_invite())
    log("erased windows", await store.windows_for("J-014"))
    log("erased guardian", await store.set_guardian_research_consent("J-014",
                                                                     date(2026, 1, 1)))
    log("erase twice", await store.erase_youth("J-014", NOW))
    log("truncate", await store.truncate_wal())
    log("sealed after erasure", [await store.sealed_batch(k, 0, 50) for k in SealedKind])


async def _old_records(store: Store, log: Log) -> None:
    """A youth with a month-old history of every kind, for the retention periods."""
    old = NOW - 40 * DAY
    await bound_youth(store, "J-017", "p3")
    await store.upsert_planned([planned("J-017", "o1", old, session_end=old),
                                planned("J-017", "o1", old + HOUR, Kind.REMINDER,
                                        session_end=old)], old - DAY)
    await store.expire_overdue(NOW)
    checkin = await store.create_checkin(new_checkin("C" * 16, "o1", "p3", created=old))
    await store.record_answer(AnswerWrite(checkin.id, 0, "bond", "2", "alliance-1", True,
                                          False), old)
    await store.store_note(checkin.id, 1, b"old note", old)
    await store.add_crisis_flag("p3", checkin.id, ["y"], b"old crisis", old,
                                new_alert("U3", "J-017", kind="crisis", reason="talk"))
    await store.add_crisis_flag("p3", None, ["y"], b"new crisis", NOW)
    await store.rate("o1", "J-017", "T-02", "task", "3", old)
    await store.add_alert(new_alert("A3", "J-017", due=old), old)
    await store.add_invite("old", "youth", "J-016", old - DAY, old)
    log("old sessions", await store.session_records("T-02", NOW))


async def _retention_dry(store: Store, log: Log) -> None:
    log("last run none", await store.last_retention_day())
    for kind in DataKind:
        for days in (60, 30, 10, 0):
            cutoff = NOW + DAY - days * DAY
            log(f"purge dry {kind} {days}", await store.purge(kind, cutoff, dry_run=True))


async def _retention(store: Store, log: Log) -> None:
    for kind in DataKind:
        log(f"purge {kind}", await store.purge(kind, NOW - 20 * DAY))
    log("purge all sessions", await store.purge(DataKind.SESSIONS, NOW + 5 * DAY))
    log("purge all alerts", await store.purge(DataKind.ALERTS, NOW + 20 * DAY))
    log("sessions after purge", await store.session_records(None, NOW + DAY))
    log("checkins after purge", await store.checkins_of("p3"))
    log("subject after purge", await store.subject_records("J-017", "p3"))
    log("crisis after purge", await store.crisis_in_checkin(1))
    log("record run", await store.record_retention_run(date(2026, 11, 27), "r", NOW))
    log("record run later", await store.record_retention_run(date(2026, 11, 28), "r", NOW))
    log("record run twice", await store.record_retention_run(date(2026, 11, 28), "x", NOW))
    log("last run", await store.last_retention_day())


async def scenario(store: Store) -> list[str]:
    log = Log()
    await _staff_and_units(store, log)
    await _youths(store, log)
    await _sessions_and_alerts(store, log)
    await _crisis_delivery(store, log)
    await _consent_and_audit(store, log)
    await _console_and_buttons(store, log)
    await _old_records(store, log)
    await _retention_dry(store, log)
    await _sealed(store, log)
    await _accounts_and_erasure(store, log)
    await _retention(store, log)
    log("plan changes", (await store.plan_work(NOW + 30 * DAY, "r")).change_mark)
    return log.lines


async def test_the_twin_answers_as_sqlite_does(tmp_path: Path) -> None:
    key = anchor_key(b"k" * 32)
    sqlite = await SqliteStore.open(tmp_path / "parity.sqlite3",
                                    audit_anchor=AuditAnchor(tmp_path / "sqlite.anchor", key))
    try:
        expected = await scenario(sqlite)
    finally:
        await sqlite.close()
    twin = MemoryStore(audit_anchor=AuditAnchor(tmp_path / "twin.anchor", key))
    got = await scenario(twin)
    for want, have in zip(expected, got, strict=True):
        assert have == want
    assert len(expected) > 150
    anchored = (tmp_path / "sqlite.anchor").read_bytes()
    assert anchored.count(b"\n") == 3, "each audit append anchored its head"
    assert (tmp_path / "twin.anchor").read_bytes() == anchored


async def test_an_erased_youth_leaves_only_the_tombstone_in_the_twin() -> None:
    """Every table of the twin, read directly: after the scenario (which erases J-014,
    pseudonym p1) the youth's code is left only in the tombstone, the erasure record and
    the audit trail, and nothing they said or that was sent to them is anywhere."""
    twin = MemoryStore()
    await scenario(twin)
    theirs = {"J-014", "p1", b"chat-p1", b"chat-p1!", b"note-1", b"note-1!", b"crisis-1",
              b"crisis-1!", "rule-1", "rule-1!"}
    kept = {"youths", "erasures", "audit_log"}
    found = [(table, row) for table, rows in twin.tables.rows.items() if table not in kept
             for row in rows.values() if theirs & {v for v in row.values() if v is not None}]
    assert found == []
    tombstone = twin.tables.first("youths", code="J-014")
    assert tombstone is not None
    assert (tombstone["pseudonym"], tombstone["birth_year"], tombstone["unit"],
            tombstone["guardian_research_consent_date"]) == (None, 0, None, None)
