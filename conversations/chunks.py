"""Long texts as several Telegram messages, split on line boundaries.

Telegram refuses a message over 4096 characters ("message is too long"), and every list
the bot sends can grow with the number of youths: the overview, /clients, /mydata,
notices to coordinators. Every sender of such a text goes through `split_message`.
"""

from __future__ import annotations

from collections.abc import Callable

TELEGRAM_LIMIT = 4096


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), never less than len(text)."""
    return len(text.encode("utf-16-le")) // 2


def _same(text: str) -> str:
    return text


def split_message(text: str, limit: int = TELEGRAM_LIMIT,
                  wrap: Callable[[str], str] = _same) -> list[str]:
    """Split `text` into parts that each fit in one message once wrapped.

    Lines stay whole and in order; a single line longer than a message is cut. `wrap`
    turns a part into what is sent (for example escaped inside <pre>, with a header), and
    must add the same overhead to every part and grow with each character: each
    returned part is already wrapped. A text that fits is one part, unchanged but wrapped.
    """
    overhead = telegram_length(wrap(""))
    room = limit - overhead
    if room < 2:
        raise ValueError("the wrapping leaves no room for text")
    parts: list[str] = []
    current: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal current, size
        if current and "".join(current).strip():
            parts.append(wrap("\n".join(current)))
        current, size = [], 0

    for line in text.split("\n"):
        length = telegram_length(wrap(line)) - overhead
        if length > room:
            flush()
            for piece in _cut(line, room, wrap, overhead):
                parts.append(wrap(piece))
            continue
        extra = length + (1 if current else 0)
        if size + extra > room:
            flush()
            extra = length
        current.append(line)
        size += extra
    flush()
    return parts or [wrap(text)]


def _cut(line: str, room: int, wrap: Callable[[str], str], overhead: int) -> list[str]:
    """A line too long for one message, in pieces that each fit."""
    pieces, piece, size = [], "", 0
    for char in line:
        width = telegram_length(wrap(char)) - overhead
        if size + width > room:
            pieces.append(piece)
            piece, size = "", 0
        piece += char
        size += width
    if piece:
        pieces.append(piece)
    return pieces
