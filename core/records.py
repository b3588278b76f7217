"""The domain's nouns: the records the storage ports take and return.

Plain frozen dataclasses and enums, no I/O: the core, the use cases and every storage
backend speak in these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from core.analytics import SessionPoint, to_point
from core.delivery import Kind, Planned, Window
from core.flow import Status
from core.kiosk import Channel, ChannelFacts, CodeState, DeviceState
from core.questionnaire import Discipline, Language, faces_aligned
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
    `caught_up`: of the series planned in full, those that were being planned before
    (their mark had a next session: not paused, not ended), with that mark's
    `next_start`: what follows a session was planned for every session before it, so a
    full pass after an outage plans it from there (scheduler.planner).
    """

    change_mark: int
    series: list[tuple[Series, datetime | None]]
    changes: list[Change]
    windows: dict[str, tuple[list[Window], list[Window]]]  # youth: own, unit's
    channels: dict[str, ChannelFacts] = field(default_factory=dict)  # youth: channel facts
    caught_up: dict[int, datetime] = field(default_factory=dict)  # series id: next_start


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


class SealedKind(StrEnum):
    """The encrypted columns: chat ids (contact keys) and free text (text keys)."""

    CONTACTS = "contacts"          # contacts.chat_id_enc
    NOTES = "notes"                # notes.text_enc
    CRISIS_TEXTS = "crisis texts"  # crisis_flags.text_enc
    CRISIS_RULES = "crisis rules"  # alerts.detail of crisis alerts (the matched rule)


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
