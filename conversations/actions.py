"""What a use case wants said: plain data that conversations.telegram_io applies."""

from __future__ import annotations

from dataclasses import dataclass

from core.prompts import Button


@dataclass(frozen=True)
class Reply:
    """Send a new message to the chat the update came from."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class Toast:
    """Answer the tapped button with a short notice."""

    text: str


@dataclass(frozen=True)
class EditTapped:
    """Replace the text and buttons of the message whose button was tapped."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class EditMessage:
    """Replace the text and buttons of an earlier message in this chat."""

    message_id: int
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class SendPrompt:
    """Send a check-in question and record that Telegram accepted it."""

    checkin_id: int
    step: int
    text: str
    buttons: tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Photo:
    """Send an image with an optional caption."""

    png: bytes
    caption: str = ""


@dataclass(frozen=True)
class Document:
    """Send a file."""

    content: bytes
    filename: str
    caption: str = ""


Action = Reply | Toast | EditTapped | EditMessage | SendPrompt | Photo | Document
