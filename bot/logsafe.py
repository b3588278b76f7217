"""Logging that cannot leak the bot token.

httpx logs every request URL, and Bot API URLs contain the token. Rather than trust each
logger, the formatter redacts the token (and anything shaped like one) from the whole
formatted line, tracebacks included. Our own code logs pseudonyms and codes, never
Telegram ids.
"""

from __future__ import annotations

import logging
import re
import sys

_TOKEN_SHAPE = re.compile(r"\d{5,12}:[A-Za-z0-9_-]{30,}")
# Telegram user and chat ids are integers of 6 to 16 digits; timestamps in our log
# format never have more than 4 digits in a row. A library that logs request parameters
# (PTB does at DEBUG) therefore cannot leak an id either.
_ID_SHAPE = re.compile(r"(?<![\w.])-?\d{6,16}(?![\w.])")


class RedactingFormatter(logging.Formatter):
    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        text = _TOKEN_SHAPE.sub("[redacted-token]", text)
        return _ID_SHAPE.sub("[id]", text)


def configure_logging(level: str, secrets: list[str]) -> None:
    """Send logs to stderr through the redacting formatter; quieten chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(RedactingFormatter(secrets, fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # PTB logs whole updates and request parameters at DEBUG: names and message text.
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
