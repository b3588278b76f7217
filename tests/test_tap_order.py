"""conversations.tap_order: the toast and edit of a tap wait for other taps' next
questions, at most `max_hold`; no ordering of the wake-ups may make a waiter fail."""

from __future__ import annotations

import asyncio

from conversations.tap_order import TapOrder, _time_up


async def test_a_lone_tap_is_not_held() -> None:
    order = TapOrder(max_hold=60.0)
    order.arrived("X")
    await asyncio.wait_for(order.after_the_questions("X"), 5)


async def test_a_held_tap_goes_once_the_others_have_their_question() -> None:
    order = TapOrder(max_hold=60.0)
    order.arrived("X")
    order.arrived("Y")
    waiter = asyncio.create_task(order.after_the_questions("X"))
    await asyncio.sleep(0)
    assert not waiter.done(), "held while Y is on its way"
    order.asked("Y")
    await asyncio.wait_for(waiter, 5)
    assert order.on_the_way == 1


async def test_time_up_and_woken_in_the_same_turn_of_the_loop() -> None:
    """The hold ran out and, before the waiter ran, another tap's question went (which
    empties the list of waiters): the waiter still returns, and leaves nothing behind."""
    order = TapOrder(max_hold=60.0)
    order.arrived("X")
    order.arrived("Y")
    waiter = asyncio.create_task(order.after_the_questions("X"))
    await asyncio.sleep(0)
    _time_up(order._waiting[0])
    order.asked("Y")
    await asyncio.wait_for(waiter, 5)
    assert order._waiting == []


async def test_many_waiters_timing_out_as_the_last_question_goes() -> None:
    order = TapOrder(max_hold=0.05)
    for n in range(50):
        order.arrived(str(n))
    order.arrived("slow")
    waiters = [asyncio.create_task(order.after_the_questions(str(n))) for n in range(50)]
    await asyncio.sleep(0)
    for n in range(50):
        order.asked(str(n))
    asyncio.get_running_loop().call_later(0.05, order.asked, "slow")
    results = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 30)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert order._waiting == []
