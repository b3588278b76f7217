"""The youth's path end to end: real Application, fake Bot API over HTTP, real SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.support import Harness

YOUTH = 700000123


def rows(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, params))


async def test_invite_consent_and_checkin_store_answers(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    token = await bot.invite("J-014")
    youth.send(f"/start {token}")
    await bot.fake.settle()
    consent = youth.last
    assert "💾 Wat bewaar ik? Je antwoorden. Met een code, niet met je naam." in consent.text
    assert "vraag ik je zo apart" in consent.text
    assert consent.button_labels() == ["✅ Ik doe mee", "✋ Nu niet"]
    assert rows(bot.database, "SELECT count(*) FROM consents") == [(0,)]

    youth.tap(consent, "Ik doe mee")
    await bot.fake.settle()
    assert "👉 ✅ Ik doe mee" in consent.text
    assert youth.inbox[-2].text.startswith("Top, dank je wel!")
    sharing = youth.last
    assert sharing.text.startswith("👀 Mag je therapeut je antwoorden zien?")
    assert "altijd een seintje" in sharing.text, "crisis alerts go out whatever the choice"
    assert sharing.button_labels() == ["✅ Ja, dat mag", "🙅 Nee, liever niet"]
    youth.tap(sharing, "Ja, dat mag")
    await bot.fake.settle()
    assert youth.last.text == "Oké! Je therapeut ziet je antwoorden. 👀"

    await bot.checkin(discipline="music")
    task = youth.last
    assert task.text.startswith(
        "Hoi! 👋 Een paar vragen over je muziektherapie van vanmiddag. Tik op wat past. 👇\n"
        "Eerlijk mag. Je therapeut wil het weten.")
    assert "Hoe ging het samenwerken met je therapeut vandaag?" in task.text
    assert task.button_labels() == [
        "😢 Heel slecht", "🙁 Slecht", "😐 Gewoon", "🙂 Goed", "😄 Heel goed",
        "🤐 Zeg ik liever niet", "🚫 Ik had geen therapie"]

    query = youth.tap(task, "🙂 Goed")
    await bot.fake.settle()
    assert bot.fake.answered[query] == "Bewaard ✔️"
    assert "👉 Jouw keuze: 🙂 Goed" in task.text
    assert "✔️ 🙂 Goed" in task.button_labels()
    assert "van vanmiddag" in task.text, "the edited first message still names the session"

    medium = youth.last
    assert "Hoe ging het samen muziek maken?" in medium.text
    youth.tap(medium, "Heel goed")
    await bot.fake.settle()
    goal = youth.last
    assert "Hoe goed helpt de therapie jou bij je eigen doel?" in goal.text
    youth.tap(goal, "Zeg ik liever niet")
    await bot.fake.settle()
    bond = youth.last
    assert "Hoe veilig voelde je je bij je therapeut vandaag?" in bond.text
    youth.tap(bond, "Gewoon")
    await bot.fake.settle()
    event = youth.last
    assert "Wat past het best bij je dag vandaag?" in event.text
    youth.tap(event, "Iets leuks")
    await bot.fake.settle()
    note = youth.last
    assert "Wat kan de volgende keer beter?" in note.text
    youth.send("Het drummen was echt vet")
    await bot.fake.settle()
    assert youth.last.text.startswith("Dank je wel! 🙏")
    assert "👉 Bewaard ✔️" in note.text and not note.buttons

    answers = dict(rows(bot.database, "SELECT item, value FROM answers"))
    assert answers == {"task": "4", "medium": "5", "goal": "x", "bond": "3",
                       "event": "something_good"}
    assert rows(bot.database, "SELECT DISTINCT questionnaire_version FROM answers") == [
        ("alliance-2",)]
    assert rows(bot.database, "SELECT status FROM checkins") == [("complete",)]
    (stored_note,) = rows(bot.database, "SELECT text_enc FROM notes")[0]
    assert isinstance(stored_note, bytes) and b"drummen" not in stored_note
    assert bot.services.cipher.open_text(stored_note) == "Het drummen was echt vet"
    consents = rows(bot.database, "SELECT scope, text_version, text_sha256, language, answer"
                                  " FROM consents ORDER BY id")
    current = bot.services.consents.current
    assert consents == [
        ("participation", "participation-3", current("participation").sha256("nl"), "nl", "yes"),
        ("sharing", "sharing-2", current("sharing").sha256("nl"), "nl", "yes")]


async def test_answer_can_change_until_complete(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    bond = youth.last
    youth.tap(bond, "Heel slecht")
    await bot.fake.settle()
    goal = youth.last
    query = youth.tap(bond, "Heel goed")
    await bot.fake.settle()
    assert bot.fake.answered[query] == "Aangepast ✔️"
    assert youth.last is goal, "changing an answer does not ask the next question again"
    assert rows(bot.database, "SELECT value, changes FROM answers") == [("5", 1)]
    again = youth.tap(bond, "Heel goed")
    await bot.fake.settle()
    assert bot.fake.answered[again] == "Dat had je al gekozen ✔️"
    assert rows(bot.database, "SELECT value, changes FROM answers") == [("5", 1)]


async def test_without_discipline_there_is_no_medium_question(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    for label in ("Gewoon", "Gewoon", "Gewoon"):
        youth.tap(youth.last, label)
        await bot.fake.settle()
    assert "Wat past het best bij je dag vandaag?" in youth.last.text
    youth.tap(youth.last, "Sla over")
    await bot.fake.settle()
    youth.tap(youth.last, "Klaar")
    await bot.fake.settle()
    assert youth.last.text.startswith("Dank je wel!")
    assert rows(bot.database, "SELECT count(*) FROM answers") == [(5,)]
    assert rows(bot.database, "SELECT status FROM checkins") == [("complete",)]


async def test_simple_mode_has_three_points_in_english(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH, language_code="en")
    await bot.enrol(youth, language="en", simple=True)
    await bot.checkin(discipline="dance")
    assert youth.last.text.startswith(
        "Hi! 👋 A few questions about your dance therapy this afternoon. Tap what fits. 👇\n"
        "Honest is fine. Your therapist wants to know.")
    assert "How did working together with your therapist go today?" in youth.last.text
    assert youth.last.button_labels() == [
        "🙁 Bad", "😐 In between", "🙂 Good", "🤐 Rather not say", "🚫 I had no session"]
    youth.tap(youth.last, "🙂 Good")
    await bot.fake.settle()
    assert rows(bot.database, "SELECT value FROM answers") == [("3",)]
