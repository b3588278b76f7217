"""Telegram's flood limits: 25 messages a second overall, about one a second per chat.

PTB's AIORateLimiter limits the overall rate and group chats, but not private chats.
This adds a per-chat limiter for new messages: a small burst, then one a second. Edits
(the confirmation of a tap) are not new messages and are not held back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

OVERALL_PER_SECOND = 25
CHAT_BURST = 3
_LIMITED = ("send", "copy", "forward")


class ChatRateLimiter(AIORateLimiter):
    def __init__(self, max_retries: int = 3, chat_burst: int = CHAT_BURST) -> None:
        super().__init__(overall_max_rate=OVERALL_PER_SECOND, overall_time_period=1,
                         max_retries=max_retries)
        self._chats: dict[int, AsyncLimiter] = {}
        self._burst = chat_burst

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > 4096:  # forget idle chats
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        return self._chats.setdefault(chat_id, AsyncLimiter(self._burst, self._burst))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        chat_id = data.get("chat_id")
        if not isinstance(chat_id, int) or not endpoint.startswith(_LIMITED):
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
        async with self._chat_limiter(chat_id):
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
