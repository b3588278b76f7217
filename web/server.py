"""uvicorn in the bot's own event loop: started and stopped with the PTB Application.

uvicorn's Server.serve() normally takes over SIGINT/SIGTERM; here the bot owns the
signals (python -m bot run stops everything together), so that capture is switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)
START_LIMIT = 30.0   # seconds the server may take to bind before start() gives up


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield   # the bot's own signal handlers stay in charge


class ConsoleServer:
    """Serve an ASGI app on host:port (0: any free port) until stop()."""

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, http="h11", ws="none", lifespan="off",
            log_config=None, access_log=False,   # paths carry sign-in tokens: no access log
            timeout_keep_alive=5, timeout_graceful_shutdown=5,
            h11_max_incomplete_event_size=16 * 1024,   # request line and headers
            limit_concurrency=200, server_header=False, date_header=True,
            proxy_headers=True, forwarded_allow_ips="127.0.0.1",
        )
        self._server = _InLoopServer(config)
        self._host, self._port = host, port
        self._task: asyncio.Task[None] | None = None
        self.port = port

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="console")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_LIMIT
        while not self._server.started:
            if self._task.done():
                with contextlib.suppress(SystemExit):   # uvicorn exits when it cannot bind
                    self._task.result()
                self._task = None
                raise OSError(f"cannot listen on {self._host}:{self._port}")
            if loop.time() > deadline:
                raise TimeoutError("the console did not start listening")
            await asyncio.sleep(0.01)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 10)
        except TimeoutError:
            self._server.force_exit = True
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._task = None
