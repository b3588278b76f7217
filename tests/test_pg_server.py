"""The test server's own promises: the tests that need PostgreSQL are skipped with one
clear line where it cannot be started, and fail instead under CI; and a started server
is private (C collation, its own user, a password) and gives each test its own database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import pg_server

ROOT = Path(__file__).resolve().parent.parent
NEEDS_PG = '''
def test_needs_postgres(pg_url: str) -> None:
    assert pg_url.startswith("postgresql://")
'''


def _run_without_postgres(tmp_path: Path, ci: bool) -> subprocess.CompletedProcess[str]:
    test = ROOT / "tests" / f"test_zz_needs_pg_{os.getpid()}_{int(ci)}.py"
    test.write_text(NEEDS_PG)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env[pg_server.BINDIR_VARIABLE] = str(tmp_path)        # no PostgreSQL in there
    if ci:
        env["CI"] = "true"
    try:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
             "-rs", str(test)], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
            timeout=300)
    finally:
        test.unlink()


def test_without_postgres_the_test_is_skipped_with_one_line(tmp_path: Path) -> None:
    done = _run_without_postgres(tmp_path, ci=False)
    assert done.returncode == 0, done.stdout
    assert "1 skipped" in done.stdout
    assert f"PostgreSQL cannot be started: no initdb in {pg_server.BINDIR_VARIABLE}" in \
        done.stdout


def test_without_postgres_ci_fails_instead_of_skipping(tmp_path: Path) -> None:
    done = _run_without_postgres(tmp_path, ci=True)
    assert done.returncode == 1, done.stdout
    summary = done.stdout.strip().splitlines()[-1]
    assert "1 error" in summary and "skipped" not in summary, summary
    assert "PostgreSQL is required in CI but cannot be started" in done.stdout


def test_each_test_gets_its_own_database_on_a_private_server(
        pg_cluster: pg_server.PgServer, pg_url: str) -> None:
    assert pg_cluster.psql("SHOW lc_collate").strip() == "C"
    assert pg_cluster.psql("SHOW server_encoding").strip() == "UTF8"
    assert pg_cluster.root.is_dir()
    if os.geteuid() == 0:
        assert (pg_cluster.root / "data").stat().st_uid != 0, "not run as root"
    assert pg_url != pg_cluster.fresh_database()
    assert "vakbot_template" not in pg_url
