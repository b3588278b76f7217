"""Bad input gets a clear answer and causes no write it should not."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from core.callbacks import answer_data
from tests.support import Harness

YOUTH, OTHER, STRANGER = 700000123, 700000456, 700000999
UNKNOWN_REPLY = "Hoi! Deze bot is alleen voor jongeren die zijn aangemeld"


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def snapshot(db: Path) -> dict[str, int]:
    tables = ("youths", "invites", "contacts", "consents", "checkins", "prompts", "answers",
              "notes", "crisis_flags")
    return {t: count(db, t) for t in tables}


async def test_unknown_users_get_a_kind_reply_and_nothing_is_stored(bot: Harness) -> None:
    stranger = bot.fake.user(STRANGER)
    before = snapshot(bot.database)
    sends: list[Callable[[], None]] = [
        lambda: stranger.send("hallo?"), lambda: stranger.send("/start"),
        lambda: stranger.send("/stop"), stranger.send_sticker,
        lambda: stranger.send("/start bogus-token")]
    for send in sends:
        send()
        await bot.fake.settle()
    texts = [m.text for m in stranger.inbox]
    assert texts[:3] == [texts[0]] * 3 and texts[0].startswith(UNKNOWN_REPLY)
    assert texts[4].startswith("Deze link ken ik niet.")
    assert snapshot(bot.database) == before


async def test_declining_consent_stores_nothing(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    token = await bot.invite("J-014")
    youth.send(f"/start {token}")
    await bot.fake.settle()
    before = snapshot(bot.database)
    youth.tap(youth.last, "Nu niet")
    await bot.fake.settle()
    assert youth.last.text.startswith("Oké, geen probleem.")
    assert snapshot(bot.database) == before
    youth.send("hoi")
    await bot.fake.settle()
    assert youth.last.text.startswith(UNKNOWN_REPLY)


async def test_used_expired_and_unknown_invites_bind_nothing(bot: Harness) -> None:
    youth, other = bot.fake.user(YOUTH), bot.fake.user(OTHER)
    token = await bot.invite("J-014")
    youth.send(f"/start {token}")
    await bot.fake.settle()
    other.send(f"/start {token}")
    await bot.fake.settle()
    youth.tap(youth.inbox[0], "Ik doe mee")
    await bot.fake.settle()
    before = snapshot(bot.database)
    other.tap(other.last, "Ik doe mee")
    await bot.fake.settle()
    assert snapshot(bot.database) == before
    assert str(bot.fake.answered[list(bot.fake.answered)[-1]]).startswith(
        "Deze link is al gebruikt")
    other.send(f"/start {token}")
    await bot.fake.settle()
    assert other.last.text.startswith("Deze link is al gebruikt.")

    late = await bot.invite("J-015")
    bot.clock.advance(timedelta(days=15))
    other.send(f"/start {late}")
    await bot.fake.settle()
    assert other.last.text.startswith("Deze link is verlopen.")
    other.send("/start AAAAAAAAAAAAAAAAAAAAAA")
    await bot.fake.settle()
    assert other.last.text.startswith("Deze link ken ik niet.")
    assert snapshot(bot.database) == before | {"youths": 2, "invites": 2}


async def test_typed_text_media_and_long_text_during_checkin(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin()
    before = snapshot(bot.database)
    youth.send("goed denk ik")
    await bot.fake.settle()
    assert youth.last.text == "Tik op een van de knoppen bij de vraag hierboven. 👆"
    for send in (youth.send_sticker, youth.send_photo, youth.send_voice):
        send()
        await bot.fake.settle()
        assert youth.last.text.startswith("Ik kan alleen knoppen en korte tekst lezen.")
    youth.send("x" * 4000)
    await bot.fake.settle()
    assert youth.last.text.startswith("Dat bericht is te lang. Het mag maximaal 1000 tekens")
    assert snapshot(bot.database) == before


async def test_long_note_is_refused_then_a_short_one_is_kept(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    for label in ("Gewoon", "Gewoon", "Gewoon", "Niks bijzonders"):
        youth.tap(youth.last, label)
        await bot.fake.settle()
    youth.send("a" * 1001)
    await bot.fake.settle()
    assert youth.last.text.startswith("Dat bericht is te lang.")
    assert count(bot.database, "notes") == 0
    youth.send("a" * 1000)
    await bot.fake.settle()
    assert youth.last.text.startswith("Dank je wel!")
    assert count(bot.database, "notes") == 1


async def test_forged_stale_and_foreign_buttons_change_nothing(bot: Harness) -> None:
    youth, other = bot.fake.user(YOUTH), bot.fake.user(OTHER)
    await bot.enrol(youth, "J-014")
    await bot.enrol(other, "J-015")
    await bot.checkin("J-014")
    bond = youth.last
    ref = bond.data_for("Goed").split(":")[1]
    before = snapshot(bot.database)
    forged = ["", "a:", "a:xxxxxxxxxxxxxxxx:0:4", answer_data(ref, 0, "9"),
              answer_data(ref, 7, "4"), answer_data(ref, 3, "4"), "c:short:y", "z" * 64,
              answer_data(ref, 0, "4") + "'; DROP TABLE answers; --"]
    queries = [youth.tap_data(bond, data) for data in forged]
    await bot.fake.settle()
    stolen = other.tap_data(bond, answer_data(ref, 0, "4"))
    await bot.fake.settle()
    assert snapshot(bot.database) == before
    for q in [*queries, stolen]:
        assert bot.fake.answered[q] == "Deze knop werkt niet meer. 🙂"


async def test_double_taps_write_once_and_ask_next_once(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin()
    bond = youth.last
    youth.tap(bond, "Goed")
    youth.tap(bond, "Goed")
    youth.tap(bond, "Heel goed")
    await bot.fake.settle()
    questions = [m for m in youth.inbox if "Hoe ging het samen muziek maken?" in m.text]
    assert len(questions) == 1
    assert count(bot.database, "answers") == 1
    assert count(bot.database, "prompts") == 2


async def test_expired_checkin_refuses_late_taps(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin()
    bot.clock.advance(timedelta(hours=24))
    query = youth.tap(youth.last, "Goed")
    await bot.fake.settle()
    assert str(bot.fake.answered[query]).startswith("Deze vragenlijst is verlopen.")
    assert count(bot.database, "answers") == 0
    youth.send("hallo")
    await bot.fake.settle()
    assert youth.last.text.startswith("Ik heb nu geen vragen voor je.")


async def test_finished_checkin_refuses_more_taps(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    bond = youth.last
    for label in ("Gewoon", "Gewoon", "Gewoon", "Sla over", "Klaar"):
        youth.tap(youth.last, label)
        await bot.fake.settle()
    query = youth.tap(bond, "Heel slecht")
    await bot.fake.settle()
    assert bot.fake.answered[query] == "Deze vragenlijst is al klaar. Dank je wel! 🙏"
    with sqlite3.connect(bot.database) as conn:
        assert conn.execute("SELECT value FROM answers WHERE item='bond'").fetchone() == ("3",)


async def test_stop_pauses_and_start_resumes(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    youth.send("/stop")
    await bot.fake.settle()
    assert youth.last.text.startswith("Je krijgt nu geen berichten meer van mij.")
    assert "/start" in youth.last.text
    youth.send("/stop")
    await bot.fake.settle()
    assert youth.last.text.startswith("Je krijgt al geen berichten.")
    try:
        await bot.checkin()
    except Exception as exc:
        assert "paused" in str(exc)
    else:
        raise AssertionError("a paused youth got a check-in")
    youth.send("/start")
    await bot.fake.settle()
    assert youth.last.text.startswith("Fijn dat je er weer bent!")
    await bot.checkin()
    assert "Hoe ging het samenwerken met je therapeut" in youth.last.text


async def test_start_during_a_checkin_shows_the_current_question(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin()
    youth.tap(youth.last, "Goed")
    await bot.fake.settle()
    youth.send("/start")
    await bot.fake.settle()
    assert "Hoe ging het samen muziek maken?" in youth.last.text
    youth.tap(youth.last, "Gewoon")
    await bot.fake.settle()
    assert "Hoe goed helpt de therapie jou bij je eigen doel?" in youth.last.text


async def test_crisis_phrase_gets_help_at_once_and_a_flag(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    for label in ("Gewoon", "Gewoon", "Gewoon", "Iets moeilijks"):
        youth.tap(youth.last, label)
        await bot.fake.settle()
    before = len(youth.inbox)
    youth.send("Soms wil ik dood, echt.")
    await bot.fake.settle()
    help_text = youth.last.text
    assert help_text.splitlines()[0] == ("Zeg het nu tegen iemand van de groepsleiding of "
                                         "tegen je mentor.")
    for number in ("113", "0800-0113", "112", "0800-0432", "113.nl"):
        assert number in help_text
    assert youth.last.button_labels() == ["🙋 Ik wil nu praten"]
    # The check-in pauses: the help stands alone, no thank-you, no nudge to the buttons.
    assert len(youth.inbox) == before + 1
    with sqlite3.connect(bot.database) as conn:
        (count, sealed) = conn.execute("SELECT phrases, text_enc FROM crisis_flags").fetchone()
        (kind, detail) = conn.execute("SELECT kind, detail FROM alerts").fetchone()
    assert count == "1" and bot.services.cipher.open_text(sealed) == "Soms wil ik dood, echt."
    assert kind == "crisis" and bot.services.cipher.open_text(detail.encode()) == "'wil dood'"


async def test_crisis_words_inside_other_words_do_not_match(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    youth.send("ik ben doodmoe van school")
    await bot.fake.settle()
    assert youth.last.text.startswith("Ik heb nu geen vragen voor je.")
    assert count(bot.database, "crisis_flags") == 0
