"""Pseudonyms, encrypted contact data and invite tokens.

A plain hash of a Telegram id is not a pseudonym: the id space is small enough to try
every value. So pseudonyms are HMAC-SHA256 under a key that lives outside the
database, and chat ids are stored only encrypted (Fernet) under a second key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

_PSEUDONYM_DOMAIN = b"vakbot/participant/v1:"


def pseudonym(key: bytes, telegram_user_id: int) -> str:
    """Return the participant pseudonym: HMAC-SHA256 of the Telegram user id, hex."""
    message = _PSEUDONYM_DOMAIN + str(telegram_user_id).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class ContactCipher:
    """Encrypts the chat id needed to message someone; the key is not in the database."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, chat_id: int) -> bytes:
        return self._fernet.encrypt(str(chat_id).encode())

    def open(self, sealed: bytes) -> int:
        return int(self._fernet.decrypt(sealed).decode())

    def seal_text(self, text: str) -> bytes:
        return self._fernet.encrypt(text.encode())

    def open_text(self, sealed: bytes) -> str:
        return self._fernet.decrypt(sealed).decode()


__all__ = ["ContactCipher", "InvalidToken", "new_token", "pseudonym", "token_digest"]


def new_token() -> str:
    """Return a random single-use token that fits a Telegram deep link (22 url-safe chars)."""
    return secrets.token_urlsafe(16)


def token_digest(token: str) -> str:
    """Return the stored form of a token. 128 random bits need no key to be safe to hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_key() -> str:
    """Return a fresh key suitable for both the pseudonym HMAC and Fernet."""
    return Fernet.generate_key().decode()
