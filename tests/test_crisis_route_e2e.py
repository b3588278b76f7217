"""The crisis route end to end: a crisis text reaches a person who can act, every time.

The real Application over HTTP against the fake Telegram, a real SQLite file and the
virtual clock; the delivery engine is ticked by hand as the job queue would.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.offline import offline_bot
from bot.wiring import make_engine
from conversations import usecases
from conversations.enrolment import enroll_therapist, enroll_unit
from core.records import Consent
from faketelegram import FakeUser
from scheduler import crisis_delivery
from scheduler.engine import Engine
from tests.support import Clock, Harness, run_cli, running_bot, wait_until

YOUTH, THERAPIST, UNIT_PHONE, C1, C2 = 700000014, 600000002, 800000001, 9001, 9002
COORDINATORS = f"[coordinators]\ntelegram_ids = [{C1}, {C2}]\n"
FIRST_LINE = "Zeg het nu tegen iemand van de groepsleiding of tegen je mentor."


def rows(bot: Harness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql))


async def link_unit(bot: Harness, unit: str = "W-1", phone: int = UNIT_PHONE) -> FakeUser:
    invitation = await enroll_unit(bot.services.store, unit, "nl", bot.clock(),
                                   bot.services.invite_ttl)
    user = bot.fake.user(phone)
    user.send(f"/start {invitation.token}")
    await bot.fake.settle()
    assert user.last.text.startswith(f"Deze telefoon is nu het crisiscontact van afdeling "
                                     f"{unit}.")
    return user


async def link_therapist(bot: Harness) -> FakeUser:
    invitation = await enroll_therapist(bot.services.store, "T-02", "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    user = bot.fake.user(THERAPIST)
    user.send(f"/start {invitation.token}")
    await bot.fake.settle()
    return user


async def youth_on_unit(bot: Harness, unit: str | None = "W-1") -> FakeUser:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    if unit is not None:
        assert await bot.services.store.set_unit("J-014", unit)
    return youth


async def tick(bot: Harness, engine: Engine, after: timedelta) -> None:
    bot.clock.advance(after)
    await engine.tick(bot.channel)


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The command line in a thread, as from another shell while the bot runs."""
    return await asyncio.to_thread(run_cli, capsys, *argv)


def urgent(user: FakeUser) -> list[str]:
    return [m.text for m in user.inbox if m.text.startswith(("🚨", "🙋", "✓ J-"))]


async def test_unlinked_therapist_unit_within_a_minute_then_coordinators(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path, extra_toml=COORDINATORS) as bot:
        phone = await link_unit(bot)
        youth = await youth_on_unit(bot)          # T-02 never linked Telegram
        engine = make_engine(bot.settings, bot.services)
        c1, c2 = bot.fake.user(C1), bot.fake.user(C2)

        youth.send("ik wil dood")
        await bot.fake.settle()
        reply = youth.last
        assert reply.text.splitlines()[0] == FIRST_LINE
        assert reply.text.endswith("Ik stuur nu een bericht naar de groepsleiding.\n"
                                   "Wil je nu met iemand praten? Tik dan op de knop.")
        assert reply.button_labels() == ["🙋 Ik wil nu praten"]

        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone) == ["🚨 Dringend: J-014 (afdeling W-1) schreef iets dat op een "
                                 "crisis kan wijzen. Zorg dat nu iemand naar J-014 toe gaat. "
                                 "Tik op ✓ Gezien als je het oppakt."]
        assert phone.last.button_labels() == ["✓ Gezien"]
        assert urgent(c1) == urgent(c2) == []

        await tick(bot, engine, timedelta(minutes=19))
        assert urgent(c1) == urgent(c2) == [], "not before the escalation delay"
        await tick(bot, engine, timedelta(minutes=1))
        for coordinator in (c1, c2):
            assert urgent(coordinator)[0].startswith(
                "🚨 J-014: dringende melding (crisis) van 23/11 14:00 is nog door niemand "
                "gezien (afdeling W-1).")

        # One coordinator takes it up; the others hear who did, by role only.
        c2.tap(c2.last, "Gezien")
        await bot.fake.settle()
        assert "✓ Gezien om" in c2.last.text and not c2.last.buttons
        await tick(bot, engine, timedelta(seconds=30))
        told = "✓ J-014: de dringende melding van 23/11 14:00 is opgepakt door een coördinator"
        assert phone.last.text.startswith(told) and c1.last.text.startswith(told)
        assert str(C2) not in phone.last.text
        assert not c2.last.text.startswith(told)
        assert rows(bot, "SELECT substr(acked_by, 1, 12) FROM alerts") == [("coordinator:",)]
        states = rows(bot, "SELECT recipient LIKE 'coordinator:%', state FROM alert_deliveries"
                           " ORDER BY id")
        assert states == [(0, "sent"), (1, "sent"), (1, "sent")]


async def test_the_urgent_alert_goes_out_at_once_not_at_the_next_tick(
        tmp_path: Path) -> None:
    """The job queue ticks every 10 minutes here: the alert must not wait for it."""
    clock = Clock()
    async with offline_bot(tmp_path, clock, tick=True,
                           schedule={"tick_seconds": 600}) as running:
        bot = Harness(running.fake, running.settings, running.secrets, running.services,
                      running.app, clock, running.config_path)
        phone = await link_unit(bot)
        youth = await youth_on_unit(bot)
        youth.send("ik wil dood")
        await bot.fake.settle()
        assert youth.last.text.splitlines()[0] == FIRST_LINE
        # well before the next tick (600 s): wait_until gives up after 120 s
        await wait_until(lambda: urgent(phone) != [], "the unit phone has the alert")
        assert urgent(phone)[0].startswith("🚨 Dringend: J-014 (afdeling W-1)")
        youth.tap(youth.last, "Ik wil nu praten")
        await wait_until(lambda: len(urgent(phone)) == 2, "the talk-now alert as well")
        assert urgent(phone)[1].startswith("🙋")


async def test_a_coordinator_who_blocked_the_bot_does_not_stop_the_others(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path, extra_toml=COORDINATORS) as bot:
        youth = await youth_on_unit(bot, unit=None)   # no unit contact, therapist unlinked
        engine = make_engine(bot.settings, bot.services)
        bot.fake.blocked.add(C1)
        youth.send("ik wil er een einde aan maken")
        await bot.fake.settle()
        assert "Ik laat het zo snel mogelijk weten aan de begeleiding." in youth.last.text
        await tick(bot, engine, timedelta(seconds=30))   # no first line: coordinators at once
        assert urgent(bot.fake.user(C2))[0].startswith("🚨 J-014: dringende melding (crisis)")
        deliveries = rows(bot, "SELECT state, last_error FROM alert_deliveries ORDER BY id")
        assert sorted(deliveries) == [("blocked", "blocked the bot (403)"), ("sent", None)]
        assert rows(bot, "SELECT nobody_since FROM alerts") == [(None,)]


async def test_i_want_to_talk_now_alerts_the_unit_and_an_ack_stops_escalation(
        tmp_path: Path) -> None:
    async with running_bot(tmp_path, extra_toml=COORDINATORS) as bot:
        phone = await link_unit(bot)
        therapist = await link_therapist(bot)
        youth = await youth_on_unit(bot)
        engine = make_engine(bot.settings, bot.services)
        youth.send("ik snij mezelf, ik wil dood")
        await bot.fake.settle()
        assert ("Ik stuur nu een bericht naar de groepsleiding en naar je therapeut."
                in youth.last.text)
        query = youth.tap(youth.last, "Ik wil nu praten")
        await bot.fake.settle()
        assert bot.fake.answered[query] == "Doorgegeven 💛"
        assert youth.last.text.startswith("Goed dat je het zegt. 💛 Ik stuur de groepsleiding "
                                          "en je therapeut nu een bericht dat je wilt praten.")
        youth.tap(youth.inbox[-2], "Ik wil nu praten")
        await bot.fake.settle()
        assert youth.last.text.startswith("Ik heb het al doorgegeven."), "one alarm, not two"

        await tick(bot, engine, timedelta(seconds=30))
        talk = "🙋 Dringend: J-014 (afdeling W-1) tikte op 'Ik wil nu praten'."
        assert any(t.startswith(talk) for t in urgent(phone))
        assert any(t.startswith("🙋 Dringend: J-014 (afdeling W-1) tikte") for t in
                   urgent(therapist))
        crisis_for_therapist = next(t for t in urgent(therapist) if t.startswith("🚨"))
        assert crisis_for_therapist.startswith("🚨 Dringend: J-014 schreef iets dat op een "
                                               "crisis kan wijzen ('")
        assert "De groepsleiding van afdeling W-1 krijgt dit bericht ook." in (
            crisis_for_therapist)

        # The group staff take up both; nobody escalates, the therapist hears who did.
        for message in [m for m in phone.inbox if m.buttons]:
            phone.tap(message, "Gezien")
            await bot.fake.settle()
        await tick(bot, engine, timedelta(minutes=25))
        assert urgent(bot.fake.user(C1)) == urgent(bot.fake.user(C2)) == []
        notices = [t for t in urgent(therapist) if t.startswith("✓ J-014")]
        assert len(notices) == 2 and all("opgepakt door de groepsleiding" in t for t in notices)
        assert rows(bot, "SELECT reason, acked_by FROM alerts ORDER BY id") == [
            ("text", "unit:W-1"), ("talk", "unit:W-1")]


async def test_every_sender_gets_the_help_numbers(bot: Harness) -> None:
    stranger = bot.fake.user(123456)
    stranger.send("ik wil dood")
    await bot.fake.settle()
    assert stranger.last.text.splitlines()[0] == FIRST_LINE
    assert "0800-0113" in stranger.last.text and not stranger.last.buttons
    assert "Ik stuur" not in stranger.last.text, "no promise without a route"

    youth = await youth_on_unit(bot, unit=None)
    youth.send_photo(caption="ik wil niet meer leven")
    await bot.fake.settle()
    assert youth.last.text.splitlines()[0] == FIRST_LINE
    youth.send_photo()
    await bot.fake.settle()
    assert youth.last.text == "Ik kan alleen knoppen en korte tekst lezen. 🙂"

    youth.send("/stop")                       # paused: still help, still an alert
    await bot.fake.settle()
    bot.clock.advance(timedelta(minutes=1))   # one alert per youth per minute
    youth.send("ik wil dood")
    await bot.fake.settle()
    assert youth.last.text.splitlines()[0] == FIRST_LINE
    pseudonym = bot.services.pseudonym(YOUTH)
    text = bot.services.consents.current("participation")
    await bot.services.store.set_consent(pseudonym, Consent(
        "participation", text.version, text.sha256("nl"), "nl"), False, bot.clock())
    bot.clock.advance(timedelta(minutes=1))
    youth.send("ik wil dood")                 # withdrawn: safety overrides, still an alert
    await bot.fake.settle()
    assert youth.last.text.splitlines()[0] == FIRST_LINE
    assert rows(bot, "SELECT count(*) FROM alerts WHERE reason = 'text'") == [(3,)]

    assert await bot.services.store.erase_youth("J-014", bot.clock())
    youth.send("ik wil dood")                 # erased: a stranger now, still the numbers
    await bot.fake.settle()
    assert youth.last.text.splitlines()[0] == FIRST_LINE and not youth.last.buttons


async def test_after_a_crisis_text_no_nudge_no_thanks_no_reminder(bot: Harness) -> None:
    youth = await youth_on_unit(bot)
    await bot.checkin(discipline=None)
    youth.tap(youth.last, "Gewoon")
    await bot.fake.settle()
    before = len(youth.inbox)
    youth.send("ik wil dood")
    await bot.fake.settle()
    assert len(youth.inbox) == before + 1
    assert youth.last.text.splitlines()[0] == FIRST_LINE
    assert not any(m.text.startswith(("Tik op", "Dank je wel")) for m in youth.inbox[before:])
    assert await usecases.reminder(bot.services, "J-014", "s1") is None


async def test_reached_nobody_is_loud_and_retried_until_someone_is_reached(
        tmp_path: Path, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    async with running_bot(tmp_path, extra_toml=COORDINATORS) as bot:
        youth = await youth_on_unit(bot)               # W-1 has no contact, T-02 unlinked
        engine = make_engine(bot.settings, bot.services)
        bot.fake.blocked.update({C1, C2})              # and both coordinators blocked the bot
        youth.send("ik wil dood")
        await bot.fake.settle()
        assert "Ik laat het zo snel mogelijk weten aan de begeleiding." in youth.last.text
        with caplog.at_level(logging.ERROR):
            await tick(bot, engine, timedelta(seconds=30))
        assert any("URGENT ALERT REACHED NOBODY: J-014 (unit W-1)" in r.getMessage()
                   for r in caplog.records if r.levelno == logging.ERROR)
        code, out = await cli(capsys, "overview", "--config", str(bot.config_path))
        assert code == 0
        assert out.splitlines()[:2] == [
            "🚨 Dringende meldingen die niemand bereikten (niet gezien):",
            "J-014 (afdeling W-1), crisis, sinds 23/11 14:00: coordinator: blocked the bot "
            "(403); coordinator: blocked the bot (403)"]

        bot.fake.blocked.discard(C2)                   # one coordinator unblocks
        c2 = bot.fake.user(C2)
        c2.send("/overview")
        await bot.fake.settle()
        assert c2.last.text.startswith("🚨 Dringende meldingen die niemand bereikten")
        await tick(bot, engine, timedelta(seconds=30))  # retried: the blocked rows too
        assert c2.last.text.startswith("🚨 J-014: dringende melding (crisis)")
        assert rows(bot, "SELECT nobody_since FROM alerts") == [(None,)]
        code, out = await cli(capsys, "overview", "--config", str(bot.config_path))
        assert "niemand bereikten" not in out

        phone = await link_unit(bot)                   # the route is repaired: the unit too
        await tick(bot, engine, timedelta(seconds=30))
        assert urgent(phone)[0].startswith("🚨 Dringend: J-014 (afdeling W-1)")


async def test_nobody_linked_and_no_coordinators_is_still_loud(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(tmp_path) as bot:
        youth = await youth_on_unit(bot, unit=None)
        engine = make_engine(bot.settings, bot.services)
        youth.send("ik wil dood")
        await bot.fake.settle()
        with caplog.at_level(logging.ERROR):
            await tick(bot, engine, timedelta(seconds=30))
        assert any("REACHED NOBODY: J-014 (unit -): no recipient is linked" in r.getMessage()
                   for r in caplog.records)
        assert len(rows(bot, "SELECT nobody_since FROM alerts WHERE nobody_since IS NOT NULL"
                        )) == 1


async def test_check_config_refuses_a_youth_without_a_route(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with running_bot(tmp_path, extra_toml=COORDINATORS) as bot:
        await youth_on_unit(bot)
        config = str(bot.config_path)
        code, out = await cli(capsys, "check-config", "--config", config)
        assert code == 2
        assert ("crisis route: unit W-1 (youths J-014): no linked 24/7 crisis contact; run "
                "`enroll-unit --unit W-1`") in out
        assert "warning: crisis route: J-014: therapist T-02 has not linked Telegram" in out
        code, out = await cli(capsys, "enroll-unit", "--config", config, "--unit", "W-1")
        assert code == 0 and "Open it on the unit's on-call phone" in out
        token = out.split("?start=")[1].split()[0]
        bot.fake.user(UNIT_PHONE).send(f"/start {token}")
        await bot.fake.settle()
        code, out = await cli(capsys, "check-config", "--config", config)
        assert code == 0 and out.endswith(": ok\n")
        code, out = await cli(capsys, "invite", "--config", config, "--unit", "W-1")
        assert code == 1 and "unbind-unit --unit W-1" in out   # no silent replacement


async def test_run_starts_without_a_route_but_says_so_loudly(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(tmp_path, extra_toml=COORDINATORS) as bot:
        await youth_on_unit(bot)
        engine = make_engine(bot.settings, bot.services)
        with caplog.at_level(logging.ERROR):
            assert await crisis_delivery.check_routes_at_start(engine, bot.channel) == 1
        assert any(r.levelno == logging.ERROR and "unit W-1 (youths J-014)" in r.getMessage()
                   for r in caplog.records)
        for coordinator in (C1, C2):
            assert bot.fake.user(coordinator).last.text.startswith(
                "⚠️ De crisisroute is niet compleet: unit W-1 (youths J-014): no linked 24/7 "
                "crisis contact")


async def test_the_reply_in_english_and_a_talk_tap_after_erasure(
        bot: Harness) -> None:
    youth = bot.fake.user(YOUTH, language_code="en")
    await bot.enrol(youth, language="en")
    youth.send("I want to die")
    await bot.fake.settle()
    assert youth.last.text.splitlines()[0] == "Tell someone of the group staff or your mentor now."
    assert "0800-0113" in youth.last.text and "I will let the staff know as soon as possible." in (
        youth.last.text)
    assert youth.last.button_labels() == ["🙋 I want to talk now"]
    reply = youth.last
    assert await bot.services.store.erase_youth("J-014", bot.clock())
    query = youth.tap(reply, "talk now")          # an old button, after erasure
    await bot.fake.settle()
    assert not bot.fake.answered[query], "nothing was passed on: no toast says so"
    assert youth.last.text.splitlines()[0] == "Tell someone of the group staff or your mentor now."
    assert not youth.last.buttons, "help, never silence; but nobody to alert"
    assert rows(bot, "SELECT count(*) FROM alerts WHERE reason = 'talk'") == [(0,)]
