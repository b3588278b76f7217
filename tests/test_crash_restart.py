"""Kill the bot process with SIGKILL mid check-in, restart it: nothing lost, nothing doubled."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.config import load_settings
from bot.offline import write_config
from bot.wiring import make_bot, open_services
from conversations import usecases
from conversations.enrolment import enroll_youth
from conversations.telegram_io import send_prompt
from core.records import NewYouth, Therapist
from faketelegram import FakeTelegram, FakeUser, SentMessage
from tests.support import wait_until

YOUTH = 700000123
ROOT = Path(__file__).parent.parent


class BotProcess:
    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.first_call = 0  # index in fake.calls of the running process's first call

    async def start(self, fake: FakeTelegram) -> None:
        """Start `run` and return once it polls: it has resent unconfirmed prompts then."""
        self.first_call = len(fake.calls)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - a child we kill on purpose
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                cwd=ROOT, stdout=log, stderr=log)

        def polling() -> bool:
            assert self.proc is not None and self.proc.poll() is None, "the bot died"
            return any(m == "getUpdates" for m, _ in fake.calls[self.first_call:])

        await wait_until(polling, "the bot polls")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def terminate(self) -> int | None:
        """Stop gracefully while the fake keeps serving the bot's last requests."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        proc = self.proc
        try:
            await wait_until(lambda: proc.poll() is not None, "the bot stops on SIGTERM")
        finally:
            if proc.poll() is None:
                proc.kill()
        return proc.wait(timeout=10)

    async def idle(self, fake: FakeTelegram, database: Path) -> None:
        """Wait until this process has done all it will do with what it was given.

        No sleep can be long enough on a loaded machine, so wait for the facts: every
        update was fetched and acknowledged (none will come again); every tap handed to
        this process was answered; and every question the bot recorded was sent, so a tap
        it took has its next question on screen. A tap the killed process had fetched and
        acknowledged but not answered is simply lost, as the youth would see it.
        """
        def done() -> bool:
            assert self.proc is not None and self.proc.poll() is None, "the bot died"
            taps = [u["callback_query"]["id"] for i, u in fake.deliveries
                    if i >= self.first_call and "callback_query" in u]
            return (fake.all_acknowledged() and all(t in fake.answered for t in taps)
                    and unsent_prompts(database) == 0)

        await wait_until(done, "the bot is idle")


def unsent_prompts(database: Path) -> int:
    """Questions recorded by the bot but not (yet) confirmed sent by Telegram."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        (count,) = conn.execute("SELECT count(*) FROM prompts WHERE message_id IS NULL"
                                ).fetchone()
    return int(count)


@asynccontextmanager
async def bot_process(tmp_path: Path) -> AsyncIterator[tuple[FakeTelegram, BotProcess, Path]]:
    async with FakeTelegram() as fake:
        config = write_config(tmp_path, fake.base_url, fake.token, log_level="DEBUG")
        process = BotProcess(config, tmp_path / "bot.log")
        await process.start(fake)
        try:
            yield fake, process, config
        finally:
            await process.terminate()


async def enrol_and_start_checkin(fake: FakeTelegram, user: FakeUser, config: Path) -> None:
    settings, secrets = load_settings(config)
    services = await open_services(settings, secrets)
    try:
        await services.store.add_therapist(Therapist("T-02", "nl"), services.clock())
        invitation = await enroll_youth(
            services.store, NewYouth("J-014", "T-02", 2008, "nl", False, None),
            services.clock(), services.invite_ttl)
        user.send(f"/start {invitation.token}")
        await wait_until(lambda: any("Ik doe mee" in label for m in user.inbox
                                     for label in m.button_labels()), "the invitation shows")
        query = user.tap(user.last, "Ik doe mee")
        # The sharing question follows "Ik doe mee": it must not arrive after (and hide)
        # the first question of the check-in.
        await wait_until(lambda: query in fake.answered and any(
            "Mag je therapeut je antwoorden zien?" in m.text for m in user.inbox),
            "the sharing question is asked")
        outgoing = await usecases.start_checkin(services, "J-014", "s1", "music")
        assert outgoing is not None
        async with make_bot(settings, secrets) as bot:
            await send_prompt(services, bot, outgoing.chat_id, outgoing.prompt)
    finally:
        await services.store.close()


def current_question(user: FakeUser) -> SentMessage:
    """The newest message with answer buttons: where the youth would tap next."""
    return [m for m in user.inbox if m.buttons][-1]


async def test_sigkill_mid_checkin_loses_and_doubles_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261128)
    plan = {"bond": "Goed", "goal": "Gewoon", "task": "Heel goed", "medium": "Slecht",
            "event": "Iets leuks"}
    questions = {"bond": "veilig", "goal": "eigen doel", "task": "samenwerken",
                 "medium": "samen muziek maken", "event": "je dag"}
    db = tmp_path / "bot.sqlite3"
    async with bot_process(tmp_path) as (fake, process, config):
        youth = fake.user(YOUTH)
        await enrol_and_start_checkin(fake, youth, config)
        await process.idle(fake, db)
        taps: list[str] = []
        kills = 0
        # Tap what the screen asks, kill at a random moment, restart, and wait until the
        # bot has caught up; a tap that was lost shows the same question again, and the
        # youth taps again. Ends when the note step (with its Klaar button) is on screen.
        while "Klaar" not in " ".join(current_question(youth).button_labels()):
            assert kills < 60, "no progress after 60 kills"
            message = current_question(youth)
            item = next(k for k, q in questions.items() if q in message.text)
            taps.append(youth.tap(message, plan[item]))
            await asyncio.sleep(rng.uniform(0.0, 0.03))  # where the kill lands, not a wait
            process.kill()
            kills += 1
            await process.start(fake)
            await process.idle(fake, db)
        query = youth.tap(current_question(youth), "Klaar")
        await wait_until(lambda: query in fake.answered and youth.last.text.startswith(
            "Dank je wel!"), "the thank-you arrives")
        unconfirmed = sum(t not in fake.answered for t in taps)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        answers = dict(conn.execute("SELECT item, value FROM answers"))
        (status,) = conn.execute("SELECT status FROM checkins").fetchone()
    assert answers == {"bond": "4", "goal": "3", "task": "5", "medium": "2",
                       "event": "something_good", "note": "done"}
    assert status == "complete"
    asked = {item: sum(q in m.text for m in youth.inbox) for item, q in questions.items()}
    duplicates = sum(n - 1 for n in asked.values())
    assert all(n >= 1 for n in asked.values())
    assert duplicates <= kills, f"{duplicates} duplicate prompts after {kills} kills"
    assert kills >= 5
    log = (tmp_path / "bot.log").read_text()
    assert " DEBUG " in log, "DEBUG logging was on"
    assert "first_name" not in log and "Ik doe mee" not in log
    assert FakeTelegram().token not in log and str(YOUTH) not in log
    assert FakeTelegram().token.split(":")[1] not in log
    print(f"\n{kills} kills, {unconfirmed} unconfirmed tap(s), "
          f"{duplicates} duplicate prompt(s), {len(answers)} answers kept")
