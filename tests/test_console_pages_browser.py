"""The console's pages in a real browser (Playwright driving Debian's chromium): a
coordinator adds a weekly series, cancels one session and sets phone hours; a therapist
opens a youth and acknowledges an alert; a researcher downloads the export.

Screenshots land in the test's folder; with VAKBOT_SCREENSHOTS=docs they are written to
docs/ as console-*.png (how the README's pictures are made)."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.records import NewAlert
from tests.web_support import VIEWPORTS, BrowserThread, ConsoleHarness, running_console

J103 = 700000103


def shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("VAKBOT_SCREENSHOTS") or tmp_path)


def rows(console: ConsoleHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(console.database) as conn:
        return list(conn.execute(sql))


UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')].filter(
    e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
         && !(e.tagName === 'BUTTON' && e.textContent.trim())).map(e => e.outerHTML)"""


def sign_in(page: Any, link: str) -> None:
    page.goto(link)
    page.get_by_role("button", name="Aanmelden").click()
    page.wait_for_load_state()


async def test_a_coordinator_adds_a_weekly_series_cancels_one_and_sets_hours(
        tmp_path: Path, browser: BrowserThread) -> None:
    async with running_console(tmp_path) as console:
        await console.staff_user("therapist", "T-02")
        await console.enrol(console.fake.user(J103), "J-103", therapist="T-02")
        assert await console.services.store.set_unit("J-103", "W-1")
        link, base, out = await console.sign_in_link("coordinator"), console.base_url, shots(
            tmp_path)

        def steps(page: Any) -> str:
            sign_in(page, link)
            page.goto(f"{base}/schedule")
            page.get_by_label("Jongere(n)").fill("J-103")
            page.get_by_label("Therapeut", exact=True).select_option("T-02")
            page.get_by_label("Therapie").select_option("drama")
            page.get_by_label("maandag", exact=True).first.check()
            page.get_by_label("donderdag", exact=True).first.check()
            page.get_by_label("Begintijd").fill("15:00")
            page.get_by_role("button", name="Reeks toevoegen").click()
            page.get_by_text("De reeks is toegevoegd").wait_for()
            session = page.locator('article[data-series="1"][data-date="2026-11-26"]')
            session.get_by_text("Afzeggen of verzetten").click()
            session.get_by_role("button", name="Deze sessie afzeggen").click()
            page.get_by_text("De sessie is afgezegd").wait_for()
            page.get_by_label("Code", exact=True).last.fill("W-1")
            page.get_by_label("Van", exact=True).fill("16:00")
            page.get_by_label("Tot", exact=True).fill("18:00")
            page.get_by_role("button", name="Beltijden opslaan").click()
            page.get_by_text("De beltijden zijn opgeslagen.").wait_for()
            page.screenshot(path=str(out / "console-schedule-tablet.png"), full_page=True)
            assert page.evaluate(UNLABELLED) == []
            page.set_viewport_size({"width": VIEWPORTS["desktop"][0],
                                    "height": VIEWPORTS["desktop"][1]})
            page.goto(f"{base}/schedule?week=2026-11-23")
            page.screenshot(path=str(out / "console-schedule-desktop.png"))
            cancelled = str(page.locator(".mark-cancelled").inner_text())
            page.goto(f"{base}/overview")
            page.screenshot(path=str(out / "console-overview-desktop.png"))
            page.set_viewport_size({"width": VIEWPORTS["phone"][0],
                                    "height": VIEWPORTS["phone"][1]})
            page.goto(f"{base}/schedule?week=2026-11-23")
            page.screenshot(path=str(out / "console-schedule-phone.png"))
            return cancelled

        cancelled = await browser.run_page(steps)
        assert "afgezegd" in cancelled and "J-103" in cancelled
        assert rows(console, "SELECT state FROM outbox WHERE kind = 'checkin'"
                             " AND occurrence_key = 's1:2026-11-26'") == [("cancelled",)]
        assert rows(console, "SELECT scope, scope_code, start_time, end_time FROM"
                             " phone_windows") == [("unit", "W-1", "16:00", "18:00")]


async def test_a_therapist_opens_a_youth_and_acknowledges_an_alert(
        tmp_path: Path, browser: BrowserThread) -> None:
    async with running_console(tmp_path) as console:
        await console.staff_user("therapist", "T-02")
        youth = console.fake.user(J103)
        await console.enrol(youth, "J-103", therapist="T-02")
        for n, bond in enumerate(("🙂 Goed", "😄 Heel goed", "🙂 Goed", "😢 Heel slecht")):
            console.clock.advance(timedelta(days=2))
            await console.checkin("J-103", discipline="music", occurrence=f"s{n}")
            for label in ("🙂 Goed", "😄 Heel goed", "🙂 Goed", bond, "Niks bijzonders"):
                youth.tap(youth.last, label)
                await console.fake.settle()
            youth.tap(youth.last, "Klaar")
            await console.fake.settle()
        now = console.clock()
        assert await console.services.store.add_alert(NewAlert(
            "ruptureref000001", "rupture:J-103:1", "rupture", "J-103", "T-02",
            "Band: het laagste antwoord.", now, None), now)
        link, base, out = (await console.sign_in_link("therapist", "T-02"),
                           console.base_url, shots(tmp_path))

        def steps(page: Any) -> str:
            sign_in(page, link)
            page.goto(f"{base}/caseload")
            page.locator("img.weekly").first.wait_for()
            page.screenshot(path=str(out / "console-caseload-desktop.png"), full_page=True)
            page.get_by_role("link", name="J-103").click()
            page.get_by_role("heading", name="J-103", exact=True).wait_for()
            page.screenshot(path=str(out / "console-youth-desktop.png"), full_page=True)
            assert page.evaluate(UNLABELLED) == []
            page.get_by_role("button", name="✓ Gezien J-103").focus()   # by keyboard
            page.keyboard.press("Enter")
            page.get_by_text("Gezien: de melding is bij jou").wait_for()
            html = str(page.content())
            page.set_viewport_size({"width": VIEWPORTS["phone"][0],
                                    "height": VIEWPORTS["phone"][1]})
            page.screenshot(path=str(out / "console-youth-phone.png"), full_page=True)
            page.goto(f"{base}/alerts")
            page.screenshot(path=str(out / "console-alerts-phone.png"), full_page=True)
            return html

        html = await browser.run_page(steps, viewport=VIEWPORTS["desktop"])
        assert "gezien door de therapeut" in html
        assert rows(console, "SELECT acked_by FROM alerts") == [("therapist",)]


async def test_a_researcher_downloads_the_export(tmp_path: Path,
                                                 browser: BrowserThread) -> None:
    async with running_console(tmp_path) as console:
        link, base = await console.sign_in_link("researcher"), console.base_url
        target = tmp_path / "export.zip"

        def steps(page: Any) -> str:
            sign_in(page, link)
            page.goto(f"{base}/export")
            with page.expect_download() as info:
                page.get_by_role("button", name="Download de export (zip)").click()
            info.value.save_as(str(target))
            return str(info.value.suggested_filename)

        name = await browser.run_page(steps)
        assert name.startswith("research-export-") and name.endswith(".zip")
        assert zipfile.ZipFile(target).namelist() == ["answers_long.csv", "alerts.csv",
                                                      "codebook.md"]
        assert [e.action for e in await console.services.store.audit_entries()
                if e.action.startswith("export")] == ["export:research"]
