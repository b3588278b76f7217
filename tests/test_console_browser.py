"""In a real browser (Debian's chromium through Playwright): a coordinator signs in with
a link from the bot, enrols a youth, opens the printable QR code and switches the youth's
scale in place (HTMX). Screenshots at phone, tablet and desktop sizes go to tmp_path, or
to $VAKBOT_SCREENSHOTS when set (docs/console-*.png are chosen from those)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from conversations.enrolment import enroll_therapist, enroll_unit
from tests.web_support import VIEWPORTS, BrowserThread, running_console

INVITE = re.compile(r"https://t\.me/vakbot_demo_bot\?start=[A-Za-z0-9_-]+")


def shots_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get("VAKBOT_SCREENSHOTS") or tmp_path / "shots")
    target.mkdir(parents=True, exist_ok=True)
    return target


async def test_a_coordinator_signs_in_enrols_a_youth_and_prints_the_qr(
        tmp_path: Path, browser: BrowserThread) -> None:
    shots = shots_dir(tmp_path)
    async with running_console(tmp_path, '[units]\ndefault_unit = "W-1"\n') as console:
        store, now, ttl = console.services.store, console.clock(), console.services.invite_ttl
        for code in ("T-02", "T-03"):
            await enroll_therapist(store, code, "nl", now)
        await enroll_unit(store, "W-1", "nl", now, ttl)
        await console.enrol(console.fake.user(700000001), "J-001", therapist="T-02")
        await console.invite("J-002", therapist="T-03")
        link = await console.sign_in_link("coordinator")

        def steps(page: Any) -> dict[str, Any]:
            seen: dict[str, Any] = {}
            page.goto(link)
            page.screenshot(path=str(shots / "signin-phone.png"))
            page.get_by_role("button", name="Aanmelden").click()
            page.wait_for_url(re.compile(r"/$"))   # a coordinator has several pages: tiles
            page.get_by_role("link", name="Mensen").first.click()
            page.wait_for_url(re.compile(r"/people$"))
            seen["heading"] = page.get_by_role("heading", level=1).inner_text()
            form = page.locator("#enrol-youth")
            form.get_by_text("Jongere aanmelden").click()   # the folded form opens
            page.set_viewport_size({"width": 1280, "height": 800})
            page.screenshot(path=str(shots / "enrol-desktop.png"))
            page.set_viewport_size({"width": 390, "height": 844})
            form.get_by_label("Code").fill("J-014")
            form.get_by_label("Therapeut").select_option("T-02")
            form.get_by_label("Geboortejaar").fill("2009")
            form.get_by_role("button", name="Aanmelden en uitnodiging maken").click()
            page.wait_for_url(re.compile(r"/people/youths$"))
            seen["invite_heading"] = page.get_by_role("heading", level=1).inner_text()
            seen["link"] = page.locator(".link-text").inner_text()
            seen["qr_visible"] = page.locator(".qr svg").is_visible()
            page.emulate_media(media="print")
            seen["menu_in_print"] = page.locator("header.top").is_visible()
            seen["qr_in_print"] = page.locator(".qr svg").is_visible()
            page.screenshot(path=str(shots / "invite-print.png"), full_page=True)
            page.emulate_media(media="screen")
            page.get_by_role("link", name="Terug naar Mensen").click()
            page.wait_for_url(re.compile(r"/people$"))
            row = page.locator("#youth-J-001")
            row.get_by_role("button", name="Naar 3").click()
            row = page.locator("#youth-J-001")
            row.get_by_text("Vanaf de volgende check-in 3 antwoorden.").wait_for()
            seen["row"] = row.inner_text()
            # A refusal comes back in the row itself (400, swapped in place).
            row.get_by_label("Therapeut van J-001").select_option("T-02")
            row.get_by_role("button", name="Verplaatsen").click()
            page.locator("#youth-J-001").get_by_text("J-001 zit al bij T-02.").wait_for()
            seen["url_after_htmx"] = page.url
            for name, (width, height) in VIEWPORTS.items():
                page.set_viewport_size({"width": width, "height": height})
                page.screenshot(path=str(shots / f"people-{name}.png"), full_page=True)
            return seen

        seen = await browser.run_page(steps, VIEWPORTS["phone"])
        assert seen["heading"] == "Mensen"
        assert seen["invite_heading"] == "Uitnodiging voor J-014"
        assert INVITE.fullmatch(seen["link"]) and seen["qr_visible"]
        assert seen["qr_in_print"] and not seen["menu_in_print"]
        assert "3 (eenvoudig)" in seen["row"] and seen["url_after_htmx"].endswith("/people")
        youth = await store.youth_by_code("J-001")
        assert youth is not None and youth.simple_mode
        assert await store.youth_by_code("J-014") is not None
