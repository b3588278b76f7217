"""Test support for the web console: the console served beside the real bot, sign-in
links made the real way, a signed-in HTTP client, and a browser.

How to use it
-------------
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link(role="coordinator")
        async with signed_in(console, link) as client:       # httpx, cookie + CSRF kept
            page = await client.get("/people")
            await client.post("/people/youths", data={...})  # the CSRF field is added

`running_console` is `tests.support.running_bot` (the real PTB Application polling the
fake Bot API, a real SQLite file, the virtual clock) plus the console app served by
uvicorn in the same event loop on 127.0.0.1, port 0. Sessions and sign-in links follow
the virtual clock: `console.clock.advance(...)` expires them.

Browser tests (Playwright driving Debian's /usr/bin/chromium)
-------------------------------------------------------------
Playwright's async API binds to the event loop it was started in, and pytest-asyncio
gives every test a loop of its own, so a session-wide async browser cannot be shared.
Instead the browser is driven with Playwright's SYNC API on one dedicated worker thread,
started once per test session (the `browser` fixture in tests/conftest.py). A test
hands that thread a plain function and awaits the result:

    async def test_x(tmp_path, browser: BrowserThread) -> None:
        async with running_console(tmp_path) as console:
            link = await console.sign_in_link(role="coordinator")
            def steps(page: Page) -> str:
                page.goto(link)
                page.get_by_role("button", name="Aanmelden").click()
                return page.inner_text("h1")
            assert await browser.run_page(steps) == "Mensen"

While the browser thread works, the test's event loop stays free to serve the console
and run the bot, so nothing deadlocks. Each `run_page` gets a fresh browser context
(cookies not shared between calls unless the same context is reused inside `steps`).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bot.console import web_context
from conversations.console_signin import CONSOLE_URL
from conversations.enrolment import enroll_therapist, enroll_unit, invite_therapist, invite_unit
from faketelegram import FakeUser
from tests.support import Harness, running_bot
from web.app import create_app
from web.context import ConsoleConfig, WebContext
from web.server import ConsoleServer

T = TypeVar("T")
COORDINATOR_ID, RESEARCHER_ID = 9001, 9002
THERAPIST_IDS = {"T-02": 600000002, "T-03": 600000003}
UNIT_ID = 600000100
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORTS = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1280, 800)}
LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
SIGNIN_FORM = re.compile(r'name="form" value="([^"]+)"')


@dataclass
class ConsoleHarness(Harness):
    """The bot harness plus the console's address and app context."""

    base_url: str = ""
    web: WebContext | None = None

    async def sign_in_link(self, role: str = "coordinator", code: str = "T-02") -> str:
        """A single-use sign-in URL made the real way: the staff member types /console
        to the bot (through the fake Telegram) and the link is read from the reply.

        role: coordinator, researcher, therapist (code: the therapist code, enrolled and
        linked to Telegram here when needed, also when enrolled earlier without a link) or
        unit (code: the unit, likewise)."""
        user = await self.staff_user(role, code)
        before = len(user.inbox)
        user.send("/console")
        await self.fake.settle()
        replies = [m.text for m in user.inbox[before:]]
        for text in replies:
            if found := LINK.search(text):
                return found.group(0)
        raise AssertionError(f"no sign-in link in the bot's reply: {replies}")

    async def staff_user(self, role: str, code: str = "T-02") -> FakeUser:
        """The fake Telegram user for a role, enrolled and linked on first use."""
        store, now, ttl = self.services.store, self.clock(), self.services.invite_ttl
        if role == "coordinator":
            return self.fake.user(COORDINATOR_ID)
        if role == "researcher":
            return self.fake.user(RESEARCHER_ID)
        if role == "therapist":
            user = self.fake.user(THERAPIST_IDS.get(code, 600000050))
            if await store.therapist(code) is None:
                await enroll_therapist(store, code, "nl", now)
            linked = await store.therapist_pseudonym(code)
            if linked is None or await store.contact(linked) is None:
                invitation = await invite_therapist(store, code, now, ttl)
                user.send(f"/start {invitation.token}")
                await self.fake.settle()
            return user
        if role == "unit":
            user = self.fake.user(UNIT_ID)
            unit = await store.unit(code)
            if unit is None:
                await enroll_unit(store, code, "nl", now, ttl)
                unit = await store.unit(code)
            if unit is None or unit.pseudonym is None or await store.contact(
                    unit.pseudonym) is None:
                invitation = await invite_unit(store, code, now, ttl)
                user.send(f"/start {invitation.token}")
                await self.fake.settle()
            return user
        raise ValueError(f"unknown role {role}")


def staff_toml(extra_toml: str = "") -> str:
    """The test coordinator and researcher, unless `extra_toml` configures its own."""
    parts = {"coordinators": COORDINATOR_ID, "researchers": RESEARCHER_ID}
    return "".join(f"[{name}]\ntelegram_ids = [{user_id}]\n"
                   for name, user_id in parts.items() if f"[{name}]" not in extra_toml)


@asynccontextmanager
async def running_console(tmp_path: Path, extra_toml: str = "") -> AsyncIterator[ConsoleHarness]:
    """The real bot and its console in this event loop; the test coordinator (9001) and
    researcher (9002) configured unless `extra_toml` has its own [coordinators] or
    [researchers]."""
    extra = staff_toml(extra_toml) + extra_toml
    async with running_bot(tmp_path, extra_toml=extra) as bot:
        web = web_context(bot.settings, bot.secrets, bot.app)
        app = create_app(bot.services, web)
        server = ConsoleServer(app, "127.0.0.1", 0)
        await server.start()
        base_url = f"http://127.0.0.1:{server.port}"
        # Links point at where this console really listens (the config says port 0).
        web.console = ConsoleConfig(**{**web.console.__dict__, "public_url": base_url})
        bot.app.bot_data[CONSOLE_URL] = base_url
        try:
            yield ConsoleHarness(bot.fake, bot.settings, bot.secrets, bot.services, bot.app,
                                 bot.clock, bot.config_path, base_url, web)
        finally:
            await server.stop()


class SignedInClient:
    """An httpx client that followed a sign-in link: keeps the cookie and the CSRF
    token (read from the first page) and adds the token to every POST."""

    def __init__(self, client: httpx.AsyncClient, csrf: str) -> None:
        self.http = client
        self.csrf = csrf

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def post(self, path: str, data: dict[str, str] | None = None,
                   **kw: Any) -> httpx.Response:
        return await self.http.post(path, data={"csrf": self.csrf, **(data or {})}, **kw)


async def follow_link(client: httpx.AsyncClient, link: str) -> httpx.Response:
    """Open the sign-in page and press its button, as a browser does."""
    path = link.split("://", 1)[1].split("/", 1)[1]
    shown = await client.get("/" + path)
    found = SIGNIN_FORM.search(shown.text)
    data = {"next": "/", "form": found.group(1) if found else ""}
    return await client.post("/" + path, data=data, follow_redirects=True)


@asynccontextmanager
async def signed_in(console: ConsoleHarness, link: str) -> AsyncIterator[SignedInClient]:
    async with httpx.AsyncClient(base_url=console.base_url, timeout=60) as client:
        landing = await follow_link(client, link)
        found = CSRF.search(landing.text)
        assert found, f"signed-in page without CSRF token: {landing.status_code}"
        yield SignedInClient(client, found.group(1))


class BrowserThread:
    """Chromium through Playwright's sync API, on one thread for the whole session."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="playwright")
        self._playwright: Any = None
        self._browser: Any = None
        self._pool.submit(self._start).result()

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only when used

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=shutil.which("chromium") or CHROMIUM, headless=True,
            args=CHROMIUM_ARGS)

    async def run(self, steps: Callable[[Any], T]) -> T:
        """Run `steps(browser)` on the browser thread; the event loop stays free."""
        return await asyncio.wrap_future(self._pool.submit(steps, self._browser))

    async def run_page(self, steps: Callable[[Any], T],
                       viewport: tuple[int, int] = VIEWPORTS["tablet"]) -> T:
        """Run `steps(page)` in a fresh context and page at `viewport`."""
        def in_context(browser: Any) -> T:
            context = browser.new_context(locale="nl-NL", viewport={"width": viewport[0],
                                                    "height": viewport[1]})
            context.set_default_timeout(60_000)
            try:
                return steps(context.new_page())
            finally:
                context.close()
        return await self.run(in_context)

    def close(self) -> None:
        def stop() -> None:
            self._browser.close()
            self._playwright.stop()
        self._pool.submit(stop).result()
        self._pool.shutdown()


@contextmanager
def browser_session() -> Iterator[BrowserThread]:
    browser = BrowserThread()
    try:
        yield browser
    finally:
        browser.close()
