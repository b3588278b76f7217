"""Arbitrary texts and callback data, from unknown and enrolled users, through the real bot."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import Harness, running_bot

ENROLLED, UNKNOWN = 700000123, 700000999
TABLES = ("youths", "invites", "contacts", "consents", "checkins", "prompts", "answers",
          "notes", "crisis_flags")


def snapshot(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in TABLES}


class ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


callback_data = st.one_of(
    st.text(max_size=64),
    st.from_regex(r"a:[A-Za-z0-9_-]{16}:[0-9]{1,2}:[a-z0-9_]{1,20}", fullmatch=True),
    st.from_regex(r"c:[A-Za-z0-9_-]{22}:[0-9]{1,3}:[yn]", fullmatch=True),
    st.from_regex(r"g:[psr]:[0-9]{1,3}:[ynv]", fullmatch=True),
)
event = st.tuples(
    st.sampled_from([ENROLLED, UNKNOWN]),
    st.one_of(st.tuples(st.just("text"), st.text(min_size=1, max_size=1500)),
              st.tuples(st.just("tap"), callback_data),
              st.tuples(st.just("sticker"), st.just(""))),
)


async def one_example(bot: Harness, events: list[tuple[int, tuple[str, str]]],
                      errors: ErrorCollector) -> None:
    enrolled = bot.fake.user(ENROLLED)
    before = snapshot(bot.database)
    for user_id, (kind, payload) in events:
        user = bot.fake.user(user_id)
        if kind == "text":
            user.send(payload if payload.strip() else "?")
        elif kind == "tap":
            user.tap_data(enrolled.last, payload)
        else:
            user.send_sticker()
    await bot.fake.settle(quiet=0.1)
    if all(user_id == UNKNOWN for user_id, _ in events):
        assert snapshot(bot.database) == before
    assert [r.getMessage() for r in errors.records] == []


def test_no_exception_escapes_and_strangers_write_nothing(tmp_path: Path) -> None:
    """Hypothesis drives examples synchronously; one event loop keeps the bot running."""
    errors = ErrorCollector()
    logging.getLogger().addHandler(errors)
    with asyncio.Runner() as runner:
        harness = running_bot(tmp_path)
        bot = runner.run(harness.__aenter__())
        try:
            runner.run(bot.enrol(bot.fake.user(ENROLLED)))
            runner.run(bot.checkin())

            @settings(max_examples=25, deadline=None)
            @given(events=st.lists(event, min_size=1, max_size=6))
            def check(events: list[tuple[int, tuple[str, str]]]) -> None:
                runner.run(one_example(bot, events, errors))

            check()
        finally:
            runner.run(harness.__aexit__(None, None, None))
            logging.getLogger().removeHandler(errors)
