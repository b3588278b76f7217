"""The same two storage-bound figures on PostgreSQL, beside SQLite in the same run.

Answers/s: the full stack (fake Telegram over HTTP, the real PTB Application, one
transaction per answer) without the rate limiter, as bench.answers.full_stack measures
it on SQLite. Dispatch: the engine's tick claiming and sending 200 due check-ins
(bench.delivery.dispatch), with Telegram's rate limiter (what production sees: the cap
decides) and without it (what the store and the stack can do).

The server is the tests' own (tests/pg_server.py: initdb into a temporary folder, a free
port, stopped at exit), with durability off (fsync) as in the tests: the figure is the
adapter and the queries, not the disk. Each measurement gets a fresh database, which
the bot migrates as it would in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.answers import Rate, full_stack
from bench.delivery import DispatchResult, dispatch
from tests import pg_server


@dataclass(frozen=True)
class PostgresFigures:
    answers: Rate                          # no rate limiter, as the SQLite capacity figure
    dispatch: DispatchResult               # with the rate limiter
    dispatch_unlimited: DispatchResult
    sqlite_dispatch_unlimited: DispatchResult   # SQLite's baseline for the last one


async def postgres_figures(youths: int = 40, due: int = 200) -> PostgresFigures | str:
    """The figures, or why PostgreSQL could not be started (one line)."""
    try:
        server = pg_server.shared()
    except pg_server.PgUnavailable as exc:
        return f"PostgreSQL cannot be started: {exc}"
    answers = await full_stack(youths, rate_limited=False,
                               storage_url=server.fresh_database())
    limited = await dispatch(due, storage_url=server.fresh_database())
    unlimited = await dispatch(due, rate_limited=False, storage_url=server.fresh_database())
    sqlite_unlimited = await dispatch(due, rate_limited=False)
    return PostgresFigures(answers, limited, unlimited, sqlite_unlimited)


def table_rows(pg: PostgresFigures | str, sqlite_answers: Rate,
               sqlite_dispatch: DispatchResult) -> list[str]:
    """The bench table's rows: PostgreSQL, and SQLite from the same run as baseline."""
    if isinstance(pg, str):
        return [f"| PostgreSQL figures | not measured: {pg} | - | - |"]
    rows = [
        f"| check-in answers/s through PTB + fake Telegram over HTTP + PostgreSQL, no rate "
        f"limiter | {pg.answers.per_second:,.0f}/s ({pg.answers.count} in "
        f"{pg.answers.seconds:.2f} s) | SQLite: {sqlite_answers.per_second:,.0f}/s "
        f"| {pg.answers.per_second / sqlite_answers.per_second:.2f} |"]
    for name, on_pg, on_sqlite in (
            ("with the rate limiter", pg.dispatch, sqlite_dispatch),
            ("no rate limiter", pg.dispatch_unlimited, pg.sqlite_dispatch_unlimited)):
        rows.append(
            f"| dispatch on PostgreSQL: due check-ins claimed and sent per second, {name} "
            f"| {on_pg.per_second:.1f} msg/s ({on_pg.messages} in {on_pg.seconds:.1f} s) "
            f"| SQLite: {on_sqlite.per_second:.1f} msg/s ({on_sqlite.messages}) "
            f"| {on_pg.per_second / on_sqlite.per_second:.2f} |")
    return rows
