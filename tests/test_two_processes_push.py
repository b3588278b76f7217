"""The fake Telegram's webhook delivery: spread over processes, retried, in order per chat."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from faketelegram import FakeTelegram
from faketelegram.httpserver import HttpServer, Request, Response
from faketelegram.webhook_push import (
    accepted,
    backend_for,
    chat_of,
    ready,
    retry_delay,
)
from tests.support import wait_until


def message(update_id: int, chat: int) -> dict[str, Any]:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0,
                                                "chat": {"id": chat, "type": "private"},
                                                "from": {"id": chat}, "text": "x"}}


def tap(update_id: int, user: int) -> dict[str, Any]:
    return {"update_id": update_id, "callback_query": {
        "id": "q", "from": {"id": user}, "data": "d",
        "message": {"message_id": 1, "date": 0, "chat": {"id": user, "type": "private"}}}}


@pytest.mark.parametrize(("update", "chat"), [
    (message(1, 42), 42),
    (tap(2, 43), 43),
    ({"update_id": 3, "callback_query": {"id": "q", "from": {"id": 44}}}, 44),
    ({"update_id": 4, "poll": {"id": "p"}}, None),
    ({"update_id": 5, "message": "garbage"}, None),
])
def test_the_chat_of_an_update(update: dict[str, Any], chat: int | None) -> None:
    assert chat_of(update) == chat


@pytest.mark.parametrize(("queued", "busy", "in_flight", "expected"), [
    # one per chat, in update order
    ([message(3, 1), message(1, 1), message(2, 2)], set(), set(), [1, 2]),
    # a chat with an update on its way waits
    ([message(1, 1), message(2, 2)], {1}, set(), [2]),
    # an update already being pushed is not pushed again; its chat is busy then too
    ([message(1, 1), message(2, 2)], {1}, {1}, [2]),
    # updates without a chat go at once
    ([{"update_id": 7, "poll": {}}, {"update_id": 8, "poll": {}}], set(), set(), [7, 8]),
    ([], set(), set(), []),
])
def test_which_updates_may_go_now(queued: list[dict[str, Any]], busy: set[int],
                                  in_flight: set[int], expected: list[int]) -> None:
    assert [u["update_id"] for u in ready(queued, busy, in_flight)] == expected


@pytest.mark.parametrize(("update_id", "attempt", "expected"), [
    (10, 0, "a"), (11, 0, "b"), (10, 1, "b"), (10, 2, "a"), (11, 1, "a"),
])
def test_updates_are_spread_and_a_retry_goes_to_the_next_backend(
        update_id: int, attempt: int, expected: str) -> None:
    assert backend_for(["a", "b"], update_id, attempt) == expected
    assert backend_for(["only"], update_id, attempt) == "only"


@pytest.mark.parametrize(("failures", "seconds"), [
    (1, 0.05), (2, 0.1), (3, 0.2), (5, 0.8), (6, 1.0), (60, 1.0), (0, 0.05),
])
def test_retries_back_off_up_to_a_second(failures: int, seconds: float) -> None:
    assert retry_delay(failures) == pytest.approx(seconds)


@pytest.mark.parametrize(("status", "ok"), [
    (200, True), (204, True), (299, True), (301, False), (404, False), (409, False),
    (500, False), (503, False),
])
def test_any_2xx_is_delivered(status: int, ok: bool) -> None:
    assert accepted(status) is ok


class Backend:
    """One bot process behind the load balancer: records what it was given."""

    def __init__(self, answer: int = 200) -> None:
        self.answer = answer
        self.got: list[tuple[int, str]] = []   # (update id, secret header)
        self.server = HttpServer(self._handle)

    async def _handle(self, request: Request) -> Response:
        update = json.loads(request.body)
        self.got.append((update["update_id"],
                         request.headers.get("x-telegram-bot-api-secret-token", "")))
        return Response(self.answer)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/telegram"


async def test_pushes_are_spread_retried_elsewhere_and_in_order_per_chat() -> None:
    healthy, failing = Backend(), Backend(503)
    await healthy.server.start()
    await failing.server.start()
    gone = HttpServer(healthy._handle)    # a process that died: its port refuses
    await gone.start()
    dead_url = f"http://127.0.0.1:{gone.port}/telegram"
    await gone.stop()
    try:
        async with FakeTelegram() as fake:
            fake.webhook.backends = [healthy.url, failing.url, dead_url]
            for n in range(30):
                fake.push_update("message", message(0, 100 + n % 3)["message"])
            fake.webhook.register("https://bot.example.org/telegram", "s3cret")
            await wait_until(fake.all_acknowledged, "every update is acknowledged")
            pushes = fake.webhook.pushes
    finally:
        await healthy.server.stop()
        await failing.server.stop()
    assert sorted(u for u, _ in healthy.got) == list(range(1, 31)), "each delivered once"
    assert {secret for _, secret in healthy.got} == {"s3cret"}
    assert failing.got, "the failing process was tried too"
    assert any(p.status is None for p in pushes), "the dead one was tried"
    per_chat: dict[int, list[int]] = {}
    for update_id, _ in healthy.got:
        per_chat.setdefault(update_id % 3, []).append(update_id)
    assert all(ids == sorted(ids) for ids in per_chat.values()), "order kept per chat"


async def test_get_updates_is_refused_while_a_webhook_is_set() -> None:
    async with FakeTelegram() as fake:
        url = f"{fake.base_url}{fake.token}/"
        async with httpx.AsyncClient() as client:
            await client.post(url + "setWebhook", json={"url": "http://127.0.0.1:9/x"})
            refused = await client.post(url + "getUpdates", json={})
            await client.post(url + "deleteWebhook", json={})
            allowed = await client.post(url + "getUpdates", json={})
    assert refused.status_code == 409 and allowed.status_code == 200
