"""The therapist's caseload: this week's image inline (reports.weekly, served as PNG),
then per youth a page with the answers per dimension over time, the therapist's own
ratings beside them, the flags and the rule that fired, events and notes where the youth
shares them, and sessions that were missed, cancelled or not held marked as such.

Answers reach the therapist through one door: reports.weekly.caseload (for the list and
the image) and reports.youth.youth_view (for one youth, as /report J-103), which enforce
the youth's sharing consent and that the youth is this therapist's. Rating a session and
"ging niet door" use conversations.alert_actions.rate_session, as the Telegram buttons;
acknowledging an alert posts to /alerts/ack (the same use case as "✓ Gezien").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from conversations.alert_actions import RatingOutcome, rate_session
from conversations.reporting import caseload, discussed_alerts, weekly_report, youth_view
from conversations.services import Services
from core.analytics import ALL_DIMENSIONS, ANSWERED_STATES, DIMENSIONS, SessionPoint
from core.questionnaire import DISCIPLINES, Language
from core.records import OutboxItem
from core.texts import say
from reports.trend import PER_IMAGE, Panel, level, trend_words
from reports.weekly import panels_from, week_label
from reports.youth import SessionLine
from web.auth import requires
from web.nav import NavItem
from web.page_support import form_of, see_other, services_of, staff_of
from web.render import NO_STORE, page
from web.routes_alerts import alert_rows
from web.staff import Role, Staff

PATH = "/caseload"
THERAPIST = frozenset({Role.THERAPIST})
RATED_DIMENSIONS = ("task", "goal", "bond")     # the order the therapist rates in Telegram
DONE = {"rated": "web.cl.done.rated", "not_held": "web.cl.done.not_held",
        "refused": "web.cl.done.refused", "acked": "web.al.done.acked",
        "already": "web.al.done.already", "not_yours": "web.al.done.not_yours"}


def _code_of(staff: Staff) -> str:
    assert staff.therapist_code is not None   # a therapist's session always carries it
    return staff.therapist_code


def level_word(score: float | None, lang: Language) -> tuple[int | None, str]:
    """The answer's level (0-4, for its colour) and its word, as on the image."""
    if score is None:                      # "rather not say"
        return None, trend_words(lang)["withheld_cell"]
    n = level(score)
    return n, trend_words(lang)["levels"].split("|")[n]


@dataclass(frozen=True)
class YouthLine:
    code: str
    panel: Panel
    last: str


@requires(Role.THERAPIST)
async def caseload_page(request: Request) -> Response:
    services, staff = services_of(request), staff_of(request)
    code, now = _code_of(staff), services.clock()
    load = await caseload(services.store, code, now)
    alerts = discussed_alerts(await services.store.rupture_alerts(code))
    panels = panels_from(load.points, lang=staff.lang, missed_after=services.missed_alert_after,
                         alerts=alerts)
    lines = []
    for panel in panels:
        answered = [p for p in panel.points if p.state in ANSWERED_STATES]
        last = (answered[-1].when.astimezone(services.zone).strftime("%d-%m") if answered
                else say(staff.lang, "never"))
        lines.append(YouthLine(panel.youth_code, panel, last))
    label = week_label(now + timedelta(days=1), services.timezone)
    await services.audit(staff.actor, "read:clients", "", "console; own caseload")
    images = max(1, -(-len(panels) // PER_IMAGE)) if panels or load.not_sharing else 0
    return page(request, "caseload.html", lines=lines, hidden=load.not_sharing,
                images=range(images), label=label, words=trend_words(staff.lang))


@requires(Role.THERAPIST)
async def caseload_image(request: Request) -> Response:
    """This week's image so far (as /report), one PNG per six youths."""
    services, staff = services_of(request), staff_of(request)
    code, now = _code_of(staff), services.clock()
    label = week_label(now + timedelta(days=1), services.timezone)
    report = await weekly_report(services.store, code, label, services.timezone, staff.lang,
                                 until=now, missed_after=services.missed_alert_after)
    n = int(raw) if (raw := str(request.path_params["n"])).isdigit() else len(report.images)
    if n >= len(report.images):
        return Response(status_code=404)
    if n == 0:
        await services.audit(staff.actor, "read:report", "", f"console; {label}")
    return Response(report.images[n].png, media_type="image/png", headers=NO_STORE)


def _therapies(lang: Language) -> dict[str, str]:
    return {d: say(lang, f"therapy_{d}") for d in DISCIPLINES}


@dataclass(frozen=True)
class SessionRow:
    """One session on the per-youth page."""

    index: int
    line: SessionLine
    point: SessionPoint
    answered: bool
    youth: list[tuple[int | None, str]]         # per ALL_DIMENSIONS
    therapist: list[tuple[int | None, str]]     # per DIMENSIONS
    flags: list[str]
    request: OutboxItem | None                  # open rating request: rate / not held


async def _rating_request(services: Services, therapist_code: str, youth_code: str,
                          key: str) -> OutboxItem | None:
    """This youth's rating request for the session, once the session ended and while the
    request is open (a week, as the planner sets it): where a rating is still asked."""
    now = services.clock()
    for item in await services.store.rating_requests_for(key, therapist_code):
        if (item.youth_code == youth_code and item.expires_at > now
                and (item.session_end is None or item.session_end <= now)):
            return item
    return None


def _flag_words(panel: Panel, index: int, lang: Language) -> list[str]:
    out = []
    for r in panel.ruptures:
        if r.index == index:
            out.append(say(lang, "web.cl.rule_fired", rule=say(lang, f"web.cl.rule.{r.rule}"),
                           dimension=say(lang, f"web.cl.dim.{r.dimension}")))
        elif r.repaired_at == index:
            out.append(say(lang, "web.cl.repaired", dimension=say(lang,
                                                                  f"web.cl.dim.{r.dimension}")))
    return out


@requires(Role.THERAPIST)
async def youth_page(request: Request) -> Response:
    services, staff = services_of(request), staff_of(request)
    therapist, lang = _code_of(staff), staff.lang
    code = str(request.path_params["code"]).upper()
    view = await youth_view(services.store, therapist, code, services.clock(), lang,
                            services.zone, services.questionnaire, services.cipher.open_text,
                            services.missed_alert_after, render=False)
    if not view.known and not view.sharing:
        return page(request, "youth.html", status=404, code=code, view=view, rows=[],
                    alerts=[], back=f"{PATH}/{code}", not_yours=True,
                    done="", dims=ALL_DIMENSIONS, rated=RATED_DIMENSIONS, words=trend_words(lang),
                    therapy=_therapies(lang))
    await services.audit(staff.actor, "read:youth-report", code,
                         "console; per-youth view" if view.sharing
                         else "console; not sharing: nothing shown")
    rows = []
    if view.sharing and view.panel is not None:
        for i, (line, point, key) in enumerate(zip(view.sessions, view.panel.points,
                                                   view.occurrence_keys, strict=True)):
            rows.append(SessionRow(
                i, line, point, point.state in ANSWERED_STATES,
                [level_word(point.youth.get(d), lang) if d in point.youth else (None, "")
                 for d in ALL_DIMENSIONS],
                [level_word(point.therapist.get(d), lang) if d in point.therapist
                 else (None, "") for d in DIMENSIONS],
                _flag_words(view.panel, i, lang),
                await _rating_request(services, therapist, code, key)))
    alerts = await alert_rows(services, staff, services.clock(), youth=code)
    done = request.query_params.get("done", "")
    return page(request, "youth.html", code=code, view=view, rows=list(reversed(rows)),
                alerts=alerts, back=f"{PATH}/{code}", not_yours=False,
                done=DONE.get(done, ""),
                dims=ALL_DIMENSIONS, rated=RATED_DIMENSIONS, words=trend_words(lang),
                therapy=_therapies(lang))


@requires(Role.THERAPIST)
async def rate(request: Request) -> Response:
    """The therapist's rating of one session (task, goal, bond), or "ging niet door"."""
    services, staff = services_of(request), staff_of(request)
    code = str(request.path_params["code"]).upper()
    form = await form_of(request)
    ref = form.get("ref", "")
    outcomes = []
    if form.get("held") == "no":
        outcomes.append((await rate_session(services, _code_of(staff), ref, "held",
                                            "no")).outcome)
    else:
        for dim in RATED_DIMENSIONS:
            if value := form.get(dim, ""):
                outcomes.append((await rate_session(services, _code_of(staff), ref, dim,
                                                    value)).outcome)
    if not outcomes or RatingOutcome.REFUSED in outcomes:
        return see_other(f"{PATH}/{code}", done="refused")
    return see_other(f"{PATH}/{code}", done="not_held" if RatingOutcome.NOT_HELD in outcomes
                     else "rated")


NAV = [NavItem(PATH, "nav_caseload", THERAPIST, order=10)]

ROUTES: list[BaseRoute] = [
    Route(PATH, caseload_page, methods=["GET"]),
    Route(PATH + "/week/{n}.png", caseload_image, methods=["GET"]),
    Route(PATH + "/{code}", youth_page, methods=["GET"]),
    Route(PATH + "/{code}/rate", rate, methods=["POST"]),
]
