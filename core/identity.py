"""Pseudonyms, encrypted contact data and invite tokens.

A plain hash of a Telegram id is not a pseudonym: the id space is small enough to try
every value. So pseudonyms are HMAC-SHA256 under a key that lives outside the
database, and chat ids are stored only encrypted (Fernet) under a second key. Free text
(notes, crisis texts) has keys of its own, so the key that lets the bot reach people does
not also open what they wrote.

Both kinds take a list of keys, newest first (MultiFernet): the newest encrypts, every one
decrypts, and `rotate_*` re-encrypts a token under the newest key. The pseudonym key
cannot be rotated this way: an HMAC cannot be reversed to compute it under a new key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_PSEUDONYM_DOMAIN = b"vakbot/participant/v1:"


def pseudonym(key: bytes, telegram_user_id: int) -> str:
    """Return the participant pseudonym: HMAC-SHA256 of the Telegram user id, hex."""
    message = _PSEUDONYM_DOMAIN + str(telegram_user_id).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class ContactCipher:
    """Encrypts chat ids (contact keys) and free text (text keys); no key is in the database.

    `contact_keys` and `text_keys` are Fernet keys, newest first; a single key may be
    passed as bytes. Without text keys, text uses the contact keys (older installs). Text
    is opened with the text keys and then the contact keys, so text written before a text
    key was configured stays readable until `rotate-keys` moved it.
    """

    def __init__(self, contact_keys: bytes | Sequence[bytes],
                 text_keys: bytes | Sequence[bytes] | None = None) -> None:
        contact = _listed(contact_keys)
        text = _listed(text_keys) if text_keys is not None else contact
        if not contact or not text:
            raise ValueError("ContactCipher needs at least one key of each kind")
        self._contact = MultiFernet([Fernet(k) for k in contact])
        self._contact_newest = Fernet(contact[0])
        self._text = MultiFernet([Fernet(k) for k in dict.fromkeys([*text, *contact])])
        self._text_newest = Fernet(text[0])

    def seal(self, chat_id: int) -> bytes:
        return self._contact.encrypt(str(chat_id).encode())

    def open(self, sealed: bytes) -> int:
        return int(self._contact.decrypt(sealed).decode())

    def seal_text(self, text: str) -> bytes:
        return self._text_newest.encrypt(text.encode())

    def open_text(self, sealed: bytes) -> str:
        return self._text.decrypt(sealed).decode()

    def rotate(self, sealed: bytes) -> bytes | None:
        """A chat id re-encrypted under the newest contact key; None when it is already.

        Raises InvalidToken when no configured key opens it.
        """
        return _rotated(sealed, self._contact_newest, self._contact)

    def rotate_text(self, sealed: bytes) -> bytes | None:
        """Free text re-encrypted under the newest text key; None when it is already."""
        return _rotated(sealed, self._text_newest, self._text)


def _listed(keys: bytes | Sequence[bytes]) -> list[bytes]:
    return [keys] if isinstance(keys, bytes) else list(keys)


def _rotated(sealed: bytes, newest: Fernet, every: MultiFernet) -> bytes | None:
    try:
        newest.decrypt(sealed)
    except InvalidToken:
        return newest.encrypt(every.decrypt(sealed))  # InvalidToken when no key opens it
    return None


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
