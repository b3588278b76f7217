"""Rendering pages and HTMX fragments with everything a template needs: the staff
member, the CSRF token, their language and the words of the catalogue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from conversations.services import Services
from core.questionnaire import Language
from core.texts import say
from web.nav import NavItem
from web.staff import Staff, current_staff

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(
        default=True, default_for_string=True), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    return env


def language_of(request: Request) -> Language:
    staff = current_staff(request)
    if staff is not None:
        return staff.lang
    return "en" if request.query_params.get("lang") == "en" else "nl"


def translator(lang: Language) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return say(lang, key if key.startswith("web.") else f"web.{key}", **values)
    return t


def nav_for(request: Request, staff: Staff | None) -> list[NavItem]:
    """The entries this staff member's roles allow, from the NAV lists create_app
    collected into app.state.nav."""
    if staff is None:
        return []
    items = cast(list[NavItem], getattr(request.app.state, "nav", []))
    return sorted((i for i in items if staff.roles & i.roles), key=lambda i: i.order)


def _context(request: Request, context: dict[str, Any]) -> dict[str, Any]:
    services = cast(Services, request.app.state.services)
    staff = current_staff(request)
    lang = language_of(request)
    zone = services.zone

    def local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
        return moment.astimezone(zone).strftime(fmt)

    return {"request": request, "staff": staff, "csrf": staff.csrf if staff else "",
            "lang": lang, "t": translator(lang), "zone": zone, "local": local,
            "nav": nav_for(request, staff), "path": request.url.path, **context}


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A whole page (the template extends base.html)."""
    html = environment().get_template(template).render(_context(request, context))
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def fragment(request: Request, template: str, status: int = 200,
             **context: Any) -> HTMLResponse:
    """An HTMX partial: the same context, a template without the base layout."""
    return page(request, template, status, **context)


NO_STORE = {"Cache-Control": "no-store"}
