"""Repository interfaces and the records they return. No SQL here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from core.analytics import SessionPoint, to_point
from core.audit import AuditEntry
from core.compliance import Compliance
from core.consent import ConsentRecord
from core.delivery import Kind, Planned, Window
from core.export import AlertExportRow, ExportRow
from core.flow import Status
from core.kiosk import Channel, ChannelFacts, CodeState, DeviceState
from core.questionnaire import Discipline, Language, faces_aligned
from core.retention import DataKind
from core.schedule import Change, Series, Timing


class AlreadyExists(Exception):
    """A code or occurrence that must be unique exists already."""


@dataclass(frozen=True)
class Therapist:
    code: str
    language: Language


@dataclass(frozen=True)
class NewYouth:
    code: str
    therapist_code: str
    birth_year: int
    language: Language
    simple_mode: bool
    guardian_consent_date: date | None


@dataclass(frozen=True)
class Youth(NewYouth):
    pseudonym: str | None
    paused: bool


@dataclass(frozen=True)
class Invite:
    token_digest: str
    role: str
    subject_code: str
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class Consent:
    scope: str
    text_version: str
    text_sha256: str
    language: Language


class BindOutcome(StrEnum):
    BOUND = "bound"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    ALREADY_BOUND = "already_bound"   # the redeeming account is someone already
    TAKEN = "taken"                   # the invite's code has a live account: unbind first


@dataclass(frozen=True)
class NewCheckin:
    ref: str
    youth_pseudonym: str
    occurrence_key: str
    discipline: Discipline | None
    questionnaire_version: str
    simple_mode: bool
    created_at: datetime
    expires_at: datetime
    # When the session ended; None for check-ins from before it was recorded.
    session_end: datetime | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class Checkin(NewCheckin):
    id: int
    status: Status
    prompted_step: int
    completed_at: datetime | None
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckinRecord:
    """A check-in as the youth's own data export shows it."""

    created_at: datetime
    status: str
    answers: dict[str, str]
    note: bytes | None
    questionnaire_version: str = ""   # the items and faces the answers were given on
    simple_mode: bool = False


Row = dict[str, "str | int | None"]


@dataclass(frozen=True)
class SubjectRecords:
    """Everything else held about one youth, for their own data export (GDPR art. 15).

    Values are as stored: sealed texts (crisis texts, a crisis alert's rule) stay sealed
    here and are opened by the caller, which holds the key.
    """

    profile: Row                 # therapist, birth year, unit, guardian dates, enrolled
    crisis_texts: list[Row]      # created_at, text_enc (sealed), phrases (sealed)
    ratings: list[Row]           # the therapist's ratings of the youth's sessions
    alerts: list[Row]            # alerts about the youth: kind, when, detail, acknowledged
    schedule: list[Row]          # the series the youth is in
    phone_windows: list[Row]     # the youth's own and their unit's phone hours


@dataclass(frozen=True)
class AnswerWrite:
    checkin_id: int
    step_index: int
    item: str
    value: str
    questionnaire_version: str
    advance: bool
    completes: bool


@dataclass(frozen=True)
class AnswerResult:
    stored: bool
    advanced: bool
    completed: bool


@dataclass(frozen=True)
class UnsentPrompt:
    checkin: Checkin
    step: int
    language: Language
    chat_id_enc: bytes


class EnrolmentRepo(Protocol):
    async def add_therapist(self, therapist: Therapist, now: datetime) -> None: ...
    async def therapist(self, code: str) -> Therapist | None: ...
    async def add_youth(self, youth: NewYouth, now: datetime) -> None: ...
    async def youth_by_code(self, code: str) -> Youth | None: ...
    async def youth_by_pseudonym(self, pseudonym: str) -> Youth | None: ...
    async def add_invite(
        self, token_digest: str, role: str, subject_code: str, now: datetime, expires: datetime
    ) -> int: ...
    async def invite(self, token_digest: str) -> Invite | None: ...
    async def bind_youth(
        self, token_digest: str, pseudonym: str, chat_id_enc: bytes, consent: Consent,
        now: datetime,
    ) -> BindOutcome: ...
    async def set_paused(self, pseudonym: str, paused: bool) -> bool: ...
    async def contact(self, pseudonym: str) -> bytes | None: ...


class CheckinRepo(Protocol):
    async def create_checkin(self, new: NewCheckin) -> Checkin: ...
    async def checkin_by_ref(self, ref: str) -> Checkin | None: ...
    async def checkin_for_occurrence(
        self, youth_pseudonym: str, occurrence_key: str
    ) -> Checkin | None: ...
    async def checkins_of(self, youth_pseudonym: str) -> list[CheckinRecord]: ...
    async def open_checkin(self, youth_pseudonym: str, now: datetime) -> Checkin | None: ...
    async def record_answer(self, write: AnswerWrite, now: datetime) -> AnswerResult: ...
    async def prompt_sent(
        self, checkin_id: int, step: int, message_id: int, now: datetime
    ) -> None: ...
    async def prompt_message_id(self, checkin_id: int, step: int) -> int | None: ...
    async def unsent_prompts(
        self, now: datetime, created_before: datetime
    ) -> list[UnsentPrompt]: ...
    async def store_note(
        self, checkin_id: int, step_index: int, text_enc: bytes, now: datetime
    ) -> bool: ...
    async def add_crisis_flag(
        self, youth_pseudonym: str, checkin_id: int | None, phrases: list[str],
        text_enc: bytes, now: datetime, alert: NewAlert | None = None,
    ) -> None: ...
    async def expire_due(self, now: datetime) -> int: ...




class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class NewSeries:
    therapist_code: str
    youth_codes: tuple[str, ...]
    discipline: Discipline
    weekdays: frozenset[int]
    start: time
    duration: timedelta
    timezone: str
    first_date: date
    last_date: date | None
    timing: Timing


@dataclass(frozen=True)
class PhoneWindow:
    scope: str  # "unit" or "youth"
    scope_code: str
    window: Window


@dataclass(frozen=True)
class PlannedRow:
    planned: Planned
    series_id: int | None
    discipline: Discipline | None
    session_end: datetime


@dataclass(frozen=True)
class PlanMark:
    """How far one series is planned: every session starting before `planned_until`,
    under the delivery rules named by `rules`; `next_start` is the next session after
    that (None: none ever), when the series needs planning again."""

    series_id: int
    rules: str
    planned_until: datetime
    next_start: datetime | None


@dataclass(frozen=True)
class PlanWork:
    """What one planning pass must look at, read together.

    `series` pairs each series to plan with how far it is already planned (None: plan
    it in full: new, edited, or planned under other rules). `change_mark` is the newest
    recorded edit when this was read: the pass clears edits up to it, never newer ones.
    """

    change_mark: int
    series: list[tuple[Series, datetime | None]]
    changes: list[Change]
    windows: dict[str, tuple[list[Window], list[Window]]]  # youth: own, unit's
    channels: dict[str, ChannelFacts] = field(default_factory=dict)  # youth: channel facts


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: Kind
    youth_code: str | None
    occurrence_key: str
    discipline: Discipline | None
    due_at: datetime
    expires_at: datetime
    state: OutboxState
    attempts: int
    therapist_code: str | None = None
    ref: str | None = None
    session_end: datetime | None = None


@dataclass(frozen=True)
class NewOutbox:
    """A message for the outbox other than a youth's check-in or reminder."""

    dedupe_key: str
    kind: Kind
    occurrence_key: str
    session_end: datetime
    due_at: datetime
    expires_at: datetime
    youth_code: str | None = None
    therapist_code: str | None = None
    ref: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    """One planned session of one youth, with whatever was answered and rated."""

    youth_code: str
    occurrence_key: str
    session_end: datetime
    expires_at: datetime
    state: OutboxState | None           # None: a check-in started without an outbox row
    checkin_status: Status | None
    simple_mode: bool
    answers: dict[str, str]
    therapist: dict[str, str]
    therapist_code: str | None = None   # the session's (series') therapist
    reason: str | None = None           # the outbox's recorded reason ('series paused', ...)
    not_held: str | None = None         # 'youth' or 'therapist' said it did not take place
    note: bool = False                  # a typed note exists (its text is never here)
    crisis: bool = False                # a crisis text came from this check-in
    questionnaire_version: str = ""     # the items and faces asked ("": not asked yet)

    def point(self, now: datetime) -> SessionPoint:
        """This session as an analytics point, through the one state rule (core.analytics)."""
        return to_point(
            self.session_end, self.expires_at, self.answers, self.therapist,
            3 if self.simple_mode else 5, now,
            delivery=self.state.value if self.state else None, reason=self.reason,
            not_held=self.not_held is not None,
            complete=self.checkin_status is Status.COMPLETE, note=self.note,
            crisis=self.crisis, aligned=faces_aligned(self.questionnaire_version))


@dataclass(frozen=True)
class Alert:
    id: int
    ref: str
    kind: str
    youth_code: str
    therapist_code: str
    detail: str
    created_at: datetime
    acked_at: datetime | None
    unit_code: str | None = None       # urgent alerts: the youth's unit at the time
    reason: str | None = None          # urgent alerts: "text" or "talk" (I want to talk now)
    escalate_at: datetime | None = None
    acked_by: str | None = None        # a role ("therapist", "unit", "coordinator")
    nobody_since: datetime | None = None
    discussed_at: datetime | None = None  # talked through with the youth ("Besproken")


@dataclass(frozen=True)
class SessionNote:
    """What the per-youth view adds to a session: which therapy, and the sealed note."""

    discipline: str | None
    note_enc: bytes | None


@dataclass(frozen=True)
class NewAlert:
    ref: str
    dedupe_key: str
    kind: str
    youth_code: str
    therapist_code: str
    detail: str
    due_at: datetime
    escalate_at: datetime | None
    unit_code: str | None = None
    reason: str | None = None          # set for urgent alerts: delivered per recipient


@dataclass(frozen=True)
class Unit:
    """A unit (ward) and whether its 24/7 crisis contact has linked Telegram."""

    code: str
    language: Language
    pseudonym: str | None


@dataclass(frozen=True)
class AlertDelivery:
    """One recipient of one urgent alert."""

    id: int
    alert_id: int
    recipient: str     # "therapist:T-02", "unit:W-1", "coordinator:<short pseudonym>"
    state: str         # pending, sent, blocked, failed
    due_at: datetime
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    ack_told_at: datetime | None


class TherapistRepo(Protocol):
    async def bind_therapist(
        self, token_digest: str, pseudonym: str, chat_id_enc: bytes, now: datetime
    ) -> BindOutcome: ...
    async def therapist_by_pseudonym(self, pseudonym: str) -> Therapist | None: ...
    async def therapist_pseudonym(self, code: str) -> str | None: ...
    async def all_therapists(self) -> list[Therapist]: ...
    async def youths_of(self, therapist_code: str) -> list[Youth]: ...
    async def session_records(
        self, therapist_code: str | None, until: datetime) -> list[SessionRecord]: ...
    async def mark_not_held(
        self, youth_code: str, occurrence_key: str, by: str, now: datetime) -> bool: ...
    async def rate(
        self, occurrence_key: str, youth_code: str, therapist_code: str, item: str,
        value: str, now: datetime,
    ) -> None: ...
    async def ratings(self, occurrence_key: str, youth_code: str) -> dict[str, str]: ...
    async def add_outbox(self, rows: list[NewOutbox], now: datetime) -> int: ...
    async def outbox_by_ref(self, ref: str) -> OutboxItem | None: ...
    async def add_alert(self, alert: NewAlert, now: datetime) -> bool: ...
    async def alert_by_ref(self, ref: str) -> Alert | None: ...
    async def ack_alert(self, ref: str, now: datetime, by: str = "therapist") -> bool: ...
    async def recent_rating_requests(
        self, therapist_code: str, since: datetime
    ) -> list[OutboxItem]: ...


class CrisisRepo(Protocol):
    async def add_unit(self, code: str, language: Language, now: datetime) -> None: ...
    async def unit(self, code: str) -> Unit | None: ...
    async def all_units(self) -> list[Unit]: ...
    async def bind_unit(self, token_digest: str, pseudonym: str, chat_id_enc: bytes,
                        now: datetime) -> BindOutcome: ...
    async def units_of_contact(self, pseudonym: str) -> list[Unit]: ...
    async def youth_unit(self, code: str) -> str | None: ...
    async def active_youths(self) -> list[Youth]: ...
    async def youth_units(self) -> dict[str, str | None]: ...
    async def urgent_alerts(self, since: datetime) -> list[Alert]: ...
    async def open_urgent_alert(self, youth_code: str, reason: str,
                                since: datetime) -> Alert | None: ...
    async def add_deliveries(self, alert_id: int, recipients: list[str],
                             now: datetime) -> int: ...
    async def deliveries(self, alert_id: int) -> list[AlertDelivery]: ...
    async def delivery_sent(self, delivery_id: int, now: datetime) -> None: ...
    async def delivery_failed(self, delivery_id: int, state: str, error: str,
                              retry_at: datetime, now: datetime) -> None: ...
    async def ack_told(self, delivery_id: int, now: datetime) -> None: ...
    async def set_nobody(self, alert_id: int, since: datetime | None) -> None: ...
    async def unreached_alerts(self) -> list[Alert]: ...
    async def crisis_in_checkin(self, checkin_id: int) -> bool: ...


class PrivacyRepo(Protocol):
    async def set_consent(self, pseudonym: str, consent: Consent, agree: bool,
                          now: datetime) -> None: ...
    async def has_consent(self, pseudonym: str, scope: str) -> bool: ...
    async def consents_of(self, pseudonym: str) -> list[ConsentRecord]: ...
    async def codes_with_consent(self, scope: str) -> frozenset[str]: ...
    async def consent_request_due(self, youth_code: str, version: str,
                                  now: datetime) -> bool: ...
    async def consent_request_sent(self, youth_code: str, version: str,
                                   now: datetime) -> None: ...
    async def purge(self, kind: DataKind, before: datetime, *, dry_run: bool = False) -> int: ...
    async def last_retention_day(self) -> date | None: ...
    async def record_retention_run(self, day: date, report: str, now: datetime) -> bool: ...
    async def export_rows(self, research_only: bool) -> list[ExportRow]: ...
    async def append_audit(self, actor: str, action: str, youth_code: str, detail: str,
                           now: datetime) -> AuditEntry: ...
    async def audit_entries(self) -> list[AuditEntry]: ...
    async def erase_youth(self, code: str, now: datetime) -> bool: ...
    wal_truncate_pending: bool   # an erasure's WAL truncate could not complete yet
    async def truncate_wal(self, attempts: int = 5, first_wait: float = 0.05) -> bool: ...
    async def is_erased(self, code: str) -> bool: ...
    async def guardian_research_consent(self, code: str) -> date | None: ...
    async def subject_records(self, code: str, pseudonym: str) -> SubjectRecords: ...
    async def set_guardian_research_consent(self, code: str, when: date) -> bool: ...
    async def unbind_youth(self, code: str, now: datetime) -> bool: ...
    async def unbind_therapist(self, code: str, now: datetime) -> bool: ...
    async def unbind_unit(self, code: str, now: datetime) -> bool: ...
    async def move_youths(self, from_code: str, to_code: str, now: datetime) -> list[str]: ...
    async def move_youth(self, code: str, to_code: str, now: datetime) -> bool: ...


class ErasureJournal(Protocol):
    """Where an erasure is written down outside the database before it runs, so that a
    restore from an older backup erases again at start-up (storage.erasure_log)."""

    def record(self, youth_code: str, when: datetime) -> None: ...


class ScheduleRepo(Protocol):
    async def add_series(self, new: NewSeries, now: datetime) -> int: ...
    async def all_series(self) -> list[Series]: ...
    async def set_series_paused(self, series_id: int, paused: bool) -> bool: ...
    async def add_change(self, change: Change, now: datetime) -> None: ...
    async def changes(self) -> list[Change]: ...
    async def add_window(self, window: PhoneWindow) -> None: ...
    async def windows_for(self, youth_code: str) -> tuple[list[Window], list[Window]]: ...
    async def channel_facts(self, youth_codes: Collection[str]) -> dict[str, ChannelFacts]: ...
    async def set_unit(self, youth_code: str, unit: str) -> bool: ...
    async def plan_work(self, until: datetime, rules: str, after: int = ...,
                        limit: int = ...) -> PlanWork: ...
    async def save_plan(self, rows: list[PlannedRow], others: list[NewOutbox],
                        marks: list[PlanMark], change_mark: int, now: datetime) -> int: ...


class OutboxRepo(Protocol):
    owner: str  # this process instance: the owner of the rows it claims

    async def upsert_planned(self, rows: list[PlannedRow], now: datetime) -> int: ...
    async def cancel_pending(
        self, occurrence_prefix: str, reason: str, now: datetime
    ) -> int: ...
    async def due_items(self, now: datetime, limit: int) -> list[OutboxItem]: ...
    async def claim(self, item_id: int, now: datetime,
                    lease: timedelta = ...) -> bool: ...
    async def finish(
        self, item_id: int, state: OutboxState, now: datetime, error: str | None = None
    ) -> None: ...
    async def retry_later(
        self, item_id: int, at: datetime, error: str, now: datetime
    ) -> None: ...
    async def release_sending(self, now: datetime | None = None,
                              dead_owners: Collection[str] = ()) -> int: ...
    async def release_expired(self, now: datetime) -> int: ...
    async def sending_owners(self) -> set[str]: ...
    async def next_due(self) -> datetime | None: ...
    async def expire_overdue(self, now: datetime) -> int: ...
    async def mark_unreachable(self, youth_code: str, now: datetime) -> None: ...
    async def compliance(self, now: datetime) -> list[Compliance]: ...


@dataclass(frozen=True)
class ConsoleGrant:
    """Who a console sign-in link or session is for: the audit actor (never a Telegram
    id), the roles, and the therapist code or unit the roles apply to."""

    actor: str
    roles: tuple[str, ...]
    therapist_code: str | None
    unit: str | None
    language: Language


@dataclass(frozen=True)
class LinkOutcome:
    result: str                 # "ok", "used", "expired" or "unknown"
    grant: ConsoleGrant | None  # only with "ok"


@dataclass(frozen=True)
class ConsoleSession:
    grant: ConsoleGrant
    csrf: str
    created_at: datetime
    last_seen: datetime
    ended_at: datetime | None


class ConsoleRepo(Protocol):
    """The web console's single-use sign-in links and server-side sessions (digests)."""

    async def add_console_link(self, token_digest: str, grant: ConsoleGrant, now: datetime,
                               expires_at: datetime) -> None: ...
    async def redeem_console_link(self, token_digest: str, now: datetime) -> LinkOutcome: ...
    async def add_console_session(self, id_digest: str, grant: ConsoleGrant, csrf: str,
                                  now: datetime) -> None: ...
    async def console_session(self, id_digest: str) -> ConsoleSession | None: ...
    async def touch_console_session(self, id_digest: str, now: datetime) -> None: ...
    async def set_console_language(self, id_digest: str, language: Language) -> None: ...
    async def end_console_session(self, id_digest: str, now: datetime) -> bool: ...
    async def end_console_sessions_of(self, actor: str, now: datetime) -> int: ...
    async def open_invites(self, now: datetime) -> dict[tuple[str, str], datetime]: ...


class ButtonRepo(Protocol):
    async def bind_buttons(self, nonce: str, message_id: int | None, now: datetime) -> None: ...
    async def buttons_on(self, nonce: str, message_id: int) -> bool: ...
    async def record_invite_decline(self, youth_code: str, consent: Consent,
                                    now: datetime) -> None: ...
    async def codes_declined_at_invite(self) -> frozenset[str]: ...


class SealedKind(StrEnum):
    """The encrypted columns: chat ids (contact keys) and free text (text keys)."""

    CONTACTS = "contacts"          # contacts.chat_id_enc
    NOTES = "notes"                # notes.text_enc
    CRISIS_TEXTS = "crisis texts"  # crisis_flags.text_enc
    CRISIS_RULES = "crisis rules"  # alerts.detail of crisis alerts (the matched rule)


class SealedRepo(Protocol):
    async def sealed_batch(self, kind: SealedKind, after: int,
                           limit: int) -> list[tuple[int, bytes]]: ...
    async def replace_sealed(self, kind: SealedKind,
                             changes: Sequence[tuple[int, bytes, bytes]]) -> int: ...


class LoopRepo(Protocol):
    """Closing the clinical loop: simple mode, the youth's own line, discussed alerts."""

    async def set_simple_mode(self, youth_code: str, on: bool) -> bool | None: ...
    async def recent_checkins(self, youth_pseudonym: str, limit: int) -> list[Checkin]: ...
    async def discuss_alert(self, ref: str, now: datetime, by: str = ...) -> bool: ...
    async def undiscussed_alerts(self, youth_code: str, therapist_code: str,
                                 since: datetime) -> list[Alert]: ...
    async def export_alerts(self, research_only: bool) -> list[AlertExportRow]: ...
    async def rupture_alerts(self, therapist_code: str) -> list[Alert]: ...
    async def session_notes(self, youth_code: str) -> dict[str, SessionNote]: ...
    async def rating_requests_for(self, occurrence_key: str,
                                  therapist_code: str) -> list[OutboxItem]: ...


@dataclass(frozen=True)
class ChannelChange:
    """One change of a youth's channel: the newest is the setting, the rest its history."""

    channel: Channel
    changed_at: datetime
    actor: str
    reason: str


@dataclass(frozen=True)
class KioskDevice:
    """A registered tablet (known by the digest of its cookie) and its wrong-code count."""

    id: int
    unit_code: str
    label: str
    state: DeviceState


@dataclass(frozen=True)
class NewKioskCode:
    code_digest: str
    code_enc: bytes
    checkin_id: int
    youth_code: str
    therapist_code: str
    unit_code: str | None
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class KioskCode:
    """A code as stored: which check-in it opens, and whether it may still."""

    id: int
    checkin_id: int
    youth_code: str
    therapist_code: str
    unit_code: str | None
    code_enc: bytes | None
    created_at: datetime
    state: CodeState


@dataclass(frozen=True)
class KioskSession:
    """A code redeemed on a tablet: the page's key to one check-in, for a short while."""

    code: KioskCode
    device_id: int
    touched_at: datetime
    ended: bool
    crisis: bool


class KioskRepo(Protocol):
    async def checkin_by_id(self, checkin_id: int) -> Checkin | None: ...
    async def channel_history(self, youth_code: str) -> list[ChannelChange]: ...
    async def add_channel_change(self, youth_code: str, change: ChannelChange) -> None: ...
    async def set_youth_pseudonym(self, youth_code: str, pseudonym: str) -> bool: ...
    async def add_kiosk_device(self, token_digest: str, unit_code: str, label: str,
                               by: str, now: datetime) -> int: ...
    async def kiosk_device(self, token_digest: str) -> KioskDevice | None: ...
    async def kiosk_devices(self) -> list[KioskDevice]: ...
    async def retire_kiosk_device(self, device_id: int, now: datetime) -> bool: ...
    async def unlock_kiosk_device(self, device_id: int) -> bool: ...
    async def add_kiosk_code(self, new: NewKioskCode) -> int | None: ...
    async def kiosk_code_by_digest(self, code_digest: str, unit_code: str
                                   ) -> KioskCode | None: ...
    async def kiosk_codes_of_checkin(self, checkin_id: int) -> list[KioskCode]: ...
    async def live_kiosk_codes(self, therapist_code: str | None,
                               now: datetime) -> list[KioskCode]: ...
    async def kiosk_wrong_try(self, device_id: int, failures: int, lock: bool,
                              unit_code: str, now: datetime) -> None: ...
    async def open_kiosk_session(self, token_digest: str, code_id: int, device_id: int,
                                 now: datetime) -> bool: ...
    async def kiosk_session(self, token_digest: str) -> KioskSession | None: ...
    async def touch_kiosk_session(self, token_digest: str, now: datetime,
                                  crisis: bool = False) -> None: ...
    async def end_kiosk_session(self, token_digest: str, now: datetime) -> None: ...
    async def drop_spent_kiosk_codes(self, now: datetime) -> int: ...


class PagesRepo(Protocol):
    """What only the console's pages read (storage/sqlite_pages.py)."""

    async def alerts_since(self, since: datetime,
                           therapist_code: str | None = None) -> list[Alert]: ...
    async def all_windows(self) -> list[PhoneWindow]: ...


class Store(EnrolmentRepo, CheckinRepo, ScheduleRepo, OutboxRepo, TherapistRepo,
            PrivacyRepo, ButtonRepo, CrisisRepo, SealedRepo, LoopRepo, ConsoleRepo, PagesRepo,
            KioskRepo,
            Protocol):
    """Everything the bot needs from storage, plus life-cycle."""

    async def close(self) -> None: ...
    async def backup(self, target: Path) -> None: ...
