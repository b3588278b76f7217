"""Closing the loop, end to end (issue 13): questionnaire alliance-2 beside alliance-1,
thanks for honesty, /mijnlijn, simple mode switched by therapist and coordinator, the
therapist's prompt before the next session, and "Besproken" on alerts.

Real PTB Application over HTTP to the fake Bot API, a real SQLite file, a virtual clock."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import hashlib
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot import cli
from bot.rules import default_timing
from bot.wiring import make_engine
from conversations import usecases
from conversations.enrolment import enroll_therapist
from conversations.telegram_io import send_prompt
from core.questionnaire import Discipline, builtin_questionnaires
from core.records import Consent, NewAlert, NewSeries
from faketelegram import FakeUser
from scheduler.engine import Engine
from storage.timefmt import iso
from tests.support import Harness, run_cli, running_bot, wait_for_next_message

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)     # 07:00 in Amsterdam
YOUTH, J001, J002, T02, T03 = 700000123, 700000001, 700000002, 600000002, 600000003


def rows(bot: Harness, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql, params))


async def tap(bot: Harness, user: FakeUser, label: str) -> None:
    last = user.last
    query = user.tap(last, label)
    await wait_for_next_message(user, query, last)
    await bot.fake.settle(quiet=0.05)


# -- the youth's side ---------------------------------------------------------------------

async def test_v2_items_are_asked_and_a_v1_checkin_open_at_the_upgrade_completes_under_v1(
    bot: Harness,
) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    # Opened by the previous release (alliance-1), still open when the new one starts.
    before = dataclasses.replace(bot.services,
                                 questionnaire=builtin_questionnaires()["alliance-1"])
    outgoing = await usecases.start_checkin(before, "J-014", "s1", "music")
    assert outgoing is not None
    await send_prompt(bot.services, bot.app.bot, outgoing.chat_id, outgoing.prompt)
    await bot.fake.settle(expect_response=False)
    first = youth.last
    assert "Hoe goed luisterde je therapeut vandaag naar jou?" in first.text
    assert first.button_labels() == ["😐 Matig", "🙂 Gaat wel", "😊 Oké", "😄 Goed",
                                     "🤩 Heel goed", "🤐 Zeg ik liever niet",
                                     "🚫 Ik had geen therapie"]
    await tap(bot, youth, "😄 Goed")
    assert "Hoe goed past de therapie bij wat jij wilt bereiken?" in youth.last.text
    await tap(bot, youth, "😊 Oké")
    assert "Hoe goed paste wat jullie vandaag deden bij jou?" in youth.last.text
    await tap(bot, youth, "Matig")
    assert "Hoe fijn was het werken met muziek vandaag?" in youth.last.text
    await tap(bot, youth, "Heel goed")
    await tap(bot, youth, "Sla over")
    assert "Typ hier wat je nog kwijt wilt." in youth.last.text
    await tap(bot, youth, "Klaar")
    assert youth.last.text.startswith("Dank je wel voor je eerlijke antwoord!"), (
        "a low answer, shared with the therapist, is thanked as honest")
    assert rows(bot, "SELECT DISTINCT questionnaire_version FROM answers") == [
        ("alliance-1",)]
    scores = rows(bot, "SELECT item, value FROM answers WHERE item NOT IN ('event', 'note')")
    assert dict(scores) == {"bond": "4", "goal": "3", "task": "1", "medium": "5"}

    # The next check-in is alliance-2: concrete first, bond last, balanced faces.
    await bot.checkin(occurrence="s2", discipline="music")
    assert "Hoe ging het samenwerken met je therapeut vandaag?" in youth.last.text
    assert youth.last.button_labels()[:5] == [
        "😢 Heel slecht", "🙁 Slecht", "😐 Gewoon", "🙂 Goed", "😄 Heel goed"]
    for label in ("🙂 Goed", "🙂 Goed", "😄 Heel goed", "🙂 Goed", "Sla over", "Klaar"):
        await tap(bot, youth, label)
    assert youth.last.text.startswith("Dank je wel! 🙏 Je antwoorden zijn bewaard.")
    assert rows(bot, "SELECT questionnaire_version, count(*) FROM answers"
                     " GROUP BY questionnaire_version ORDER BY 1") == [
        ("alliance-1", 6), ("alliance-2", 6)]

    # /mijnlijn: both sessions, each answer with the face of the scale it was given on.
    youth.send("/mijnlijn")
    await bot.fake.settle()
    line = youth.last.text
    assert line.startswith("📈 Jouw lijn: je laatste 2 keer. Van oud naar nieuw.")
    assert "Samenwerken: 😐 🙂" in line          # v1 "Matig" was its lowest, a 😐
    assert "Samen doen: 🤩 🙂" in line
    assert "Je doel: 😊 😄" in line
    assert "Veilig voelen: 😄 🙂" in line
    assert "😢 Heel slecht · 🙁 Slecht · 😐 Gewoon · 🙂 Goed · 😄 Heel goed" in line
    assert "bij 1 van deze keren waren er nog de oude vragen" in line


async def test_thanks_for_honesty_only_when_the_therapist_sees_it(bot: Harness) -> None:
    sharing, private = bot.fake.user(J001), bot.fake.user(J002)
    await bot.enrol(sharing, "J-001")
    await bot.enrol(private, "J-002", share=False)
    for code, user in (("J-001", sharing), ("J-002", private)):
        await bot.checkin(code, discipline=None, occurrence=f"s-{code}")
        for label in ("🙁 Slecht", "Gewoon", "Gewoon", "Sla over", "Klaar"):
            await tap(bot, user, label)
    assert sharing.last.text.startswith("Dank je wel voor je eerlijke antwoord! 🙏")
    assert private.last.text.startswith("Dank je wel! 🙏 Je antwoorden zijn bewaard.")
    # A youth who answered nothing yet gets a kind word, not an empty line.
    newcomer = bot.fake.user(YOUTH)
    await bot.enrol(newcomer, "J-014")
    newcomer.send("/myline")
    await bot.fake.settle()
    assert newcomer.last.text.startswith("Je hebt nog geen vragen beantwoord.")


# -- simple mode ----------------------------------------------------------------------------

async def test_simple_mode_switched_by_therapist_and_coordinator_from_the_next_checkin(
    bot: Harness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    youth, therapist, other = bot.fake.user(YOUTH), bot.fake.user(T02), bot.fake.user(T03)
    for staff_code, user in (("T-02", therapist), ("T-03", other)):
        invitation = await enroll_therapist(bot.services.store, staff_code, "nl", bot.clock(),
                                            bot.services.invite_ttl)
        assert invitation is not None
        user.send(f"/start {invitation.token}")
        await bot.fake.settle()
    await bot.enrol(youth)                                          # J-014, T-02's youth
    await bot.checkin(occurrence="s1")
    open_one = youth.last
    assert len(open_one.button_labels()) == 7   # five faces, rather not say, no session

    other.send("/simpel J-014 aan")
    await bot.fake.settle()
    assert other.last.text == "J-014 is niet een van jouw jongeren. Kijk bij /clients."
    therapist.send("/simpel J-014")
    await bot.fake.settle()
    assert therapist.last.text.startswith("Zo gebruik je het: /simpel J-014 aan")
    therapist.send("/simpel J-014 aan")
    await bot.fake.settle()
    assert therapist.last.text == "✅ J-014 krijgt vanaf de volgende keer 3 antwoorden (simpel)."
    assert rows(bot, "SELECT simple_mode FROM youths WHERE code = 'J-014'") == [(1,)]

    # The open check-in keeps its 5 answers; the next one has the three middle faces.
    await tap(bot, youth, "😐 Gewoon")
    assert len(youth.last.button_labels()) == 6
    await bot.checkin(occurrence="s2")
    assert youth.last.button_labels() == ["🙁 Slecht", "😐 Gewoon", "🙂 Goed",
                                          "🤐 Zeg ik liever niet", "🚫 Ik had geen therapie"]

    # The coordinator switches it back on the command line.
    monkeypatch.setattr(cli, "_now", bot.clock)
    config = str(bot.config_path)
    code, out = await asyncio.to_thread(run_cli, capsys, "set-simple", "--config", config,
                                        "--code", "J-014", "--off")
    assert (code, out) == (0, "J-014 now gets 5 answers, from the next check-in.\n")
    code, out = await asyncio.to_thread(run_cli, capsys, "set-simple", "--config", config,
                                        "--code", "J-014", "--off")
    assert (code, out) == (0, "J-014 already gets 5 answers; nothing changed.\n")
    code, out = await asyncio.to_thread(run_cli, capsys, "set-simple", "--config", config,
                                        "--code", "J-999", "--on")
    assert code == 1 and "unknown youth code J-999" in out
    with pytest.raises(SystemExit) as refused:         # neither --on nor --off: argparse
        await asyncio.to_thread(run_cli, capsys, "set-simple", "--config", config,
                                "--code", "J-014")
    assert refused.value.code == 2 and "--on" in capsys.readouterr().err
    await bot.checkin(occurrence="s3")
    assert len(youth.last.button_labels()) == 7   # five faces again, rather not, no session
    audit = rows(bot, "SELECT actor, action, youth_code, detail FROM audit_log"
                      " WHERE action = 'set-simple' ORDER BY seq")
    assert [(a[1:]) for a in audit] == [("set-simple", "J-014", "on"),
                                        ("set-simple", "J-014", "off")]
    assert audit[0][0] == "T-02" and audit[1][0].startswith("cli")


# -- the therapist's side ---------------------------------------------------------------------

async def clinic(bot: Harness) -> Engine:
    """T-02 with J-001 (music, Tuesdays 15:00) and J-002 (drama, Tuesdays 10:00)."""
    bot.clock.now = MONDAY
    invitation = await enroll_therapist(bot.services.store, "T-02", "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    bot.fake.user(T02).send(f"/start {invitation.token}")
    await bot.fake.settle()
    for code, uid in (("J-001", J001), ("J-002", J002)):
        await bot.enrol(bot.fake.user(uid), code)
    timing = default_timing(bot.settings)
    sessions: tuple[tuple[str, Discipline, time], ...] = (
        ("J-001", "music", time(15)), ("J-002", "drama", time(10)))
    for code, discipline, at in sessions:
        await bot.services.store.add_series(NewSeries(
            "T-02", (code,), discipline, frozenset({1}), at, timedelta(hours=1),
            "Europe/Amsterdam", date(2026, 11, 23), None, timing), bot.clock())
    return make_engine(bot.settings, bot.services)


async def answer_checkin(bot: Harness, user: FakeUser, low_bond: bool) -> None:
    """Answer whatever is open: "Goed" everywhere, the bond "Heel slecht" if asked to."""
    for _ in range(8):
        last = user.last
        if not last.buttons or "👉" in last.text:
            return
        labels = " ".join(last.button_labels())
        choice = ("Klaar" if "Klaar" in labels else "Niks bijzonders" if "Niks" in labels
                  else "Heel slecht" if low_bond and "veilig" in last.text else "🙂 Goed")
        await tap(bot, user, choice)


async def run_until(bot: Harness, engine: Engine, end: datetime,
                    answers: dict[int, bool]) -> list[tuple[datetime, str]]:
    """Tick every 15 minutes; youths answer as told; return the therapist's talk prompts."""
    prompts: list[tuple[datetime, str]] = []
    seen = len(bot.fake.messages(T02))
    while bot.clock() < end:
        bot.clock.advance(timedelta(minutes=15))
        await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        for uid, low in answers.items():
            await answer_checkin(bot, bot.fake.user(uid), low)
        inbox = bot.fake.messages(T02)
        prompts += [(bot.clock(), m.text) for m in inbox[seen:] if m.text.startswith("🗣️")]
        seen = len(inbox)
    return prompts


async def test_a_prompt_before_the_next_session_once_on_time_and_only_when_low(
    bot: Harness,
) -> None:
    engine = await clinic(bot)
    # Week 1: J-001 feels unsafe (bond lowest), J-002 is fine. No earlier check-ins, so
    # neither session this week gets a prompt.
    prompts = await run_until(bot, engine, MONDAY + timedelta(days=6),
                              {J001: True, J002: False})
    assert prompts == []
    assert rows(bot, "SELECT item, value FROM answers a JOIN checkins c ON c.id ="
                     " a.checkin_id WHERE a.item = 'bond' ORDER BY c.created_at") == [
        ("bond", "4"), ("bond", "1")]
    # Week 2: one prompt for J-001, 60 minutes before the 15:00 session; none for J-002.
    prompts = await run_until(bot, engine, MONDAY + timedelta(days=8, hours=10),
                              {J001: False, J002: False})
    assert len(prompts) == 1
    sent_at, text = prompts[0]
    assert sent_at.astimezone(AMS).strftime("%a %H:%M") == "Tue 14:00"
    assert text.startswith("🗣️ Straks om 15:00 heb je sessie. Even aandacht voor:\n")
    # the floor alert on bond (core.analytics) joins the low answer as a reason
    assert text.splitlines()[1].startswith("J-001: band was laag")
    assert text.endswith("na de vorige sessie. Even bespreken?")
    assert "J-002" not in text
    talk = rows(bot, "SELECT occurrence_key, state, last_error FROM outbox WHERE kind = 'talk'"
                     " AND due_at < ? ORDER BY due_at", iso(bot.clock()))
    assert [t[1:] for t in talk] == [
        ("cancelled", "nothing to discuss"),    # J-002, week 1
        ("cancelled", "nothing to discuss"),    # J-001, week 1
        ("cancelled", "nothing to discuss"),    # J-002, week 2
        ("sent", None)]                         # J-001, week 2
    # Planning again adds nothing; no second prompt for the same session.
    assert await engine.replan() == 0
    assert len({t[0] for t in talk}) == len(talk)


async def test_besproken_next_to_gezien_recorded_audited_exported(
    bot: Harness, capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    engine = await clinic(bot)
    store, now = bot.services.store, bot.clock()
    await store.add_alert(NewAlert("A" * 16, "rupture:J-001:test", "rupture", "J-001", "T-02",
                                   "strenge breuk in de samenwerking.", now, None), now)
    # The undiscussed alert alone is reason for a prompt before J-001's session.
    prompts = await run_until(bot, engine, MONDAY + timedelta(days=1, hours=8),
                              {J001: False, J002: False})
    assert [t for _, t in prompts] == [
        "🗣️ Straks om 15:00 heb je sessie. Even aandacht voor:\n"
        "J-001: er was een breuk na de vorige sessie. Even bespreken?"]
    therapist = bot.fake.user(T02)
    alert = next(m for m in therapist.inbox if m.text.startswith("⚠️ J-001"))
    assert alert.button_labels() == ["✓ Gezien", "💬 Besproken"]
    therapist.tap(alert, "Gezien")
    await bot.fake.settle()
    assert "✓ Gezien om" in alert.text and alert.button_labels() == ["💬 Besproken"]
    stranger = bot.fake.user(T03)
    forged = stranger.tap_data(alert, alert.buttons[0][0][1])
    await bot.fake.settle()
    assert bot.fake.answered[forged] in ("Deze melding is niet voor jou.",
                                         "Deze knop werkt niet meer. 🙂")
    query = therapist.tap(alert, "Besproken")
    await bot.fake.settle()
    assert (bot.fake.answered[query] or "").startswith("💬 Besproken om")
    assert "💬 Besproken om" in alert.text and not alert.buttons
    (discussed,) = rows(bot, "SELECT discussed_at FROM alerts")[0]
    assert discussed is not None
    assert rows(bot, "SELECT actor, youth_code, detail FROM audit_log WHERE action ="
                     " 'discussed'") == [("T-02", "J-001", "rupture")]
    # Discussed: no prompt for it before next week's session.
    prompts = await run_until(bot, engine, MONDAY + timedelta(days=8, hours=8),
                              {J001: False, J002: False})
    assert prompts == []
    # The coordinators' export carries when it was seen and discussed.
    out = tmp_path / "full"
    code, _ = await asyncio.to_thread(run_cli, capsys, "export", "--config",
                                      str(bot.config_path), "--out", str(out), "--full")
    assert code == 0
    (row,) = list(csv.DictReader((out / "alerts.csv").read_text().splitlines()))
    assert row["youth_code"] == "J-001" and row["kind"] == "rupture"
    assert row["discussed_date"] == datetime.fromisoformat(discussed).date().isoformat()
    assert float(row["hours_to_discussed"]) >= float(row["hours_to_seen"]) >= 0


async def test_one_rating_message_per_group_session_mirroring_the_youths_scale(
    bot: Harness,
) -> None:
    bot.clock.now = MONDAY
    invitation = await enroll_therapist(bot.services.store, "T-02", "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    therapist = bot.fake.user(T02)
    therapist.send(f"/start {invitation.token}")
    await bot.fake.settle()
    for code, uid in (("J-001", J001), ("J-002", J002)):
        await bot.enrol(bot.fake.user(uid), code)
    await bot.services.store.add_series(NewSeries(
        "T-02", ("J-001", "J-002"), "dance", frozenset({1}), time(15), timedelta(hours=1),
        "Europe/Amsterdam", date(2026, 11, 23), None, default_timing(bot.settings)),
        bot.clock())
    engine = make_engine(bot.settings, bot.services)
    await run_until(bot, engine, MONDAY + timedelta(days=1, hours=12), {})
    ratings = [m for m in therapist.inbox if m.text.startswith("Jouw kijk")]
    assert len(ratings) == 1, "one message for the group session, not one per youth"
    (message,) = ratings
    assert message.text == (
        "Jouw kijk op de sessie met J-001, J-002 (24/11): tik per regel taak, doel en band."
        " Dezelfde gezichtjes als de jongere: 😢 Heel slecht · 🙁 Slecht · 😐 Gewoon"
        " · 🙂 Goed · 😄 Heel goed.")
    firsts = [row[0][0] for row in message.buttons]
    assert firsts == ["J-001 taak 😢", "J-001 doel 😢", "J-001 band 😢",
                      "J-001 🚫 Sessie ging niet door",
                      "J-002 taak 😢", "J-002 doel 😢", "J-002 band 😢",
                      "J-002 🚫 Sessie ging niet door"]
    assert [label for label, _ in message.buttons[6]][1:] == ["🙁", "😐", "🙂", "😄"]
    therapist.tap_data(message, message.buttons[6][1][1])         # J-002 band: Slecht
    await bot.fake.settle()
    assert rows(bot, "SELECT youth_code, item, value FROM therapist_ratings") == [
        ("J-002", "bond", "2")]
    assert message.buttons[6][1][0] == "✔️🙁" and message.buttons[2][1][0] == "🙁"
    states = rows(bot, "SELECT state, last_error FROM outbox WHERE kind = 'rating'"
                       " AND occurrence_key = 's1:2026-11-24'")
    assert sorted(states, key=str) == [("sent", "in the group message"), ("sent", None)]


async def test_new_consent_texts_name_the_institution_and_are_asked_before_the_next_checkin(
    tmp_path: Path,
) -> None:
    extra = ('[privacy]\ncontroller = "Stichting De Hoeve"\n'
             'contact = "privacy@dehoeve.example"\n[retention]\nsessions_days = 730\n')
    async with running_bot(tmp_path, extra_toml=extra) as bot:
        bot.clock.now = MONDAY
        youth = bot.fake.user(J001)
        token = await bot.invite("J-001")
        youth.send(f"/start {token}")
        await bot.fake.settle()
        shown = youth.last.text
        for line in ("⏳ Hoe lang? Je antwoorden bewaar ik 2 jaar.",
                     "📱 De berichten gaan via Telegram.",
                     "🔎 Typ je iets? Dan lees ik mee of je veilig bent.",
                     "🧑‍💼 De coördinator ziet hoe vaak je antwoordt.",
                     "📁 Je antwoorden kunnen in je dossier komen.",
                     "Het telt nooit mee voor je verlof. Ook niet voor je fase. Ook niet"
                     " voor een rapport voor de rechter.",
                     "🏢 Wie is verantwoordelijk voor je gegevens? Stichting De Hoeve.",
                     "❓ Vragen of klachten? Vraag het je mentor. Of: privacy@dehoeve.example."):
            assert line in shown, line
        assert "{" not in shown
        youth.tap(youth.last, "Ik doe mee")
        await bot.fake.settle()
        sharing = youth.last.text
        assert "De groepsleiding ook." in sharing and "verlof" in sharing
        youth.tap(youth.last, "Ja, dat mag")
        await bot.fake.settle()
        # The digest stored is over exactly what the youth saw, names and periods filled in.
        stored = dict(rows(bot, "SELECT text_version, text_sha256 FROM consents"))
        assert stored["participation-3"] == hashlib.sha256(shown.strip().encode()).hexdigest()
        assert "sharing-2" in stored

        # A youth who agreed to the older text is asked the new one before the next
        # check-in; the check-in waits for the answer.
        youth_row = await bot.services.store.youth_by_code("J-001")
        assert youth_row is not None and youth_row.pseudonym is not None
        await bot.services.store.set_consent(youth_row.pseudonym, Consent(
            "participation", "participation-2", "0" * 64, "nl"), True, bot.clock())
        await bot.services.store.add_series(NewSeries(
            "T-02", ("J-001",), "music", frozenset({0}), time(9), timedelta(hours=1),
            "Europe/Amsterdam", date(2026, 11, 23), None, default_timing(bot.settings)),
            bot.clock())
        engine = make_engine(bot.settings, bot.services)
        before = len(youth.inbox)
        for _ in range(16):
            bot.clock.advance(timedelta(minutes=15))
            await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        asked = [m.text for m in youth.inbox[before:]]
        assert len(asked) == 1 and asked[0].startswith("Er is iets veranderd in de uitleg.")
        assert "Stichting De Hoeve" in asked[0]
        youth.tap(youth.last, "Ik doe mee")
        await bot.fake.settle()
        bot.clock.advance(timedelta(minutes=1))
        await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        assert youth.last.text.startswith(
            "Hoi! 👋 Een paar vragen over je muziektherapie van vanochtend.")
