"""Start-up as an operator meets it: a refused token, an unreachable Telegram, the README.

Each test runs the real `python -m bot run` as a child process against the fake Bot API
and reads what it prints, waiting for lines or calls, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import logsafe
from bot.cli import TOKEN_REFUSED, retry_delay
from bot.offline import write_config
from faketelegram import FakeTelegram
from tests.support import run_cli, wait_until

ROOT = Path(__file__).parent.parent
DEADLINE = 120.0  # seconds; generous because the suite runs on a loaded machine
TOKEN = "5550001:AAH-real-looking-token-abcdefghijklmnopqrstu"


class Child:
    """`python -m bot ARGS` as a child process whose stderr is read line by line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(cls, *args: str) -> Child:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        return cls(proc)

    async def line_where(self, wanted: Callable[[str], bool], what: str) -> str:
        """Read stderr until a line satisfies `wanted`; fail after the deadline."""
        assert self.proc.stderr is not None
        deadline = time.monotonic() + DEADLINE
        while (left := deadline - time.monotonic()) > 0:
            raw = await asyncio.wait_for(self.proc.stderr.readline(), left)
            if not raw:
                break
            line = raw.decode()
            self.lines.append(line)
            if wanted(line):
                return line
        raise AssertionError(f"no line {what}; stderr so far:\n{''.join(self.lines)}")

    async def finish(self) -> tuple[int, str, str]:
        """Wait for the exit; return the exit code, stdout and all of stderr."""
        out, err = await asyncio.wait_for(self.proc.communicate(), DEADLINE)
        code = self.proc.returncode
        assert code is not None
        return code, out.decode(), "".join(self.lines) + err.decode()

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


def free_port() -> int:
    """A loopback port nothing listens on (bound once by us, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_no_token(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text and TOKEN.split(":")[1] not in text, text
        assert "AAH-real" not in text, text


# -- 18.1: a refused token ---------------------------------------------------------------

async def test_refused_token_gives_one_line_and_never_the_token(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.refuse_token = True
        config = write_config(tmp_path, fake.base_url, TOKEN, log_level="DEBUG")
        child = await Child.start("run", "--config", str(config))
        try:
            code, out, err = await child.finish()
        finally:
            child.kill()
    assert code == 78, err
    assert TOKEN_REFUSED in err.splitlines(), err
    assert "Traceback" not in err and "InvalidToken" not in err, err
    assert_no_token(out, err)


async def test_refused_token_in_a_command_that_asks_telegram(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.refuse_token = True
        config = write_config(tmp_path, fake.base_url, TOKEN)
        # Without bot_username the invite link needs Telegram's getMe.
        config.write_text(config.read_text().replace('bot_username = "vakbot_demo_bot"\n', ""))
        code, output = await asyncio.to_thread(
            run_cli, capsys, "enroll-therapist", "--config", str(config), "--code", "T-02")
    assert code == 78 and TOKEN_REFUSED in output.splitlines(), output
    assert_no_token(output)


def test_a_404_for_the_token_names_the_base_url_too() -> None:
    from telegram.error import InvalidToken  # noqa: PLC0415

    from bot.cli import _token_refused  # noqa: PLC0415

    def refused(description: str) -> str:
        try:
            try:
                raise InvalidToken(description)
            except InvalidToken as cause:
                raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.") from cause
        except InvalidToken as err:
            return _token_refused(err)

    assert refused("Unauthorized") == TOKEN_REFUSED
    assert "telegram.base_url" in refused("Not Found")
    assert_no_token(refused("Not Found"))


def test_log_records_and_tracebacks_carrying_the_token_are_redacted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logsafe.add_secrets([TOKEN])
    formatter = logsafe.RedactingFormatter([TOKEN], "%(levelname)s %(message)s")
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        record = logging.LogRecord("telegram", logging.ERROR, __file__, 1, "failed with %s",
                                   (TOKEN,), sys.exc_info())
        error = sys.exc_info()
    line = formatter.format(record)
    assert "Traceback" in line and "rejected by the server" in line
    assert_no_token(line)

    logsafe._print_redacted(*error)
    printed = capsys.readouterr().err
    assert "Traceback" in printed and "RuntimeError" in printed
    assert_no_token(printed)

    stream = logsafe.RedactingStream(sys.stdout)
    stream.write(f"GET https://api.telegram.org/bot{TOKEN}/getMe\n")
    assert_no_token(capsys.readouterr().out)
    # A token the bot was never configured with is still caught by its shape.
    assert "[redacted-token]" in logsafe.redact("bot123456:" + "x" * 35 + "/getMe")


def test_warnings_pass_the_redacting_formatter(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with warnings.catch_warnings():  # pytest records warnings itself; step aside
            warnings.simplefilter("always")
            logging.captureWarnings(False)  # forget an earlier in-process configuration
            logsafe.configure_logging("INFO", [TOKEN])
            try:
                warnings.warn(f"unclosed client for {TOKEN}", ResourceWarning, stacklevel=1)
            finally:
                logging.captureWarnings(False)
    finally:
        root.handlers[:], root.level = handlers, level
    err = capsys.readouterr().err
    assert "unclosed client" in err
    assert_no_token(err)


# -- 18.5: an unreachable Bot API ---------------------------------------------------------

def test_retry_delays_double_up_to_a_minute() -> None:
    assert [retry_delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert retry_delay(1000) == 60


def _retry_line(line: str) -> bool:
    return "Telegram Bot API not reachable at start-up" in line


async def test_unreachable_api_is_retried_until_it_comes_up(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/bot"
    config = write_config(tmp_path, base_url, TOKEN, log_level="INFO")
    child = await Child.start("run", "--config", str(config))
    try:
        first = await child.line_where(_retry_line, "about the first failed attempt")
        second = await child.line_where(_retry_line, "about the second failed attempt")
        assert "attempt 1, retrying in 1 s" in first, first
        assert "attempt 2, retrying in 2 s" in second, second
        fake = await FakeTelegram(token=TOKEN).start(port)
        try:
            await wait_until(lambda: any(m == "getUpdates" for m, _ in fake.calls),
                             "the bot polls the fake")
            assert child.proc.returncode is None
            child.proc.send_signal(signal.SIGTERM)
            code, out, err = await child.finish()
        finally:
            await fake.stop()
    finally:
        child.kill()
    assert code == 0, err
    assert "Traceback" not in err and "ConnectError" in err, err
    assert all(len(line.splitlines()) == 1 for line in child.lines)
    assert_no_token(out, err)


async def test_asked_to_stop_while_unreachable_exits_cleanly(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}/bot", TOKEN)
    child = await Child.start("run", "--config", str(config))
    try:
        await child.line_where(_retry_line, "about a failed attempt")
        child.proc.send_signal(signal.SIGTERM)
        await child.line_where(lambda line: line.startswith("Stopped (SIGTERM)"),
                               "saying it stopped")
        code, out, err = await child.finish()
    finally:
        child.kill()
    assert code == 0, err
    assert "Traceback" not in err, err
    assert_no_token(out, err)
