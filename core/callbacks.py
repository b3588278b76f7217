"""Callback data: opaque references, parsed strictly, never trusted.

Telegram allows 64 bytes. Anything that does not match one of these shapes exactly is
forged or stale and is answered as such; the references are then checked against the
database and the tapping user before anything is written.

Every button is also bound to the message it was sent on, whatever its kind (`bind`,
`unbind`): its data is `NONCE.TAG|DATA`, where NONCE is fresh per message and recorded
with that message's id once Telegram confirmed it, and TAG is a keyed MAC over the chat,
the nonce and the data. A tap counts only when the MAC holds (the bot made exactly this
button for this chat) and the nonce belongs to the tapped message (it was made for this
message, not copied from another). Data that is the same for everyone (a consent "yes")
can therefore not be replayed on another message, nor invented. A new kind of tap needs
nothing extra: the binding wraps whatever DATA is, up to `MAX_DATA` characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from core.consent import Scope

_ANSWER = re.compile(r"a:([A-Za-z0-9_-]{16}):([0-9]{1,2}):([a-z0-9_]{1,20})")
_CONSENT = re.compile(r"c:([A-Za-z0-9_-]{22}):([0-9]{1,3}):([yn])")
_RATING = re.compile(r"r:([A-Za-z0-9_-]{16}):(bond|goal|task|held):([1-5]|no)")
_ACK = re.compile(r"k:([A-Za-z0-9_-]{16})")
_DELETE = re.compile(r"d:([yn])")
_SCOPE = re.compile(r"g:([psr]):([0-9]{1,3}):([ynv])")
_TALK = re.compile(r"w:([A-Za-z0-9_-]{16})")
_DISCUSS = re.compile(r"b:([A-Za-z0-9_-]{16})")


@dataclass(frozen=True)
class AnswerTap:
    checkin_ref: str
    step_index: int
    value: str


@dataclass(frozen=True)
class ConsentTap:
    """A first yes or no to taking part, from an invite, to text version `number`."""

    invite_token: str
    number: int
    agree: bool


@dataclass(frozen=True)
class RatingTap:
    request_ref: str
    item: str
    value: str


@dataclass(frozen=True)
class AckTap:
    alert_ref: str


@dataclass(frozen=True)
class DiscussTap:
    """"Besproken": the therapist talked the alert `alert_ref` through with the youth."""

    alert_ref: str


@dataclass(frozen=True)
class DeleteTap:
    confirmed: bool


@dataclass(frozen=True)
class TalkTap:
    """"I want to talk now", under the reply to crisis alert `alert_ref`."""

    alert_ref: str


_SCOPE_LETTER: dict[str, Scope] = {"p": "participation", "s": "sharing", "r": "research"}


@dataclass(frozen=True)
class ScopeTap:
    """A tap on a consent scope: view its text (agree None), or answer version `number`."""

    scope: Scope
    number: int
    agree: bool | None


def scope_data(scope: Scope, number: int, agree: bool | None) -> str:
    choice = "v" if agree is None else "y" if agree else "n"
    return f"g:{scope[0]}:{number}:{choice}"


def delete_data(confirmed: bool) -> str:
    return f"d:{'y' if confirmed else 'n'}"


def rating_data(request_ref: str, item: str, value: str) -> str:
    return f"r:{request_ref}:{item}:{value}"


def ack_data(alert_ref: str) -> str:
    return f"k:{alert_ref}"


def discuss_data(alert_ref: str) -> str:
    return f"b:{alert_ref}"


def talk_data(alert_ref: str) -> str:
    return f"w:{alert_ref}"


def answer_data(checkin_ref: str, step_index: int, value: str) -> str:
    return f"a:{checkin_ref}:{step_index}:{value}"


def consent_data(invite_token: str, number: int, agree: bool) -> str:
    return f"c:{invite_token}:{number}:{'y' if agree else 'n'}"


Tap = (AnswerTap | ConsentTap | RatingTap | AckTap | DeleteTap | ScopeTap | TalkTap
       | DiscussTap)

NONCE_CHARS, TAG_CHARS = 8, 10
MAX_DATA = 64 - NONCE_CHARS - TAG_CHARS - 2   # 44: Telegram's 64 bytes minus the binding
_BOUND = re.compile(rf"([A-Za-z0-9_-]{{{NONCE_CHARS}}})\.([A-Za-z0-9_-]{{{TAG_CHARS}}})\|(.+)",
                    re.DOTALL)


@dataclass(frozen=True)
class Bound:
    """Callback data whose MAC holds: made by this bot, for this chat, with this nonce."""

    nonce: str
    data: str


def _tag(key: bytes, chat_id: int, nonce: str, data: str) -> str:
    mac = hmac.new(key, f"button:{chat_id}:{nonce}:{data}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode()[:TAG_CHARS]


def bind(key: bytes, chat_id: int, nonce: str, data: str) -> str:
    """The callback data of one button of the message with this nonce, in this chat."""
    if len(data) > MAX_DATA:
        raise ValueError(f"button data longer than {MAX_DATA} characters: {data!r}")
    return f"{nonce}.{_tag(key, chat_id, nonce, data)}|{data}"


def unbind(key: bytes, chat_id: int, raw: str | None) -> Bound | None:
    """The nonce and data of a tapped button, or None when its MAC does not hold.

    The caller still has to check that the nonce belongs to the tapped message.
    """
    if raw is None or not (m := _BOUND.fullmatch(raw)):
        return None
    nonce, tag, data = m[1], m[2], m[3]
    if not hmac.compare_digest(tag, _tag(key, chat_id, nonce, data)):
        return None
    return Bound(nonce, data)


def parse(data: str | None) -> Tap | None:
    """Return the tap this data stands for, or None when it matches no known shape."""
    if data is None:
        return None
    if m := _ANSWER.fullmatch(data):
        return AnswerTap(m[1], int(m[2]), m[3])
    if m := _CONSENT.fullmatch(data):
        return ConsentTap(m[1], int(m[2]), m[3] == "y")
    if m := _RATING.fullmatch(data):
        return RatingTap(m[1], m[2], m[3])
    if m := _ACK.fullmatch(data):
        return AckTap(m[1])
    if m := _DELETE.fullmatch(data):
        return DeleteTap(m[1] == "y")
    if m := _SCOPE.fullmatch(data):
        return ScopeTap(_SCOPE_LETTER[m[1]], int(m[2]), None if m[3] == "v" else m[3] == "y")
    if m := _TALK.fullmatch(data):
        return TalkTap(m[1])
    if m := _DISCUSS.fullmatch(data):
        return DiscussTap(m[1])
    return None
