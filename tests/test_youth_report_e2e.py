"""The therapist's per-youth view (/report J-103), honesty about the note when a youth
does not share, and "repaired after discussion" on the image, in the caption and in the
export (issue 13). Real PTB Application over HTTP to the fake Bot API, a real SQLite
file, the virtual clock."""

from __future__ import annotations

import csv
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.export import export
from conversations.enrolment import enroll_therapist
from core.records import NewAlert
from faketelegram import FakeUser
from tests.support import Harness

T02, T03 = 600000002, 600000003
J103, J104, J200 = 700000103, 700000104, 700000200
NOTE = "Het ging te snel vandaag"
CRISIS = "ik snij mezelf, ik wil dood"


def rows(bot: Harness, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql, params))


async def therapist(bot: Harness, code: str, uid: int) -> FakeUser:
    invitation = await enroll_therapist(bot.services.store, code, "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    user = bot.fake.user(uid)
    user.send(f"/start {invitation.token}")
    await bot.fake.settle()
    return user


async def session(bot: Harness, user: FakeUser, code: str, occurrence: str, *,
                  bond: str = "🙂 Goed", event: str = "Niks bijzonders",
                  note: str | None = None) -> None:
    """One music check-in, a day after the previous one: task, medium, goal "Goed", bond
    as told, the event, then the note typed (or "Klaar")."""
    bot.clock.advance(timedelta(days=1))
    await bot.checkin(code, discipline="music", occurrence=occurrence)
    for label in ("🙂 Goed", "🙂 Goed", "🙂 Goed", bond, event):
        user.tap(user.last, label)
        await bot.fake.settle()
    if note is None:
        user.tap(user.last, "Klaar")
    else:
        user.send(note)
    await bot.fake.settle()


async def ask(bot: Harness, user: FakeUser, command: str) -> list[Any]:
    before = len(user.inbox)
    user.send(command)
    await bot.fake.settle(quiet=0.5)
    return user.inbox[before:]


async def test_report_one_youth_strip_events_notes_crisis_marker_audited(
    bot: Harness,
) -> None:
    t02 = await therapist(bot, "T-02", T02)
    t03 = await therapist(bot, "T-03", T03)
    youth = bot.fake.user(J103)
    await bot.enrol(youth, "J-103", therapist="T-02")
    await bot.enrol(bot.fake.user(J200), "J-200", therapist="T-03")
    await session(bot, youth, "J-103", "s1", event="Ruzie gehad", note=NOTE)
    await session(bot, youth, "J-103", "s2")
    await session(bot, youth, "J-103", "s3", bond="😢 Heel slecht", event="Iets moeilijks",
                  note=CRISIS)   # the crisis text: help for the youth, an alert, a marker
    replies = await ask(bot, t02, "/report J-103")
    photos = [m for m in replies if m.photo is not None]
    texts = [m.text for m in replies if m.photo is None]
    assert len(photos) == 1 and len(texts) == 1
    (Path(bot.database).parent / "youth-report.png").write_bytes(photos[0].photo)
    text = texts[0]
    lines = text.splitlines()
    assert lines[0] == "J-103 · de laatste 3 sessies met jou"
    assert "• Band: het laagste antwoord. Bespreek het in de volgende sessie." in lines
    day1, day2, day3 = (line for line in lines if " muziektherapie:" in line)
    assert day1.endswith("muziektherapie: ⚡ Ruzie gehad")
    assert lines[lines.index(day1) + 1] == f"  ✎ {NOTE}"
    assert day2.endswith("muziektherapie: niets bijzonders, geen notitie")
    # The crisis: a marker at its session, never the text itself.
    assert lines[lines.index(day3) + 1].startswith("  ! crisissignaal bij deze check-in")
    assert CRISIS not in text and "snij" not in text
    assert rows(bot, "SELECT actor, youth_code, detail FROM audit_log WHERE action ="
                     " 'read:youth-report'") == [("T-02", "J-103", "per-youth view")]
    # Another therapist's youth, and an unknown code: a kind refusal, nothing read.
    for code in ("J-200", "J-999"):
        (reply,) = await ask(bot, t02, f"/report {code.lower()}")
        assert reply.text == f"{code} is niet een van jouw jongeren. Kijk bij /clients."
    # T-03 may read J-200 (no sessions yet), not J-103.
    (reply,) = await ask(bot, t03, "/report J-200")
    assert reply.text == "J-200: nog geen sessies met jou om te tonen."
    (reply,) = await ask(bot, t03, "/report J-103")
    assert reply.text.startswith("J-103 is niet een van jouw jongeren")
    # /report without a code is still this week's image of the caseload.
    replies = await ask(bot, t02, "/report")
    assert replies[0].photo is not None and replies[0].text.startswith("Week ")


async def test_not_sharing_youth_is_told_nobody_reads_the_note_and_the_view_shows_nothing(
    bot: Harness,
) -> None:
    t02 = await therapist(bot, "T-02", T02)
    sharing, private = bot.fake.user(J103), bot.fake.user(J104)
    await bot.enrol(sharing, "J-103", therapist="T-02")
    await bot.enrol(private, "J-104", therapist="T-02", share=False)
    questions = {}
    for user, code in ((sharing, "J-103"), (private, "J-104")):
        bot.clock.advance(timedelta(days=1))
        await bot.checkin(code, discipline="music", occurrence=f"o-{code}")
        for label in ("🙂 Goed", "🙂 Goed", "🙂 Goed", "🙂 Goed", "Ruzie gehad"):
            user.tap(user.last, label)
            await bot.fake.settle()
        questions[code] = user.last.text
        user.send(NOTE)
        await bot.fake.settle()
    honest = ("Let op: je deelt je antwoorden niet met je therapeut. Niemand leest wat je"
              " hier typt.")
    assert questions["J-103"] == "Wat kan de volgende keer beter? Typ het hier. Of tik op Klaar."
    assert questions["J-104"].startswith(
        "Wat kan de volgende keer beter? Typ het hier. Of tik op Klaar.\n\n" + honest)
    # The note is kept as typed (the youth wrote it), the therapist never sees it.
    (reply,) = await ask(bot, t02, "/report J-104")
    assert reply.text == ("J-104 deelt de antwoorden niet met jou (eigen keuze van de"
                          " jongere). Er is niets te tonen.")
    assert NOTE not in reply.text
    assert rows(bot, "SELECT youth_code, detail FROM audit_log WHERE action ="
                     " 'read:youth-report'") == [("J-104", "not sharing: nothing shown")]
    shared = [m.text for m in await ask(bot, t02, "/report J-103") if m.photo is None]
    assert f"  ✎ {NOTE}" in shared[0].splitlines()


async def test_a_discussed_drop_that_recovers_is_repaired_after_discussion(
    bot: Harness, tmp_path: Path,
) -> None:
    t02 = await therapist(bot, "T-02", T02)
    youth = bot.fake.user(J103)
    await bot.enrol(youth, "J-103", therapist="T-02")
    for n in range(3):
        await session(bot, youth, "J-103", f"s{n}")
    await session(bot, youth, "J-103", "s3", bond="😢 Heel slecht")
    store, now = bot.services.store, bot.clock()
    await store.add_alert(NewAlert("A" * 16, "rupture:J-103:T-02:s3", "rupture", "J-103",
                                   "T-02", "Band: het laagste antwoord.", now, None), now)
    bot.clock.advance(timedelta(hours=20))
    assert await store.discuss_alert("A" * 16, bot.clock())
    await session(bot, youth, "J-103", "s4")          # bond back to "Goed"
    replies = await ask(bot, t02, "/report")
    line = ("Band en alles samen: hersteld na bespreking (breuk). Het gesprek hielp; benoem"
            " samen wat werkte.")
    assert f"J-103: {line}" in replies[0].text.splitlines()
    (Path(bot.database).parent / "weekly-repaired.png").write_bytes(replies[0].photo)
    texts = [m.text for m in await ask(bot, t02, "/report J-103") if m.photo is None]
    assert f"• {line}" in texts[0].splitlines()
    out = tmp_path / "full"
    await export(store, out, full=True, now=bot.clock())
    (row,) = list(csv.DictReader((out / "alerts.csv").read_text().splitlines()))
    assert row["kind"] == "rupture" and row["repaired_after_discussion"] == "yes"
    assert "repaired_after_discussion" in (out / "codebook.md").read_text()
