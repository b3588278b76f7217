"""Console benchmarks: how long the overview (50 youths) and a 12-youth caseload take to
render, and overview requests per second beside a bare Starlette route on the same
server (uvicorn, h11, same event loop as the bot).

The data is made the real way: youths enrolled and linked through the fake Telegram,
three check-ins each answered by taps; staff signed in with a link from /console.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.console import web_context
from bot.offline import OfflineBot, offline_bot
from conversations import usecases
from conversations.console_signin import CONSOLE_URL
from conversations.enrolment import enroll_therapist, enroll_youth
from conversations.telegram_io import send_prompt
from core.records import NewYouth
from faketelegram import FakeUser
from web.app import create_app
from web.server import ConsoleServer

COORDINATOR = 9001
THERAPIST_BASE = 600000000
YOUTH_BASE = 810000000
LABELS = ("Goed", "Gewoon", "Heel goed", "Slecht", "Iets leuks", "Klaar")
LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class ConsoleResult:
    overview_ms: float         # median render of /overview, 50 youths
    caseload_ms: float         # median render of /caseload, 12 youths (HTML)
    caseload_image_ms: float   # median render of its first weekly image (PNG)
    youth_ms: float            # median render of one youth's page
    overview_rps: float
    bare_rps: float
    youths: int


async def _until(condition: Callable[[], bool], limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the bot did not answer")
        await asyncio.sleep(0.005)


def _therapist_of(n: int) -> str:
    """T-01 has 12 youths (the caseload measured); the other 38 are spread over three."""
    return "T-01" if n < 12 else f"T-0{2 + n % 3}"


async def _link(bot: OfflineBot, user: FakeUser) -> str:
    before = len(user.inbox)
    user.send("/console")
    await _until(lambda: any(LINK.search(m.text) for m in user.inbox[before:]))
    found = next(f for m in user.inbox[before:] if (f := LINK.search(m.text)))
    return found.group(0)


async def _prepare(bot: OfflineBot, youths: int, sessions: int) -> FakeUser:
    services, now = bot.services, bot.services.clock()
    therapist = bot.fake.user(THERAPIST_BASE + 1)
    for t in range(1, 5):
        invitation = await enroll_therapist(services.store, f"T-0{t}", "nl", now,
                                            services.invite_ttl)
        assert invitation is not None
        if t == 1:
            therapist.send(f"/start {invitation.token}")
            await _until(lambda: bool(therapist.inbox))
    users = []
    for n in range(youths):
        code, user = f"J-{n:03d}", bot.fake.user(YOUTH_BASE + n)
        invite = await enroll_youth(services.store, NewYouth(
            code, _therapist_of(n), 2008, "nl", False, None), now, services.invite_ttl)
        user.send(f"/start {invite.token}")
        await _until(lambda: any("Ik doe mee" in " ".join(m.button_labels())
                                 for m in user.inbox))  # noqa: B023
        query = user.tap(user.last, "Ik doe mee")
        await _until(lambda: query in bot.fake.answered and any(  # noqa: B023
            "Ja, dat mag" in " ".join(m.button_labels()) for m in user.inbox))  # noqa: B023
        user.tap(user.last, "Ja, dat mag")
        users.append((code, user))
    for k in range(sessions):
        for code, user in users:
            before = len(user.inbox)
            outgoing = await usecases.start_checkin(services, code, f"bench-{k}", "music")
            assert outgoing is not None
            await send_prompt(services, bot.app.bot, outgoing.chat_id, outgoing.prompt)
            await _until(lambda: len(user.inbox) > before)  # noqa: B023
        for label in LABELS:
            pending = [(u, len(u.inbox), u.tap(u.last, label)) for _, u in users]
            await _until(lambda: all(q in bot.fake.answered
                                     for _, _, q in pending))  # noqa: B023
            await bot.fake.settle()
    return therapist


async def _signed_in(base_url: str, link: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=base_url, timeout=60)
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    shown = re.search(r'name="form" value="([^"]+)"', (await client.get(path)).text)
    landing = await client.post(path, data={"next": "/", "form": shown.group(1) if shown
                                            else ""}, follow_redirects=True)
    found = CSRF.search(landing.text)
    assert found, "no CSRF token after signing in"
    return client, found.group(1)


async def _median_ms(fetch: Callable[[], Awaitable[httpx.Response]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = await fetch()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times)


async def _per_second(client: httpx.AsyncClient, path: str, seconds: float = 3.0,
                      workers: int = 8) -> float:
    """Requests per second with `workers` keep-alive requests in flight at once."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            response = await client.get(path)
            assert response.status_code == 200
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (time.perf_counter() - started)


async def _bare_route() -> tuple[ConsoleServer, str]:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    server = ConsoleServer(Starlette(routes=[Route("/", hello)]), "127.0.0.1", 0)
    await server.start()
    return server, f"http://127.0.0.1:{server.port}"


async def console_pages(youths: int = 50, sessions: int = 3, repeat: int = 15) -> ConsoleResult:
    toml = f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n"
    with tempfile.TemporaryDirectory() as tmp:
        async with offline_bot(Path(tmp), rate_limited=False, tick=False,
                               extra_toml=toml) as bot:
            therapist = await _prepare(bot, youths, sessions)
            web = web_context(bot.settings, bot.secrets, bot.app)
            server = ConsoleServer(create_app(bot.services, web), "127.0.0.1", 0)
            await server.start()
            base = f"http://127.0.0.1:{server.port}"
            bot.app.bot_data[CONSOLE_URL] = base
            bare, bare_base = await _bare_route()
            try:
                coordinator, _ = await _signed_in(base, await _link(
                    bot, bot.fake.user(COORDINATOR)))
                own, _ = await _signed_in(base, await _link(bot, therapist))
                overview = await _median_ms(lambda: coordinator.get("/overview"), repeat)
                assert (await coordinator.get("/overview")).text.count("data-youth=") == youths
                caseload = await _median_ms(lambda: own.get("/caseload"), repeat)
                image = await _median_ms(lambda: own.get("/caseload/week/0.png"), 5)
                youth = await _median_ms(lambda: own.get("/caseload/J-000"), repeat)
                overview_rps = await _per_second(coordinator, "/overview")
                async with httpx.AsyncClient(base_url=bare_base) as plain:
                    bare_rps = await _per_second(plain, "/")
                await coordinator.aclose()
                await own.aclose()
            finally:
                await bare.stop()
                await server.stop()
    return ConsoleResult(overview, caseload, image, youth, overview_rps, bare_rps, youths)


def table_rows(c: ConsoleResult) -> list[str]:
    """The console's lines of the `make bench` table."""
    return [
        f"| console: render /overview, {c.youths} youths (server + HTTP, median) "
        f"| {c.overview_ms:.0f} ms | - | - |",
        f"| console: render /caseload, 12 youths (HTML; its weekly image PNG: "
        f"{c.caseload_image_ms:.0f} ms; one youth's page: {c.youth_ms:.0f} ms) "
        f"| {c.caseload_ms:.0f} ms | - | - |",
        f"| console: /overview requests/s, 8 in flight | {c.overview_rps:,.0f}/s "
        f"| bare Starlette route, same server: {c.bare_rps:,.0f}/s "
        f"| {c.overview_rps / c.bare_rps:.3f} |",
    ]
