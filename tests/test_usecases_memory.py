"""The use cases over the in-memory twin: no HTTP, no Telegram, milliseconds per test.

The people use cases (conversations/people.py), the schedule use cases
(conversations/schedules.py) with the real planner (scheduler/planner.py) on a virtual
clock, and the storage calls of the check-in answer flow, asserting what is stored and
audited and what is refused. Each test runs on the twin and, as the reference it must
match, on a real SQLite file.

A test that needs a part of the twin another helper writes (the audit trail, units,
unbinding: storage/memory/privacy.py, crisis.py) is skipped on the twin, saying so,
until that part joins MemoryStore.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from conversations import people, schedules, usecases
from conversations.actions import EditTapped, Reply, SendPrompt, Toast
from conversations.enrolment import EnrolmentRefused
from conversations.schedules import SchedulePolicy, ScheduleRefused
from conversations.services import Services
from core.callbacks import AnswerTap, ConsentTap
from core.channel import Address, Blocked, Failed, Message, Outcome, Sent, Text
from core.consent import builtin_consents
from core.crisis import builtin_rules
from core.delivery import Kind
from core.flow import NO_SESSION, Status, StepKind, valid_values
from core.identity import ContactCipher, token_digest
from core.questionnaire import builtin_questionnaire
from core.records import (
    AnswerResult,
    AnswerWrite,
    BindOutcome,
    Consent,
    NewCheckin,
    NewYouth,
    OutboxState,
    Therapist,
)
from core.schedule import Timing
from scheduler.engine import Engine
from scheduler.planner import DeliveryRules, plan
from storage.memory.store import MemoryStore
from storage.ports import Store
from storage.sqlite import SqliteStore

START = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)   # Monday 08:00 in Amsterdam
FERNET_KEY = b"1ZybhsxT7vaGH3CpTLuaD3oSkpNxzt1gkqw0_cWsGrk="
CONSENT = Consent("participation", "participation-2", "0" * 64, "nl")
RULES = DeliveryRules("Europe/Amsterdam", time(22, 0), time(7, 0), timedelta(days=14))
TIMING = Timing(timedelta(minutes=15), timedelta(hours=4), timedelta(hours=24))


class VirtualNow:
    """The clock the use cases read; a test moves it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    store: Store
    services: Services
    clock: VirtualNow
    policy: SchedulePolicy

    def need_the_whole_port(self) -> None:
        self.need(*(name for name in dir(Store) if not name.startswith("_")))

    def need(self, *methods: str) -> None:
        """Skip on the twin while it lacks a part another helper writes."""
        missing = [m for m in methods if not hasattr(self.store, m)]
        if missing:
            pytest.skip(f"the memory twin has no {', '.join(missing)} yet (memory-b's part)")


@pytest.fixture(params=["memory", "sqlite"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    store: Store
    if request.param == "memory":
        store = MemoryStore(owner="test")
    else:
        store = await SqliteStore.open(tmp_path / "usecases.sqlite3")
    clock = VirtualNow()
    services = Services(
        store=store, questionnaire=builtin_questionnaire(), consents=builtin_consents(),
        crisis_phrases=builtin_rules(), pseudonym_key=b"k" * 32,
        cipher=ContactCipher(FERNET_KEY), clock=clock, checkin_ttl=timedelta(hours=24),
        invite_ttl=timedelta(days=14), free_text_limit=500, default_unit="W-1")

    async def replan(now: datetime) -> int:
        return await plan(store, now, RULES)

    policy = SchedulePolicy(RULES.timezone, RULES.quiet_start, RULES.quiet_end, TIMING, replan)
    yield World(store, services, clock, policy)
    await store.close()


async def enrolled(w: World, *codes: str, therapist: str = "T-02") -> None:
    """A therapist and youths, enrolled straight through the store (not audited)."""
    if await w.store.therapist(therapist) is None:
        await w.store.add_therapist(Therapist(therapist, "nl"), START)
    for code in codes:
        await w.store.add_youth(NewYouth(code, therapist, 2008, "nl", False, None), START)


async def bound(w: World, code: str, pseudonym: str) -> None:
    await w.store.add_invite(f"d-{code}", "youth", code, START, START + timedelta(days=1))
    assert await w.store.bind_youth(f"d-{code}", pseudonym, b"sealed", CONSENT,
                                    START) is BindOutcome.BOUND


# -- people ---------------------------------------------------------------------------


async def test_enrol_a_youth_stores_invites_and_audits(world: World) -> None:
    world.need("append_audit", "unit", "add_unit")
    await enrolled(world)
    await world.store.add_unit("W-1", "nl", START)
    done = await people.enroll_youth(world.services, "coordinator:x",
                                     NewYouth("J-103", "T-02", 2008, "nl", False, None))
    youth = await world.store.youth_by_code("J-103")
    assert youth is not None and youth.pseudonym is None and youth.therapist_code == "T-02"
    assert done.unit == "W-1" and not done.unit_linked, "no on-call phone linked yet"
    assert done.invitation.expires_at == START + timedelta(days=14)
    entries = await world.store.audit_entries()
    assert [(e.actor, e.action, e.youth_code) for e in entries] == [
        ("coordinator:x", "enrol", "J-103")]


@pytest.mark.parametrize(("youth", "research", "key"), [
    (NewYouth("J-103", "T-09", 2008, "nl", False, None), None, "unknown_therapist"),
    (NewYouth("J-103", "T-02", 2008, "nl", False, None), date(2027, 1, 1), "future_date"),
    (NewYouth("J-103", "T-02", 2013, "nl", False, None), None, "law"),
])
async def test_enrolment_refused_writes_nothing(world: World, youth: NewYouth,
                                                research: date | None, key: str) -> None:
    world.need("append_audit")
    await enrolled(world)
    with pytest.raises(EnrolmentRefused) as refused:
        await people.enroll_youth(world.services, "coordinator:x", youth,
                                  research_date=research)
    assert refused.value.key == key
    assert await world.store.youth_by_code("J-103") is None
    assert await world.store.audit_entries() == []


async def test_enrolled_twice_is_refused_once_audited(world: World) -> None:
    world.need("append_audit", "unit")
    await enrolled(world)
    youth = NewYouth("J-103", "T-02", 2008, "nl", False, None)
    await people.enroll_youth(world.services, "coordinator:x", youth)
    with pytest.raises(EnrolmentRefused):
        await people.enroll_youth(world.services, "coordinator:x", youth)
    assert [e.action for e in await world.store.audit_entries()] == ["enrol"]


async def test_a_new_invite_revokes_the_older_ones(world: World) -> None:
    world.need("append_audit")
    await enrolled(world, "J-103")
    first = await people.invite(world.services, "coordinator:x", "J-103")
    second = await people.invite(world.services, "coordinator:x", "J-103")
    assert (first.kind, first.invitation.revoked, second.invitation.revoked) == (
        "youth", 0, 1)
    details = [e.detail for e in await world.store.audit_entries()]
    assert details == ["J-103; 0 older invites revoked", "J-103; 1 older invites revoked"]


async def test_a_joined_youth_gets_no_invite(world: World) -> None:
    world.need("append_audit")
    await enrolled(world, "J-103")
    await bound(world, "J-103", "p-103")
    with pytest.raises(EnrolmentRefused):
        await people.invite(world.services, "coordinator:x", "J-103")
    assert await world.store.audit_entries() == []


async def test_an_erased_youth_gets_no_invite_and_cannot_join_again(world: World) -> None:
    await enrolled(world, "J-103")
    await bound(world, "J-103", "p-103")
    assert await world.store.erase_youth("J-103", START)
    with pytest.raises(EnrolmentRefused) as refused:
        await people.invite(world.services, "coordinator:x", "J-103")
    assert refused.value.key == "youth_erased"
    assert await world.store.open_invites(START) == {}
    assert await world.store.audit_entries() == []
    assert [c.youth_code for c in await world.store.compliance(START)] == []


async def test_unbinding_twice_says_nothing_is_linked(world: World) -> None:
    await enrolled(world, "J-103")
    await bound(world, "J-103", "p-103")
    await people.unbind_youth(world.services, "coordinator:x", "J-103")
    with pytest.raises(EnrolmentRefused) as refused:
        await people.unbind_youth(world.services, "coordinator:x", "J-103")
    assert refused.value.key == "not_linked"


async def test_unbind_keeps_the_history_and_issues_an_invite(world: World) -> None:
    world.need("append_audit", "unbind_youth")
    await enrolled(world, "J-103")
    await bound(world, "J-103", "p-103")
    checkin = await world.store.create_checkin(NewCheckin(
        "r" * 16, "p-103", "s1:2026-12-07", "music", "alliance-2", False, START,
        START + timedelta(hours=24)))
    invitation = await people.unbind_youth(world.services, "coordinator:x", "J-103")
    youth = await world.store.youth_by_code("J-103")
    assert youth is not None and youth.pseudonym != "p-103"
    assert await world.store.contact("p-103") is None, "the lost phone reaches nothing"
    kept = await world.store.checkin_by_ref(checkin.ref)
    assert kept is not None and kept.youth_pseudonym == youth.pseudonym, "history follows"
    assert invitation.code == "J-103"
    assert [e.action for e in await world.store.audit_entries()] == ["unbind"]
    with pytest.raises(EnrolmentRefused) as refused:
        await people.unbind_youth(world.services, "coordinator:x", "J-404")
    assert refused.value.key == "not_linked"


async def test_move_a_youth_and_all_youths(world: World) -> None:
    world.need("append_audit", "move_youth", "move_youths")
    await enrolled(world, "J-1", "J-2")
    await enrolled(world, therapist="T-05")
    await people.move_youth(world.services, "coordinator:x", "J-1", "T-05")
    with pytest.raises(EnrolmentRefused) as same:
        await people.move_youth(world.services, "coordinator:x", "J-1", "T-05")
    assert same.value.key == "same_therapist"
    moved = await people.move_youths(world.services, "coordinator:x", "T-02", "T-05")
    assert moved == ["J-2"]
    for code in ("J-1", "J-2"):
        youth = await world.store.youth_by_code(code)
        assert youth is not None and youth.therapist_code == "T-05"
    assert [(e.youth_code, e.detail) for e in await world.store.audit_entries()] == [
        ("J-1", "therapist T-02 -> T-05"), ("J-2", "therapist T-02 -> T-05")]


async def test_set_unit_needs_an_enrolled_unit_and_youth(world: World) -> None:
    world.need("append_audit", "unit", "add_unit")
    await enrolled(world, "J-103")
    with pytest.raises(EnrolmentRefused) as unknown_unit:
        await people.set_unit(world.services, "coordinator:x", "J-103", "W-9")
    await world.store.add_unit("W-9", "nl", START)
    with pytest.raises(EnrolmentRefused) as unknown_youth:
        await people.set_unit(world.services, "coordinator:x", "J-999", "W-9")
    assert (unknown_unit.value.key, unknown_youth.value.key) == ("unknown_unit",
                                                                 "unknown_youth")
    assert not await people.set_unit(world.services, "coordinator:x", "J-103", "W-9")
    assert [(e.action, e.detail) for e in await world.store.audit_entries()] == [
        ("set-unit", "W-9")]


@pytest.mark.parametrize(("start", "want", "changed", "audited"), [
    (False, True, True, ["on"]),
    (True, True, False, []),
    (True, False, True, ["off"]),
    (False, False, False, []),
])
async def test_simple_mode(world: World, start: bool, want: bool, changed: bool,
                           audited: list[str]) -> None:
    world.need("append_audit")
    await enrolled(world)
    await world.store.add_youth(NewYouth("J-103", "T-02", 2008, "nl", start, None), START)
    assert await people.set_simple(world.services, "coordinator:x", "J-103", want) is changed
    youth = await world.store.youth_by_code("J-103")
    assert youth is not None and youth.simple_mode is want
    assert [e.detail for e in await world.store.audit_entries()] == audited


async def test_simple_mode_of_an_unknown_youth_is_refused(world: World) -> None:
    world.need("append_audit")
    with pytest.raises(EnrolmentRefused) as refused:
        await people.set_simple(world.services, "coordinator:x", "J-404", True)
    assert refused.value.key == "unknown_youth"


# -- schedules and planning on the virtual clock ------------------------------------------

WEEKLY: dict[str, Any] = {"youth": "J-103", "therapist": "T-02", "discipline": "music",
                          "days": "mon", "start": "10:00", "first": "2026-12-07"}


async def outbox(w: World, kind: Kind = Kind.CHECKIN) -> list[tuple[str, OutboxState]]:
    """Every row of `kind` due within the horizon: (occurrence, state), by due time."""
    far = w.clock.now + timedelta(days=30)
    rows = [i for i in await w.store.due_items(far, 1000) if i.kind is kind]
    return [(i.occurrence_key, i.state) for i in rows]


async def test_a_weekly_series_is_planned_into_the_outbox(world: World) -> None:
    await enrolled(world, "J-103")
    added = await schedules.add_series(world.services, world.policy, WEEKLY)
    assert added.series.weekdays == frozenset({0}) and added.planned > 0
    assert [s.id for s in await world.store.all_series()] == [added.series.id]
    sid = added.series.id
    # The horizon is 14 days: the sessions of 7 and 14 December.
    assert [key for key, _ in await outbox(world)] == [f"s{sid}:2026-12-07",
                                                        f"s{sid}:2026-12-14"]
    assert await world.policy.replan(world.clock.now) == 0, "planning again adds nothing"
    due = [i.due_at for i in await world.store.due_items(START + timedelta(days=1), 10)
           if i.kind is Kind.CHECKIN]
    # 10:00-11:00 local, send 15 minutes after the end: 11:15 local is 10:15 UTC.
    assert due == [datetime(2026, 12, 7, 10, 15, tzinfo=UTC)]


@pytest.mark.parametrize(("change", "problem"), [
    ({"youth": "J-404"}, "unknown youth code J-404"),
    ({"therapist": "T-404"}, "unknown therapist code T-404"),
    ({"discipline": "karate"}, "discipline: 'karate' is not one of"),
    ({"first": "7 december"}, "first: '7 december' is not a date"),
    ({"days": ""}, "days:"),
    ({"last": "2026-12-01"}, "the last date 2026-12-01"),
])
async def test_a_wrong_series_is_refused_and_nothing_stored(
        world: World, change: dict[str, str], problem: str) -> None:
    await enrolled(world, "J-103")
    with pytest.raises(ScheduleRefused) as refused:
        await schedules.add_series(world.services, world.policy, {**WEEKLY, **change})
    assert any(p.startswith(problem) for p in refused.value.problems), refused.value.problems
    assert await world.store.all_series() == []
    assert await world.store.next_due() is None


async def test_cancel_one_session(world: World) -> None:
    await enrolled(world, "J-103")
    sid = (await schedules.add_series(world.services, world.policy, WEEKLY)).series.id
    changed = await schedules.change_session(world.services, world.policy, sid, "2026-12-14")
    # Every message planned for that session: its check-in. What follows a session (the
    # reminder, the therapist's rating and talk) is planned two days before it starts.
    assert (changed.done, changed.cancelled) == ("cancelled", 1)
    assert [c.cancelled for c in await world.store.changes()] == [True]
    keys = [key for key, _ in await outbox(world)]
    assert keys == [f"s{sid}:2026-12-07"]
    assert await world.policy.replan(world.clock.now) == 0, "the cancelled one stays so"


async def test_move_one_session(world: World) -> None:
    await enrolled(world, "J-103")
    sid = (await schedules.add_series(world.services, world.policy, WEEKLY)).series.id
    changed = await schedules.change_session(world.services, world.policy, sid, "2026-12-14",
                                             "2026-12-15 14:00")
    assert changed.done == "moved" and changed.planned > 0
    due = {i.occurrence_key: i.due_at for i in await world.store.due_items(
        world.clock.now + timedelta(days=30), 1000) if i.kind is Kind.CHECKIN}
    moved = [key for key in due if key.startswith(f"s{sid}:2026-12-14:")]
    assert len(moved) == 1, due
    assert due[moved[0]] == datetime(2026, 12, 15, 14, 15, tzinfo=UTC)   # 15:15 local


@pytest.mark.parametrize(("original", "to", "problem"), [
    ("2026-12-15", None, "has no session on 2026-12-15"),
    ("2026-12-14", "tomorrow", "to: 'tomorrow' is not like"),
    ("14-12-2026", None, "date: '14-12-2026' is not a date"),
])
async def test_a_wrong_change_is_refused(world: World, original: str, to: str | None,
                                         problem: str) -> None:
    await enrolled(world, "J-103")
    sid = (await schedules.add_series(world.services, world.policy, WEEKLY)).series.id
    with pytest.raises(ScheduleRefused) as refused:
        await schedules.change_session(world.services, world.policy, sid, original, to)
    assert any(problem in p for p in refused.value.problems), refused.value.problems
    assert await world.store.changes() == []


async def test_pause_holds_back_and_resume_plans_again(world: World) -> None:
    await enrolled(world, "J-103")
    sid = (await schedules.add_series(world.services, world.policy, WEEKLY)).series.id
    planned = len(await world.store.due_items(START + timedelta(days=30), 1000))
    assert await schedules.set_paused(world.services, world.policy, sid, True) == planned
    assert await world.store.next_due() is None, "nothing left to send"
    with pytest.raises(ScheduleRefused):
        await schedules.set_paused(world.services, world.policy, sid, True)
    # Resumed: the check-ins and reminders come back, and so does the therapist's request
    # to rate those sessions (cancelled by the pause only).
    assert await schedules.set_paused(world.services, world.policy, sid, False) == planned
    assert len(await outbox(world)) == 2
    # The first session's rating (the second one's is planned two days before it starts).
    assert [state for _, state in await outbox(world, Kind.RATING)] == [OutboxState.PENDING]


async def test_phone_hours_move_the_check_in_into_them(world: World) -> None:
    await enrolled(world, "J-103")
    await schedules.add_series(world.services, world.policy, WEEKLY)
    await schedules.set_window(world.services, world.policy, "youth", "J-103", "mon",
                               "16:00", "18:00")
    assert await world.policy.replan(world.clock.now) > 0, "phone hours re-plan the series"
    own, unit = await world.store.windows_for("J-103")
    assert (len(own), unit) == (1, [])
    due = [i.due_at for i in await world.store.due_items(START + timedelta(days=1), 10)
           if i.kind is Kind.CHECKIN]
    assert due == [datetime(2026, 12, 7, 15, 0, tzinfo=UTC)], "16:00 local"


@pytest.mark.parametrize(("scope", "code", "start", "end", "problem"), [
    ("youth", "J-404", "16:00", "18:00", "youth: unknown youth code J-404"),
    ("youth", "J-103", "18:00", "16:00", "from: the window must start before it ends"),
    ("unit", "W-1", "23:00", "23:30", ""),
])
async def test_wrong_phone_hours_are_refused(world: World, scope: str, code: str,
                                             start: str, end: str, problem: str) -> None:
    await enrolled(world, "J-103")
    with pytest.raises(ScheduleRefused) as refused:
        await schedules.set_window(world.services, world.policy, scope, code, "mon",
                                   start, end)
    assert str(refused.value).startswith(problem)
    assert await world.store.all_windows() == []


async def test_a_session_goes_out_once_on_the_virtual_clock(world: World) -> None:
    """The engine's storage steps for one session: due, claimed, sent, the reminder after
    it expires unsent when the youth answered nothing; a second claim loses."""
    await enrolled(world, "J-103")
    await schedules.add_series(world.services, world.policy, WEEKLY)
    first_due = datetime(2026, 12, 7, 10, 15, tzinfo=UTC)
    before = await world.store.due_items(first_due - timedelta(seconds=1), 10)
    assert [i.kind for i in before] == [Kind.TALK], "the therapist's 'even bespreken?'"
    [item] = [i for i in await world.store.due_items(first_due, 10) if i.kind is Kind.CHECKIN]
    assert item.attempts == 0
    assert await world.store.claim(item.id, first_due)
    assert not await world.store.claim(item.id, first_due), "claimed once"
    assert await world.store.sending_owners() == {cast(Any, world.store).owner}
    await world.store.finish(item.id, OutboxState.SENT, first_due)
    world.clock.now = first_due + timedelta(days=2)
    assert await world.store.expire_overdue(world.clock.now) > 0
    assert item.occurrence_key not in [key for key, _ in await outbox(world, Kind.REMINDER)]


# -- the check-in answer flow's storage calls ---------------------------------------------


async def test_answers_advance_once_and_a_late_tap_changes_nothing(world: World) -> None:
    await enrolled(world, "J-103")
    await bound(world, "J-103", "p-103")
    steps = ["bond", "goal", "task"]
    checkin = await world.store.create_checkin(NewCheckin(
        "r" * 16, "p-103", "s1:2026-12-07", "music", "alliance-2", False, START,
        START + timedelta(hours=24)))
    for n, item in enumerate(steps):
        write = AnswerWrite(checkin.id, n, item, "4", "alliance-2", True, n == len(steps) - 1)
        first = await world.store.record_answer(write, START)
        again = await world.store.record_answer(write, START)   # a double tap
        assert first.stored and (first.advanced or first.completed)
        # Stored again (unchanged) but never a second step; after the last, closed.
        assert again == (AnswerResult(False, False, False) if write.completes
                         else AnswerResult(True, False, False))
    done = await world.store.checkin_by_ref(checkin.ref)
    assert done is not None and done.status is Status.COMPLETE
    assert done.answers == dict.fromkeys(steps, "4")
    late = await world.store.record_answer(
        AnswerWrite(checkin.id, 0, "bond", "1", "alliance-2", True, False),
        START + timedelta(hours=1))
    assert not late.stored
    assert (await world.store.checkin_by_ref(checkin.ref)) == done


# -- the youth's check-in through the use cases (as the Telegram handlers call them) ----------

USER, CHAT = 7001, 8001   # the youth's Telegram user and chat


async def joined(w: World) -> None:
    """J-103 enrolled, invited and agreed, through the use cases."""
    await enrolled(w, "J-103")
    token = (await people.invite(w.services, "coordinator:x", "J-103")).invitation.token
    [shown] = await usecases.start_with_invite(w.services, USER, token, "nl")
    assert isinstance(shown, Reply) and shown.buttons, "the consent text with its buttons"
    youth = await w.store.youth_by_code("J-103")
    assert youth is not None and youth.pseudonym is None, "nothing stored before a yes"
    number = w.services.consents.current("participation").number
    await usecases.consent_tap(w.services, USER, CHAT, ConsentTap(token, number, True), "nl")
    invite = await w.store.invite(token_digest(token))
    assert invite is not None and invite.used_at is not None


async def test_a_check_in_from_invite_to_the_last_answer(world: World) -> None:
    world.need("append_audit", "has_consent")
    await joined(world)
    youth = await world.store.youth_by_code("J-103")
    assert youth is not None and youth.pseudonym == world.services.pseudonym(USER)
    assert await world.store.contact(youth.pseudonym) is not None
    assert [e.action for e in await world.store.audit_entries()] == [
        "invite", "consent:participation"]

    out = await usecases.start_checkin(world.services, "J-103", "s1:2026-12-07", "music")
    assert out is not None and out.chat_id == CHAT and out.prompt.step == 0
    await usecases.prompt_sent(world.services, out.prompt, 501)
    assert await usecases.start_checkin(world.services, "J-103", "s1:2026-12-07",
                                        "music") is None, "asked once per session"
    checkin = await world.store.checkin_for_occurrence(youth.pseudonym, "s1:2026-12-07")
    assert checkin is not None
    steps = world.services.steps(checkin)
    chosen: dict[str, str] = {}
    for n, step in enumerate(steps):
        if step.kind is StepKind.TEXT:
            done = await usecases.text_message(world.services, USER, "fijn", "nl")
            assert isinstance(done[-1], Reply)
            break
        value = sorted(valid_values(world.services.questionnaire, step, simple=False))[0]
        tap = AnswerTap(checkin.ref, n, value)
        actions = await usecases.answer_tap(world.services, USER, tap, "nl")
        assert any(isinstance(a, EditTapped) for a in actions), actions
        assert n == len(steps) - 1 or any(isinstance(a, SendPrompt) for a in actions)
        again = await usecases.answer_tap(world.services, USER, tap, "nl")
        assert [type(a) for a in again] == [Toast], "a double tap changes nothing"
        chosen[step.key] = value
    done_checkin = await world.store.checkin_by_ref(checkin.ref)
    assert done_checkin is not None and done_checkin.status is Status.COMPLETE
    assert done_checkin.answers == chosen
    [record] = await world.store.checkins_of(youth.pseudonym)
    assert record.note is not None and world.services.cipher.open_text(record.note) == "fijn"
    world.clock.now += timedelta(days=2)
    late = await usecases.answer_tap(world.services, USER, AnswerTap(checkin.ref, 0, "1"),
                                     "nl")
    assert [type(a) for a in late] == [Toast]
    assert await world.store.checkin_by_ref(checkin.ref) == done_checkin


async def test_no_session_closes_the_check_in(world: World) -> None:
    world.need("append_audit", "has_consent", "mark_not_held", "session_records")
    await joined(world)
    out = await usecases.start_checkin(world.services, "J-103", "s1:2026-12-07", "music")
    assert out is not None
    youth = await world.store.youth_by_code("J-103")
    assert youth is not None and youth.pseudonym is not None
    checkin = await world.store.checkin_for_occurrence(youth.pseudonym, "s1:2026-12-07")
    assert checkin is not None
    await usecases.answer_tap(world.services, USER, AnswerTap(checkin.ref, 0, NO_SESSION),
                              "nl")
    closed = await world.store.checkin_by_ref(checkin.ref)
    assert closed is not None and closed.status is Status.COMPLETE and closed.answers == {}
    [session] = await world.store.session_records(None, world.clock.now)
    assert session.not_held == "youth"


async def test_a_stranger_binds_nothing(world: World) -> None:
    world.need("append_audit", "has_consent")
    await enrolled(world, "J-103")
    number = world.services.consents.current("participation").number
    actions = await usecases.consent_tap(world.services, USER, CHAT,
                                         ConsentTap("no-such-token", number, True), "nl")
    assert [type(a) for a in actions] == [Toast]
    assert await world.store.youth_by_pseudonym(world.services.pseudonym(USER)) is None
    assert await world.store.audit_entries() == []


# -- the delivery engine's tick over the twin, on the virtual clock ------------------------


class Phone:
    """The channel port as a fake Telegram: records what reaches whom, and answers with
    the outcomes it is given (then Sent)."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[tuple[Address, Message]] = []

    async def send(self, to: Address, message: Message) -> Outcome:
        outcome = self.outcomes.pop(0) if self.outcomes else Sent(900 + len(self.sent))
        if isinstance(outcome, Sent):
            self.sent.append((to, message))
        return outcome

    async def edit(self, to: Address, ref: int, message: Text) -> Outcome:
        return Sent(ref)


def first_questions(phone: Phone) -> list[Text]:
    """The first questions of check-ins that reached the youth (answer buttons of step 0)."""
    return [m for to, m in phone.sent if to == CHAT and isinstance(m, Text) and any(
        b.data.startswith("a:") and ":0:" in b.data for row in m.buttons for b in row)]


@pytest.mark.parametrize(("first", "state_after_first", "reached"), [
    (Sent(501), OutboxState.SENT, 1),
    (Failed("network down"), OutboxState.PENDING, 1),   # tried again on the next tick
    (Blocked("bot was blocked by the user"), OutboxState.BLOCKED, 0),
])
async def test_the_engine_sends_a_session_check_in_once(
        world: World, first: Outcome, state_after_first: OutboxState, reached: int) -> None:
    world.need_the_whole_port()
    await joined(world)
    await schedules.add_series(world.services, world.policy, WEEKLY)
    engine = Engine(world.services, RULES)
    await engine.startup()
    phone = Phone(first)
    world.clock.now = datetime(2026, 12, 7, 10, 15, tzinfo=UTC)   # 11:15 local: due
    await engine.tick(phone)
    later = await world.store.due_items(world.clock.now + timedelta(days=30), 100)
    pending = [i for i in later if i.kind is Kind.CHECKIN
               and i.occurrence_key.endswith("2026-12-07")]
    assert bool(pending) is (state_after_first is OutboxState.PENDING), pending
    world.clock.now += timedelta(minutes=5)
    await engine.tick(phone)
    await engine.tick(phone)
    assert len(first_questions(phone)) == reached, phone.sent
    youth = await world.store.youth_by_code("J-103")
    assert youth is not None and youth.pseudonym is not None
    checkin = await world.store.checkin_for_occurrence(youth.pseudonym, "s1:2026-12-07")
    assert (checkin is not None) is (reached == 1)
    if checkin is not None:
        assert await world.store.prompt_message_id(checkin.id, 0) is not None
