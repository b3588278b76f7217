"""Rendering benchmarks: the weekly image beside a minimal matplotlib chart (the floor)."""

from __future__ import annotations

import asyncio
import io
import random
import resource
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.analytics import SessionPoint, State, detect_ruptures, flat_ceiling, missed_in_a_row
from core.analytics import response_rate as rate
from reports import pool
from reports.trend import Panel, render_caseload

T0 = datetime(2026, 9, 7, 13, tzinfo=UTC)


def synthetic_panel(code: str, rng: random.Random, sessions: int = 10) -> Panel:
    points = []
    level = rng.choice([0.5, 0.75, 1.0])
    for n in range(sessions):
        when = T0 + timedelta(weeks=n)
        if rng.random() < 0.15:
            points.append(SessionPoint(when, State.MISSED))
            continue
        level = min(1.0, max(0.0, level + rng.choice([-0.25, 0, 0, 0.25])))
        youth: dict[str, float | None] = {d: min(1.0, max(0.0, level + rng.choice(
            [-0.25, 0, 0.25]))) for d in ("bond", "goal", "task", "medium")}
        points.append(SessionPoint(when, State.ANSWERED, youth, {"bond": level}))
    return Panel(code, tuple(points), tuple(detect_ruptures(points)), flat_ceiling(points),
                 rate(points), missed_in_a_row(points))


def minimal_chart() -> bytes:
    """The floor: one plain line chart of ten points, same width, same PNG output."""
    fig = Figure(figsize=(7.2, 2.2), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(range(10), [0.5, 0.75, 0.75, 0.5, 1, 0.75, 0.75, 1, 0.75, 1])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True)
class PooledRun:
    seconds: float
    images: int
    workers: int
    start_s: float   # starting the workers (spawn, import matplotlib), once per bot process


@dataclass(frozen=True)
class RenderResult:
    floor_ms: float
    per_panel_ms: float
    weekly_run_s: float
    images: int
    peak_mib: float
    max_rss_mib: float


def _timed(fn: object, repeat: int) -> float:
    assert callable(fn)
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def caseloads_of(therapists: int, youths: int) -> list[list[Panel]]:
    """The same synthetic caseloads for the sequential and the pooled weekly run."""
    rng = random.Random(49)
    return [[synthetic_panel(f"J-{t:02d}{n:02d}", rng) for n in range(youths)]
            for t in range(therapists)]


async def pooled_weekly_run(therapists: int = 50, youths: int = 12) -> PooledRun:
    """The weekly run as the bot does it now: every caseload handed to the process pool
    at once (reports/pool.py), the event loop only waiting. Workers are started and warm
    first, as in a bot that has drawn a report before; the start is timed apart."""
    caseloads = caseloads_of(therapists, youths)
    started = time.perf_counter()
    await asyncio.gather(*(pool.render_caseload("T-WARM", "2026-W48", caseloads[0][:1], "nl",
                                                zone=UTC)
                           for _ in range(pool.size())))
    warm = time.perf_counter() - started
    started = time.perf_counter()
    drawn = await asyncio.gather(*(pool.render_caseload(f"T-{t:02d}", "2026-W48", panels, "nl",
                                                zone=UTC)
                                   for t, panels in enumerate(caseloads)))
    seconds = time.perf_counter() - started
    pool.shutdown()
    return PooledRun(seconds, sum(len(images) for images in drawn), pool.size(), warm)


def rendering(therapists: int = 50, youths: int = 12) -> RenderResult:
    rng = random.Random(48)
    minimal_chart()  # warm up fonts and caches for both
    floor = _timed(minimal_chart, 10)
    eight = [synthetic_panel(f"J-{n:03d}", rng) for n in range(8)]
    per_panel = _timed(lambda: render_caseload("T-01", "2026-W48", eight, zone=UTC), 5) / len(eight)
    caseloads = caseloads_of(therapists, youths)
    started = time.perf_counter()
    images = sum(len(render_caseload(f"T-{t:02d}", "2026-W48", panels, zone=UTC))
                 for t, panels in enumerate(caseloads))
    weekly = time.perf_counter() - started
    tracemalloc.start()
    render_caseload("T-00", "2026-W48", caseloads[0], zone=UTC)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return RenderResult(floor * 1000, per_panel * 1000, weekly, images, peak / 2**20, rss)
