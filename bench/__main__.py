"""`make bench`: every figure measured in this run, beside its baseline from the same run."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.answers import full_stack, raw_commits
from bench.console import console_pages, table_rows
from bench.delivery import TELEGRAM_CAP, dispatch, planning
from bench.inbound import stranger_flood
from bench.render import rendering
from bench.startup import startup


async def _main(youths: int, planned: int) -> None:
    print("measuring raw single-row commits …", file=sys.stderr, flush=True)
    raw = await raw_commits()
    print(f"measuring the full stack with {youths} youths …", file=sys.stderr, flush=True)
    capacity = await full_stack(youths, rate_limited=False)
    print("measuring again with Telegram's rate limiter on …", file=sys.stderr, flush=True)
    limited = await full_stack(youths, rate_limited=True)
    print(f"planning {planned:,} youths four weeks ahead …", file=sys.stderr, flush=True)
    plan = await planning(planned)
    print("dispatching 200 due check-ins …", file=sys.stderr, flush=True)
    sent = await dispatch()
    print("rendering weekly images for 50 therapists with 12 youths each …", file=sys.stderr,
          flush=True)
    drawn = rendering()
    print("a stranger's flood beside a youth's tap …", file=sys.stderr, flush=True)
    flood = await stranger_flood()
    print("starting the bot process …", file=sys.stderr, flush=True)
    boot = await startup()
    print("console pages: a 50-youth overview, a 12-youth caseload …", file=sys.stderr,
          flush=True)
    console = await console_pages()
    print()
    print("| figure | this run | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    for name, full in (("no rate limiter: the stack's own capacity", capacity),
                       ("with the rate limiter (25 msg/s, ~1/s per chat)", limited)):
        print(f"| check-in answers/s through PTB + fake Telegram over HTTP + SQLite, {name} "
              f"| {full.per_second:,.0f}/s ({full.count} in {full.seconds:.2f} s) "
              f"| raw aiosqlite single-row commits: {raw.per_second:,.0f}/s "
              f"| {full.per_second / raw.per_second:.3f} |")
    print(f"| planning {plan.youths:,} youths, weekly sessions, 4 weeks ahead into SQLite "
          f"| {plan.seconds:.2f} s, {plan.rows:,} outbox rows, peak {plan.peak_mib:.0f} MiB "
          f"traced | - | - |")
    print(f"| dispatch of due check-ins through the engine, PTB and its rate limiter "
          f"| {sent.per_second:.1f} msg/s ({sent.messages} in {sent.seconds:.1f} s) "
          f"| Telegram's cap: {TELEGRAM_CAP:.0f} msg/s | {sent.per_second / TELEGRAM_CAP:.2f} |")
    print(f"| a youth's tap to the next question, just after {flood.messages} messages from a "
          f"stranger | {flood.flooded_s * 1000:.0f} ms (stranger got {flood.stranger_replies} "
          f"repl{'y' if flood.stranger_replies == 1 else 'ies'}) "
          f"| the same tap, no flood: {flood.quiet_s * 1000:.0f} ms "
          f"| {flood.flooded_s / flood.quiet_s:.1f} |")
    print(f"| most messages in any 1 s window during that dispatch (fake Telegram's arrival "
          f"times) | {sent.peak_one_second} | Telegram's cap as configured: 25 | "
          f"{sent.peak_one_second / 25:.2f} |")
    print(f"| render time per youth panel (8-panel image / 8) | {drawn.per_panel_ms:.0f} ms "
          f"| minimal matplotlib line chart: {drawn.floor_ms:.0f} ms "
          f"| {drawn.per_panel_ms / drawn.floor_ms:.2f} |")
    print(f"| full weekly run, 50 therapists x 12 youths | {drawn.weekly_run_s:.1f} s, "
          f"{drawn.images} images | 600 minimal charts: {600 * drawn.floor_ms / 1000:.1f} s "
          f"| {drawn.weekly_run_s / (600 * drawn.floor_ms / 1000):.2f} |")
    print(f"| peak memory rendering one 12-youth caseload | {drawn.peak_mib:.0f} MiB traced, "
          f"process max RSS {drawn.max_rss_mib:.0f} MiB | - | - |")
    print(f"| bot start-up, spawn to first long poll | {boot.seconds:.2f} s "
          f"| bare `python -c pass`: {boot.bare_python_s:.2f} s "
          f"| {boot.seconds / boot.bare_python_s:.1f} |")
    print(f"| bot idle memory (RSS, 3 s after start) | {boot.idle_rss_mib:.0f} MiB | - | - |")
    print("\n".join(table_rows(console)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--youths", type=int, default=40, help="youths answering at once")
    parser.add_argument("--plan", type=int, default=10_000, help="youths to plan for")
    args = parser.parse_args()
    asyncio.run(_main(args.youths, args.plan))


main()
