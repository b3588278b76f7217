"""The bot's HTTP requests to Telegram wait for a free connection in a queue of our own.

PTB's HTTPXRequest queues requests inside httpx's connection pool, and httpcore
examines every queued request against every connection, with a system call per
connection (`has_expired`), each time a request starts or ends. In a burst of a few
hundred requests that bookkeeping took 12 % of the bot's CPU when 200 youths tapped at
once (py-spy over bench/latency.py), on the one core that also answers the taps. Here a
request enters httpx only when a connection is free, so httpx never queues and its
bookkeeping stays small. Waiting in this queue has no deadline of its own (httpx's pool
timeout no longer comes into play); each request keeps its connect, read and write
timeouts.
"""

from __future__ import annotations

import asyncio

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import HTTPXRequest, RequestData

POOL_SIZE = 16  # connections to Telegram for everything but the long poll


class QueuedHTTPXRequest(HTTPXRequest):
    def __init__(self, connection_pool_size: int = POOL_SIZE, *,
                 connect_timeout: float | None = 5.0, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0) -> None:
        super().__init__(connection_pool_size=connection_pool_size,
                         connect_timeout=connect_timeout, read_timeout=read_timeout,
                         write_timeout=write_timeout)
        self._free = asyncio.Semaphore(connection_pool_size)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        async with self._free:
            return await super().do_request(url, method, request_data, read_timeout,
                                            write_timeout, connect_timeout, pool_timeout)
