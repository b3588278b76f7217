"""What the console's routes need beyond Services, handed over once at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from conversations.schedules import SchedulePolicy
from core.console import SignInLimiter

if TYPE_CHECKING:
    from scheduler.engine import Engine

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


@dataclass(frozen=True)
class ConsoleConfig:
    """The [console] settings as the app uses them."""

    public_url: str = "http://127.0.0.1:8080"
    listen: str = "127.0.0.1"
    idle: timedelta = timedelta(minutes=30)
    lifetime: timedelta = timedelta(hours=12)
    signin_per_address: int = 10
    signin_overall: int = 60

    @property
    def secure_cookie(self) -> bool:
        """Secure unless the console is bound to loopback over plain HTTP (a browser on
        the same machine); behind a TLS proxy (an https public URL) always."""
        return self.listen not in LOOPBACK or self.public_url.startswith("https://")


@dataclass(frozen=True)
class Webhook:
    """Webhook mode: the route path, its secret and what handles an update: it answers
    the HTTP status for Telegram (200 handled or handled before; 400 not an update;
    503 another process is handling it, try again)."""

    path: str
    secret: str
    put_update: Callable[[dict[str, Any]], Awaitable[int]]


@dataclass
class WebContext:
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    bot_username: str = "vakbot_bot"
    engine: Engine | None = None          # replans after schedule changes (pages)
    webhook: Webhook | None = None
    schedule_policy: SchedulePolicy | None = None   # schedule rules + planner (pages)
    limiter: SignInLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = SignInLimiter(self.console.signin_per_address,
                                     self.console.signin_overall)
