"""Output that cannot leak the bot token.

httpx logs every request URL, and Bot API URLs contain the token; PTB puts the whole token
into the message of `InvalidToken`. Rather than trust each logger and each exception, every
way text leaves the process is redacted: the log formatter (tracebacks included), the
hooks that print uncaught exceptions, warnings (routed through logging), and, for the
`python -m bot` process, stdout and stderr themselves. Our own code logs pseudonyms and
codes, never Telegram ids.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any, TextIO, cast

REDACTED = "[redacted]"
_TOKEN_SHAPE = re.compile(r"\d{5,12}:[A-Za-z0-9_-]{30,}")
# Telegram user and chat ids are integers of 6 to 16 digits; timestamps in our log
# format never have more than 4 digits in a row. A library that logs request parameters
# (PTB does at DEBUG) therefore cannot leak an id either.
_ID_SHAPE = re.compile(r"(?<![\w.])-?\d{6,16}(?![\w.])")
# The secret part of a token alone is still a secret; shorter pieces would redact noise.
_MIN_SECRET_PART = 8

_secrets: set[str] = set()


def add_secrets(secrets: list[str]) -> None:
    """Remember secrets (and a token's part after the colon) for every later redaction."""
    for secret in secrets:
        if not secret:
            continue
        _secrets.add(secret)
        _, colon, tail = secret.partition(":")
        if colon and len(tail) >= _MIN_SECRET_PART:
            _secrets.add(tail)


def redact(text: str, extra: list[str] | None = None) -> str:
    """The text without any known secret and without anything shaped like a bot token."""
    for secret in sorted(_secrets.union(extra or []), key=len, reverse=True):
        if secret:
            text = text.replace(secret, REDACTED)
    return _TOKEN_SHAPE.sub("[redacted-token]", text)


class RedactingFormatter(logging.Formatter):
    """Formats the whole line first (message, traceback, stack), then redacts it."""

    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return _ID_SHAPE.sub("[id]", redact(super().format(record), self._secrets))


class RedactingStream:
    """A text stream that redacts each write before passing it on (stdout, stderr)."""

    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(redact(text))
        return len(text)

    def writelines(self, lines: list[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _print_redacted(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> None:
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    sys.stderr.write(redact(text))
    sys.stderr.flush()


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is not SystemExit:
        _print_redacted(args.exc_type, args.exc_value, args.exc_traceback)


def guard_process() -> None:
    """Redact everything this process prints: call once, first thing, in the entry point.

    Uncaught exceptions (main thread and other threads) are printed redacted, and stdout
    and stderr redact each write, so even text printed by a library cannot carry the token.
    """
    sys.excepthook = _print_redacted
    threading.excepthook = _thread_hook
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, RedactingStream):
            setattr(sys, name, cast(TextIO, RedactingStream(stream)))


def configure_logging(level: str, secrets: list[str]) -> None:
    """Send logs to stderr through the redacting formatter; quieten chatty libraries."""
    add_secrets(secrets)
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(RedactingFormatter(secrets, fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Warnings carry library text (a URL, a repr): let them pass the same formatter.
    logging.captureWarnings(True)
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # PTB logs whole updates and request parameters at DEBUG: names and message text.
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
