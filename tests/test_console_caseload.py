"""The therapist's pages: the weekly image inline, the per-youth page through the same
door as /report J-103 (sharing and ownership), rating a session and "ging niet door"
through the same use case as the Telegram buttons; and the researcher's download."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from conversations import schedules
from faketelegram import FakeUser
from tests.web_support import ConsoleHarness, running_console, signed_in

J103, J104, J200 = 700000103, 700000104, 700000200
NOTE = "Het ging te snel vandaag"


def rows(console: ConsoleHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(console.database) as conn:
        return list(conn.execute(sql))


async def session(console: ConsoleHarness, user: FakeUser, code: str, occurrence: str, *,
                  bond: str = "🙂 Goed", event: str = "Niks bijzonders",
                  note: str | None = None) -> None:
    console.clock.advance(timedelta(days=1))
    await console.checkin(code, discipline="music", occurrence=occurrence)
    for label in ("🙂 Goed", "🙂 Goed", "🙂 Goed", bond, event):
        user.tap(user.last, label)
        await console.fake.settle()
    if note is None:
        user.tap(user.last, "Klaar")
    else:
        user.send(note)
    await console.fake.settle()


async def test_caseload_image_and_the_youth_page_respect_sharing_and_ownership(
        tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await console.staff_user("therapist", "T-02")
        await console.staff_user("therapist", "T-03")
        youth = console.fake.user(J103)
        await console.enrol(youth, "J-103", therapist="T-02")
        await console.enrol(console.fake.user(J104), "J-104", therapist="T-02", share=False)
        await console.enrol(console.fake.user(J200), "J-200", therapist="T-03")
        await session(console, youth, "J-103", "s1", event="Ruzie gehad", note=NOTE)
        await session(console, youth, "J-103", "s2")
        await session(console, youth, "J-103", "s3", bond="😢 Heel slecht")
        link = await console.sign_in_link(role="therapist", code="T-02")
        async with signed_in(console, link) as client:
            page = (await client.get("/caseload")).text
            assert '<img class="weekly" src="/caseload/week/0.png"' in page
            assert 'href="/caseload/J-103"' in page and "J-104" in page
            assert 'href="/caseload/J-104"' not in page
            image = await client.get("/caseload/week/0.png")
            assert image.headers["content-type"] == "image/png"
            assert image.content.startswith(b"\x89PNG")
            page = (await client.get("/caseload/J-103")).text
            assert NOTE in page and "◆ ⚡ Ruzie gehad" in page
            assert "laagste antwoord (Band)" in page and "heel slecht" in page
            hidden = await client.get("/caseload/J-104")
            assert hidden.status_code == 200 and "deelt de antwoorden niet" in hidden.text
            assert "heel slecht" not in hidden.text and "goed" not in hidden.text.lower(
                ).split("<main", 1)[1].split("deelt", 1)[0]
            other = await client.get("/caseload/J-200")
            assert other.status_code == 404 and "niet een van jouw jongeren" in other.text
        reads = [(e.youth_code, e.detail) for e in await console.services.store.audit_entries()
                 if e.action == "read:youth-report"]
        assert reads == [("J-103", "console; per-youth view"),
                         ("J-104", "console; not sharing: nothing shown")]
        coordinator = await console.sign_in_link(role="coordinator")
        async with signed_in(console, coordinator) as client:
            assert (await client.get("/caseload/J-103")).status_code == 403


async def test_a_therapist_rates_a_session_and_marks_one_not_held(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await console.staff_user("therapist", "T-02")
        await console.enrol(console.fake.user(J103), "J-103", therapist="T-02")
        assert console.web is not None and console.web.schedule_policy is not None
        await schedules.add_series(console.services, console.web.schedule_policy, {
            "youth": ["J-103"], "therapist": "T-02", "discipline": "drama", "days": "mon,tue",
            "start": "15:00", "first": "2026-11-23"})
        console.clock.advance(timedelta(days=1, hours=3))   # Tuesday 16:00 UTC: two ended
        link = await console.sign_in_link(role="therapist", code="T-02")
        async with signed_in(console, link) as client:
            page = (await client.get("/caseload/J-103")).text
            refs = [part.split('"', 1)[0] for part in page.split('name="ref" value="')[1:]]
            assert len(refs) == 2, page
            rated = await client.post("/caseload/J-103/rate", data={
                "ref": refs[0], "bond": "4", "goal": "5", "task": "3"})
            assert rated.headers["location"] == "/caseload/J-103?done=rated"
            not_held = await client.post("/caseload/J-103/rate", data={
                "ref": refs[1], "held": "no"})
            assert not_held.headers["location"] == "/caseload/J-103?done=not_held"
            forged = await client.post("/caseload/J-103/rate", data={
                "ref": refs[0], "bond": "9"})
            assert forged.headers["location"] == "/caseload/J-103?done=refused"
            page = (await client.get("/caseload/J-103?done=rated")).text
            assert "Je oordeel is opgeslagen." in page and 'data-state="not_held"' in page
        assert sorted(rows(console, "SELECT item, value FROM therapist_ratings")) == [
            ("bond", "4"), ("goal", "5"), ("task", "3")]


async def test_a_researcher_downloads_the_export_audited(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link(role="researcher")
        async with signed_in(console, link) as client:
            assert "Download de export" in (await client.get("/export")).text
            got = await client.post("/export")
            assert got.headers["content-type"] == "application/zip"
            assert "research-export-" in got.headers["content-disposition"]
            names = zipfile.ZipFile(io.BytesIO(got.content)).namelist()
            assert names == ["answers_long.csv", "alerts.csv", "codebook.md"]
            assert (await client.get("/schedule")).status_code == 403
        exports = [e for e in await console.services.store.audit_entries()
                   if e.action == "export:research"]
        assert [(e.actor.split(":")[0], e.detail) for e in exports] == [
            ("researcher", "console; 0 youths, 0 rows")]
