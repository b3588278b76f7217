"""Rows of the twin's tables as the domain's records, and the few writes more than one
twin repository makes (an alert with its outbox rows, a consent's standing).

The mappers read the same columns as storage/sqlite*'s, with the same conversions (ISO
text to datetime, 0/1 to bool), so a record from the twin equals one from SQLite.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import cast

from core.consent import ConsentRecord, stands
from core.delivery import Kind
from core.flow import Status, live
from core.questionnaire import Discipline, Language
from core.records import Alert, Checkin, NewAlert, OutboxItem, OutboxState, Youth
from core.schedule import Change, Series, Timing
from storage.memory.tables import Record, Tables
from storage.timefmt import iso, parse_iso

ALERT_LIFETIME = timedelta(days=7)   # as storage.sqlite_therapist.ALERT_LIFETIME


def opt_time(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


def days_text(days: frozenset[int]) -> str:
    return ",".join(str(d) for d in sorted(days))


def parse_days(text: str) -> frozenset[int]:
    return frozenset(int(d) for d in text.split(",") if d)


def youth_from_row(row: Record) -> Youth:
    consent = row.get("guardian_consent_date")
    return Youth(
        code=row["code"], therapist_code=row["therapist_code"], birth_year=row["birth_year"],
        language=cast(Language, row["language"]), simple_mode=bool(row["simple_mode"]),
        guardian_consent_date=date.fromisoformat(consent) if consent else None,
        pseudonym=row.get("pseudonym"), paused=bool(row["paused"]),
    )


def answers_of(tables: Tables, checkin_id: int) -> dict[str, str]:
    return {a["item"]: a["value"] for a in tables.scan("answers", checkin_id=checkin_id)}


def checkin_from_row(tables: Tables, row: Record) -> Checkin:
    return Checkin(
        ref=row["ref"], youth_pseudonym=row["youth_pseudonym"],
        occurrence_key=row["occurrence_key"],
        discipline=cast(Discipline | None, row["discipline"]),
        questionnaire_version=row["questionnaire_version"],
        simple_mode=bool(row["simple_mode"]), created_at=parse_iso(row["created_at"]),
        expires_at=parse_iso(row["expires_at"]), session_end=opt_time(row.get("session_end")),
        id=row["id"], status=Status(row["status"]), prompted_step=row["prompted_step"],
        completed_at=opt_time(row.get("completed_at")), answers=answers_of(tables, row["id"]),
    )


def checkin_live(row: Record, now: datetime) -> bool:
    """The check-in row still takes answers (core.flow.live decides)."""
    return live(Status(row["status"]), parse_iso(row["expires_at"]), now)


def outbox_item(row: Record) -> OutboxItem:
    return OutboxItem(
        id=row["id"], kind=Kind(row["kind"]), youth_code=row.get("youth_code"),
        occurrence_key=row["occurrence_key"],
        discipline=cast(Discipline | None, row.get("discipline")),
        due_at=parse_iso(row["due_at"]), expires_at=parse_iso(row["expires_at"]),
        state=OutboxState(row["state"]), attempts=row["attempts"],
        therapist_code=row.get("therapist_code"), ref=row.get("ref"),
        session_end=parse_iso(row["session_end"]),
    )


def outbox_row(**columns: object) -> Record:
    """An outbox row with the schema's defaults for what the caller leaves out."""
    row: Record = {"youth_code": None, "therapist_code": None, "ref": None,
                   "series_id": None, "discipline": None, "attempts": 0, "last_error": None,
                   "sent_at": None, "closed_at": None, "owner": None, "lease_until": None}
    row.update(columns)
    return row


def alert_from_row(r: Record) -> Alert:
    return Alert(r["id"], r["ref"], r["kind"], r["youth_code"], r["therapist_code"],
                 r["detail"], parse_iso(r["created_at"]), opt_time(r.get("acked_at")),
                 r.get("unit_code"), r.get("reason"), opt_time(r.get("escalate_at")),
                 r.get("acked_by"), opt_time(r.get("nobody_since")),
                 opt_time(r.get("discussed_at")))


def insert_alert(tables: Tables, alert: NewAlert, now: datetime) -> bool:
    """The alert row plus its outbox rows (storage.sqlite_therapist.insert_alert): False,
    and nothing written, when its ref or dedupe key is taken. An urgent alert (with a
    `reason`) gets no outbox rows: it is delivered per recipient."""
    row: Record = {
        "ref": alert.ref, "dedupe_key": alert.dedupe_key, "kind": alert.kind,
        "youth_code": alert.youth_code, "therapist_code": alert.therapist_code,
        "detail": alert.detail, "created_at": iso(now), "acked_at": None,
        "escalated_at": None, "unit_code": alert.unit_code, "reason": alert.reason,
        "escalate_at": iso(alert.escalate_at) if alert.escalate_at else None,
        "acked_by": None, "nobody_since": None, "discussed_at": None, "discussed_by": None}
    if tables.conflict("alerts", row) is not None:
        return False
    tables.insert("alerts", row)
    if alert.reason is not None:
        return True
    deliveries = [(Kind.ALERT, alert.due_at)]
    if alert.escalate_at is not None:
        deliveries.append((Kind.ESCALATION, alert.escalate_at))
    for kind, due in deliveries:
        new = outbox_row(
            dedupe_key=f"{kind.value}:{alert.dedupe_key}", kind=kind.value,
            youth_code=alert.youth_code, therapist_code=alert.therapist_code, ref=alert.ref,
            occurrence_key=alert.dedupe_key, session_end=iso(now), due_at=iso(due),
            expires_at=iso(due + ALERT_LIFETIME), state="pending", scheduled_at=iso(now))
        if tables.conflict("outbox", new) is None:
            tables.insert("outbox", new)
    return True


def standing(tables: Tables, scope: str) -> frozenset[str]:
    """The pseudonyms whose consent to `scope` stands (core.consent.stands decides on each
    youth's decisions, oldest first), as storage.sqlite_privacy.standing."""
    records: dict[str, list[ConsentRecord]] = {}
    for r in tables.scan("consents", scope=scope):
        records.setdefault(r["pseudonym"], []).append(ConsentRecord(
            r["scope"], r["text_version"], r.get("answer", "yes") == "yes",
            r.get("withdrawn_at") is not None))
    return frozenset(p for p, mine in records.items() if stands(mine, scope))


def series_from_row(r: Record, members: dict[int, list[str]]) -> Series:
    return Series(
        id=r["id"], youth_codes=tuple(members.get(r["id"], [])),
        therapist_code=r["therapist_code"], discipline=cast(Discipline, r["discipline"]),
        weekdays=parse_days(r["weekdays"]), start=time.fromisoformat(r["start_time"]),
        duration=timedelta(minutes=r["duration_minutes"]), timezone=r["timezone"],
        first_date=date.fromisoformat(r["first_date"]),
        last_date=date.fromisoformat(r["last_date"]) if r["last_date"] else None,
        paused=bool(r["paused"]),
        timing=Timing(timedelta(minutes=r["send_after_minutes"]),
                      timedelta(minutes=r["remind_after_minutes"]),
                      timedelta(minutes=r["expire_after_minutes"])),
        created_at=parse_iso(r["created_at"]),
    )


def change_from_row(r: Record) -> Change:
    return Change(r["series_id"], date.fromisoformat(r["original_date"]), bool(r["cancelled"]),
                  datetime.fromisoformat(r["moved_to"]) if r["moved_to"] else None)
