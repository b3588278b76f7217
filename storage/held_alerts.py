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
    """The held list as one JSON document; an empty list removes the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, held: Sequence[tuple[NewAlert, datetime]]) -> None:
        if not held:
            self.path.unlink(missing_ok=True)
            return
        data = json.dumps([_encode(alert, at) for alert, at in held], indent=1)
        write_atomic(self.path, data.encode())

    def load(self) -> list[tuple[NewAlert, datetime]]:
        """The alerts held before the last stop; a damaged file is kept aside, loudly."""
        try:
            entries = json.loads(self.path.read_bytes())
            return [_decode(entry) for entry in entries]
        except FileNotFoundError:
            return []
        except (ValueError, TypeError, KeyError) as error:
            aside = self.path.with_name(self.path.name + ".damaged")
            self.path.replace(aside)
            log.error("URGENT ALERTS HELD BEFORE THE LAST STOP COULD NOT BE READ (%s); the "
                      "file is kept as %s: read it and raise those alerts by hand",
                      type(error).__name__, aside)
            return []
