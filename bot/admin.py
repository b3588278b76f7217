"""The operator's use cases on the server: read, export, back up, rotate keys, retention
(the people use cases, shared with the console, are in conversations.people).

Each one checks, writes, writes its audit entry (NEN 7513: who, when, whom, what) and
returns what happened as data; a refusal is an `EnrolmentRefused` saying why, before any
write it should not cause. The command line prints the result, the web console shows it:
neither audits nor branches itself. `actor` names who asked, for the audit trail
(`conversations.enrolment.cli_actor()` on the command line, the signed-in staff member on the web).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.keyrotation import RotationCount, rotate_all
from conversations.enrolment import EnrolmentRefused
from conversations.services import Services
from core.questionnaire import Language
from core.records import SealedKind
from core.retention import RetentionPolicy, RetentionReport
from storage.sqlite import SqliteStore

if TYPE_CHECKING:
    from reports.weekly import WeeklyReport

async def backup(services: Services, actor: str, out: Path) -> None:
    """Copy the live SQLite database to `out` (storage.private_files.UnsafeTarget if
    unsafe). A backup is a tool of the backend, not a port method: another backend is
    backed up with its own tools (PostgreSQL: pg_dump), and this says so."""
    store = services.store
    if not isinstance(store, SqliteStore):
        raise EnrolmentRefused("backup copies the SQLite database; back up this database "
                               "with its own tools (PostgreSQL: pg_dump)")
    await store.backup(out)
    await services.audit(actor, "backup", "", str(out))


async def export(services: Services, actor: str, out: Path, *, full: bool) -> int:
    """Write the research export (or `full`: the institution's own data); return how
    many youths it holds."""
    from bot.export import export as write_export  # noqa: PLC0415 - keeps --help fast

    youths = await write_export(services.store, out, full=full, now=services.clock())
    kind = "full" if full else "research"
    await services.audit(actor, f"export:{kind}", "", f"{youths} youths to {out}")
    return youths


async def weekly_report(services: Services, actor: str, therapist_code: str, week: str,
                        lang: Language | None = None) -> WeeklyReport:
    """A therapist's weekly report for ISO week `week`, in `lang` or theirs; audited."""
    from conversations.reporting import weekly_report as build  # noqa: PLC0415 - keeps --help fast

    therapist = await services.store.therapist(therapist_code)
    if therapist is None:
        raise EnrolmentRefused(f"unknown therapist code {therapist_code}")
    await services.audit(actor, "read:report", "", f"{therapist.code} {week}")
    return await build(services.store, therapist.code, week, services.timezone,
                       lang or therapist.language, missed_after=services.missed_alert_after)


async def rotate_keys(services: Services, actor: str, progress: Callable[[str], None],
                      batch: int) -> dict[SealedKind, RotationCount]:
    """Re-encrypt every chat id and free text under the newest keys; audited."""
    counts = await rotate_all(services.store, services.cipher, progress, batch)
    await services.audit(actor, "rotate-keys", "",
                         "; ".join(count.line(kind) for kind, count in counts.items()))
    return counts


async def retention(services: Services, actor: str, policy: RetentionPolicy,
                    now: datetime, *, dry_run: bool) -> RetentionReport:
    """Remove (or, dry, count) data older than the retention periods; a real run is
    audited."""
    from scheduler.retention import apply_policy  # noqa: PLC0415 - keeps --help fast

    report = await apply_policy(services, policy, now, dry_run=dry_run)
    if not dry_run:
        await services.audit(actor, "retention", "", report.summary())
    return report
