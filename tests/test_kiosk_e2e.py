"""The kiosk through the real engine on the virtual clock: a kiosk youth's session ends,
the therapist gets a code in (fake) Telegram, the youth answers on a tablet, the answers
are stored and counted; a crisis text on the tablet alerts the unit and the therapist as
from Telegram; wrong codes lock; an idle tablet wipes; a youth switched from Telegram to
the kiosk keeps their history. Real PTB, real SQLite, nothing of ours mocked."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.rules import default_timing
from bot.wiring import make_engine
from conversations import kiosk, kiosk_staff
from conversations.enrolment import enroll_therapist, enroll_unit, enroll_youth
from conversations.reporting import caseload
from core.analytics import State
from core.kiosk import MAX_TRIES, Refusal
from core.records import NewSeries, NewYouth
from faketelegram import FakeUser
from scheduler.engine import Engine
from tests.support import Harness, run_cli, running_bot, wait_for_next_message

MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)   # 13:00 in Amsterdam
THERAPIST, UNIT_PHONE, COORDINATOR = 600000002, 800000001, 9001
KIOSK_CODE = re.compile(r"Kioskcode voor (J-\d+): (\d{3}) (\d{3})")


def rows(bot: Harness, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql, params))


async def clinic(bot: Harness) -> tuple[Engine, FakeUser, FakeUser, str]:
    """Therapist T-02 and unit W-1 linked in Telegram, a tablet registered for W-1, and
    J-103 (born 2013, never linked Telegram) with a session every Monday 14:00-15:00."""
    bot.clock.now = MONDAY
    store, now = bot.services.store, bot.clock()
    invitation = await enroll_therapist(store, "T-02", "nl", now, bot.services.invite_ttl)
    assert invitation is not None
    therapist = bot.fake.user(THERAPIST)
    therapist.send(f"/start {invitation.token}")
    await bot.fake.settle()
    unit_invite = await enroll_unit(store, "W-1", "nl", now, bot.services.invite_ttl)
    unit = bot.fake.user(UNIT_PHONE)
    unit.send(f"/start {unit_invite.token}")
    await bot.fake.settle()
    await enroll_youth(store, NewYouth("J-103", "T-02", 2013, "nl", False,
                                       date(2026, 11, 1)), now, bot.services.invite_ttl)
    assert await store.set_unit("J-103", "W-1")
    await weekly_session(bot, "J-103")
    tablet = await kiosk_staff.register_device(bot.services, "W-1", "therapy room",
                                         "coordinator:test")
    engine = make_engine(bot.settings, bot.services)
    engine.coordinator_chats = (COORDINATOR,)
    return engine, therapist, unit, tablet


async def weekly_session(bot: Harness, code: str) -> None:
    await bot.services.store.add_series(NewSeries(
        "T-02", (code,), "music", frozenset({0}), time(14, 0), timedelta(hours=1),
        "Europe/Amsterdam", date(2026, 11, 23), None, default_timing(bot.settings)),
        bot.clock())


async def code_for(bot: Harness, engine: Engine, therapist: FakeUser,
                   youth_code: str = "J-103") -> str:
    """Tick on the virtual clock until the therapist got the youth's kiosk code."""
    seen = len(therapist.inbox)
    for _ in range(24 * 12):
        bot.clock.advance(timedelta(minutes=5))
        await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        for message in therapist.inbox[seen:]:
            found = KIOSK_CODE.search(message.text)
            if found and found.group(1) == youth_code:
                return found.group(2) + found.group(3)
    raise AssertionError("no kiosk code reached the therapist")


async def consent_all(bot: Harness, tablet: str, token: str) -> kiosk.Screen:
    shown = await kiosk.entered_screen(bot.services, token, device=tablet)
    while isinstance(shown, kiosk.ConsentScreen):
        shown = await kiosk.answer_consent(bot.services, token, shown.scope, shown.number,
                                           agree=True, device=tablet)
    return shown


async def answer_all(bot: Harness, tablet: str, token: str, shown: kiosk.Screen,
                     note: str = "Het was fijn") -> kiosk.Screen:
    while isinstance(shown, kiosk.Question):
        bot.clock.advance(timedelta(seconds=5))
        if shown.is_note:
            return await kiosk.note(bot.services, token, note, device=tablet)
        choice = next(o for o in shown.options if o.words in ("Goed", "Niks bijzonders"))
        shown = await kiosk.answer(bot.services, token, shown.step, choice.value, device=tablet)
    return shown


@pytest.fixture
async def bot(tmp_path: Path) -> Any:
    async with running_bot(tmp_path) as harness:
        yield harness


async def test_a_kiosk_youth_answers_on_the_tablet_with_the_therapists_code(
        bot: Harness) -> None:
    engine, therapist, _, tablet = await clinic(bot)
    code = await code_for(bot, engine, therapist)
    notice = next(m.text for m in therapist.inbox if KIOSK_CODE.search(m.text))
    assert "J-103" in notice and "Geldig tot 15:" in notice   # 30 minutes, local time
    # The code is stored only as a keyed digest (and sealed for the console).
    assert code not in str(rows(bot, "SELECT * FROM kiosk_codes"))
    assert kiosk_staff.LiveCode("J-103", f"{code[:3]} {code[3:]}", bot.clock() + timedelta(
        minutes=30)) in await kiosk_staff.live_codes(bot.services, "T-02")

    entered = await kiosk.enter_code(bot.services, tablet, f"{code[:3]} {code[3:]}")
    assert isinstance(entered, kiosk.Entered)
    first = await kiosk.entered_screen(bot.services, entered.session_token, device=tablet)
    assert isinstance(first, kiosk.ConsentScreen) and first.scope == "participation"
    shown = await consent_all(bot, tablet, entered.session_token)
    assert isinstance(shown, kiosk.Question) and shown.step == 0
    assert [o.emoji for o in shown.options][-1] == "🤐"          # "zeg ik liever niet"
    done = await answer_all(bot, tablet, entered.session_token, shown)
    assert isinstance(done, kiosk.Finished) and "Dank je wel" in done.text
    await kiosk.finish(bot.services, entered.session_token)
    assert isinstance(await kiosk.screen(bot.services, entered.session_token, device=tablet),
                      kiosk.Ended)

    # Stored as from Telegram: answers, note (sealed), the consents with their versions.
    assert rows(bot, "SELECT status FROM checkins") == [("complete",)]
    assert len(rows(bot, "SELECT * FROM answers")) == 5   # 4 items (medium too), event
    assert len(rows(bot, "SELECT * FROM notes")) == 1
    assert sorted(rows(bot, "SELECT scope, answer FROM consents")) == [
        ("participation", "yes"), ("sharing", "yes")]
    # The check-in row was delivered and counts in compliance like a Telegram one.
    assert rows(bot, "SELECT state FROM outbox WHERE youth_code = 'J-103' AND kind ="
                     " 'checkin' ORDER BY due_at LIMIT 1") == [("sent",)]
    record = {c.youth_code: c for c in await bot.services.store.compliance(bot.clock())}
    assert (record["J-103"].sent, record["J-103"].completed) == (1, 1)
    # The code worked once only.
    again = await kiosk.enter_code(bot.services, tablet, code)
    assert again == kiosk.Refused(Refusal.USED)
    # Nothing went to a youth in Telegram: a kiosk youth has none.
    assert set(bot.fake.chats) <= {THERAPIST, UNIT_PHONE}
    # Audit trail: code issued and used, by youth code only.
    actions = [a for (a,) in rows(bot, "SELECT action FROM audit_log WHERE youth_code = "
                                       "'J-103'")]
    assert "code-issued" in actions and "code-used" in actions


async def test_a_crisis_text_on_the_tablet_alerts_unit_and_therapist(bot: Harness) -> None:
    engine, therapist, unit, tablet = await clinic(bot)
    code = await code_for(bot, engine, therapist)
    entered = await kiosk.enter_code(bot.services, tablet, code)
    assert isinstance(entered, kiosk.Entered)
    shown = await answer_all(bot, tablet, entered.session_token,
                             await consent_all(bot, tablet, entered.session_token),
                             note="ik wil niet meer leven")
    assert isinstance(shown, kiosk.CrisisScreen)
    assert shown.text.startswith("Vertel het nu aan je therapeut. Die is hier, bij jou.")
    assert "113" in shown.text and "0800-0113" in shown.text and "112" in shown.text
    # The urgent alert goes out on the next tick, as from Telegram.
    await engine.tick(bot.channel)
    await bot.fake.settle(expect_response=False)
    assert any(m.text.startswith("🚨") and "J-103" in m.text for m in unit.inbox)
    assert any(m.text.startswith("🚨") and "J-103" in m.text for m in therapist.inbox)
    assert len(rows(bot, "SELECT * FROM crisis_flags")) == 1
    assert rows(bot, "SELECT * FROM notes") == []     # the crisis text is not the note
    # The tablet keeps showing help (not the questions) until it is wiped.
    assert isinstance(await kiosk.screen(bot.services, entered.session_token, device=tablet),
                      kiosk.CrisisScreen)


async def test_wrong_codes_lock_the_tablet_and_the_code(bot: Harness) -> None:
    engine, therapist, _, tablet = await clinic(bot)
    code = await code_for(bot, engine, therapist)
    wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
    assert await kiosk.enter_code(bot.services, tablet, "12") == kiosk.Refused(
        Refusal.MALFORMED)                                   # not a guess: not counted
    for _ in range(MAX_TRIES):
        assert await kiosk.enter_code(bot.services, tablet, wrong) == kiosk.Refused(
            Refusal.WRONG)
    # Locked: even the right code is refused on this tablet ...
    assert await kiosk.enter_code(bot.services, tablet, code) == kiosk.Refused(
        Refusal.DEVICE_LOCKED)
    # ... and the code itself was guessed at: locked on every tablet of the unit.
    other = await kiosk_staff.register_device(bot.services, "W-1", "second", "coordinator:test")
    assert await kiosk.enter_code(bot.services, other, code) == kiosk.Refused(
        Refusal.CODE_LOCKED)
    assert await kiosk.enter_code(bot.services, "not-a-tablet", code) == kiosk.Refused(
        Refusal.UNKNOWN_DEVICE)
    assert "tablet-locked" in [a for (a,) in rows(bot, "SELECT action FROM audit_log")]
    # A new code from the therapist works once the lock ran out.
    checkin_id = rows(bot, "SELECT id FROM checkins")[0][0]
    issued = await kiosk_staff.issue_code(bot.services, checkin_id)
    assert issued is not None
    bot.clock.advance(timedelta(minutes=16))
    assert isinstance(await kiosk.enter_code(bot.services, tablet, issued.code),
                      kiosk.Entered)


async def test_an_idle_tablet_ends_the_session(bot: Harness) -> None:
    engine, therapist, _, tablet = await clinic(bot)
    code = await code_for(bot, engine, therapist)
    entered = await kiosk.enter_code(bot.services, tablet, code)
    assert isinstance(entered, kiosk.Entered)
    shown = await consent_all(bot, tablet, entered.session_token)
    assert isinstance(shown, kiosk.Question)
    bot.clock.advance(timedelta(seconds=89))
    assert isinstance(await kiosk.screen(bot.services, entered.session_token, device=tablet),
                      kiosk.Question)
    shown = await kiosk.answer(bot.services, entered.session_token, 0, "4",
                               device=tablet)   # a touch
    bot.clock.advance(timedelta(seconds=90))
    assert isinstance(await kiosk.screen(bot.services, entered.session_token, device=tablet),
                      kiosk.Ended)
    assert isinstance(await kiosk.answer(bot.services, entered.session_token, 1, "4",
                                         device=tablet),
                      kiosk.Ended)                 # nothing can be written through it now
    assert rows(bot, "SELECT count(*) FROM answers") == [(1,)]
    assert rows(bot, "SELECT ended_at IS NOT NULL FROM kiosk_sessions") == [(1,)]


async def test_switched_from_telegram_to_kiosk_keeps_the_history(
        bot: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    engine, therapist, _, tablet = await clinic(bot)
    youth = bot.fake.user(700000014)
    await bot.enrol(youth, "J-014")
    assert await bot.services.store.set_unit("J-014", "W-1")
    await weekly_session(bot, "J-014")
    # Week 1 in Telegram.
    for _ in range(24 * 12):
        bot.clock.advance(timedelta(minutes=5))
        await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        if youth.last.buttons:
            break
    for _ in range(6):
        last = youth.last
        if not last.buttons or "👉" in last.text:
            break
        labels = " ".join(last.button_labels())
        tap = "Klaar" if "Klaar" in labels else "Niks" if "Niks" in labels else "Goed"
        label = next(x for x in last.button_labels() if tap in x)
        query = youth.tap(last, label)
        await wait_for_next_message(youth, query, last)
        await bot.fake.settle(quiet=0.05)
    # The coordinator moves J-014 to the kiosk (their phone rules changed).
    exit_code, out = await asyncio.to_thread(
        run_cli, capsys, "set-channel", "J-014", "kiosk", "--config", str(bot.config_path))
    assert exit_code == 0 and "J-014: telegram -> kiosk" in out
    exit_code, out = await asyncio.to_thread(
        run_cli, capsys, "set-channel", "J-014", "--config", str(bot.config_path))
    assert exit_code == 0 and "J-014: kiosk" in out and "was telegram" in out
    telegram_messages = len(youth.inbox)
    # Week 2 on the kiosk: the code goes to the therapist, nothing to the youth's phone.
    bot.clock.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    code = await code_for(bot, engine, therapist, "J-014")
    entered = await kiosk.enter_code(bot.services, tablet, code)
    assert isinstance(entered, kiosk.Entered)
    shown = await kiosk.entered_screen(bot.services, entered.session_token, device=tablet)
    assert isinstance(shown, kiosk.Question)        # consent given in Telegram stands
    assert isinstance(await answer_all(bot, tablet, entered.session_token, shown), kiosk.Finished)
    for _ in range(12):          # no reminder and no question in Telegram for this week
        bot.clock.advance(timedelta(minutes=30))
        await engine.tick(bot.channel)
    await bot.fake.settle(expect_response=False)
    assert len(youth.inbox) == telegram_messages
    # Both weeks on the therapist's picture of J-014.
    load = await caseload(bot.services.store, "T-02", bot.clock())
    assert [p.state for p in load.points["J-014"]] == [State.ANSWERED, State.ANSWERED]
    assert [c.channel.value for c in await bot.services.store.channel_history("J-014")] == [
        "kiosk"]


async def to_the_note(bot: Harness, tablet: str, token: str) -> kiosk.Question:
    """Consent and every tapped question, up to the note."""
    shown = await consent_all(bot, tablet, token)
    while isinstance(shown, kiosk.Question) and not shown.is_note:
        bot.clock.advance(timedelta(seconds=5))
        choice = next(o for o in shown.options if o.words in ("Goed", "Niks bijzonders"))
        shown = await kiosk.answer(bot.services, token, shown.step, choice.value, device=tablet)
    assert isinstance(shown, kiosk.Question) and shown.is_note
    return shown


async def test_a_slowly_typed_crisis_note_still_raises_the_alert(bot: Harness) -> None:
    """Typing resets only the page's timer: a crisis text typed for 95 s must not be
    dropped by the server's idle rule (review of issue 15)."""
    engine, therapist, unit, tablet = await clinic(bot)
    code = await code_for(bot, engine, therapist)
    entered = await kiosk.enter_code(bot.services, tablet, code)
    assert isinstance(entered, kiosk.Entered)
    await to_the_note(bot, tablet, entered.session_token)
    bot.clock.advance(timedelta(seconds=95))
    shown = await kiosk.note(bot.services, entered.session_token, "ik wil niet meer leven",
                             device=tablet)
    assert isinstance(shown, kiosk.CrisisScreen)
    assert shown.text.startswith("Vertel het nu aan je therapeut.")
    assert rows(bot, "SELECT count(*) FROM crisis_flags") == [(1,)]
    await engine.tick(bot.channel)
    await bot.fake.settle(expect_response=False)
    assert any(m.text.startswith("🚨") and "J-103" in m.text for m in unit.inbox)
    assert any(m.text.startswith("🚨") and "J-103" in m.text for m in therapist.inbox)
    # The help screen stays on the tablet until it is wiped.
    assert isinstance(await kiosk.screen(bot.services, entered.session_token, device=tablet),
                      kiosk.CrisisScreen)


async def test_the_keep_alive_holds_a_slowly_typed_note(bot: Harness) -> None:
    engine, therapist, _, tablet = await clinic(bot)
    code = await code_for(bot, engine, therapist)
    entered = await kiosk.enter_code(bot.services, tablet, code)
    assert isinstance(entered, kiosk.Entered)
    await to_the_note(bot, tablet, entered.session_token)
    # The page's keep-alive while typing: touches 60 s apart keep it open.
    for _ in range(2):
        bot.clock.advance(timedelta(seconds=60))
        assert await kiosk.touch(bot.services, entered.session_token, device=tablet)
    bot.clock.advance(timedelta(seconds=60))
    shown = await kiosk.note(bot.services, entered.session_token, "Het was fijn", device=tablet)
    assert isinstance(shown, kiosk.Finished)
    assert rows(bot, "SELECT count(*) FROM notes") == [(1,)]


async def test_an_idle_plain_note_is_not_stored(bot: Harness) -> None:
    engine, therapist, _, tablet = await clinic(bot)
    code = await code_for(bot, engine, therapist)
    entered = await kiosk.enter_code(bot.services, tablet, code)
    assert isinstance(entered, kiosk.Entered)
    await to_the_note(bot, tablet, entered.session_token)
    bot.clock.advance(timedelta(seconds=95))
    shown = await kiosk.note(bot.services, entered.session_token, "Het was fijn", device=tablet)
    assert isinstance(shown, kiosk.Ended)
    assert rows(bot, "SELECT count(*) FROM notes") == [(0,)]
    assert rows(bot, "SELECT count(*) FROM crisis_flags") == [(0,)]
    assert not await kiosk.touch(bot.services, entered.session_token, device=tablet)


async def test_a_session_opens_nothing_on_another_or_a_retired_tablet(bot: Harness) -> None:
    """A session belongs to the tablet its code was typed on: its cookie on another
    tablet (copied, swapped) shows nothing and ends it; so does retiring the tablet."""
    engine, therapist, _, tablet = await clinic(bot)
    other = await kiosk_staff.register_device(bot.services, "W-1", "second", "coordinator:test")
    code = await code_for(bot, engine, therapist)
    entered = await kiosk.enter_code(bot.services, tablet, code)
    assert isinstance(entered, kiosk.Entered)
    token = entered.session_token
    assert isinstance(await consent_all(bot, tablet, token), kiosk.Question)
    for device in (other, None, "not-a-tablet"):
        assert isinstance(await kiosk.screen(bot.services, token, device=device), kiosk.Ended)
    assert rows(bot, "SELECT ended_at IS NOT NULL FROM kiosk_sessions") == [(1,)]
    assert isinstance(await kiosk.screen(bot.services, token, device=tablet), kiosk.Ended)
    assert isinstance(await kiosk.note(bot.services, token, "ik wil niet meer leven",
                                       device=other), kiosk.Ended)
    assert rows(bot, "SELECT count(*) FROM crisis_flags") == [(0,)]
    # A new code on the right tablet; then the coordinator retires that tablet.
    issued = await kiosk_staff.issue_code(bot.services, rows(bot, "SELECT id FROM checkins")[0][0])
    assert issued is not None
    again = await kiosk.enter_code(bot.services, tablet, issued.code)
    assert isinstance(again, kiosk.Entered)
    assert isinstance(await kiosk.entered_screen(bot.services, again.session_token,
                                                 device=tablet), kiosk.Question)
    device_id = rows(bot, "SELECT device_id FROM kiosk_sessions WHERE ended_at IS NULL")[0][0]
    assert await kiosk_staff.set_device_state(bot.services, device_id, "retire", "coordinator:t")
    assert isinstance(await kiosk.answer(bot.services, again.session_token, 0, "4",
                                         device=tablet), kiosk.Ended)
    assert rows(bot, "SELECT count(*) FROM answers") == [(0,)]
    assert rows(bot, "SELECT count(*) FROM kiosk_sessions WHERE ended_at IS NULL") == [(0,)]
