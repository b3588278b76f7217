"""Urgent alerts the database refused, kept in a private file beside it until stored.

Why: conversations.pending_alerts holds an urgent alert in memory when the database
refuses it (full disk, a lock that does not clear). Memory alone would lose it in a
restart during the failure, and nobody would ever hear of that crisis text. This file
is written (0600, all or nothing) whenever the held list changes, read back at start-up,
and stored first by the next delivery run. It holds what the alerts table holds, no
more: youth and therapist codes, the sealed rule, the times; never a text or a
Telegram id.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from core.records import NewAlert
from storage.private_files import write_atomic

log = logging.getLogger(__name__)

_TIMES = ("due_at", "escalate_at")


def _encode(alert: NewAlert, at: datetime) -> dict[str, object]:
    row: dict[str, object] = asdict(alert)
    for name in _TIMES:
        value = row[name]
        row[name] = value.isoformat() if isinstance(value, datetime) else None
    return {"alert": row, "raised_at": at.isoformat()}


def _decode(entry: dict[str, Any]) -> tuple[NewAlert, datetime]:
    row: dict[str, Any] = dict(entry["alert"])
    for name in _TIMES:
        row[name] = datetime.fromisoformat(row[name]) if row[name] else None
    return NewAlert(**row), datetime.fromisoformat(entry["raised_at"])


class HeldAlertsFile:
    """The held list as one JSON document per process: `<base>.<pid>`.

    Several processes may share a configuration (two `run` processes on PostgreSQL), so
    each writes a file of its own and never another's. At start-up a process takes over
    every such file it finds beside the database (its own from before a restart, and
    those of processes that stopped): it writes them into its own file first, then
    removes theirs, so they are never only in memory. A live process's alerts taken
    over this way may be stored twice; their dedupe key makes the second a no-op.
    """

    def __init__(self, base: Path, own: str | None = None) -> None:
        self.base = base
        self.path = base.with_name(f"{base.name}.{own or os.getpid()}")

    def save(self, held: Sequence[tuple[NewAlert, datetime]]) -> None:
        if not held:
            self.path.unlink(missing_ok=True)
            return
        data = json.dumps([_encode(alert, at) for alert, at in held], indent=1)
        write_atomic(self.path, data.encode())

    def _files(self) -> list[Path]:
        """The held-alert files beside the database: ours, earlier processes', and the
        single file of older versions (`<base>` itself)."""
        found = [self.base] if self.base.is_file() else []
        for path in sorted(self.base.parent.glob(self.base.name + ".*")):
            suffix = path.name[len(self.base.name) + 1:]
            if suffix.isdigit() and path.is_file():
                found.append(path)
        return found

    def load(self) -> list[tuple[NewAlert, datetime]]:
        """Every alert held before the last stop, now this process's to store; a damaged
        file is kept aside, loudly."""
        held: list[tuple[NewAlert, datetime]] = []
        files = self._files()
        for path in files:
            try:
                held += [_decode(entry) for entry in json.loads(path.read_bytes())]
            except FileNotFoundError:
                continue
            except (ValueError, TypeError, KeyError) as error:
                aside = path.with_name(path.name + ".damaged")
                path.replace(aside)
                log.error("URGENT ALERTS HELD BEFORE THE LAST STOP COULD NOT BE READ (%s); "
                          "the file is kept as %s: read it and raise those alerts by hand",
                          type(error).__name__, aside)
        if held:
            self.save(held)             # ours first, durably ...
        for path in files:
            if path != self.path:
                path.unlink(missing_ok=True)   # ... then theirs go
        return held
