"""Signing in to the web console: single-use links from /console, sessions on the
server, sign-out, CSRF and the rate limit."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.web_support import running_console, signed_in
from web.auth import COOKIE


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
