"""A real PostgreSQL for the test run: started once, a fresh database per test.

Why a real server and not a mock: the storage contract must prove that every repository's
SQL runs on PostgreSQL as it does on SQLite, and only PostgreSQL can say that. The
server is private to the test run: `initdb` into a temporary folder (C collation, so ISO
timestamps stored as text compare byte-wise, as on SQLite), listening on 127.0.0.1 on a
free port and on a unix socket inside that folder, run by an unprivileged user
(PostgreSQL refuses root), and stopped and removed when the run ends, also when it
fails. Durability is switched off (fsync, full page writes): a crash of the test server
loses nothing anyone needs, and every test is faster for it.

Where the binaries come from: Debian's /usr/lib/postgresql/<version>/bin (highest
version), then PATH; when neither has them and we are root, Debian's `postgresql`
package is installed (the Makefile's `postgres` target does the same before the tests).

The tests reach the server through `postgresql://` URLs only (with a password, so the
tests can prove it never leaks); administration (creating the per-test databases) runs
through `psql`, so no test module imports the driver (tools/import_rules.py).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

SERVICE_USER = "vakbot-pg"
BINDIR_VARIABLE = "VAKBOT_PG_BINDIR"
SUPERUSER = "vakbot"
START_DEADLINE_S = 60.0
POLL_S = 0.05


class PgUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why, in one line."""


def _is_root() -> bool:
    return os.geteuid() == 0


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in path.parent.name.split(".") if p.isdigit()) or (0,)


def find_bindir() -> Path | None:
    """The folder holding `initdb`, `postgres`, `psql` and `pg_isready`, or None.

    VAKBOT_PG_BINDIR names it explicitly (another installation; or a folder without
    PostgreSQL, to see how the tests behave where it cannot be started)."""
    explicit = os.environ.get(BINDIR_VARIABLE)
    if explicit:
        found = Path(explicit)
        return found if (found / "initdb").is_file() else None
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for bindir in debian:
        if all((bindir / tool).is_file() for tool in ("initdb", "postgres")):
            return bindir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("postgres"):
        return Path(initdb).parent
    return None


def install_postgresql() -> None:
    """Debian's `postgresql` package, non-interactively (root only)."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise PgUnavailable(f"'{' '.join(cmd)}' failed: {tail[0]}")


def _service_account() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL as: a system user when root, else None (ourselves)."""
    if not _is_root():
        return None
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        # Not check=True: another test run on this machine may have created it meanwhile.
        made = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                               "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                               SERVICE_USER], capture_output=True, text=True, check=False)
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise PgUnavailable(f"cannot create the user {SERVICE_USER} to run PostgreSQL: "
                                f"{made.stderr.strip() or made.returncode}") from None
    return entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PgServer:
    """One running PostgreSQL cluster in a temporary folder."""

    bindir: Path
    root: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, database: str, *, password: str | None = None) -> str:
        """A TCP URL for `database`, with the superuser's password (or another one)."""
        secret = quote(self.password if password is None else password, safe="")
        return f"postgresql://{SUPERUSER}:{secret}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run one administrative statement over the unix socket (trusted locally)."""
        done = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER,
             "-d", database, "-c", sql],
            capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def fresh_database(self, template: str = "template0") -> str:
        """Create an empty database (a copy of `template`) and return its URL."""
        with self._lock:
            name = f"t{os.getpid()}_{next(self._names)}"
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then remove the folder; safe to call twice."""
        if self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as(account: tuple[int, int] | None) -> dict[str, object]:
    if account is None:
        return {}
    uid, gid = account
    return {"user": uid, "group": gid, "extra_groups": []}


def _wait_until_ready(server: PgServer, log: Path) -> None:
    """Poll `pg_isready` until the server accepts connections, or it died, or time ran out."""
    deadline = time.monotonic() + START_DEADLINE_S
    isready = [str(server.bindir / "pg_isready"), "-q", "-h", str(server.socket_dir),
               "-p", str(server.port), "-U", SUPERUSER, "-d", "postgres"]
    while True:
        if server.process.poll() is not None:
            last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no log"]
            raise PgUnavailable(f"postgres exited with {server.process.returncode}: {last[0]}")
        if subprocess.run(isready, check=False, stdin=subprocess.DEVNULL).returncode == 0:
            return
        if time.monotonic() > deadline:
            raise PgUnavailable(f"postgres did not accept connections in {START_DEADLINE_S:.0f} s")
        time.sleep(POLL_S)


def start() -> PgServer:
    """initdb a temporary cluster and start it; PgUnavailable when that cannot be done."""
    bindir = find_bindir()
    if bindir is None and os.environ.get(BINDIR_VARIABLE):
        raise PgUnavailable(f"no initdb in {BINDIR_VARIABLE}={os.environ[BINDIR_VARIABLE]}")
    if bindir is None and _is_root():
        install_postgresql()
        bindir = find_bindir()
    if bindir is None:
        raise PgUnavailable("no PostgreSQL binaries (install Debian's 'postgresql' package)")
    account = _service_account()
    root = Path(tempfile.mkdtemp(prefix="vakbot-pg-"))
    try:
        (root / "sock").mkdir()
        password = secrets.token_urlsafe(16) + "%@:/"  # characters a URL must quote
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n")
        if account is not None:
            for path in (root, root / "sock", pwfile):
                os.chown(path, *account)
        done = subprocess.run(
            [str(bindir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER,
             f"--pwfile={pwfile}", "--auth-local=trust", "--auth-host=scram-sha-256",
             "--locale=C", "--encoding=UTF8", "--no-sync"],
            capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
            **_run_as(account))  # type: ignore[call-overload]
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
            raise PgUnavailable(f"initdb failed: {tail[0]}")
        return _launch(bindir, root, password, account)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _launch(bindir: Path, root: Path, password: str,
            account: tuple[int, int] | None) -> PgServer:
    """Start `postgres` on a free port; another port when that one was taken meanwhile."""
    log = root / "postgres.log"
    failure: PgUnavailable | None = None
    for _attempt in range(5):
        port = _free_port()
        with log.open("ab") as out:
            if account is not None:
                os.chown(log, *account)
            process = subprocess.Popen(
                [str(bindir / "postgres"), "-D", str(root / "data"), "-p", str(port),
                 "-k", str(root / "sock"), "-c", "listen_addresses=127.0.0.1",
                 "-c", "fsync=off", "-c", "full_page_writes=off",
                 "-c", "synchronous_commit=off", "-c", "max_connections=300",
                 "-c", "shared_buffers=32MB"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, **_run_as(account))  # type: ignore[call-overload]
        server = PgServer(bindir=bindir, root=root, port=port, password=password,
                          process=process)
        try:
            _wait_until_ready(server, log)
        except PgUnavailable as exc:
            failure = exc
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait()
            continue
        return server
    assert failure is not None
    raise failure


_started: PgServer | PgUnavailable | None = None
_start_lock = threading.Lock()


def shared() -> PgServer:
    """The test run's one server, started on first use and stopped at exit.

    A failure to start is remembered, so every test that needs PostgreSQL is told the
    same reason at once rather than each trying again.
    """
    global _started  # noqa: PLW0603 - one server per test process, by design
    with _start_lock:
        if _started is None:
            try:
                server = start()
            except PgUnavailable as exc:
                _started = exc
            except (OSError, subprocess.SubprocessError) as exc:
                _started = PgUnavailable(f"{type(exc).__name__}: {exc}")
            else:
                _started = server
                atexit.register(server.stop)
        if isinstance(_started, PgUnavailable):
            raise _started
        return _started
