"""The console's schedule page: the same use cases as `python -m bot schedule`, every
refusal shown on the page with nothing written, every change audited."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.web_support import ConsoleHarness, running_console, signed_in


def rows(console: ConsoleHarness, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(console.database) as conn:
        return list(conn.execute(sql))


async def clinic(console: ConsoleHarness) -> None:
    await console.staff_user("therapist", "T-02")
    await console.enrol(console.fake.user(101), "J-014")
    await console.enrol(console.fake.user(102), "J-015")


async def test_add_cancel_move_pause_resume_through_the_page(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await clinic(console)
        link = await console.sign_in_link(role="coordinator")
        async with signed_in(console, link) as client:
            added = await client.post("/schedule/series?week=2026-11-23", data={
                "youth": "J-014", "therapist": "T-02", "discipline": "music",
                "kind": "weekly", "days": "mon", "start": "15:00", "duration": "60",
                "first": "2026-11-23"})
            assert added.status_code == 303
            page = await client.get(added.headers["location"])
            assert "De reeks is toegevoegd" in page.text
            assert 'data-series="1" data-date="2026-11-23"' in page.text
            assert rows(console, "SELECT count(*) > 0 FROM outbox WHERE kind = 'checkin'"
                                 " AND state = 'pending'") == [(1,)]
            cancel = await client.post("/schedule/session?week=2026-11-23", data={
                "series": "1", "date": "2026-11-23", "action": "cancel"})
            assert cancel.status_code == 303
            page = await client.get(cancel.headers["location"])
            assert "De sessie is afgezegd" in page.text and "mark-cancelled" in page.text
            assert rows(console, "SELECT state, last_error FROM outbox WHERE kind = 'checkin'"
                                 " AND occurrence_key = 's1:2026-11-23'") == [
                ("cancelled", "session cancelled")]
            moved = await client.post("/schedule/session?week=2026-11-30", data={
                "series": "1", "date": "2026-11-30", "action": "move",
                "to_date": "2026-12-01", "to_time": "10:00"})
            assert moved.status_code == 303
            page = await client.get("/schedule?week=2026-11-30")
            assert "mark-moved" in page.text and "was 30-11" in page.text
            paused = await client.post("/schedule/pause", data={"series": "1",
                                                                 "action": "pause"})
            assert paused.status_code == 303
            again = await client.post("/schedule/pause", data={"series": "1",
                                                                "action": "pause"})
            assert again.status_code == 400 and "already paused" in again.text
            resumed = await client.post("/schedule/pause", data={"series": "1",
                                                                  "action": "resume"})
            assert resumed.status_code == 303
        actions = [(e.action, e.actor.split(":")[0])
                   for e in await console.services.store.audit_entries()
                   if e.action.startswith("schedule:")]
        assert actions == [("schedule:add", "coordinator"), ("schedule:cancel", "coordinator"),
                           ("schedule:move", "coordinator"), ("schedule:pause", "coordinator"),
                           ("schedule:resume", "coordinator")]


async def test_refusals_are_shown_and_write_nothing(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await clinic(console)
        link = await console.sign_in_link(role="coordinator")
        async with signed_in(console, link) as client:
            bad = await client.post("/schedule/series", data={
                "youth": "J-999, J-014", "therapist": "T-02", "discipline": "music",
                "kind": "weekly", "days": "tue", "start": "25:00"})
            assert bad.status_code == 400
            assert "&#39;25:00&#39; is not a time like 14:00" in bad.text
            assert 'value="J-999, J-014"' in bad.text        # what was typed is kept
            group = await client.post("/schedule/series", data={
                "youth": "J-999, J-014", "therapist": "T-02", "discipline": "music",
                "kind": "weekly", "days": "tue", "start": "10:00"})
            assert group.status_code == 400 and "unknown youth code J-999" in group.text
            csv = ("youth,therapist,discipline,days,start,first\n"
                   "J-014,T-02,music,mon,14:00,2030-01-07\n"
                   "J-015,T-02,poetry,tue,10:00,2030-01-07\n"
                   "J-015,T-99,drama,tue,10:00,2030-01-07\n")
            imported = await client.post("/schedule/import", files={
                "file": ("series.csv", csv.encode(), "text/csv")})
            assert imported.status_code == 400
            assert "row 2: discipline: &#39;poetry&#39; is not one of" in imported.text
            assert "row 3: unknown therapist code T-99" in imported.text
            assert "nothing was imported" in imported.text
            columns = await client.post("/schedule/import", files={
                "file": ("series.csv", b"jongere,therapeut\nJ-014,T-02\n", "text/csv")})
            assert columns.status_code == 400 and "unknown column(s) &#39;jongere&#39;" in \
                columns.text
            quiet = await client.post("/schedule/window", data={
                "scope": "unit", "code": "W-1", "days": "mon,tue", "start": "22:00",
                "end": "23:00"})
            assert quiet.status_code == 400 and "quiet hours" in quiet.text
            good = await client.post("/schedule/import", files={"file": (
                "series.csv", (b"youth,therapist,discipline,days,start,first\n"
                               b"J-014+J-015,T-02,drama,fri,10:00,2030-01-07\n"),
                "text/csv")})
            assert good.status_code == 303
            window = await client.post("/schedule/window", data={
                "scope": "youth", "code": "j-014", "days": "mon,wed", "start": "16:00",
                "end": "17:00"})
            assert window.status_code == 303
            page = await client.get("/schedule")
            assert "Stille uren: 21:30-08:00" in page.text
            await client.post("/lang", data={"lang": "en", "next": "/schedule"})
            english = (await client.get("/schedule")).text
            assert "Quiet hours: 21:30-08:00" in english and "Add a series" in english
            assert "jongere J-014" in page.text and "16:00\N{EN DASH}17:00" in page.text
        assert rows(console, "SELECT count(*) FROM series") == [(1,)]
        assert rows(console, "SELECT scope, scope_code FROM phone_windows") == [
            ("youth", "J-014")]


async def test_only_coordinators_see_schedules(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link(role="therapist", code="T-02")
        async with signed_in(console, link) as client:
            assert (await client.get("/schedule")).status_code == 403
            refused = await client.post("/schedule/series", data={"youth": "J-014"})
            assert refused.status_code == 403
        assert rows(console, "SELECT count(*) FROM series") == [(0,)]
