"""The bot's requests to Telegram on a lean HTTP/1.1 client of its own (asyncio streams).

Why: when 200 youths tap at once the bot is CPU-bound, and PTB's HTTPXRequest was
most of that CPU: httpx spends about 1.2 ms of CPU per request here, a bare asyncio
stream 0.05 ms (both against the fake on loopback), and a tap takes three requests plus
its share of the long poll. With this client the bot's CPU per tap went from 7.1 to
3.4 ms and the p99 of the 200-youth burst roughly halved (bench/latency.py, issue 16).

The parameters go as a JSON body (each value a string, as PTB makes them for a form;
the Bot API reads a string in a JSON body as it reads it in a form). Form-encoded they
were about a tenth of a tap's CPU: `urlencode` quotes byte by byte in Python, and a
keyboard with emoji is hundreds of bytes. As JSON the CPU per tap went from 3.4 to
3.1 ms.

What it does, and no more: POST with the parameters as JSON, keep-alive connections
per host (at most `size` at once, the rest wait in a queue), a `Content-Length` or
chunked response, TLS with certifi's CA bundle (as httpx). A connection is used again
only if the server left it open; a connection that saw any error or timeout is closed.
Requests that upload files (multipart) go to PTB's HTTPXRequest unchanged. Errors map
as PTB's own request does: a timeout is `TimedOut` (the request may have arrived),
anything else on the wire is `NetworkError`.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

POOL_SIZE = 16  # connections to Telegram for everything but the long poll
CONNECT_TIMEOUT = 5.0
IDLE_EXPIRY_S = 5.0   # an idle connection older than this is not used again


@dataclass(frozen=True)
class _Origin:
    host: str
    port: int
    tls: bool


_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class LeanRequest(BaseRequest):
    def __init__(self, size: int = POOL_SIZE, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0,
                 idle_expiry: float = IDLE_EXPIRY_S) -> None:
        self._read, self._write = read_timeout, write_timeout
        self._idle_expiry = idle_expiry
        self._free = asyncio.Semaphore(size)
        self._idle: dict[_Origin, list[tuple[asyncio.StreamReader, asyncio.StreamWriter,
                                              float]]] = {}
        self._busy: set[asyncio.StreamWriter] = set()
        self._tls: ssl.SSLContext | None = None
        self._uploads = HTTPXRequest(connection_pool_size=4, connect_timeout=CONNECT_TIMEOUT,
                                     read_timeout=read_timeout, write_timeout=20.0)

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        for connections in self._idle.values():
            for _, writer, _since in connections:
                writer.close()
        for writer in self._busy:
            writer.close()
        self._idle.clear()
        await self._uploads.shutdown()

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
        if request_data is not None and request_data.contains_files:
            return await self._uploads.do_request(url, method, request_data, read_timeout,
                                                  write_timeout, connect_timeout,
                                                  pool_timeout)
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        origin = _Origin(parts.hostname or "", parts.port or (443 if tls else 80), tls)
        body = json.dumps(request_data.json_parameters).encode() if request_data else b"{}"
        head = (f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1")
        reading = read_timeout if isinstance(read_timeout, int | float) else self._read
        writing = write_timeout if isinstance(write_timeout, int | float) else self._write
        connecting = (connect_timeout if isinstance(connect_timeout, int | float)
                      else CONNECT_TIMEOUT)
        async with self._free:
            reader, writer = await self._connection(origin, connecting)
            self._busy.add(writer)
            kept = False
            try:
                writer.write(head + body)
                await asyncio.wait_for(writer.drain(), writing)
                status, payload, keep = await asyncio.wait_for(_response(reader), reading)
                kept = keep and not reader.at_eof()
            except TimeoutError as exc:
                raise TimedOut("Timed out talking to Telegram") from exc
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
            finally:
                self._busy.discard(writer)
                if kept:
                    self._idle.setdefault(origin, []).append(
                        (reader, writer, time.monotonic()))
                else:
                    writer.close()
        return status, payload

    async def _connection(self, origin: _Origin, within: float | None) -> _Connection:
        """An idle connection the server left open, or a new one."""
        idle = self._idle.get(origin, [])
        while idle:
            reader, writer, since = idle.pop()
            # Not one idle for long: a NAT or firewall may have dropped it without a word,
            # and a request written into it would only time out (as httpx, 5 s).
            if (time.monotonic() - since < self._idle_expiry and not reader.at_eof()
                    and not writer.is_closing()):
                return reader, writer
            writer.close()
        try:
            return await asyncio.wait_for(asyncio.open_connection(
                origin.host, origin.port, ssl=self._context() if origin.tls else None),
                within)
        except TimeoutError as exc:
            raise TimedOut("Timed out connecting to Telegram") from exc
        except OSError as exc:
            raise NetworkError(f"ConnectError: could not connect: {exc}") from exc

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context(cafile=certifi.where())
        return self._tls


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body, and whether the connection may be used again."""
    status_line = await reader.readline()
    if not status_line:
        raise asyncio.IncompleteReadError(b"", None)
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep = None, False, True
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            keep = value != b"close"
    if not chunked and length is None:   # the body ends when the server closes
        return status, await reader.read(), False
    if not chunked:
        return status, await reader.readexactly(length or 0), keep
    body = bytearray()
    while size := int((await reader.readline()).split(b";")[0].strip(), 16):
        body += await reader.readexactly(size)
        await reader.readline()
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass  # trailers
    return status, bytes(body), keep
