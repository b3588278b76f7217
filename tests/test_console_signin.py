"""Signing in to the web console: single-use links from /console, sessions on the
server, sign-out, CSRF and the rate limit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import ModuleType

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.web_support import follow_link, running_console, signed_in
from web.auth import COOKIE
from web.routes import ROUTE_MODULES


async def test_a_coordinator_signs_in_with_a_link_from_the_bot_and_out_again(
        tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link(role="coordinator")
        async with signed_in(console, link) as client:
            people = await client.get("/people")
            assert people.status_code == 200 and "Mensen" in people.text
            cookie = client.http.cookies.get(COOKIE)
            out = await client.post("/signout")
            assert "Je bent afgemeld" in out.text
            # the old cookie signs nobody in any more: the session ended on the server
            async with httpx.AsyncClient(base_url=console.base_url) as other:
                other.cookies.set(COOKIE, cookie or "")
                again = await other.get("/people")
            assert again.status_code == 303 and again.headers["location"].startswith("/signin")
        actions = [e.action for e in await console.services.store.audit_entries()]
        mine = [a for a in actions if a.startswith("console:")]
        assert mine == ["console:link", "console:signin", "console:signout"]


async def test_a_post_from_another_site_is_refused_and_leaves_the_link_unused(
        tmp_path: Path) -> None:
    """Login CSRF: a page elsewhere posting someone's link signs the victim in as nobody."""
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link(role="coordinator")
        path = "/" + link.split("://", 1)[1].split("/", 1)[1]
        async with httpx.AsyncClient(base_url=console.base_url) as victim:
            forged = await victim.post(path, data={"next": "/", "form": "guessed"})
            assert forged.status_code == 403 and "niet van deze console" in forged.text
            assert COOKIE not in victim.cookies
            await victim.get(path)    # the real page sets its cookie ...
            victim.cookies.set("vakbot_signin", "other-value", path="/signin")
            mismatch = await victim.post(path, data={"next": "/", "form": "guessed"})
            assert mismatch.status_code == 403 and COOKIE not in victim.cookies
        async with httpx.AsyncClient(base_url=console.base_url) as owner:
            assert (await follow_link(owner, link)).status_code == 200   # still unused
        actions = [e.action for e in await console.services.store.audit_entries()]
        assert actions.count("console:signin-refused:not-our-form") == 2


async def test_a_link_works_once_and_only_for_five_minutes(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link(role="coordinator")
        async with httpx.AsyncClient(base_url=console.base_url) as client:
            # Opening the link (as a link preview does) does not use it up.
            shown = await client.get(link)
            assert shown.status_code == 200 and "Aanmelden" in shown.text
            first = await follow_link(client, link)
            assert first.status_code == 200 and "Mensen" in first.text
            set_cookie = next(v for k, v in first.history[0].headers.multi_items()
                              if k == "set-cookie")
            assert "httponly" in set_cookie.lower() and "samesite=strict" in set_cookie.lower()
            assert "secure" not in set_cookie.lower()   # bound to loopback, plain HTTP
        async with httpx.AsyncClient(base_url=console.base_url) as other:
            again = await follow_link(other, link)
            assert again.status_code == 410 and "al gebruikt" in again.text
            assert COOKIE not in other.cookies
            late = await console.sign_in_link(role="coordinator")
            console.clock.advance(timedelta(minutes=5, seconds=1))
            expired = await follow_link(other, late)
            assert expired.status_code == 410 and "verlopen" in expired.text
            made_up = await follow_link(other, console.base_url + "/signin/abcdefghijklmnop")
            assert made_up.status_code == 404 and "ken ik niet" in made_up.text


async def test_sessions_end_when_idle_and_after_their_lifetime(tmp_path: Path) -> None:
    extra = "[console]\nport = 0\nidle_minutes = 30\nlifetime_hours = 2\n"
    async with running_console(tmp_path, extra) as console:
        async with signed_in(console, await console.sign_in_link("coordinator")) as client:
            console.clock.advance(timedelta(minutes=29))
            assert (await client.get("/people")).status_code == 200
            console.clock.advance(timedelta(minutes=31))
            idle = await client.get("/people")
            assert idle.status_code == 303 and idle.headers["location"] == "/signin?next=/people"
        async with signed_in(console, await console.sign_in_link("coordinator")) as client:
            for _ in range(4):   # busy, never idle: still ends at the absolute lifetime
                console.clock.advance(timedelta(minutes=25))
                assert (await client.get("/people")).status_code == 200
            console.clock.advance(timedelta(minutes=25))
            assert (await client.get("/people")).status_code == 303
        actions = [e.action for e in await console.services.store.audit_entries()]
        assert "console:signout:idle" in actions and "console:signout:expired" in actions


async def test_a_state_change_without_the_right_csrf_token_is_refused(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link("coordinator")
        async with signed_in(console, link) as client:
            data = {"code": "T-07", "language": "nl"}
            forged = await client.http.post("/people/therapists", data={**data, "csrf": "x"})
            missing = await client.http.post("/people/therapists", data=data)
            header = await client.http.post("/people/therapists", data=data,
                                            headers={"X-CSRF-Token": "nope"})
            assert [r.status_code for r in (forged, missing, header)] == [403, 403, 403]
            assert "Laad de pagina opnieuw" in forged.text
            assert await console.services.store.therapist("T-07") is None
            good = await client.http.post("/people/therapists", data=data,
                                          headers={"X-CSRF-Token": client.csrf})
            assert good.status_code == 200 and await console.services.store.therapist("T-07")


async def test_sign_in_attempts_are_rate_limited(tmp_path: Path) -> None:
    extra = "[console]\nport = 0\nsignin_per_address = 3\nsignin_overall = 100\n"
    async with (running_console(tmp_path, extra) as console,
                httpx.AsyncClient(base_url=console.base_url) as client):
        tries = [await client.post(f"/signin/guess{n}") for n in range(4)]
        assert [t.status_code for t in tries] == [403, 403, 403, 429]   # not from our form
        link = await console.sign_in_link("coordinator")
        busy = await follow_link(client, link)
        assert busy.status_code == 429 and "Te veel aanmeldpogingen" in busy.text
        console.clock.advance(timedelta(minutes=1))
        assert (await follow_link(client, link)).status_code == 200   # not used up


async def test_only_staff_get_a_link_and_each_gets_their_own_roles(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        stranger = console.fake.user(700000999)
        stranger.send("/console")
        await console.fake.settle()
        assert "/signin/" not in (stranger.last.text if stranger.inbox else "")
        link = await console.sign_in_link("therapist", "T-02")
        async with signed_in(console, link) as client:
            assert (await client.get("/people")).status_code == 403
        grant_actors = [e for e in await console.services.store.audit_entries()
                        if e.action == "console:signin"]
        assert [e.actor for e in grant_actors] == ["T-02"]
        for entry in await console.services.store.audit_entries():
            assert "600000002" not in entry.actor + entry.detail   # no Telegram id



async def test_a_route_without_an_access_rule_refuses_everyone(tmp_path: Path) -> None:
    """Deny by default: a page module that forgot `requires` is served as a refusal."""
    async def forgotten(request: Request) -> Response:
        return PlainTextResponse("secret data")

    module = ModuleType("forgotten")
    module.ROUTES = [Route("/forgotten", forgotten)]   # type: ignore[attr-defined]
    ROUTE_MODULES.append(module)
    try:
        async with running_console(tmp_path) as console:
            link = await console.sign_in_link("coordinator")
            async with signed_in(console, link) as client:
                answer = await client.get("/forgotten")
            assert answer.status_code == 403 and "secret data" not in answer.text
    finally:
        ROUTE_MODULES.remove(module)


async def test_unlinking_a_lost_phone_ends_the_console_sessions_of_that_account(
        tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        therapist_link = await console.sign_in_link("therapist", "T-02")
        coordinator_link = await console.sign_in_link("coordinator")
        async with signed_in(console, therapist_link) as therapist, \
                signed_in(console, coordinator_link) as coordinator:
            assert (await therapist.get("/codes")).status_code == 200
            cut = await coordinator.post("/people/therapists/T-02/unbind")
            assert "Uitnodiging voor T-02" in cut.text
            after = await therapist.get("/")
            assert after.status_code == 303 and after.headers["location"].startswith("/signin")


async def test_the_language_switch_holds_for_the_session(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link("coordinator")
        async with signed_in(console, link) as client:
            switched = await client.post("/lang", data={"lang": "en", "next": "/people"},
                                         follow_redirects=True)
            assert "<h1>People</h1>" in switched.text and 'lang="en"' in switched.text
            elsewhere = await client.post("/lang", data={"lang": "en",
                                                         "next": "https://evil.example/"})
            assert elsewhere.headers["location"] == "/"   # no open redirect
            assert "<h1>People</h1>" in (await client.get("/people")).text


async def test_sign_in_link_links_a_therapist_enrolled_earlier_without_telegram(
        tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await console.invite("J-001", therapist="T-02")   # enrols T-02, nobody linked
        link = await console.sign_in_link("therapist", "T-02")
        async with signed_in(console, link) as client:
            assert (await client.get("/codes")).status_code == 200   # the therapist's page
        unit_link = await console.sign_in_link("unit", "W-3")
        async with signed_in(console, unit_link) as client:
            assert (await client.get("/people")).status_code == 403
