"""`make bench`: every figure measured in this run, beside its baseline from the same run."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.answers import full_stack, raw_commits
from bench.console import console_pages, table_rows
from bench.delivery import TELEGRAM_CAP, dispatch, planning
from bench.inbound import stranger_flood
from bench.latency import QUIET, Percentiles, tap_latency
from bench.postgres import postgres_figures
from bench.postgres import table_rows as postgres_rows
from bench.render import pooled_weekly_run, rendering
from bench.startup import startup


def _ms(p: Percentiles) -> str:
    return f"{p.p50_ms:,.0f} / {p.p95_ms:,.0f} / {p.p99_ms:,.0f} ms"


def _ratio(a: Percentiles, b: Percentiles) -> str:
    return f"{a.p50_ms / b.p50_ms:.2f} / {a.p95_ms / b.p95_ms:.2f} / {a.p99_ms / b.p99_ms:.2f}"


async def _main(youths: int, planned: int, tappers: int, think: float) -> None:
    print(f"{tappers} youths answering a check-in at once, alone and while planning "
          f"{planned:,} …", file=sys.stderr, flush=True)
    taps = await tap_latency(tappers, planned, think)
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
    print("the same weekly run in the process pool …", file=sys.stderr, flush=True)
    pooled = await pooled_weekly_run()
    print("a stranger's flood beside a youth's tap …", file=sys.stderr, flush=True)
    flood = await stranger_flood()
    print("starting the bot process …", file=sys.stderr, flush=True)
    boot = await startup()
    print("console pages: a 50-youth overview, a 12-youth caseload …", file=sys.stderr,
          flush=True)
    console = await console_pages()
    print("the answers and dispatch figures again on PostgreSQL …", file=sys.stderr,
          flush=True)
    postgres = await postgres_figures(youths)
    print()
    print("| figure | this run | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    for name, full in (("no rate limiter: the stack's own capacity", capacity),
                       ("with the rate limiter (25 msg/s, ~1/s per chat)", limited)):
        print(f"| check-in answers/s through PTB + fake Telegram over HTTP + SQLite, {name} "
              f"| {full.per_second:,.0f}/s ({full.count} in {full.seconds:.2f} s) "
              f"| raw aiosqlite single-row commits: {raw.per_second:,.0f}/s "
              f"| {full.per_second / raw.per_second:.3f} |")
    print(f"| first planning pass: {plan.youths:,} youths, weekly sessions, 4 weeks of "
          f"check-ins (and 2 days of what follows a session) into SQLite (target < 2 s) "
          f"| {plan.seconds:.2f} s, {plan.rows:,} outbox rows, "
          f"peak {plan.peak_mib:.0f} MiB traced | the same rows as plain batched INSERTs: "
          f"{plan.raw_insert_s:.2f} s | {plan.seconds / plan.raw_insert_s:.2f} |")
    print(f"| the next pass, nothing edited (target < 100 ms) | {plan.again_ms:.1f} ms "
          f"| the first pass: {plan.seconds * 1000:,.0f} ms "
          f"| {plan.again_ms / (plan.seconds * 1000):.4f} |")
    print(f"| longest the event loop was held during the first pass: wall time (CPU time "
          f"of the loop's thread in it) | {plan.longest_hold_ms:.0f} ms "
          f"({plan.longest_cpu_ms:.0f} ms CPU) | design bound: 50 ms "
          f"| {plan.longest_hold_ms / 50:.2f} ({plan.longest_cpu_ms / 50:.2f}) |")
    print(f"| tap to next question, p50 / p95 / p99, {taps.youths} youths at once, per-chat "
          f"pacing (target p99 <= 300 ms) | {_ms(taps.alone)} ({taps.alone.taps} taps) "
          f"| the fake's own round trip, no bot work: {_ms(taps.floor)} "
          f"| {_ratio(taps.alone, taps.floor)} |")
    print(f"| the fake's round trip with {QUIET} youths (no burst): what Telegram and the "
          f"network give | {_ms(taps.quiet_floor)} | the floor above "
          f"| {_ratio(taps.quiet_floor, taps.floor)} |")
    print(f"| CPU per tap in the bot's process (all threads), {taps.youths} at once "
          f"| {taps.bot_cpu_ms:.1f} ms | the floor's bare client: {taps.floor_cpu_ms:.1f} ms "
          f"| {taps.bot_cpu_ms / taps.floor_cpu_ms:.2f} |")
    print(f"| the youths' and the fake's own process during the bot's rounds "
          f"| {taps.youth_side_share:.2f} CPU s per s | one core: 1.00 "
          f"| {taps.youth_side_share:.2f} |")
    print(f"| the same, while a first planning pass over {taps.planned_youths:,} youths runs "
          f"({taps.planning_s:.1f} s; target <= 2x alone) | {_ms(taps.planning)} "
          f"({taps.planning.taps} taps during it) | alone: {_ms(taps.alone)} "
          f"| {_ratio(taps.planning, taps.alone)} |")
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
    sequential = drawn.weekly_run_s
    print(f"| weekly run in the process pool ({pooled.workers} workers; target <= 0.6x) "
          f"| {pooled.seconds:.1f} s, {pooled.images} images (workers started once: "
          f"{pooled.start_s:.1f} s) | the same run one after another: {sequential:.1f} s "
          f"| {pooled.seconds / sequential:.2f} |")
    print(f"| peak memory rendering one 12-youth caseload | {drawn.peak_mib:.0f} MiB traced, "
          f"process max RSS {drawn.max_rss_mib:.0f} MiB | - | - |")
    print(f"| bot start-up, spawn to first long poll (target < 1 s) | {boot.seconds:.2f} s "
          f"| bare `python -c pass`: {boot.bare_python_s:.2f} s "
          f"| {boot.seconds / boot.bare_python_s:.1f} |")
    print(f"| bot idle memory (RSS, 3 s after start) | {boot.idle_rss_mib:.0f} MiB "
          f"| target: 120 MiB | {boot.idle_rss_mib / 120:.2f} |")
    print("\n".join(table_rows(console)))
    print("\n".join(postgres_rows(postgres, capacity, sent)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--youths", type=int, default=40, help="youths answering at once")
    parser.add_argument("--plan", type=int, default=10_000, help="youths to plan for")
    parser.add_argument("--tappers", type=int, default=200,
                        help="youths answering a check-in at once in the latency figures")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a youth reads a question before tapping")
    args = parser.parse_args()
    asyncio.run(_main(args.youths, args.plan, args.tappers, args.think))


main()
