"""Webhook mode: Telegram POSTs updates to a route of the console app.

The secret header is compared in constant time before a byte of the body is read; the
body is then read up to MAX_BODY (a declared Content-Length above it is refused at once,
a chunked body as soon as it grows past it). uvicorn (h11) owns the HTTP parsing, the
keep-alive timeout and the header limits. The update is handled before the answer
(bot.console.webhook_of): 200 means handled, so behind a load balancer an update whose
process died mid-way is retried by Telegram and reaches another process; one already
handled is answered 200 at once.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import cast

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from web.auth import read_limited
from web.context import WebContext, Webhook

log = logging.getLogger(__name__)
SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 - a header name
MAX_BODY = 1024 * 1024   # Telegram's updates are a few KiB; 1 MiB is generous


async def receive_update(request: Request) -> Response:
    hook = cast(WebContext, request.app.state.web).webhook
    if hook is None:
        return Response(status_code=404)
    given = request.headers.get(SECRET_HEADER, "").encode()
    if not hmac.compare_digest(given, hook.secret.encode()):
        return Response(status_code=403, headers={"Connection": "close"})
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        return Response(status_code=413 if declared.isdigit() else 400,
                        headers={"Connection": "close"})
    body = await read_limited(request.receive, MAX_BODY)
    if body is None:
        return Response(status_code=413, headers={"Connection": "close"})
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Response(status_code=400)
    if not isinstance(data, dict):
        return Response(status_code=400)
    return Response(status_code=await hook.put_update(data))


def webhook_routes(hook: Webhook) -> list[BaseRoute]:
    """Only in webhook mode, at the configured path (POST only)."""
    return [Route(hook.path, receive_update, methods=["POST"], name="webhook")]


