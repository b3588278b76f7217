"""PostgreSQL URLs without their secret: what may be shown in a log line or an error.

A `postgresql://user:password@host/db` URL carries the database password. Everything
that names the database to a person (start-up lines, errors, `check-config`) uses
`redacted(url)`, and every message that passes through the adapter is cleaned with
`scrub(text, secrets)`: the password, also in its percent-encoded form, becomes `***`.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

MASK = "***"
SCHEMES = ("postgresql", "postgres")


def is_postgres_url(url: str) -> bool:
    return url.split("://", 1)[0].lower() in SCHEMES and "://" in url


def password_of(url: str) -> str | None:
    """The password in the URL's user part (decoded), or None."""
    try:
        parts = urlsplit(url)
        raw = parts.password
    except ValueError:
        raw = None
        netloc = url.split("://", 1)[-1].split("/", 1)[0]
        userinfo = netloc.rpartition("@")[0]
        if ":" in userinfo:
            raw = userinfo.split(":", 1)[1]
    return unquote(raw) if raw else None


def _query_passwords(url: str) -> list[str]:
    """Passwords given as `?password=...` (libpq accepts that too)."""
    query = url.partition("?")[2]
    raw = [part.partition("=")[2] for part in query.split("&")
           if part.partition("=")[0].lower() == "password"]
    return raw + parse_qs(query).get("password", [])


def secrets_of(url: str) -> list[str]:
    """The forms in which the URL's password could appear in a message."""
    passwords = [p for p in (password_of(url), *_query_passwords(url)) if p]
    forms: set[str] = set()
    for password in passwords:
        forms |= {password, quote(password, safe=""), quote(password)}
    raw = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[0].partition(":")[2]
    if raw:
        forms.add(raw)
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every form of every secret replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def redacted(url: str) -> str:
    """The URL as it may be shown: `postgresql://user:***@host:port/db`."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rpartition("@")[2]
            url = urlunsplit(parts._replace(netloc=f"{parts.username or ''}:{MASK}@{host}"))
    except ValueError:
        pass
    return scrub(url, secrets_of(url))
