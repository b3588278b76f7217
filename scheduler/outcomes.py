"""How a delivery can end without sending: shared by the engine and its helpers."""

from core.identity import InvalidToken


class Skip(Exception):
    """Nothing to send any more (e.g. the check-in was completed); the row is closed."""


class Hold(Exception):
    """Not yet: try again shortly (the youth has a newer consent text to answer first)."""


def failure_reason(exc: BaseException) -> str:
    """The reason stored with a row that raised: short, and free of Telegram ids."""
    if isinstance(exc, InvalidToken):
        return "the contact cannot be opened with the configured contact key"
    detail = str(exc)
    return f"{type(exc).__name__}: {detail}"[:300] if detail else type(exc).__name__
