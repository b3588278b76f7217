"""uvicorn in the bot's own event loop: started and stopped with the PTB Application.

uvicorn's Server.serve() normally takes over SIGINT/SIGTERM; here the bot owns the
signals (python -m bot run stops everything together), so that capture is switched off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from starlette.types import ASGIApp

log = logging.getLogger(__name__)
START_LIMIT = 30.0   # seconds the server may take to bind before start() gives up


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket: binding here turns a taken port into a plain OSError."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                         type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


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
        """Bind (an OSError names a taken port) and serve until stop()."""
        sock = listening_socket(self._host, self._port)
        self._task = asyncio.create_task(self._serve(sock), name="console")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_LIMIT
        while not self._server.started:
            if self._task.done():
                self._task = None
                raise OSError(f"the console on {self._host}:{self._port} stopped at start")
            if loop.time() > deadline:
                raise TimeoutError("the console did not start listening")
            await asyncio.sleep(0.01)
        self.port = sock.getsockname()[1]

    async def _serve(self, sock: socket.socket) -> None:
        # uvicorn calls sys.exit on a failed start-up; a SystemExit escaping a task would
        # stop the bot's whole event loop, so it ends here as a logged failure.
        try:
            await self._server.serve(sockets=[sock])
        except SystemExit:
            log.error("the console could not start")
        finally:
            sock.close()

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
