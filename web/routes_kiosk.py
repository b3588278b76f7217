"""The kiosk page (`/kiosk`): the check-in on the therapy room's tablet.

A tablet is registered for a unit once by a coordinator (/tablets), which leaves a
device cookie on it; it shows nothing about anyone until a code is typed. A right code
opens a short kiosk session (its own cookie) on that one check-in; every screen comes
from conversations.kiosk as data and is drawn here. No console session counts on these
paths (the middleware passes them by): a tablet never acts as staff.

Privacy on a shared device: every response is `Cache-Control: no-store`; answers go by
POST and come back as a redirect (nothing to resubmit or bring back with the back
button); the session ends on the server when the youth finishes or after 90 s without
a touch (the page also wipes itself then); nothing identifying is shown.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import cast
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from conversations import kiosk
from conversations.services import Services
from core.identity import token_digest
from core.kiosk import CODE_DIGITS, IDLE_WIPE, Refusal
from core.questionnaire import Language
from core.texts import say
from web.auth import read_limited
from web.context import WebContext
from web.render import environment

DEVICE_COOKIE = "vakbot_kiosk_device"
SESSION_COOKIE = "vakbot_kiosk"
DONE_COOKIE = "vakbot_kiosk_done"     # the closing words' key, shown once after the end
DONE_KEYS = frozenset({"thanks", "thanks_honest", "kiosk.declined",
                       "kiosk.expired"})
PATH = "/kiosk"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
DEVICE_YEARS = 5


def _services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


def _web(request: Request) -> WebContext:
    return cast(WebContext, request.app.state.web)


def form_token(device_token: str) -> str:
    """The tablet's form token: proves a POST came from a page this tablet was shown
    (with SameSite=Strict cookies, a second lock against cross-site requests)."""
    return token_digest(f"kiosk-form:{device_token}")[:32]


def words(lang: Language) -> Callable[..., str]:
    def k(key: str, **values: object) -> str:
        return say(lang, f"kiosk.{key}", **values)
    return k


def _render(request: Request, lang: Language, status: int = 200, **context: object
            ) -> HTMLResponse:
    device = request.cookies.get(DEVICE_COOKIE, "")
    shown: dict[str, object] = {"refused": "", "q": None, "c": None, "text": "", **context}
    html = environment().get_template("kiosk.html").render(
        lang=lang, k=words(lang), token=form_token(device) if device else "",
        idle_ms=int(IDLE_WIPE.total_seconds() * 1000), digits=CODE_DIGITS, **shown)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _lang(request: Request) -> Language:
    return "en" if request.query_params.get("lang") == "en" else "nl"


def _again(request: Request) -> Response:
    return RedirectResponse(PATH, status_code=303, headers=NO_STORE)


def _forged(request: Request) -> Response:
    """A form without this tablet's token (another site, or no registered tablet)."""
    return _render(request, _lang(request), status=403, screen="unregistered")


def _without_session(response: Response) -> Response:
    response.delete_cookie(SESSION_COOKIE, path=PATH, samesite="strict")
    return response


async def _device_known(request: Request) -> bool:
    token = request.cookies.get(DEVICE_COOKIE)
    if not token or len(token) > 200:
        return False
    device = await _services(request).store.kiosk_device(token_digest(token))
    return device is not None and not device.state.retired


async def show(request: Request) -> Response:
    """What the tablet shows now: the code screen, or the youth's current screen."""
    services = _services(request)
    if not await _device_known(request):
        return _render(request, _lang(request), screen="unregistered")
    token = request.cookies.get(SESSION_COOKIE)
    shown = await kiosk.screen(services, token, device=request.cookies.get(DEVICE_COOKIE))
    if isinstance(shown, kiosk.Ended):
        done = _done(request)
        response = (_render(request, done[0], screen="finished", text=say(*done))
                    if done else _render(request, _lang(request), screen="code"))
        response.delete_cookie(DONE_COOKIE, path=PATH, samesite="strict")
        return _without_session(response) if token else response
    lang = await _session_lang(services, token)
    return _screen(request, shown, lang)


def _done(request: Request) -> tuple[Language, str] | None:
    """The closing words to show once, after the session ended (a key, not an answer)."""
    lang, _, key = request.cookies.get(DONE_COOKIE, "").partition(":")
    if key in DONE_KEYS and lang in ("nl", "en"):
        return cast(Language, lang), key
    return None


async def _session_lang(services: Services, token: str | None) -> Language:
    session = await services.store.kiosk_session(token_digest(token)) if token else None
    youth = await services.store.youth_by_code(session.code.youth_code) if session else None
    return youth.language if youth else "nl"


def _screen(request: Request, shown: kiosk.Screen, lang: Language) -> Response:
    if isinstance(shown, kiosk.Question):
        return _render(request, lang, screen="question", q=shown)
    if isinstance(shown, kiosk.ConsentScreen):
        return _render(request, lang, screen="consent", c=shown)
    if isinstance(shown, kiosk.CrisisScreen):
        return _render(request, lang, screen="crisis", text=shown.text)
    if isinstance(shown, kiosk.Finished):
        return _render(request, lang, screen="finished", text=shown.text)
    return _render(request, lang, screen="code")


MAX_KIOSK_BODY = 16 * 1024   # the longest kiosk form is a note (free_text_limit chars)
MAX_KIOSK_FIELDS = 20


async def _form(request: Request) -> dict[str, str] | Response:
    """The posted fields, or the refusal to send: these paths skip the console's
    middleware (and its body cap), so nothing is read before a registered tablet's
    cookie is seen, and at most MAX_KIOSK_BODY is read; a form token that is not this
    tablet's is refused too."""
    if not await _device_known(request):
        return _forged(request)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_KIOSK_BODY):
        return _too_large()
    body = await read_limited(request.receive, MAX_KIOSK_BODY)
    if body is None:
        return _too_large()
    try:
        fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True,
                          max_num_fields=MAX_KIOSK_FIELDS)
    except ValueError:           # more fields than any kiosk form has
        return _forged(request)
    values = {k: v[0] for k, v in fields.items()}
    device = request.cookies.get(DEVICE_COOKIE, "")
    given = values.get("k", "")
    if not hmac.compare_digest(given.encode(), form_token(device).encode()):
        return _forged(request)
    return values


def _too_large() -> Response:
    return PlainTextResponse("Too large.", status_code=413, headers=NO_STORE)


_REFUSED = {reason: f"refused_{reason.value}" for reason in Refusal}


async def enter(request: Request) -> Response:
    """A typed code: the youth's first screen, or the code screen with why not."""
    services = _services(request)
    values = await _form(request)
    if isinstance(values, Response):
        return values
    result = await kiosk.enter_code(services, request.cookies.get(DEVICE_COOKIE),
                                    values.get("code", "")[:40])
    if isinstance(result, kiosk.Refused):
        status = 423 if result.reason is Refusal.DEVICE_LOCKED else 422
        return _render(request, _lang(request), status=status, screen="code",
                       refused=_REFUSED[result.reason])
    await kiosk.entered_screen(services, result.session_token,
                               device=request.cookies.get(DEVICE_COOKIE))
    response = _again(request)
    response.set_cookie(SESSION_COOKIE, result.session_token, httponly=True,
                        samesite="strict", secure=_web(request).console.secure_cookie,
                        path=PATH)
    return response


async def _after(request: Request, shown: kiosk.Screen) -> Response:
    """After an answer: the next screen by redirect (every history entry is a GET of
    /kiosk, asked again of the server when revisited). At the end the session is over
    at once; the closing words are shown once more by their key only."""
    if isinstance(shown, kiosk.Finished):
        lang = await _session_lang(_services(request), request.cookies.get(SESSION_COOKIE))
        await kiosk.finish(_services(request), request.cookies.get(SESSION_COOKIE))
        response = _without_session(_again(request))
        response.set_cookie(DONE_COOKIE, f"{lang}:{shown.key}", httponly=True,
                            samesite="strict", secure=_web(request).console.secure_cookie,
                            path=PATH, max_age=60)
        return response
    if isinstance(shown, kiosk.Ended):
        return _without_session(_again(request))
    return _again(request)


async def answer(request: Request) -> Response:
    values = await _form(request)
    if isinstance(values, Response):
        return values
    step = values.get("step", "")
    shown = await kiosk.answer(_services(request), request.cookies.get(SESSION_COOKIE),
                               int(step) if step.isdigit() else -1, values.get("value", ""),
                               device=request.cookies.get(DEVICE_COOKIE))
    return await _after(request, shown)


async def consent(request: Request) -> Response:
    values = await _form(request)
    if isinstance(values, Response):
        return values
    number = values.get("number", "")
    shown = await kiosk.answer_consent(
        _services(request), request.cookies.get(SESSION_COOKIE), values.get("scope", ""),
        int(number) if number.isdigit() else 0, values.get("agree") == "yes",
        device=request.cookies.get(DEVICE_COOKIE))
    return await _after(request, shown)


async def note(request: Request) -> Response:
    values = await _form(request)
    if isinstance(values, Response):
        return values
    shown = await kiosk.note(_services(request), request.cookies.get(SESSION_COOKIE),
                             values.get("text", ""), device=request.cookies.get(DEVICE_COOKIE))
    return await _after(request, shown)


async def touch(request: Request) -> Response:
    """The page's keep-alive while the youth types or taps (web/static/kiosk.js, at most
    every 20 s): the session's idle time starts again. 204 while it lives, 410 once over."""
    if isinstance(refused := await _form(request), Response):
        return refused
    alive = await kiosk.touch(_services(request), request.cookies.get(SESSION_COOKIE),
                              device=request.cookies.get(DEVICE_COOKIE))
    return Response(status_code=204 if alive else 410, headers=NO_STORE)


async def end(request: Request) -> Response:
    """Finished, or 90 s without a touch: the session ends for good."""
    if isinstance(refused := await _form(request), Response):
        return refused
    await kiosk.finish(_services(request), request.cookies.get(SESSION_COOKIE))
    return _without_session(_again(request))


ROUTES: list[BaseRoute] = [
    Route(PATH, show, methods=["GET"]),
    Route(f"{PATH}/code", enter, methods=["POST"]),
    Route(f"{PATH}/answer", answer, methods=["POST"]),
    Route(f"{PATH}/consent", consent, methods=["POST"]),
    Route(f"{PATH}/note", note, methods=["POST"]),
    Route(f"{PATH}/touch", touch, methods=["POST"]),
    Route(f"{PATH}/end", end, methods=["POST"]),
]
