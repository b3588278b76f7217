"""Deny by default: every command and action x every role x own versus another's youth."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from starlette.routing import Route

from conversations.enrolment import enroll_therapist, unbind_therapist
from core.callbacks import ack_data, answer_data, discuss_data, rating_data, scope_data
from core.delivery import Kind
from core.identity import new_token
from core.records import NewAlert, NewOutbox
from tests.support import Harness, running_bot
from tests.web_support import ConsoleHarness, follow_link, running_console, signed_in
from web.app import guarded_routes

YOUTH, OTHER_YOUTH, THERAPIST, OTHER_THERAPIST, COORDINATOR, RESEARCHER, STRANGER = (
    700000001, 700000002, 600000002, 600000003, 9001, 9002, 700000999)
FORMER = 600000012   # T-02's earlier account, cut off with unbind-therapist
DENIED = {"Hoi! Deze bot is alleen voor jongeren", "Dit commando is alleen voor",
          "Deze knop werkt niet meer", "Deze melding is niet voor jou",
          "J-002 is niet een van jouw jongeren"}


@dataclass(frozen=True)
class Case:
    role: str
    action: str
    target: str          # "own" or "other" (whose youth the action concerns), or "-"
    allowed: bool


MATRIX = [Case(role, action, target, allowed) for role, action, target, allowed in [
    # commands: only the role they are for
    ("youth", "/mydata", "own", True), ("therapist", "/mydata", "-", False),
    ("coordinator", "/mydata", "-", False), ("stranger", "/mydata", "-", False),
    ("youth", "/delete", "own", True), ("stranger", "/delete", "-", False),
    ("therapist", "/delete", "-", False),
    ("youth", "/research", "own", True), ("stranger", "/research", "-", False),
    ("researcher", "/research", "-", False), ("therapist", "/research", "-", False),
    ("youth", "/toestemming", "own", True), ("therapist", "/toestemming", "-", False),
    ("researcher", "/toestemming", "-", False), ("stranger", "/toestemming", "-", False),
    ("researcher", "/mydata", "-", False), ("researcher", "/delete", "-", False),
    ("youth", "/clients", "-", False), ("therapist", "/clients", "own", True),
    ("coordinator", "/clients", "-", False), ("stranger", "/clients", "-", False),
    ("youth", "/report", "-", False), ("therapist", "/report", "own", True),
    ("stranger", "/report", "-", False),
    ("youth", "/rate", "-", False), ("therapist", "/rate", "own", True),
    ("youth", "/overview", "-", False), ("therapist", "/overview", "-", False),
    ("coordinator", "/overview", "-", True), ("stranger", "/overview", "-", False),
    ("researcher", "/clients", "-", False), ("researcher", "/report", "-", False),
    ("researcher", "/rate", "-", False), ("researcher", "/overview", "-", False),
    ("researcher", "/export", "-", True), ("youth", "/export", "-", False),
    ("therapist", "/export", "-", False), ("coordinator", "/export", "-", False),
    ("stranger", "/export", "-", False),
    # buttons: only on one's own data
    ("youth", "answer", "own", True), ("youth", "answer", "other", False),
    ("therapist", "answer", "own", False), ("stranger", "answer", "own", False),
    ("therapist", "rate", "own", True), ("therapist", "rate", "other", False),
    ("youth", "rate", "own", False), ("stranger", "rate", "own", False),
    ("therapist", "ack", "own", True), ("therapist", "ack", "other", False),
    ("youth", "ack", "own", False), ("coordinator", "ack", "own", False),
    ("researcher", "answer", "own", False), ("researcher", "rate", "own", False),
    ("researcher", "ack", "own", False),
    ("youth", "consent", "own", True), ("therapist", "consent", "own", False),
    ("researcher", "consent", "own", False), ("stranger", "consent", "own", False),
    # the coordinator's and the stranger's remaining cells: nothing outside their role
    ("coordinator", "/delete", "-", False), ("coordinator", "/research", "-", False),
    ("coordinator", "/toestemming", "-", False), ("coordinator", "/report", "-", False),
    ("coordinator", "/rate", "-", False), ("stranger", "/rate", "-", False),
    ("coordinator", "answer", "own", False), ("coordinator", "rate", "own", False),
    ("coordinator", "consent", "own", False), ("stranger", "ack", "own", False),
    ("youth", "/help", "own", True), ("therapist", "/help", "own", True),
    ("coordinator", "/help", "-", True), ("researcher", "/help", "-", True),
    ("stranger", "/help", "-", False),
    # a therapist's former (unbound) account: nothing, at once
    ("former", "/clients", "-", False), ("former", "/report", "-", False),
    ("former", "/rate", "-", False), ("former", "/overview", "-", False),
    ("former", "/mydata", "-", False), ("former", "/help", "-", False),
    ("former", "rate", "own", False), ("former", "ack", "own", False),
    ("former", "answer", "own", False), ("former", "consent", "own", False),
    # closing the loop: the youth's own line, the therapist's simple-mode switch, Besproken
    ("youth", "/mijnlijn", "own", True), ("therapist", "/mijnlijn", "-", False),
    ("coordinator", "/mijnlijn", "-", False), ("researcher", "/mijnlijn", "-", False),
    ("stranger", "/mijnlijn", "-", False),
    ("therapist", "discuss", "own", True), ("therapist", "discuss", "other", False),
    ("youth", "discuss", "own", False), ("coordinator", "discuss", "own", False),
    ("stranger", "discuss", "own", False),
    ("therapist", "/simpel J-002 aan", "other", False),
    ("youth", "/simpel J-001 aan", "-", False), ("coordinator", "/simpel J-001 aan", "-", False),
    ("researcher", "/simpel J-001 aan", "-", False), ("stranger", "/simpel J-001 aan", "-", False),
    ("therapist", "/simpel J-001 aan", "own", True),
    # the per-youth view: the therapist's own youth only
    ("therapist", "/report J-001", "own", True), ("therapist", "/report J-002", "other", False),
    ("youth", "/report J-001", "-", False), ("coordinator", "/report J-001", "-", False),
    ("researcher", "/report J-001", "-", False), ("stranger", "/report J-001", "-", False),
    ("former", "/report J-001", "-", False),
]]


async def setup(bot: Harness) -> dict[str, str]:
    store, now = bot.services.store, bot.clock()
    first = await enroll_therapist(store, "T-02", "nl", now, bot.services.invite_ttl)
    other = await enroll_therapist(store, "T-03", "nl", now, bot.services.invite_ttl)
    assert first is not None and other is not None
    bot.fake.user(FORMER).send(f"/start {first.token}")
    await bot.fake.settle()
    again = await unbind_therapist(store, "T-02", now, bot.services.invite_ttl)
    for token, chat in ((again.token, THERAPIST), (other.token, OTHER_THERAPIST)):
        bot.fake.user(chat).send(f"/start {token}")
        await bot.fake.settle()
    await bot.enrol(bot.fake.user(YOUTH), "J-001", therapist="T-02")
    await bot.enrol(bot.fake.user(OTHER_YOUTH), "J-002", therapist="T-03")
    await bot.checkin("J-001", occurrence="s1")
    await bot.checkin("J-002", occurrence="s2")
    refs = {}
    for code, therapist, key in (("J-001", "T-02", "own"), ("J-002", "T-03", "other")):
        rating_ref, alert_ref = new_token()[:16], new_token()[:16]
        await store.add_outbox([NewOutbox(f"rating:x:{code}", Kind.RATING, "x", now,
                                          now, now, code, therapist, rating_ref)], now)
        await store.add_alert(NewAlert(alert_ref, f"missed:{code}", "missed", code, therapist,
                                       "3 check-ins op rij niet ingevuld.", now, None), now)
        refs[f"rating-{key}"], refs[f"alert-{key}"] = rating_ref, alert_ref
    own_checkin = bot.fake.user(YOUTH).last.data_for("Goed").split("|")[1].split(":")[1]
    other_checkin = bot.fake.user(OTHER_YOUTH).last.data_for("Goed").split("|")[1].split(":")[1]
    refs["checkin-own"], refs["checkin-other"] = own_checkin, other_checkin
    return refs


CHATS = {"youth": YOUTH, "therapist": THERAPIST, "coordinator": COORDINATOR,
         "researcher": RESEARCHER, "stranger": STRANGER, "former": FORMER}


async def test_access_matrix(tmp_path: Path) -> None:
    extra = (f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n"
             f"[researchers]\ntelegram_ids = [{RESEARCHER}]\n")
    async with running_bot(tmp_path, extra_toml=extra) as bot:
        refs = await setup(bot)
        outcomes = []
        for case in MATRIX:
            user = bot.fake.user(CHATS[case.role])
            before = len(user.inbox)
            if case.action.startswith("/"):
                user.send(case.action)
                await bot.fake.settle()
                reply = user.inbox[before].text if len(user.inbox) > before else ""
            else:
                data = {"answer": answer_data(refs[f"checkin-{case.target}"], 0, "4"),
                        "rate": rating_data(refs[f"rating-{case.target}"], "bond", "4"),
                        "ack": ack_data(refs[f"alert-{case.target}"]),
                        "discuss": discuss_data(refs[f"alert-{case.target}"]),
                        "consent": scope_data("research", 1, False)}[case.action]
                # a button as the bot could have made it (bound to this message), so the
                # role and ownership checks behind the binding are what is tested
                carrier = next(m for m in reversed(bot.fake.user(YOUTH).inbox) if m.buttons)
                query = user.tap_data(carrier, bot.button(carrier, data))
                await bot.fake.settle()
                reply = bot.fake.answered.get(query) or ""
            assert reply, f"no answer at all to {case}"   # silence is not a clear reply
            denied = any(reply.startswith(d) for d in DENIED)
            outcomes.append((case, not denied))
        wrong = [(c.role, c.action, c.target, c.allowed) for c, allowed in outcomes
                 if allowed != c.allowed]
        assert wrong == [], f"{len(wrong)} of {len(MATRIX)} cells differ: {wrong}"
        # The comparison has teeth: one flipped expectation is exactly one differing cell.
        flipped = MATRIX[0]
        caught = [c for c, allowed in outcomes
                  if allowed != ((not c.allowed) if c is flipped else c.allowed)]
        assert caught == [flipped]


# -- the web console: every route x every role (and signed out) ---------------------------
# Deny by default: a route that is not in this table fails the test until someone decides
# who may use it. Add a row "(METHOD, path): roles allowed" for every new route.
STAFF = ("coordinator", "therapist", "researcher", "unit")
EVERYONE = (*STAFF, "signed out")
WEB_MATRIX: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/health"): EVERYONE,
    ("GET", "/static"): EVERYONE,
    ("GET", "/signin"): EVERYONE,
    ("GET", "/signin/{token}"): EVERYONE,
    # Only from the sign-in page's own form (its cookie and field): a bare POST is refused.
    ("POST", "/signin/{token}"): (),
    ("GET", "/"): STAFF,
    ("POST", "/lang"): STAFF,
    ("GET", "/people"): ("coordinator",),
    ("POST", "/people/youths"): ("coordinator",),
    ("POST", "/people/therapists"): ("coordinator",),
    ("POST", "/people/units"): ("coordinator",),
    ("POST", "/people/{kind:str}/{code:str}/invite"): ("coordinator",),
    ("POST", "/people/{kind:str}/{code:str}/unbind"): ("coordinator",),
    ("POST", "/people/youths/{code:str}/therapist"): ("coordinator",),
    ("POST", "/people/youths/{code:str}/simple"): ("coordinator",),
    ("POST", "/people/youths/{code:str}/unit"): ("coordinator",),
    # the console's other pages (pages helper)
    ("GET", "/schedule"): ("coordinator",),
    ("POST", "/schedule/series"): ("coordinator",),
    ("POST", "/schedule/session"): ("coordinator",),
    ("POST", "/schedule/pause"): ("coordinator",),
    ("POST", "/schedule/import"): ("coordinator",),
    ("POST", "/schedule/window"): ("coordinator",),
    ("GET", "/overview"): ("coordinator",),
    ("GET", "/alerts"): ("coordinator", "therapist", "unit"),
    ("POST", "/alerts/ack"): ("coordinator", "therapist", "unit"),
    ("GET", "/audit"): ("coordinator",),
    ("GET", "/caseload"): ("therapist",),
    ("GET", "/caseload/week/{n}.png"): ("therapist",),
    ("GET", "/caseload/{code}"): ("therapist",),
    ("POST", "/caseload/{code}/rate"): ("therapist",),
    ("GET", "/export"): ("researcher",),
    ("POST", "/export"): ("researcher",),
    # The kiosk tablet: no console session counts there; without a registered tablet's
    # cookie and form token the page shows nothing about anyone and every form is refused.
    ("GET", "/kiosk"): EVERYONE,
    ("POST", "/kiosk/code"): (),
    ("POST", "/kiosk/answer"): (),
    ("POST", "/kiosk/consent"): (),
    ("POST", "/kiosk/note"): (),
    ("POST", "/kiosk/touch"): (),
    ("POST", "/kiosk/end"): (),
    ("GET", "/codes"): ("coordinator", "therapist"),
    ("POST", "/codes/new"): ("coordinator", "therapist"),
    ("GET", "/tablets"): ("coordinator",),
    ("POST", "/tablets/register"): ("coordinator",),
    ("POST", "/tablets/device"): ("coordinator",),
    ("POST", "/tablets/channel"): ("coordinator",),
    ("POST", "/signout"): STAFF,    # last: it ends the session
}
SAMPLE = {"token": "not-a-real-link", "kind": "youths", "code": "J-001",
          "id": "1", "ref": "x", "week": "2026-W48", "n": "0"}


def web_routes() -> list[tuple[str, str]]:
    """Every (method, path) the console app serves, HEAD aside."""
    found = []
    for route in guarded_routes():
        if isinstance(route, Route):
            found += [(m, route.path) for m in sorted(route.methods or ()) if m != "HEAD"]
    return [*found, ("GET", "/static")]


def concrete(path: str) -> str:
    for name, value in SAMPLE.items():
        path = path.replace(f"{{{name}:str}}", value).replace(f"{{{name}}}", value)
    return path + ("/console.css" if path == "/static" else "")


def refused(response: httpx.Response) -> bool:
    """Refused: 403 (or 401 for HTMX), or sent to the sign-in page. Never a 5xx."""
    assert response.status_code < 500, f"{response.request.url}: {response.status_code}"
    location = response.headers.get("location", "")
    return response.status_code in (401, 403) or (
        response.status_code in (302, 303, 307) and location.startswith("/signin"))


async def web_outcomes(console: ConsoleHarness,
                       links: dict[str, str]) -> list[tuple[str, str, str, bool]]:
    outcomes = []
    for role in EVERYONE:
        async with AsyncExitStack() as stack:
            if role == "signed out":
                http = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=console.base_url))
                csrf = ""
            else:
                client = await stack.enter_async_context(signed_in(console, links[role]))
                http, csrf = client.http, client.csrf
            for method, path in WEB_MATRIX:
                url = concrete(path)
                response = await (http.get(url) if method == "GET"
                                  else http.post(url, data={"csrf": csrf}))
                outcomes.append((method, path, role, not refused(response)))
    return outcomes


async def test_web_access_matrix(tmp_path: Path) -> None:
    routes = web_routes()
    missing = [r for r in routes if r not in WEB_MATRIX]
    assert missing == [], f"add these routes to WEB_MATRIX with the roles allowed: {missing}"
    assert [r for r in WEB_MATRIX if r not in routes] == []
    async with running_console(tmp_path, '[units]\ndefault_unit = "W-1"\n') as console:
        links = {role: await console.sign_in_link(role, "W-1" if role == "unit" else "T-02")
                 for role in STAFF}
        await console.enrol(console.fake.user(YOUTH), "J-001", therapist="T-02")
        outcomes = await web_outcomes(console, links)
        wrong = [(m, p, r, allowed) for m, p, r, allowed in outcomes
                 if allowed != (r in WEB_MATRIX[(m, p)])]
        assert wrong == [], f"{len(wrong)} of {len(outcomes)} cells differ: {wrong}"
        assert len(outcomes) == len(WEB_MATRIX) * len(EVERYONE)

        # A forged CSRF token, a reused sign-in link and an expired session: refused.
        async with signed_in(console, await console.sign_in_link("coordinator")) as client:
            forged = await client.http.post("/people/therapists",
                                            data={"code": "T-09", "csrf": "forged"})
            assert forged.status_code == 403
            assert await console.services.store.therapist("T-09") is None
            console.clock.advance(console.settings.console.lifetime_hours * timedelta(hours=1))
            assert refused(await client.get("/people"))
        async with httpx.AsyncClient(base_url=console.base_url) as again:
            reused = await follow_link(again, links["coordinator"])
            assert reused.status_code == 410 and refused(await again.get("/people"))
