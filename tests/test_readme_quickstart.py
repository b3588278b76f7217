"""The README's quick start, followed literally: its commands are read from the README.

Only what cannot run in a test is substituted: a temporary folder for /run/secrets, a
fake token for `...`, and the fake Bot API for Telegram when the bot finally runs.
A README edit that adds a step this test does not understand fails here, on purpose.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

from faketelegram import FakeTelegram

ROOT = Path(__file__).parent.parent
DEADLINE = 120.0  # seconds; generous because the suite runs on a loaded machine
TOKEN = "5550001:quickstart-token-for-tests-only-xxxxxxxx"


def quick_start_commands() -> list[str]:
    """The command lines of the README's first shell block that runs `new-keys`."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    block = next(b for b in blocks if "new-keys" in b)
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def run_recipe() -> list[str]:
    """What `make run` runs, read from the Makefile, with its variables filled in."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None, "the Makefile has no run target"
    config = re.search(r"^CONFIG \?= (\S+)$", makefile, re.MULTILINE)
    assert config is not None
    line = (recipe.group(1).replace("$(BIN)/python", ".venv/bin/python")
            .replace("$(CONFIG)", config.group(1)))
    return shlex.split(line)


async def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """A `.venv/bin/python -m bot ...` line, run with this interpreter in `cwd`."""
    assert argv[:3] == [".venv/bin/python", "-m", "bot"], argv
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv[1:], cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), DEADLINE)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def run_until_polling(argv: list[str], cwd: Path, env: dict[str, str],
                            fake: FakeTelegram) -> tuple[int, str]:
    """Start the bot, wait until it polls the fake, stop it with SIGTERM."""
    assert argv[:3] == [".venv/bin/python", "-m", "bot"], argv
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *argv[1:], cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        deadline = time.monotonic() + DEADLINE
        while not any(m == "getUpdates" for m, _ in fake.calls):
            assert proc.returncode is None, "the bot stopped before polling"
            assert time.monotonic() < deadline, "the bot did not start polling"
            await asyncio.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), DEADLINE)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def test_the_readme_quick_start_works_as_written(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"  # stands in for /run/secrets
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    commands = quick_start_commands()
    assert commands[-1] == "make run", commands
    outputs: list[str] = []
    for line in commands[:-1]:
        argv = shlex.split(line.replace("/run/secrets", str(secrets)))
        if argv[0] == "cp":
            source, target = ROOT / argv[1], work / argv[2]
            shutil.copyfile(source, target)
            # The example names files in /run/secrets: the same stand-in folder here.
            target.write_text(target.read_text().replace("/run/secrets", str(secrets)))
        elif argv[0] == "export":
            name, _, value = argv[1].partition("=")
            assert value == "...", f"the README exports a real value: {line}"
            env[name] = TOKEN
        else:
            code, output = await run(argv, work, env)
            outputs.append(output)
            assert code == 0, f"{line}\n{output}"
    assert {p.name for p in secrets.iterdir()} >= {"vakbot-pseudonym.key",
                                                   "vakbot-contact.key"}
    assert "check-config" in commands[-2]
    assert outputs[-1].strip().splitlines()[-1] == "config.toml: ok"

    async with FakeTelegram(token=TOKEN) as fake:
        env["VAKBOT_TELEGRAM__BASE_URL"] = fake.base_url
        code, output = await run_until_polling(run_recipe(), work, env, fake)
    assert code == 0, output
    assert "Traceback" not in output, output
