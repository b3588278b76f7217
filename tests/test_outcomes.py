"""What a channel's answer means, decided once and as data: Telegram's errors as outcomes
(conversations.telegram_io.outcome_of), an outbox row's next state (scheduler.outcomes.
settle) and an urgent alert's delivery row (scheduler.crisis_delivery.after_send)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from conversations.telegram_io import outcome_of
from core.channel import (
    UNKNOWN_REF,
    Ambiguous,
    Blocked,
    Failed,
    Outcome,
    Rejected,
    RetryAt,
    Sent,
    counts_as_sent,
    message_ref,
)
from core.crisis_route import retry_delay
from core.delivery import Kind
from core.records import OutboxState
from scheduler.crisis_delivery import NoChat, RowResult, after_send
from scheduler.outcomes import (
    CONSENT_HOLD_RETRY,
    Finish,
    Hold,
    Later,
    RowUpdate,
    Skip,
    backoff,
    settle,
)

NOW = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
TIMED_OUT = "timed out; may not have arrived"


@pytest.mark.parametrize(("error", "outcome"), [
    (Forbidden("Forbidden: bot was blocked by the user"), Blocked("blocked the bot (403)")),
    (RetryAfter(7), RetryAt(NOW + timedelta(seconds=7), "rate limited (429)")),
    (TimedOut(), Ambiguous(TIMED_OUT)),
    (BadRequest("Message is too long"), Rejected("rejected: Message is too long")),
    (NetworkError("Bad Gateway"), Failed("network: Bad Gateway")),
    (ChatMigrated(42), Failed("telegram: Group migrated to supergroup. New chat id: 42")),
    (TelegramError("Conflict"), Failed("telegram: Conflict")),
])
def test_telegram_errors_become_outcomes(error: TelegramError, outcome: Outcome) -> None:
    assert outcome_of(error, NOW) == outcome


@pytest.mark.parametrize(("outcome", "counts", "ref"), [
    (Sent(17), True, 17),
    (Ambiguous(TIMED_OUT), True, UNKNOWN_REF),   # asking twice is worse than once late
    (Blocked("blocked"), False, UNKNOWN_REF),
    (RetryAt(NOW, "429"), False, UNKNOWN_REF),
    (Failed("network"), False, UNKNOWN_REF),
    (Rejected("rejected"), False, UNKNOWN_REF),
])
def test_what_counts_as_sent(outcome: Outcome, counts: bool, ref: int) -> None:
    assert counts_as_sent(outcome) is counts
    assert message_ref(outcome) == ref


LATER_429 = NOW + timedelta(seconds=30)


@pytest.mark.parametrize(("result", "kind", "attempts", "update"), [
    (Sent(3), Kind.CHECKIN, 0, Finish(OutboxState.SENT, None, "sent")),
    (Ambiguous(TIMED_OUT), Kind.CHECKIN, 0, Finish(OutboxState.SENT, TIMED_OUT, "sent")),
    (Hold("new text"), Kind.CHECKIN, 0, Later(NOW + CONSENT_HOLD_RETRY, "new text",
                                              "waiting")),
    (Skip("check-in complete or closed"), Kind.REMINDER, 0,
     Finish(OutboxState.CANCELLED, "check-in complete or closed", "cancelled")),
    (Blocked("blocked the bot (403)"), Kind.CHECKIN, 0,
     Finish(OutboxState.BLOCKED, "the youth blocked the bot", "blocked")),
    (Blocked("blocked the bot (403)"), Kind.REMINDER, 0,
     Finish(OutboxState.BLOCKED, "the youth blocked the bot", "blocked")),
    (Blocked("blocked the bot (403)"), Kind.RATING, 0,
     Finish(OutboxState.BLOCKED, "blocked the bot", "blocked")),
    (RetryAt(LATER_429, "rate limited (429)"), Kind.ALERT, 0,
     Later(LATER_429, "rate limited (429)", "retrying")),
    (Failed("network: Bad Gateway"), Kind.CHECKIN, 0,
     Later(NOW + timedelta(seconds=30), "network: Bad Gateway", "retrying")),
    (Failed("network: Bad Gateway"), Kind.CHECKIN, 3,
     Later(NOW + timedelta(minutes=4), "network: Bad Gateway", "retrying")),
    (Rejected("rejected: Message is too long"), Kind.REPORT, 0,
     Finish(OutboxState.FAILED, "rejected: Message is too long", None)),
])
def test_a_rows_next_state(result: Outcome | Hold | Skip, kind: Kind, attempts: int,
                           update: RowUpdate) -> None:
    assert settle(result, kind, attempts, NOW) == update


def test_backoff_doubles_up_to_half_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 7, 30)] == [
        30, 60, 120, 240, 1800, 1800]


@pytest.mark.parametrize(("outcome", "result"), [
    (Sent(5), RowResult("sent", None, None)),
    (Blocked("blocked the bot (403)"), RowResult("blocked", "blocked the bot (403)",
                                                 NOW + retry_delay(2))),
    (Rejected("rejected: chat not found"), RowResult("blocked", "rejected: chat not found",
                                                     NOW + retry_delay(2))),
    (RetryAt(LATER_429, "rate limited (429)"), RowResult("failed", "rate limited (429)",
                                                         LATER_429)),
    # Unlike a check-in: an urgent alert that timed out is sent again.
    (Ambiguous(TIMED_OUT), RowResult("failed", TIMED_OUT, NOW + retry_delay(2))),
    (Failed("network: Bad Gateway"), RowResult("failed", "network: Bad Gateway",
                                               NOW + retry_delay(2))),
    (NoChat("unit W-1 has no linked Telegram account"),
     RowResult("failed", "unit W-1 has no linked Telegram account", NOW + retry_delay(2))),
])
def test_an_urgent_alert_rows_next_state(outcome: Outcome | NoChat, result: RowResult) -> None:
    assert after_send(outcome, NOW, 1) == result
