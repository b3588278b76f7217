"""Bot start-up time (spawn to first long poll) and idle memory, beside a bare Python."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.offline import write_config
from faketelegram import FakeTelegram

ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class Startup:
    seconds: float
    idle_rss_mib: float
    bare_python_s: float


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def startup() -> Startup:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # noqa: ASYNC221
    bare = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeTelegram() as fake:
            config = write_config(Path(tmp), fake.base_url, fake.token)
            started = time.perf_counter()
            proc = subprocess.Popen(  # noqa: ASYNC220
                [sys.executable, "-m", "bot", "run", "--config", str(config)], cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while not any(m == "getUpdates" for m, _ in fake.calls):
                await asyncio.sleep(0.01)
            seconds = time.perf_counter() - started
            await asyncio.sleep(3)
            rss = _rss_mib(proc.pid)
            proc.terminate()
            for _ in range(200):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            proc.kill()
    return Startup(seconds, rss, bare)
