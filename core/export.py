"""De-identification for research exports (the REDCap approach).

Per export a fresh random key: participant ids are re-keyed (so two exports cannot be
joined on id), and every date of one participant shifts by the same random number of
days (so intervals survive, calendar dates do not). No free text, no staff codes.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_SHIFT_DAYS = 180

CODEBOOK_VARIABLES = (
    ("participant", "pseudonymous id, re-keyed for this export only (P + 10 hex)"),
    ("session_date", "date of the session, shifted by a random offset of up to 180 days, "
                     "the same for all rows of one participant"),
    ("session_index", "1, 2, 3 ... per participant, in time order"),
    ("status", "complete, open or expired: the state of that check-in"),
    ("item", "bond, goal, task, medium (alliance items); event (what happened that day)"),
    ("value", "1..scale_points for alliance items (1 = lowest); x = rather not say; for "
              "event: nothing_special, something_good, argument, something_hard or skip"),
    ("scale_points", "5 (default) or 3 (simple mode)"),
    ("questionnaire_version", "version of the item texts shown (core/data in the repository)"),
)


FULL_VARIABLES = (
    ("youth_code", "the code the coordinators gave the youth (e.g. J-014); no name"),
    ("session_date", "the real date of the session (UTC calendar date), not shifted"),
    ("session_index", "1, 2, 3 ... per youth, in time order"),
    *CODEBOOK_VARIABLES[3:],
)


ALERTS_HEADING = "One row per alert to the therapist, in alerts.csv:"


def codebook(*, full: bool = False) -> str:
    """The codebook that describes the CSV it ships with: research or full export.

    Each export has its own columns (participant or youth_code) and dates (shifted or
    real); a codebook describing the other kind would mislead whoever reads the data.
    """
    kind = "full export (the institution's own data)" if full else "research export"
    lines = [f"# Codebook: alliance check-ins, {kind}", "",
             "One row per answered item (long format), in answers_long.csv.", "",
             "| variable | meaning |", "|---|---|"]
    lines += [f"| {name} | {meaning} |"
              for name, meaning in (FULL_VARIABLES if full else CODEBOOK_VARIABLES)]
    lines += ["", ALERTS_HEADING, "", "| variable | meaning |", "|---|---|"]
    lines += [f"| {name} | {meaning} |" for name, meaning in alert_variables(full=full)]
    lines += [""]
    if full:
        lines += ["Every youth is included, with codes and real dates: this is identifiable "
                  "data for the institution's own use, not for researchers. Free text and "
                  "staff codes are never exported."]
    else:
        lines += ["Only youths who agreed to research use are included. Free text and staff "
                  "codes are never exported."]
    return "\n".join(lines) + "\n"


def header(*, full: bool = False) -> tuple[str, ...]:
    """The CSV columns of one kind of export, in order; the codebook lists the same."""
    return ("youth_code", *FIELDS[1:]) if full else FIELDS


def participant_id(export_key: bytes, pseudonym: str) -> str:
    return "P" + hmac.new(export_key, b"id:" + pseudonym.encode(), hashlib.sha256).hexdigest()[:10]


def date_shift(export_key: bytes, pseudonym: str) -> timedelta:
    digest = hmac.new(export_key, b"shift:" + pseudonym.encode(), hashlib.sha256).digest()
    days = int.from_bytes(digest[:4], "big") % (2 * MAX_SHIFT_DAYS + 1) - MAX_SHIFT_DAYS
    return timedelta(days=days)


@dataclass(frozen=True)
class ExportRow:
    """One answered item as stored; de-identified (or not) by `answers_csv`."""

    youth_code: str
    pseudonym: str
    session_at: datetime
    status: str
    item: str
    value: str
    simple_mode: bool
    questionnaire_version: str


FIELDS = ("participant", "session_date", "session_index", "status", "item", "value",
          "scale_points", "questionnaire_version")


@dataclass(frozen=True)
class AlertExportRow:
    """One alert to the therapist: when it came, when it was seen and discussed."""

    youth_code: str
    pseudonym: str
    created_at: datetime
    kind: str
    acked_at: datetime | None
    discussed_at: datetime | None
    therapist_code: str = ""                       # never exported; pairs the alert
    repaired_after_discussion: bool | None = None  # core.repair; None: not discussed


ALERT_FIELDS = ("participant", "alert_date", "kind", "hours_to_seen", "discussed_date",
                "hours_to_discussed", "repaired_after_discussion")


def alert_variables(*, full: bool) -> tuple[tuple[str, str], ...]:
    """The columns of alerts.csv, described for the kind of export they ship with."""
    dated = "the real date" if full else "the date, moved like session_date"
    return (
        ("youth_code" if full else "participant", "as in answers_long.csv"),
        ("alert_date", f"{dated} the alert was raised"),
        ("kind", "rupture, missed or crisis" if full else "rupture or missed"),
        ("hours_to_seen", "hours from the alert to the therapist's 'Gezien'; empty if never"),
        ("discussed_date", f"{dated} the therapist marked it 'Besproken' (discussed with the "
                           "youth); empty if not (yet)"),
        ("hours_to_discussed", "hours from the alert to 'Besproken'; empty if not (yet)"),
        ("repaired_after_discussion", "yes: the drop this alert was about recovered after "
                                      "'Besproken'; no: discussed, not (yet) recovered; "
                                      "empty: not discussed or not a rupture alert"),
    )


@dataclass(frozen=True)
class ExportFiles:
    answers_csv: str
    codebook: str
    youths: int
    rows: int
    alerts_csv: str = ""


def _hours(start: datetime, end: datetime | None) -> str:
    return "" if end is None else f"{(end - start).total_seconds() / 3600:.1f}"


def alerts_csv(rows: list[AlertExportRow], key: bytes, *, full: bool) -> str:
    """alerts.csv: one row per alert, with when it was seen and discussed ('Besproken')."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("youth_code", *ALERT_FIELDS[1:]) if full else ALERT_FIELDS)
    for r in rows:
        if not full and r.kind == "crisis":
            continue   # safety events stay out of research data
        shift = timedelta(0) if full else date_shift(key, r.pseudonym)
        discussed = (r.discussed_at + shift).date().isoformat() if r.discussed_at else ""
        writer.writerow([r.youth_code if full else participant_id(key, r.pseudonym),
                         (r.created_at + shift).date().isoformat(), r.kind,
                         _hours(r.created_at, r.acked_at), discussed,
                         _hours(r.created_at, r.discussed_at),
                         {True: "yes", False: "no", None: ""}[r.repaired_after_discussion]])
    return out.getvalue()


def build_export(rows: list[ExportRow], *, full: bool = False,
                 export_key: bytes | None = None,
                 alerts: list[AlertExportRow] | None = None) -> ExportFiles:
    """Long-format CSV and codebook; de-identified unless `full` (the institution's own)."""
    key = export_key or secrets.token_bytes(32)  # fresh per export: ids cannot be joined
    sessions: dict[str, list[datetime]] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header(full=full))
    for r in rows:
        seen = sessions.setdefault(r.pseudonym, [])
        if r.session_at not in seen:
            seen.append(r.session_at)
        when = r.session_at if full else r.session_at + date_shift(key, r.pseudonym)
        writer.writerow([r.youth_code if full else participant_id(key, r.pseudonym),
                         when.date().isoformat(), seen.index(r.session_at) + 1, r.status,
                         r.item, r.value, 3 if r.simple_mode else 5, r.questionnaire_version])
    return ExportFiles(out.getvalue(), codebook(full=full), len(sessions), len(rows),
                       alerts_csv(alerts or [], key, full=full))
