"""Issue 11, input bounds: a list that grows with the caseload is sent as several
messages, split between lines, each within Telegram's 4096 characters."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from conversations.chunks import TELEGRAM_LIMIT, split_message, telegram_length
from conversations.sending import tell_coordinators
from core.records import NewYouth
from tests.support import running_bot

COORDINATOR = 9001


def lines(n: int, width: int = 60) -> str:
    return "\n".join(f"J-{i:03d} " + "x" * (width - 6) for i in range(n))


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("kort", 4096, ["kort"]),
    ("a\nb\nc", 3, ["a\nb", "c"]),
    ("a\nb\nc", 5, ["a\nb\nc"]),
    ("abcdefg", 3, ["abc", "def", "g"]),              # one line too long: cut
    ("a\nabcdefg\nb", 3, ["a", "abc", "def", "g", "b"]),
    ("😄😄\n😄", 4, ["😄😄", "😄"]),                    # UTF-16: an emoji counts twice
    ("", 10, [""]),
])
def test_split_message(text: str, limit: int, expected: list[str]) -> None:
    assert split_message(text, limit) == expected


@pytest.mark.parametrize("n", [1, 58, 67, 68, 120, 500])
def test_every_part_fits_and_nothing_is_lost_or_doubled(n: int) -> None:
    text = lines(n)
    parts = split_message(text)
    assert all(telegram_length(p) <= TELEGRAM_LIMIT for p in parts)
    assert "\n".join(parts) == text
    assert len(parts) == (1 if telegram_length(text) <= TELEGRAM_LIMIT else len(parts))


def test_a_wrapped_part_fits_with_its_header_and_escaping() -> None:
    body = "\n".join(f"J-{i:03d} <&> {'y' * 50}" for i in range(200))

    def wrap(part: str) -> str:
        return f"<pre>{html.escape('header')}\n{html.escape(part)}</pre>"

    parts = split_message(body, wrap=wrap)
    assert len(parts) > 1 and all(telegram_length(p) <= TELEGRAM_LIMIT for p in parts)
    assert all(p.startswith("<pre>header\n") and p.endswith("</pre>") for p in parts)
    codes = [line.split()[0] for p in parts for line in p.splitlines()[1:]]
    assert codes == [f"J-{i:03d}" for i in range(200)]


async def test_overview_of_120_youths_arrives_in_parts(tmp_path: Path) -> None:
    extra = f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n"
    async with running_bot(tmp_path, extra_toml=extra) as bot:
        store = bot.services.store
        from conversations.enrolment import enroll_therapist  # noqa: PLC0415

        await enroll_therapist(store, "T-02", "nl", bot.clock())
        for i in range(120):
            await store.add_youth(NewYouth(f"J-{i:03d}", "T-02", 2008, "nl", False, None),
                                  bot.clock())
        coordinator = bot.fake.user(COORDINATOR)
        coordinator.send("/overview")
        await bot.fake.settle()
        received = [m.text for m in coordinator.inbox]
        assert len(received) >= 2, "one message would be too long"
        assert all(len(t) <= TELEGRAM_LIMIT for t in received)
        rows = [line for t in received for line in t.splitlines() if line.startswith("J-")]
        codes = [f"J-{i:03d}" for i in range(120)]
        assert [r.split()[0] for r in rows] == codes
        headers = [t.splitlines()[0] for t in received]
        assert len(set(headers)) == 1, "every part starts with the column header"
        # The same helper carries every list; here a coordinator notice naming 120 codes.
        before = len(coordinator.inbox)
        notice = "\n".join(f"{c}: kon niet bereikt worden, {'x' * 40}" for c in codes)
        await tell_coordinators(bot.channel, (COORDINATOR,), notice)
        listed = [m.text for m in coordinator.inbox[before:]]
        assert len(listed) >= 2 and all(len(t) <= TELEGRAM_LIMIT for t in listed)
        assert "\n".join(listed) == notice
