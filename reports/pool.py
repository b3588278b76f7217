"""Weekly images drawn in worker processes, one per core, off the event loop.

Drawing a caseload is seconds of matplotlib work. In a thread it would hold the GIL
that the event loop needs for every tap; in a process pool it holds nothing of the
bot's. Workers are started on first use (`spawn`: nothing of the running bot, its
connections or threads, is copied into them) and import matplotlib once each.

A worker that dies takes its pool with it (BrokenProcessPool): the pool is made anew
and the drawing tried once more, so one crash never stops every later report.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import tzinfo
from typing import TYPE_CHECKING

from core.questionnaire import Language

if TYPE_CHECKING:
    from reports.trend import Panel, Rendered

_pool: ProcessPoolExecutor | None = None


def size() -> int:
    """One worker per core this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _warm_up() -> None:
    import reports.trend  # noqa: F401, PLC0415 - matplotlib and fonts, once per worker


def _draw(therapist_code: str, label: str, panels: Sequence[Panel], lang: Language,
          hidden: Sequence[str], zone: tzinfo) -> list[Rendered]:
    from reports.trend import render_caseload  # noqa: PLC0415 - in the worker only

    return render_caseload(therapist_code, label, list(panels), lang, hidden=hidden,
                           zone=zone)


def _executor() -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603 - one pool per process, made on first use
    if _pool is None:
        _pool = ProcessPoolExecutor(size(), mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_warm_up)
    return _pool


def shutdown() -> None:
    """Stop the workers (they are started again on next use)."""
    global _pool  # noqa: PLW0603
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


async def render_caseload(therapist_code: str, label: str, panels: Sequence[Panel],
                          lang: Language, *, zone: tzinfo, hidden: Sequence[str] = ()
                          ) -> list[Rendered]:
    """`reports.trend.render_caseload`, in a worker process (the zone is pickled by
    its key)."""
    loop = asyncio.get_running_loop()
    args = (therapist_code, label, tuple(panels), lang, tuple(hidden), zone)
    try:
        return await loop.run_in_executor(_executor(), _draw, *args)
    except BrokenProcessPool:
        shutdown()
        return await loop.run_in_executor(_executor(), _draw, *args)
