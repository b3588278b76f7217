"""The console's rules as pure functions: session state, the sign-in limiter, when the
cookie is Secure."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.console import start_console
from core.console import SessionState, SignInLimiter, session_state
from tests.support import running_bot
from web.context import ConsoleConfig

T0 = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
IDLE, LIFE = timedelta(minutes=30), timedelta(hours=12)
M = timedelta(minutes=1)


@pytest.mark.parametrize(("seen_after", "now_after", "ended", "state"), [
    (M * 0, M * 29, False, SessionState.LIVE),
    (M * 0, M * 30, False, SessionState.IDLE),           # idle: exactly the timeout
    (M * 700, M * 719, False, SessionState.LIVE),        # busy, within the lifetime
    (M * 719, M * 720, False, SessionState.EXPIRED),     # busy, but 12 hours are over
    (M * 0, M * 800, False, SessionState.EXPIRED),       # both: the lifetime is named
    (M * 0, M * 1, True, SessionState.ENDED),            # signed out beats everything
])
def test_session_state(seen_after: timedelta, now_after: timedelta, ended: bool,
                       state: SessionState) -> None:
    assert session_state(T0, T0 + seen_after, T0 if ended else None, T0 + now_after,
                         IDLE, LIFE) is state


def test_the_limiter_counts_per_address_and_overall_in_a_sliding_minute() -> None:
    limiter = SignInLimiter(per_address=2, overall=3)
    assert [limiter.allow("a", T0) for _ in range(3)] == [True, True, False]
    assert limiter.allow("b", T0) is True
    assert limiter.allow("c", T0) is False                 # 3 overall in this minute
    assert limiter.allow("a", T0 + M) is True               # the minute has passed


@pytest.mark.parametrize(("listen", "public_url", "secure"), [
    ("127.0.0.1", "http://127.0.0.1:8080", False),   # a browser on the same machine
    ("::1", "http://[::1]:8080", False),
    ("127.0.0.1", "https://console.example.org", True),   # behind a TLS proxy
    ("0.0.0.0", "http://10.0.0.5:8080", True),
])
def test_the_cookie_is_secure_unless_on_loopback_over_http(
        listen: str, public_url: str, secure: bool) -> None:
    assert ConsoleConfig(public_url=public_url, listen=listen).secure_cookie is secure


async def test_a_console_that_cannot_listen_is_logged_and_the_bot_runs_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with running_bot(tmp_path, extra_toml=f"[console]\nport = {port}\n") as bot:
            with caplog.at_level(logging.ERROR, logger="bot.console"):
                server = await start_console(bot.settings, bot.secrets, bot.services,
                                             bot.app)
            assert server is None
            assert any("console not started" in r.getMessage() for r in caplog.records)
            youth = bot.fake.user(700000001)
            youth.send("hoi")
            await bot.fake.settle()
            assert youth.last.text.startswith("Hoi! Deze bot is alleen voor jongeren")
