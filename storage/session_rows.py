"""Session rows read as SessionRecords: the one reading both backends share.

The SQL repositories (storage/sql_sessions.py) and the in-memory twin
(storage/memory/therapist.py) gather the same facts their own way (queries, or dict
scans); how a joined row plus those facts becomes a record is decided here, once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.flow import Status
from core.records import OutboxState, SessionRecord
from storage.timefmt import parse_iso

log = logging.getLogger(__name__)


class ColumnsByName(Protocol):
    """A row read by column name: a SQL row (storage.sql.Row) or a twin's dict."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass
class SessionFacts:
    """What belongs to the sessions besides their row: by check-in id, or by
    (occurrence, youth) for ratings and (youth, occurrence) for 'did not take place'."""

    answers: dict[int, dict[str, str]] = field(default_factory=dict)
    notes: set[int] = field(default_factory=set)
    crises: set[int] = field(default_factory=set)
    ratings: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    not_held: dict[tuple[str, str], str] = field(default_factory=dict)


def session_records(rows: Iterable[ColumnsByName],
                    facts: SessionFacts) -> list[SessionRecord]:
    """One record per row; an unreadable row is logged and left out, so it cannot hide a
    whole caseload (the weekly image and the alerts read these)."""
    records = []
    for r in rows:
        try:
            cid = r["checkin_id"]
            records.append(SessionRecord(
                r["youth_code"], r["occurrence_key"], parse_iso(r["session_end"]),
                parse_iso(r["expires_at"]),
                OutboxState(r["state"]) if r["state"] else None,
                Status(r["status"]) if r["status"] else None, bool(r["simple_mode"]),
                facts.answers.get(cid, {}) if cid is not None else {},
                facts.ratings.get((r["occurrence_key"], r["youth_code"]), {}),
                r["session_therapist"], r["last_error"],
                facts.not_held.get((r["youth_code"], r["occurrence_key"])),
                cid in facts.notes, cid in facts.crises, r["questionnaire_version"] or ""))
        except ValueError as exc:
            log.error("skipped an unreadable session row of %s: %s", r["youth_code"], exc)
    return records
