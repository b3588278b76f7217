"""`make bench`: every figure measured in this run, beside its baseline from the same run."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bench.answers import full_stack, raw_commits


async def _main(youths: int) -> None:
    print("measuring raw single-row commits …", file=sys.stderr, flush=True)
    raw = await raw_commits()
    print(f"measuring the full stack with {youths} youths …", file=sys.stderr, flush=True)
    capacity = await full_stack(youths, rate_limited=False)
    print("measuring again with Telegram's rate limiter on …", file=sys.stderr, flush=True)
    limited = await full_stack(youths, rate_limited=True)
    print()
    print("| figure | this run | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    for name, full in (("no rate limiter: the stack's own capacity", capacity),
                       ("with AIORateLimiter (30 msg/s, 2 messages per answer)", limited)):
        print(f"| check-in answers/s through PTB + fake Telegram over HTTP + SQLite, {name} "
              f"| {full.per_second:,.0f}/s ({full.count} in {full.seconds:.2f} s) "
              f"| raw aiosqlite single-row commits: {raw.per_second:,.0f}/s "
              f"| {full.per_second / raw.per_second:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--youths", type=int, default=40, help="youths answering at once")
    args = parser.parse_args()
    asyncio.run(_main(args.youths))


main()
