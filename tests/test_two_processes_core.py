"""The pure decisions of several processes on one database (core.cluster)."""

from __future__ import annotations

import pytest

from core.cluster import (
    RETRY_STATUS,
    LeaderNews,
    UpdateAction,
    UpdateClaim,
    UpdateState,
    advisory_key,
    leader_news,
    on_update,
    status_for,
)

A = "host:10:aa"


@pytest.mark.parametrize(("claim", "holder_dead", "action", "status"), [
    (UpdateClaim(UpdateState.CLAIMED, A), False, UpdateAction.HANDLE, 200),
    (UpdateClaim(UpdateState.DONE), False, UpdateAction.ACKNOWLEDGE, 200),
    (UpdateClaim(UpdateState.DONE), True, UpdateAction.ACKNOWLEDGE, 200),
    # a live holder (or one that cannot be told dead): the sender tries again later
    (UpdateClaim(UpdateState.BUSY, A), False, UpdateAction.RETRY_LATER, RETRY_STATUS),
    # a holder known dead: taken over at once
    (UpdateClaim(UpdateState.BUSY, A), True, UpdateAction.TAKE_OVER, 200),
    # busy without a holder to take over from: wait for the lease
    (UpdateClaim(UpdateState.BUSY, None), True, UpdateAction.RETRY_LATER, RETRY_STATUS),
])
def test_what_a_process_does_with_a_webhook_update(
        claim: UpdateClaim, holder_dead: bool, action: UpdateAction, status: int) -> None:
    assert on_update(claim, holder_dead) is action
    assert status_for(action) == status


def test_a_retry_is_never_answered_2xx_unhandled() -> None:
    assert not 200 <= RETRY_STATUS < 300


@pytest.mark.parametrize(("was", "now", "news"), [
    (False, True, LeaderNews.TOOK_LEAD),
    (True, False, LeaderNews.LOST_LEAD),
    (True, True, None),
    (False, False, None),
])
def test_a_change_of_leader_is_news(was: bool, now: bool, news: LeaderNews | None) -> None:
    assert leader_news(was, now) is news


@pytest.mark.parametrize(("name", "key"), [
    # fixed across processes and releases (not Python's salted hash())
    ("vakbot-tick", -8697992859948413270),
    ("", -2039914840885289964),
])
def test_the_advisory_key_is_stable_and_a_bigint(name: str, key: int) -> None:
    assert advisory_key(name) == key
    assert -(2 ** 63) <= key < 2 ** 63
