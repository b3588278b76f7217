"""The kiosk page in a real browser (Debian's chromium through Playwright), against the
real bot, engine and database on the virtual clock: a coordinator registers a tablet,
a kiosk youth's session ends, the therapist's code opens the check-in on the tablet at
768x1024 and 1280x800, a crisis text raises the alert, the idle wipe leaves nothing in
the page or its history, and five wrong codes lock the tablet.

Screenshots go to tmp_path, or to $VAKBOT_SCREENSHOTS when set (docs/kiosk-*.png are
chosen from those)."""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.rules import default_timing
from bot.wiring import make_engine
from conversations import kiosk_staff
from conversations.enrolment import enroll_youth
from core.kiosk import MAX_TRIES
from core.records import NewSeries, NewYouth
from scheduler.engine import Engine
from tests.web_support import VIEWPORTS, BrowserThread, ConsoleHarness, running_console
from web.routes_kiosk import DEVICE_COOKIE

MONDAY = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)   # 13:00 in Amsterdam
KIOSK_CODE = re.compile(r"Kioskcode voor (J-\d+): (\d{3}) (\d{3})")
QUESTION = "Hoe"        # every alliance question starts so (alliance-2)


def shots_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get("VAKBOT_SCREENSHOTS") or tmp_path / "shots")
    target.mkdir(parents=True, exist_ok=True)
    return target


def rows(console: ConsoleHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(console.database) as conn:
        return list(conn.execute(sql))


async def clinic(console: ConsoleHarness) -> Engine:
    """T-02 and unit W-1 linked; J-103 (born 2013, no Telegram) on W-1, session Mondays
    14:00-15:00 in Amsterdam."""
    console.clock.now = MONDAY
    store, now = console.services.store, console.clock()
    await console.staff_user("therapist", "T-02")
    await console.staff_user("unit", "W-1")
    await enroll_youth(store, NewYouth("J-103", "T-02", 2013, "nl", False,
                                       date(2026, 11, 1)), now, console.services.invite_ttl)
    assert await store.set_unit("J-103", "W-1")
    await store.add_series(NewSeries(
        "T-02", ("J-103",), "music", frozenset({0}), time(14, 0), timedelta(hours=1),
        "Europe/Amsterdam", date(2026, 11, 23), None, default_timing(console.settings)), now)
    return make_engine(console.settings, console.services)


async def code_for(console: ConsoleHarness, engine: Engine) -> str:
    therapist = await console.staff_user("therapist", "T-02")
    for _ in range(24 * 12):
        console.clock.advance(timedelta(minutes=5))
        await engine.tick(console.channel)
        await console.fake.settle(expect_response=False)
        for message in therapist.inbox:
            if found := KIOSK_CODE.search(message.text):
                return found.group(2) + found.group(3)
    raise AssertionError("no kiosk code reached the therapist")


def with_tablet(page: Any, base_url: str, device: str) -> None:
    page.context.add_cookies([{"name": DEVICE_COOKIE, "value": device,
                               "url": f"{base_url}/kiosk", "httpOnly": True,
                               "sameSite": "Strict"}])


def touch_targets(page: Any) -> float:
    """The smallest height and width of any button on the page, in CSS pixels."""
    sizes = [page.locator("button").nth(i).bounding_box()
             for i in range(page.locator("button").count())]
    return float(min(min(b["height"], b["width"]) for b in sizes if b is not None))


def answer_everything(page: Any, note: str, shots: Path | None, size: str) -> dict[str, Any]:
    """Consent first (agree to each text), then every question; returns what was seen."""
    seen: dict[str, Any] = {"smallest": 999.0, "questions": []}
    for _ in range(12):
        screen = page.locator("body").get_attribute("data-screen")
        if screen == "consent":
            if shots and "consent" not in seen:
                page.screenshot(path=str(shots / f"kiosk-consent-{size}.png"))
            seen["consent"] = True
            page.locator("button.choice").first.click()
        elif screen == "question":
            heading = page.locator("h1").inner_text()
            seen["questions"].append(heading)
            seen["smallest"] = min(seen["smallest"], touch_targets(page))
            if shots and len(seen["questions"]) == 1:
                page.screenshot(path=str(shots / f"kiosk-question-{size}.png"))
            if page.locator("textarea").count():
                page.locator("textarea").fill(note)
                if shots:
                    page.screenshot(path=str(shots / f"kiosk-note-{size}.png"))
                page.locator("form.note button").click()
            elif page.locator('button.choice[value="4"]').count():
                page.locator('button.choice[value="4"]').click()
            else:
                page.locator("button.choice").first.click()
        else:
            break
        page.wait_for_load_state()
    seen["screen"] = page.locator("body").get_attribute("data-screen")
    seen["text"] = page.locator("main").inner_text()
    if shots:
        page.screenshot(path=str(shots / f"kiosk-{seen['screen']}-{size}.png"))
    return seen


async def test_a_full_kiosk_checkin_at_tablet_and_desktop_size(
        tmp_path: Path, browser: BrowserThread) -> None:
    shots = shots_dir(tmp_path)
    for size in ("tablet", "desktop"):
        (tmp_path / size).mkdir()
        async with running_console(tmp_path / size) as console:
            engine = await clinic(console)
            code = await code_for(console, engine)
            link = await console.sign_in_link("coordinator")     # after the clock moved
            base = console.base_url

            def steps(page: Any, size: str = size, link: str = link, code: str = code,
                      base: str = base) -> dict[str, Any]:
                # The coordinator registers this browser as W-1's tablet, and is signed out.
                page.goto(link)
                page.get_by_role("button", name="Aanmelden").click()
                page.wait_for_url(lambda url: "/signin" not in url)
                page.goto(f"{base}/tablets")
                page.screenshot(path=str(shots / f"kiosk-tablets-{size}.png"), full_page=True)
                page.get_by_label("Afdeling").select_option("W-1")
                page.get_by_label("Naam van de tablet").fill("therapieruimte")
                page.get_by_role("button", name="Aanmelden als tablet").click()
                page.wait_for_url(re.compile(r"/kiosk$"))
                seen: dict[str, Any] = {"first": page.locator("main").inner_text()}
                page.screenshot(path=str(shots / f"kiosk-code-{size}.png"))
                seen["signed_out"] = page.goto(f"{base}/codes").url.endswith(
                    "/signin?next=/codes")
                page.goto(f"{base}/kiosk")
                page.locator("#code").fill(f"{code[:3]} {code[3:]}")
                page.get_by_role("button", name=re.compile("Start")).click()
                page.wait_for_load_state()
                seen.update(answer_everything(page, "Het was fijn vandaag", shots, size))
                seen["cache"] = page.request.get(f"{base}/kiosk").headers.get("cache-control")
                page.get_by_role("button", name=re.compile("Klaar")).click()
                page.wait_for_url(re.compile(r"/kiosk$"))
                seen["after"] = page.locator("body").get_attribute("data-screen")
                page.go_back()
                seen["back"] = page.locator("main").inner_text()
                return seen

            width, height = VIEWPORTS[size]
            seen = await browser.run_page(steps, viewport=(width, height))
            assert "Typ je code" in seen["first"] and "J-103" not in seen["first"]
            assert seen["signed_out"], "the tablet must not stay signed in as staff"
            assert seen["consent"]
            assert len(seen["questions"]) == 6            # 4 items (medium), event, note
            assert seen["smallest"] >= 48, "touch targets of at least 48 px"
            assert seen["screen"] == "finished" and "Dank je wel" in seen["text"]
            assert seen["cache"] == "no-store"
            assert seen["after"] == "code"
            assert QUESTION not in seen["back"] and "Dank" not in seen["back"]
            assert rows(console, "SELECT status FROM checkins") == [("complete",)]
            assert len(rows(console, "SELECT * FROM answers")) == 5
            assert len(rows(console, "SELECT * FROM notes")) == 1
            record = {c.youth_code: c for c in
                      await console.services.store.compliance(console.clock())}
            assert (record["J-103"].sent, record["J-103"].completed) == (1, 1)


async def test_a_crisis_text_on_the_kiosk_raises_the_alert(
        tmp_path: Path, browser: BrowserThread) -> None:
    shots = shots_dir(tmp_path)
    async with running_console(tmp_path) as console:
        engine = await clinic(console)
        device = await kiosk_staff.register_device(console.services, "W-1", "", "coordinator:t")
        code = await code_for(console, engine)
        base = console.base_url

        def steps(page: Any) -> dict[str, Any]:
            with_tablet(page, base, device)
            page.goto(f"{base}/kiosk")
            page.locator("#code").fill(code)
            page.get_by_role("button", name=re.compile("Start")).click()
            page.wait_for_load_state()
            return answer_everything(page, "ik wil niet meer leven", None, "tablet") | {
                "shot": page.screenshot(path=str(shots / "kiosk-crisis-tablet.png"))}

        seen = await browser.run_page(steps)
        assert seen["screen"] == "crisis"
        assert seen["text"].startswith("Vertel het nu aan je therapeut. Die is hier, bij jou.")
        assert "113" in seen["text"] and "112" in seen["text"]
        await engine.tick(console.channel)
        await console.fake.settle(expect_response=False)
        unit = await console.staff_user("unit", "W-1")
        therapist = await console.staff_user("therapist", "T-02")
        assert any(m.text.startswith("🚨") and "J-103" in m.text for m in unit.inbox)
        assert any(m.text.startswith("🚨") and "J-103" in m.text for m in therapist.inbox)


async def test_the_idle_wipe_leaves_nothing_in_the_page_or_history(
        tmp_path: Path, browser: BrowserThread) -> None:
    async with running_console(tmp_path) as console:
        engine = await clinic(console)
        device = await kiosk_staff.register_device(console.services, "W-1", "", "coordinator:t")
        code = await code_for(console, engine)
        base, clock = console.base_url, console.clock

        def steps(page: Any) -> dict[str, Any]:
            page.clock.install()
            with_tablet(page, base, device)
            page.goto(f"{base}/kiosk")
            page.locator("#code").fill(code)
            page.get_by_role("button", name=re.compile("Start")).click()
            page.wait_for_load_state()
            while page.locator("body").get_attribute("data-screen") == "consent":
                page.locator("button.choice").first.click()
                page.wait_for_load_state()
            page.locator('button.choice[value="4"]').click()     # one answer
            page.wait_for_load_state()
            seen = {"before": page.locator("main").inner_text()}
            clock.advance(timedelta(seconds=91))                # the server's time too
            page.clock.fast_forward("01:31")                    # 91 s without a touch
            page.locator("body[data-screen='code']").wait_for(state="attached")
            seen["after"] = page.locator("main").inner_text()
            page.go_back()
            page.wait_for_load_state()
            seen["back"] = page.locator("main").inner_text()
            seen["html"] = page.content()
            return seen

        seen = await browser.run_page(steps)
        assert QUESTION in seen["before"]
        for shown in (seen["after"], seen["back"], seen["html"]):
            assert QUESTION not in shown and "Goed" not in shown
        assert "Typ je code" in seen["after"]
        assert rows(console, "SELECT ended_at IS NOT NULL FROM kiosk_sessions") == [(1,)]


async def test_five_wrong_codes_lock_the_tablet(
        tmp_path: Path, browser: BrowserThread) -> None:
    shots = shots_dir(tmp_path)
    async with running_console(tmp_path) as console:
        engine = await clinic(console)
        device = await kiosk_staff.register_device(console.services, "W-1", "", "coordinator:t")
        code = await code_for(console, engine)
        wrong = f"{(int(code) + 1) % 10 ** 6:06d}"
        base = console.base_url

        def steps(page: Any) -> list[str]:
            with_tablet(page, base, device)
            page.goto(f"{base}/kiosk")
            said = []
            for typed in [wrong] * MAX_TRIES + [code]:
                page.locator("#code").fill(typed)
                page.get_by_role("button", name=re.compile("Start")).click()
                page.wait_for_load_state()
                said.append(page.locator(".notice").inner_text())
            page.screenshot(path=str(shots / "kiosk-locked-tablet.png"))
            return said

        said = await browser.run_page(steps)
        assert said[:MAX_TRIES] == ["Deze code klopt niet. Kijk nog eens goed, of vraag je "
                                    "therapeut."] * MAX_TRIES
        assert said[-1] == "Deze tablet is even op slot. Vraag je therapeut om hulp."
        assert rows(console, "SELECT count(*) FROM kiosk_sessions") == [(0,)]


async def test_codes_and_channels_in_the_console(tmp_path: Path) -> None:
    """Without a browser: the therapist's /codes page shows the live code and gives a new
    one; a coordinator sets a channel on /tablets (audited, history kept); a tablet's
    form without its token changes nothing."""
    import httpx  # noqa: PLC0415 - only here

    from tests.web_support import signed_in  # noqa: PLC0415

    async with running_console(tmp_path) as console:
        engine = await clinic(console)
        code = await code_for(console, engine)
        async with signed_in(console, await console.sign_in_link("therapist", "T-02")) as t:
            page = (await t.get("/codes")).text
            assert "J-103" in page and f"{code[:3]} {code[3:]}" in page
            assert (await t.get("/tablets")).status_code == 403      # coordinators only
        async with signed_in(console, await console.sign_in_link("coordinator")) as c:
            done = await c.post("/tablets/channel", {"youth": "J-103", "channel": "both"})
            assert done.status_code == 200 and "Opgeslagen." in done.text
            refused = await c.post("/tablets/channel", {"youth": "J-103", "channel": "sms"})
            assert refused.status_code == 422 and "is not a channel" in refused.text
        history = await console.services.store.channel_history("J-103")
        assert [(h.channel.value, h.actor.split(":")[0]) for h in history] == [
            ("both", "coordinator")]
        device = await kiosk_staff.register_device(console.services, "W-1", "", "coordinator:t")
        async with httpx.AsyncClient(base_url=console.base_url,
                                     cookies={DEVICE_COOKIE: device}) as tablet:
            shown = await tablet.get("/kiosk")
            assert shown.headers["cache-control"] == "no-store"
            assert "Typ je code" in shown.text and "J-103" not in shown.text
            forged = await tablet.post("/kiosk/code", data={"code": code, "k": "wrong"})
            assert forged.status_code == 403
        assert rows(console, "SELECT count(*) FROM kiosk_sessions") == [(0,)]


class CountingBody:
    """An ASGI request body of `size` bytes in 64 KiB chunks that counts what was read:
    proof of whether the app read a body at all."""

    def __init__(self, size: int) -> None:
        self.left, self.reads = size, 0

    async def __call__(self) -> dict[str, Any]:
        self.reads += 1
        chunk = min(self.left, 64 * 1024)
        self.left -= chunk
        return {"type": "http.request", "body": b"k=" + b"x" * (chunk - 2),
                "more_body": self.left > 0}


async def post_raw(app: Any, path: str, body: CountingBody, headers: dict[str, str]) -> int:
    """POST straight into the ASGI app; the status it answered."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
             "server": ("127.0.0.1", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in {
                 "host": "127.0.0.1", "content-type": "application/x-www-form-urlencoded",
                 **headers}.items()]}
    await app(scope, body, send)
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


async def test_kiosk_forms_read_no_body_without_a_tablet_and_at_most_16_kib(
        tmp_path: Path) -> None:
    """/kiosk/* skip the console's middleware (and its body cap): a POST without a
    registered tablet's cookie is refused before its body is read, and a tablet's body
    over 16 KiB gets 413 (by its Content-Length unread, or while streaming)."""
    from web.app import create_app  # noqa: PLC0415 - only here

    async with running_console(tmp_path) as console:
        await clinic(console)
        device = await kiosk_staff.register_device(console.services, "W-1", "", "coordinator:t")
        assert console.web is not None
        app = create_app(console.services, console.web)
        huge = 10 * 1024 * 1024
        for cookie in ({}, {"cookie": f"{DEVICE_COOKIE}=not-a-tablet"}):
            body = CountingBody(huge)
            assert await post_raw(app, "/kiosk/note", body,
                                  {"content-length": str(huge), **cookie}) == 403
            assert body.reads == 0
        tablet = {"cookie": f"{DEVICE_COOKIE}={device}"}
        body = CountingBody(huge)
        assert await post_raw(app, "/kiosk/note", body,
                              {"content-length": str(huge), **tablet}) == 413
        assert body.reads == 0
        body = CountingBody(huge)     # no Content-Length: read until past the cap only
        assert await post_raw(app, "/kiosk/touch", body, tablet) == 413
        assert body.reads == 1
        assert rows(console, "SELECT count(*) FROM kiosk_sessions") == [(0,)]


async def test_the_keep_alive_route_touches_the_tablets_session(tmp_path: Path) -> None:
    import httpx  # noqa: PLC0415 - only here

    from web.routes_kiosk import form_token  # noqa: PLC0415

    async with running_console(tmp_path) as console:
        engine = await clinic(console)
        device = await kiosk_staff.register_device(console.services, "W-1", "", "coordinator:t")
        code = await code_for(console, engine)
        async with httpx.AsyncClient(base_url=console.base_url,
                                     cookies={DEVICE_COOKIE: device}) as tablet:
            k = form_token(device)
            assert (await tablet.post("/kiosk/touch", data={"k": "wrong"})).status_code == 403
            assert (await tablet.post("/kiosk/touch", data={"k": k})).status_code == 410
            assert (await tablet.post("/kiosk/code", data={"code": code, "k": k})
                    ).status_code == 303
            touched = [(await tablet.post("/kiosk/touch", data={"k": k}))]
            console.clock.advance(timedelta(seconds=80))
            touched.append(await tablet.post("/kiosk/touch", data={"k": k}))
            console.clock.advance(timedelta(seconds=80))     # 160 s since the code
            touched.append(await tablet.post("/kiosk/touch", data={"k": k}))
            assert [t.status_code for t in touched] == [204, 204, 204]
            assert {t.headers["cache-control"] for t in touched} == {"no-store"}
            assert "Typ je code" not in (await tablet.get("/kiosk")).text
            console.clock.advance(timedelta(seconds=91))
            assert (await tablet.post("/kiosk/touch", data={"k": k})).status_code == 410


async def test_typing_a_note_keeps_the_session_alive(
        tmp_path: Path, browser: BrowserThread) -> None:
    """Typing touches the page's timer and, at most every 20 s, the server's session
    (/kiosk/touch): a note typed for two minutes is still stored."""
    async with running_console(tmp_path) as console:
        engine = await clinic(console)
        device = await kiosk_staff.register_device(console.services, "W-1", "", "coordinator:t")
        code = await code_for(console, engine)
        base, clock = console.base_url, console.clock

        def steps(page: Any) -> dict[str, Any]:
            page.clock.install()
            with_tablet(page, base, device)
            page.goto(f"{base}/kiosk")
            page.locator("#code").fill(code)
            page.get_by_role("button", name=re.compile("Start")).click()
            page.wait_for_load_state()
            for _ in range(12):
                if page.locator("textarea").count():
                    break
                screen = page.locator("body").get_attribute("data-screen")
                choice = 'button.choice[value="4"]'
                page.locator(choice if screen == "question" and page.locator(choice).count()
                             else "button.choice").first.click()
                page.wait_for_load_state()
            statuses = []
            for word in ("Het ", "was ", "fijn ", "vandaag", "."):
                clock.advance(timedelta(seconds=25))             # the server's time too
                page.clock.fast_forward("00:25")
                with page.expect_response(re.compile(r"/kiosk/touch$")) as touched:
                    page.locator("textarea").press_sequentially(word)
                statuses.append(touched.value.status)
            page.locator("form.note button").click()
            page.wait_for_load_state()
            return {"statuses": statuses,
                    "screen": page.locator("body").get_attribute("data-screen")}

        seen = await browser.run_page(steps)
        assert seen["statuses"] == [204] * 5
        assert seen["screen"] == "finished"
        assert len(rows(console, "SELECT * FROM notes")) == 1
