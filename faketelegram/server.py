"""The fake Bot API server and its user-side controls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from faketelegram.httpserver import HttpServer, Request, Response
from faketelegram.webhook_push import WebhookPusher

BOT_ID = 5550001
BOT_USERNAME = "vakbot_demo_bot"
DEFAULT_TOKEN = "5550001:FAKE-token-for-tests-only-xxxxxxxxxxxx"  # noqa: S105 - fake

# Seconds `settle` may wait for an in-process bot: only reached when something is wrong.
IDLE_LIMIT = 120.0
_JSON_FIELDS = {"reply_markup", "allowed_updates", "entities", "commands"}
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout"}


@dataclass
class SentMessage:
    """A message as the user sees it in the chat, after any edits."""

    chat_id: int
    message_id: int
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    photo: bytes | None = None
    edits: int = 0
    document: bytes | None = None

    def button_labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    def data_for(self, label_part: str) -> str:
        for row in self.buttons:
            for label, data in row:
                if label_part in label:
                    return data
        raise KeyError(f"no button containing {label_part!r} in {self.button_labels()}")

    def as_api(self) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private", "first_name": "Youth"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Vakbot",
                     "username": BOT_USERNAME},
        }
        if self.document is not None:
            msg["document"] = {"file_id": f"doc{self.message_id}",
                               "file_unique_id": f"d{self.message_id}"}
            msg["caption"] = self.text
        elif self.photo is not None:
            msg["photo"] = [{"file_id": f"photo{self.message_id}",
                             "file_unique_id": f"u{self.message_id}", "width": 1080,
                             "height": 1080}]
            msg["caption"] = self.text
        else:
            msg["text"] = self.text
        if self.buttons:
            msg["reply_markup"] = {"inline_keyboard": [
                [{"text": label, "callback_data": data} for label, data in row]
                for row in self.buttons
            ]}
        return msg


@dataclass
class Fault:
    """Make the next `times` calls of `method` fail with this HTTP status."""

    method: str
    status: int
    description: str
    times: int = 1
    retry_after: int | None = None
    delay: float = 0.0


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def _buttons(markup: Any) -> list[list[tuple[str, str]]]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard", [])
    out = []
    for row in rows:
        out_row = []
        for b in row:
            data = b.get("callback_data", "")
            if len(data.encode()) > 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            out_row.append((b["text"], data))
        out.append(out_row)
    return out


class FakeTelegram:
    """Serve the Bot API on 127.0.0.1 and play the users' side."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self._http = HttpServer(self._handle)
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._new_update = asyncio.Event()
        self._next_message: dict[int, int] = {}
        self._next_query = 1
        self.chats: dict[int, list[SentMessage]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.arrivals: list[tuple[float, str]] = []  # (time.monotonic(), method) per call
        # (time.monotonic(), method, chat id or 0) per call, as it arrives: for latency figures
        self.received: list[tuple[float, str, int]] = []
        self.answered: dict[str, str | None] = {}
        self.faults: list[Fault] = []
        self.blocked: set[int] = set()
        self.latency = 0.0  # seconds each send or edit takes, like a real network
        self.held: dict[int, asyncio.Event] = {}  # sends to these chats wait for the event
        self.last_activity = time.monotonic()
        self._delivered_at = 0.0
        # True: answer every call 401 Unauthorized, as Telegram does for a revoked token.
        self.refuse_token = False
        # (index in `calls` of the getUpdates call, update) for each update handed out:
        # tells which bot process (started after which call) was given which update.
        self.deliveries: list[tuple[int, dict[str, Any]]] = []
        # Set by a bot running in this event loop: waits until every update it was given
        # is fully handled (PTB's `update_queue.join`). With it, `settle` waits for that
        # fact instead of for a quiet period, which a loaded machine can stretch.
        self.idle_probe: Callable[[], Awaitable[None]] | None = None
        # After setWebhook: updates are pushed to the bot (or to `webhook.backends`, a
        # load balancer in front of several processes) instead of fetched.
        self.webhook = WebhookPusher(lambda: list(self._updates), self._acknowledged)
        # Called once a call was carried out (the message is in the chat), with the time it
        # arrived, its method and chat: lets a benchmark wait for an arrival instead of
        # polling `received`, so the simulated phones cost next to nothing.
        self.on_handled: Callable[[float, str, int], None] | None = None

    # -- life-cycle ------------------------------------------------------------------

    async def start(self, port: int = 0) -> FakeTelegram:
        await self._http.start("127.0.0.1", port)
        return self

    async def stop(self) -> None:
        await self.webhook.stop()
        await self._http.stop()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._http.port}/bot"

    def user(self, user_id: int, language_code: str = "nl") -> FakeUser:
        return FakeUser(self, user_id, language_code)

    # -- HTTP ------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        path = urlsplit(request.path).path
        prefix = f"/bot{self.token}/"
        if self.refuse_token or not path.startswith(prefix):
            return Response.json(401, {"ok": False, "error_code": 401,
                                       "description": "Unauthorized"})
        method = path[len(prefix):]
        try:
            params = _params(request)
            self.calls.append((method, params))
            arrived = time.monotonic()
            self.arrivals.append((arrived, method))
            self.received.append((arrived, method, _chat(params)))
            call_index = len(self.calls) - 1
            if method != "getUpdates":
                self.last_activity = time.monotonic()
            await self._maybe_fail(method)
            if self.latency and method.startswith(("send", "edit")):
                await asyncio.sleep(self.latency)
            if (held := self.held.get(_chat(params))) is not None:
                await held.wait()
            if method == "getUpdates" and self.webhook.active:
                raise _ApiError(409, "Conflict: can't use getUpdates method while webhook "
                                     "is active; use deleteWebhook to delete the webhook first")
            if method == "getUpdates":
                result: Any = await self._get_updates(params, call_index)
            else:
                result = await self._dispatch(method, params)
                if self.on_handled is not None:
                    self.on_handled(arrived, method, _chat(params))
        except _ApiError as err:
            body: dict[str, Any] = {"ok": False, "error_code": err.status,
                                    "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            return Response.json(err.status, body)
        return Response.json(200, {"ok": True, "result": result})

    async def _maybe_fail(self, method: str) -> None:
        for fault in self.faults:
            if fault.method == method and fault.times > 0:
                fault.times -= 1
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                raise _ApiError(fault.status, fault.description, fault.retry_after)

    async def _dispatch(self, method: str, p: dict[str, Any]) -> Any:
        match method:
            case "getMe":
                return {"id": BOT_ID, "is_bot": True, "first_name": "Vakbot",
                        "username": BOT_USERNAME, "can_join_groups": False,
                        "can_read_all_group_messages": False,
                        "supports_inline_queries": False}
            case "setWebhook":
                self.webhook.register(str(p["url"]), p.get("secret_token"))
                return True
            case "deleteWebhook":
                self.webhook.unregister()
                return True
            case "setMyCommands" | "deleteMyCommands" | "close":
                return True
            case "sendMessage":
                return self._send(p, photo=None).as_api()
            case "sendPhoto":
                return self._send(p, photo=p.get("photo", b"")).as_api()
            case "sendDocument":
                message = self._send(p, photo=None, document=p.get("document", b""))
                return message.as_api()
            case "editMessageText" | "editMessageReplyMarkup":
                return self._edit(method, p).as_api()
            case "answerCallbackQuery":
                self.answered[str(p["callback_query_id"])] = p.get("text")
                return True
        raise _ApiError(404, "Not Found")

    async def _get_updates(self, p: dict[str, Any], call_index: int) -> list[dict[str, Any]]:
        offset = int(p.get("offset", 0) or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            timeout = float(p.get("timeout", 0) or 0)
            if timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_update.wait(), timeout)
        limit = int(p.get("limit", 100) or 100)
        batch = self._updates[:limit]
        if batch:
            self._delivered_at = time.monotonic()
            self.deliveries.extend((call_index, update) for update in batch)
        return batch

    def _send(self, p: dict[str, Any], photo: bytes | None,
              document: bytes | None = None) -> SentMessage:
        chat_id = int(p["chat_id"])
        if chat_id in self.blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        text = str(p.get("text", p.get("caption", "")))
        if photo is None and document is None and not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        message_id = self._next_message.get(chat_id, 1)
        self._next_message[chat_id] = message_id + 1
        message = SentMessage(chat_id, message_id, text, _buttons(p.get("reply_markup")),
                              photo, document=document)
        self.chats.setdefault(chat_id, []).append(message)
        return message

    def _edit(self, method: str, p: dict[str, Any]) -> SentMessage:
        chat_id, message_id = int(p["chat_id"]), int(p["message_id"])
        found = [m for m in self.chats.get(chat_id, []) if m.message_id == message_id]
        if not found:
            raise _ApiError(400, "Bad Request: message to edit not found")
        message = found[0]
        text = str(p["text"]) if method == "editMessageText" else message.text
        buttons = _buttons(p.get("reply_markup"))
        if text == message.text and buttons == message.buttons:
            raise _ApiError(400, "Bad Request: message is not modified: specified new "
                                 "message content and reply markup are exactly the same")
        message.text, message.buttons = text, buttons
        message.edits += 1
        return message

    # -- the users' side ---------------------------------------------------------------

    def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = self._next_update
        self._next_update += 1
        self._updates.append({"update_id": update_id, kind: payload})
        self._new_update.set()
        self.webhook.wake()
        return update_id

    def _acknowledged(self, update_id: int) -> None:
        """The bot answered a pushed update 2xx: Telegram forgets it."""
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._delivered_at = time.monotonic()

    def new_query_id(self) -> str:
        self._next_query += 1
        return f"q{self._next_query}"

    def messages(self, chat_id: int) -> list[SentMessage]:
        return self.chats.get(chat_id, [])

    async def settle(
        self, quiet: float = 0.2, limit: float = 15.0, *, expect_response: bool = True
    ) -> None:
        """Wait until the bot fetched every update, answered, and then went quiet.

        Every update a person sends gets some answer from this bot, so by default a
        call to the API after the last delivery is required too. A bot in this event loop
        (`idle_probe` set) is waited for exactly: every update acknowledged and handled.
        """
        if self.idle_probe is not None:
            await self._settle_in_process(max(limit, IDLE_LIMIT))
            return
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            fetched = not self._updates or self._pending_fetch_done()
            responded = not expect_response or self.last_activity >= self._delivered_at
            if fetched and responded and time.monotonic() - self.last_activity >= quiet:
                return
            await asyncio.sleep(quiet / 3)
        raise TimeoutError("the bot did not settle")

    def most_in_one_second(self, methods: tuple[str, ...] = ("send", "edit", "answer")) -> int:
        """The most calls of these kinds that arrived within any 1 s window."""
        times = sorted(t for t, m in self.arrivals if m.startswith(methods))
        most, first = 0, 0
        for last, moment in enumerate(times):
            while moment - times[first] >= 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most

    async def _settle_in_process(self, limit: float) -> None:
        assert self.idle_probe is not None
        deadline = time.monotonic() + limit
        while not self.all_acknowledged():
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not fetch every update")
            await asyncio.sleep(0.005)
        try:
            await asyncio.wait_for(self.idle_probe(), deadline - time.monotonic())
        except TimeoutError:
            raise TimeoutError("the bot did not finish handling its updates") from None

    def all_acknowledged(self) -> bool:
        """Every pushed update was fetched and then acknowledged by a later getUpdates:
        none will be handed out again, to this bot process or the next."""
        return not self._updates or self._pending_fetch_done()

    def _pending_fetch_done(self) -> bool:
        # An update counts as fetched once a later getUpdates asked for a higher offset.
        offsets = [int(p.get("offset", 0) or 0) for m, p in self.calls if m == "getUpdates"]
        return bool(offsets) and max(offsets) > max(u["update_id"] for u in self._updates)


def _chat(params: dict[str, Any]) -> int:
    chat = params.get("chat_id")
    return chat if isinstance(chat, int) else 0


def _params(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    raw: dict[str, Any] = {}
    if content_type.startswith("application/json"):
        # As the real Bot API: a value may be given as itself or as a string (the lean
        # client sends every value as a string, as it would in a form).
        raw = dict(json.loads(request.body or b"{}"))
    elif content_type.startswith("multipart/form-data"):
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + request.body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                raw[name] = payload if part.get_filename() else payload.decode()
    else:
        raw = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
        raw.update(dict(parse_qsl(urlsplit(request.path).query)))
    for key in list(raw):
        value = raw[key]
        if isinstance(value, str) and key in _JSON_FIELDS:
            raw[key] = json.loads(value)
        elif isinstance(value, str) and key in _INT_FIELDS and value.lstrip("-").isdigit():
            raw[key] = int(value)
    return raw


class FakeUser:
    """One Telegram user in a private chat with the bot (chat id = user id)."""

    def __init__(self, fake: FakeTelegram, user_id: int, language_code: str) -> None:
        self.fake, self.id, self.language_code = fake, user_id, language_code
        self._next_message = 1_000_000

    def _from(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": "Youth",
                "language_code": self.language_code}

    def _message(self, **content: Any) -> dict[str, Any]:
        self._next_message += 1
        return {"message_id": self._next_message, "date": int(time.time()),
                "chat": {"id": self.id, "type": "private", "first_name": "Youth"},
                "from": self._from(), **content}

    def send(self, text: str) -> None:
        """Type a message; a leading /command gets its entity, as Telegram does."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command)}]
        self.fake.push_update("message", self._message(**content))

    def send_sticker(self) -> None:
        self.fake.push_update("message", self._message(sticker={
            "file_id": "stk", "file_unique_id": "stku", "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False}))

    def send_photo(self, caption: str | None = None) -> None:
        extra = {"caption": caption} if caption is not None else {}
        self.fake.push_update("message", self._message(photo=[{
            "file_id": "ph", "file_unique_id": "phu", "width": 90, "height": 90}], **extra))

    def send_voice(self) -> None:
        self.fake.push_update("message", self._message(voice={
            "file_id": "vc", "file_unique_id": "vcu", "duration": 3}))

    def tap_data(self, message: SentMessage, data: str) -> str:
        """Tap a button with exactly this callback data (which may be forged)."""
        query_id = self.fake.new_query_id()
        self.fake.push_update("callback_query", {
            "id": query_id, "from": self._from(), "chat_instance": f"ci{self.id}",
            "data": data, "message": message.as_api()})
        return query_id

    def tap(self, message: SentMessage, label_part: str) -> str:
        """Tap the button whose label contains `label_part`."""
        return self.tap_data(message, message.data_for(label_part))

    @property
    def inbox(self) -> list[SentMessage]:
        return self.fake.messages(self.id)

    @property
    def last(self) -> SentMessage:
        return self.inbox[-1]
