"""The channel port: how the bot reaches a person, whatever the channel.

The delivery engine, the therapist's and the crisis delivery depend on this port only.
Telegram is one adapter (conversations.telegram_io.TelegramChannel, the one place that
knows telegram.error); the kiosk will be another. An adapter never raises for what the
channel answered: every answer comes back as an Outcome, and the caller decides what
that outcome means for its row, as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.prompts import Button

Address = int      # where the channel reaches one person, opened from their sealed contact
Rows = tuple[tuple[Button, ...], ...]
UNKNOWN_REF = 0    # a message that may have arrived, but whose id the channel never said


@dataclass(frozen=True)
class Text:
    """A text, with buttons on it (a long text goes in parts, the buttons on the last)."""

    text: str
    buttons: Rows = ()


@dataclass(frozen=True)
class Image:
    """A picture (PNG) with an optional caption: the therapist's weekly report."""

    png: bytes
    caption: str | None = None


Message = Text | Image


@dataclass(frozen=True)
class Sent:
    """The channel confirmed it; `ref` is its id of the message (the buttons are on it)."""

    ref: int


@dataclass(frozen=True)
class Ambiguous:
    """No answer in time: the message may or may not have arrived."""

    reason: str


@dataclass(frozen=True)
class Blocked:
    """The person blocked the bot: nothing reaches them until they unblock it."""

    reason: str


@dataclass(frozen=True)
class RetryAt:
    """The channel asked to wait (rate limited) until `at`."""

    at: datetime
    reason: str


@dataclass(frozen=True)
class Failed:
    """The channel could not be reached (network, or an error of its own): try again later."""

    reason: str


@dataclass(frozen=True)
class Rejected:
    """The channel refused this message: sending it again as it is will not help."""

    reason: str


Outcome = Sent | Ambiguous | Blocked | RetryAt | Failed | Rejected


def counts_as_sent(outcome: Outcome) -> bool:
    """Whether a question or message counts as delivered: the one place that decides that
    a timeout counts as sent. The channel may have delivered it, and asking a youth twice
    is worse than asking once late. (Urgent alerts are the deliberate exception: for
    those, twice is better than never; see scheduler.crisis_delivery.)"""
    return isinstance(outcome, Sent | Ambiguous)


def message_ref(outcome: Outcome) -> int:
    """The channel's id of a message that counts as sent; UNKNOWN_REF when it timed out."""
    return outcome.ref if isinstance(outcome, Sent) else UNKNOWN_REF


def why(outcome: Outcome) -> str:
    """The outcome in a few words, for a log line or a row's reason."""
    return "sent" if isinstance(outcome, Sent) else outcome.reason


class Outbound(Protocol):
    """Sending to one person. Small on purpose: a second channel implements two calls."""

    async def send(self, to: Address, message: Message) -> Outcome:
        """Send `message`; never raises for what the channel answered."""
        ...

    async def edit(self, to: Address, ref: int, message: Text) -> Outcome:
        """Replace the text and buttons of message `ref` sent earlier to `to`."""
        ...
