"""The command line: `python -m bot COMMAND --help` for each command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, cast
from zoneinfo import ZoneInfo

from bot import admin, console_cli, crisis_cli, kiosk_cli, schedule_cli
from bot.config import (
    ConfigError,
    Secrets,
    Settings,
    consent_texts,
    load_settings,
    startup_warnings,
)
from bot.logsafe import configure_logging, redact
from bot.schedule_cli import local_label
from conversations import people, usecases
from conversations.enrolment import (
    CODE,
    UNIT,
    EnrolmentRefused,
    Invitation,
    cli_actor,
    parse_guardian_date,
)
from conversations.services import Services
from core.identity import new_key
from core.questionnaire import DISCIPLINES, Discipline, Language
from core.records import NewYouth
from storage.postgres.urls import secrets_of
from storage.private_files import (
    UnsafeTarget,
    create_secret,
    private_dir,
    private_umask,
    write_atomic,
)

EXIT_USAGE = 2
# sysexits' EX_CONFIG: a refused token is not fixed by restarting (RestartPreventExitStatus).
EXIT_TOKEN_REFUSED = 78
TOKEN_REFUSED = ("Telegram refused the bot token (401): check VAKBOT_TELEGRAM__TOKEN / "  # noqa: S105
                 "telegram.token_file")
# The names config.example.toml gives the key files and the token file.
KEY_FILES = ("vakbot-pseudonym.key", "vakbot-contact.key", "vakbot-text.key")
TOKEN_FILE = "vakbot-token"  # noqa: S105 - a file name
# Seconds between attempts to reach the Bot API at start-up: 1, 2, 4, ... at most 60.
RETRY_CAP = 60.0


def _code(text: str) -> str:
    if not CODE.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a code like J-014 (capital letters, a dash, digits); "
            "codes keep names out of the data"
        )
    return text


def _date_text(text: str) -> str:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-28") from None
    return text


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1")
    return int(text)


class _Parser(argparse.ArgumentParser):
    """An argument error is one line (which argument, what is wrong) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _unit(text: str) -> str:
    if not UNIT.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a unit code like W-1 (letters, digits, - or _, at most 20)")
    return text


Command = Callable[[str, str], argparse.ArgumentParser]


def _privacy_parsers(command: Command) -> None:
    """Exports, unbinding, the audit trail, retention, consent texts and backups."""
    p = command("export", "Write a de-identified research export (or --full for the "
                          "institution's own data) as CSV plus a codebook.")
    p.add_argument("--out", type=Path, required=True, help="a folder")
    p.add_argument("--full", action="store_true", help="coordinators: codes and real "
                   "dates of every youth, still without free text")

    p = command("unbind", "Unlink a youth's Telegram account (lost or confiscated phone) "
                          "and print a new invite link.")
    p.add_argument("--code", type=_code, required=True)

    p = command("unbind-therapist", "Cut a therapist's Telegram account off (lost phone, "
                                    "departure) at once and print a new invite link.")
    p.add_argument("--code", type=_code, required=True, help="therapist code, e.g. T-02")

    p = command("unbind-unit", "Cut a unit's on-call phone off at once and print the link "
                               "for the next phone.")
    p.add_argument("--unit", type=_unit, required=True, help="unit code, e.g. W-1")

    p = command("move-youths", "Give every youth of one therapist to another (a therapist "
                               "leaving); past sessions stay with who held them.")
    p.add_argument("--from", dest="from_code", type=_code, required=True, metavar="T-02")
    p.add_argument("--to", dest="to_code", type=_code, required=True, metavar="T-05")

    p = command("audit", "Verify or show the tamper-evident audit trail.")
    p.add_argument("action", choices=["verify", "show"])
    p.add_argument("--youth", type=_code, help="show: only entries about this youth")
    p.add_argument("--last", type=_positive, default=50, help="show: the last N entries")

    p = command("retention", "Remove data older than the configured retention periods now "
                             "(the bot also does this daily); --dry-run only counts.")
    p.add_argument("--dry-run", action="store_true", help="count, remove nothing")

    p = command("consent-texts", "List every published consent text with its SHA-256, or "
                                 "print one: what a youth was shown, recoverable.")
    p.add_argument("--version", help="e.g. participation-1: print this text")
    p.add_argument("--lang", choices=["nl", "en"], default="nl")

    p = command("backup", "Copy the live database with SQLite's online backup (a 0600 "
                          "file, written whole and then renamed into place).")
    p.add_argument("--out", type=Path, required=True, help="a file other than the database")

    p = command("rotate-keys", "Re-encrypt every chat id and free text under the newest "
                               "contact and text keys (the first one listed); restartable.")
    p.add_argument("--batch", type=_positive, default=500, help="rows per transaction "
                   "(default 500)")


def _add_set_simple(p: argparse.ArgumentParser) -> None:
    p.add_argument("--code", type=_code, required=True, help="youth code")
    onoff = p.add_mutually_exclusive_group(required=True)
    onoff.add_argument("--on", dest="simple", action="store_true",
                       help="3 answers: sad, neutral, happy")
    onoff.add_argument("--off", dest="simple", action="store_false",
                       help="5 answers (the default)")


def _add_guardian_research(p: argparse.ArgumentParser) -> None:
    p.add_argument("--code", type=_code, required=True, help="youth code")
    p.add_argument("--date", metavar="YYYY-MM-DD", type=_date_text, required=True)


def _parser() -> argparse.ArgumentParser:  # noqa: PLR0915 - one block per command
    parser = _Parser(
        prog="python -m bot",
        description="Alliance check-in bot for arts therapy in secure youth care.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name not in ("new-keys", "demo"):
            p.add_argument("--config", type=Path, default=Path("config.toml"),
                           help="configuration file (default: config.toml)")
        return p

    command("check-config", "Check the configuration; print each problem as `field: problem`.")
    command("run", "Run the bot (long polling or webhook, as configured) until stopped.")
    keys = command("new-keys", "Print fresh keys for the environment, or write key files.")
    keys.add_argument("--dir", type=Path, help="write vakbot-pseudonym.key, "
                      "vakbot-contact.key and vakbot-text.key here, mode 600 (the names "
                      "config.example.toml expects); existing key files are never replaced")

    p = command("enroll-therapist", "Enrol a therapist and print a single-use invite link.")
    p.add_argument("--code", type=_code, required=True, help="therapist code, e.g. T-02")
    p.add_argument("--language", choices=["nl", "en"], default="nl")

    p = command("enroll-youth", "Enrol a youth and print a single-use invite link.")
    p.add_argument("--code", type=_code, required=True, help="youth code, e.g. J-014")
    p.add_argument("--therapist", type=_code, required=True, help="therapist code, e.g. T-02")
    p.add_argument("--birth-year", type=int, required=True)
    p.add_argument("--language", choices=["nl", "en"], default="nl")
    p.add_argument("--simple", action="store_true", help="3-point answers instead of 5")
    p.add_argument("--guardian-consent-date", metavar="YYYY-MM-DD", type=_date_text,
                   help="date the guardian's consent was filed (required below 16)")
    p.add_argument("--unit", type=_unit, help="the youth's unit (ward): its phone hours "
                   "and its 24/7 crisis contact (default: units.default_unit)")
    p.add_argument("--guardian-research-consent-date", metavar="YYYY-MM-DD", type=_date_text,
                   help="date the guardian's consent to research use was filed (below 16 "
                   "the research question is not asked without it)")

    p = command("invite", "Print a new single-use invite link for a youth or therapist "
                          "who has not joined, or (--unit) for a unit's on-call phone.")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--code", type=_code)
    who.add_argument("--unit", type=_unit, help="a unit's crisis contact that has no "
                     "linked phone (to replace a linked phone: unbind-unit)")

    p = command("enroll-unit", "Enrol a unit (ward) and print the invite link its 24/7 "
                               "crisis contact (group staff's on-call phone) opens.")
    p.add_argument("--unit", type=_unit, required=True, help="unit code, e.g. W-1")
    p.add_argument("--language", choices=["nl", "en"], default="nl")

    p = command("set-unit", "Set the unit of an enrolled youth (its phone hours and its "
                            "crisis contact).")
    p.add_argument("--code", type=_code, required=True, help="youth code")
    p.add_argument("--unit", type=_unit, required=True, help="unit code, e.g. W-1")

    _add_set_simple(command("set-simple", "Switch a youth's simple (3-point) answers on or "
                                          "off; it applies from the next check-in."))

    _add_guardian_research(command(
        "guardian-research-consent", "Record the date a guardian's consent to research "
        "use was filed, for a youth who may be under 16."))

    p = command("send-checkin", "Queue the check-in for a session that just ended; "
                                "the running bot sends it (quiet hours hold it).")
    p.add_argument("--code", type=_code, required=True, help="youth code")
    p.add_argument("--discipline", choices=DISCIPLINES,
                   help="the session's discipline; adds the question about the medium")
    p.add_argument("--occurrence", help="unique key of the session (default: now)")
    p.add_argument("--now", action="store_true", help="send at once, even in quiet hours "
                   "or outside the youth's phone hours (default: the running bot sends it "
                   "at the next allowed moment)")

    p = command("report", "Render a therapist's weekly trend image offline.")
    p.add_argument("--therapist", type=_code, required=True)
    p.add_argument("--week", required=True, help="ISO week, e.g. 2026-W48")
    p.add_argument("--out", type=Path, required=True, help="PNG file; a large caseload "
                   "adds -2, -3 ... files")
    p.add_argument("--lang", choices=["nl", "en"], help="default: the therapist's language")

    _privacy_parsers(command)
    schedule_cli.add_parsers(sub, command)
    crisis_cli.add_parsers(sub)
    console_cli.add_parsers(sub, command)
    kiosk_cli.add_parsers(command)

    p = command("demo", "Run an offline demo against the built-in fake Telegram.")
    p.add_argument("--lang", choices=["nl", "en"], default="nl")
    p.add_argument("--out", type=Path, default=Path("demo-output"))
    return parser


def _load(path: Path) -> tuple[Settings, Secrets]:
    settings, secrets = load_settings(path)
    url = settings.storage.url
    # The PostgreSQL password (when the URL carries one) is redacted like the keys.
    database_secrets = secrets_of(url.get_secret_value()) if url is not None else []
    configure_logging(settings.logging.level, secrets.all_secret_values() + database_secrets)
    return settings, secrets


def _now() -> datetime:
    return datetime.now(UTC)


def _local(moment: datetime, settings: Settings, fmt: str) -> tuple[str, str]:
    """`moment` in the configured zone (schedule.timezone), and the zone's place name
    ("Amsterdam") for the words "... time"."""
    zone = ZoneInfo(settings.schedule.timezone)
    return moment.astimezone(zone).strftime(fmt), zone.key.rpartition("/")[2].replace("_", " ")


def _print_invite(invitation: Invitation, username: str, settings: Settings) -> None:
    until, zone = _local(invitation.expires_at, settings, "%Y-%m-%d %H:%M")
    print(f"Invite link for {invitation.code} (works once, until {until} {zone} time):")
    print(f"  {invitation.link(username)}")
    print("Give it to the youth in person; it binds the first Telegram account that uses it.")


async def _bot_username(settings: Settings, secrets: Secrets) -> str:
    if settings.telegram.bot_username:
        return settings.telegram.bot_username
    from bot.wiring import make_bot  # noqa: PLC0415 - keeps --help fast

    async with make_bot(settings, secrets) as bot:
        return bot.username


async def _with_store(
    settings: Settings, secrets: Secrets,
    work: Callable[[Services], Awaitable[int]],
) -> int:
    from bot.wiring import with_services  # noqa: PLC0415 - keeps --help fast

    return await with_services(settings, secrets, work, _now)


async def _enroll_youth(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    youth = NewYouth(args.code, args.therapist, args.birth_year,
                     cast(Language, args.language), args.simple,
                     parse_guardian_date(args.guardian_consent_date))
    research_date = parse_guardian_date(args.guardian_research_consent_date,
                                        "--guardian-research-consent-date")

    async def work(services: Services) -> int:
        enrolled = await people.enroll_youth(services, cli_actor(), youth, unit=args.unit,
                                            research_date=research_date)
        if not enrolled.unit_linked:
            print(f"warning: unit {enrolled.unit} has no linked crisis contact yet; run "
                  f"`enroll-unit --unit {enrolled.unit}` before the youth starts",
                  file=sys.stderr)
        mode = "3-point simple" if youth.simple_mode else "5-point"
        print(f"Enrolled {youth.code}: therapist {youth.therapist_code}, "
              f"language {youth.language}, {mode} scale.")
        _print_invite(enrolled.invitation, await _bot_username(settings, secrets), settings)
        return 0

    return await _with_store(settings, secrets, work)


async def _guardian_research(args: argparse.Namespace, settings: Settings,
                             secrets: Secrets) -> int:
    when = parse_guardian_date(args.date, "--date")
    assert when is not None

    async def work(services: Services) -> int:
        await people.record_guardian_research(services, cli_actor(), args.code, when)
        print(f"Recorded for {args.code}: the guardian's consent to research use, filed "
              f"{when.isoformat()}. The youth can now choose research in /research.")
        return 0

    return await _with_store(settings, secrets, work)


async def _invite(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        if args.unit is not None:
            invitation = await people.invite_unit(services, cli_actor(), args.unit)
            _print_unit_invite(invitation, await _bot_username(settings, secrets), settings)
            return 0
        invitation = (await people.invite(services, cli_actor(), args.code)).invitation
        if invitation.revoked:
            print(f"{invitation.revoked} older link(s) for {args.code} no longer work.")
        _print_invite(invitation, await _bot_username(settings, secrets), settings)
        return 0

    return await _with_store(settings, secrets, work)


def _print_unit_invite(invitation: Invitation, username: str, settings: Settings) -> None:
    until, zone = _local(invitation.expires_at, settings, "%Y-%m-%d %H:%M")
    print(f"Invite link for the crisis contact of unit {invitation.code} (works once, until "
          f"{until} {zone} time):")
    print(f"  {invitation.link(username)}")
    print("Open it on the unit's on-call phone: the Telegram account that is with the group "
          "staff day and night. Crisis alerts for the unit's youths go there.")


async def _enroll_unit(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        invitation = await people.enroll_unit(services, cli_actor(), args.unit, args.language)
        print(f"Enrolled unit {args.unit} (language {args.language}).")
        _print_unit_invite(invitation, await _bot_username(settings, secrets), settings)
        return 0

    return await _with_store(settings, secrets, work)


async def _set_unit(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        linked = await people.set_unit(services, cli_actor(), args.code, args.unit)
        print(f"{args.code} is now on unit {args.unit}.")
        if not linked:
            print(f"warning: unit {args.unit} has no linked crisis contact yet; run "
                  f"`enroll-unit --unit {args.unit}` (or `invite --unit {args.unit}`)",
                  file=sys.stderr)
        return 0

    return await _with_store(settings, secrets, work)


async def _set_simple(args: argparse.Namespace, settings: Settings,
                      secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        changed = await people.set_simple(services, cli_actor(), args.code, args.simple)
        mode = "3 answers (simple)" if args.simple else "5 answers"
        if changed:
            print(f"{args.code} now gets {mode}, from the next check-in.")
        else:
            print(f"{args.code} already gets {mode}; nothing changed.")
        return 0

    return await _with_store(settings, secrets, work)


async def _check_routes(settings: Settings, secrets: Secrets) -> int:
    """The crisis route of every enrolled youth (when there is a database to look in)."""
    from bot.wiring import open_services  # noqa: PLC0415 - keeps --help fast
    from conversations.crisis import route_check  # noqa: PLC0415 - keeps --help fast
    from core.crisis_route import check_routes  # noqa: PLC0415

    coordinators = len(settings.coordinators.telegram_ids)
    if settings.storage.url is not None or settings.storage.database.exists():
        services = await open_services(settings, secrets)
        try:
            result = await route_check(services, coordinators)
        finally:
            await services.store.close()
    else:
        result = check_routes([], frozenset(), coordinators, settings.units.default_unit)
    for warning in result.warnings:
        print(f"warning: crisis route: {warning}")
    for problem in result.problems:
        print(f"crisis route: {problem}")
    return EXIT_USAGE if result.problems else 0


async def _enroll_therapist(args: argparse.Namespace, settings: Settings,
                            secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        invitation = await people.enroll_therapist(services, cli_actor(), args.code,
                                                  args.language)
        print(f"Enrolled therapist {args.code} (language {args.language}).")
        _print_invite(invitation, await _bot_username(settings, secrets), settings)
        return 0

    return await _with_store(settings, secrets, work)


async def _send_checkin(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    """Queue a check-in for the running bot, held to the next allowed moment (or --now)."""
    from bot.rules import delivery_rules  # noqa: PLC0415 - keeps --help fast
    from bot.wiring import make_bot  # noqa: PLC0415 - keeps --help fast
    from conversations.telegram_io import TelegramChannel  # noqa: PLC0415
    from scheduler.manual import queue_checkin, send_queued_now  # noqa: PLC0415

    occurrence = args.occurrence or f"manual-{_now().strftime('%Y%m%dT%H%M%SZ')}"
    discipline = cast(Discipline | None, args.discipline)
    zone = settings.schedule.timezone
    quiet = (f"{settings.schedule.quiet_start.strftime('%H:%M')}-"
             f"{settings.schedule.quiet_end.strftime('%H:%M')}")

    async def work(services: Services) -> int:
        queued = await queue_checkin(services, args.code, occurrence, discipline,
                                     delivery_rules(settings), now_anyway=args.now)
        session = f"{args.code} (session {occurrence})"
        if not queued.new:
            print(f"The check-in for {session} was queued or sent already; nothing added.")
            return 0
        if args.now:
            async with make_bot(settings, secrets) as bot:
                sent = await send_queued_now(services, TelegramChannel(services, bot),
                                             args.code, occurrence, discipline)
            why = (f" although it is quiet hours ({quiet}) or outside {args.code}'s phone "
                   "hours, as asked with --now") if queued.held else ""
            print(f"Check-in sent to {session} now{why}." if sent else
                  f"Check-in for {session} queued; the running bot is sending it.")
            return 0
        if queued.held:
            print(f"Check-in for {session} queued for "
                  f"{local_label(queued.due_at, zone)}: no messages in quiet hours ({quiet}) "
                  f"or outside {args.code}'s phone hours. The running bot sends it then; "
                  "use --now to send it at once.")
        else:
            print(f"Check-in for {session} queued; the running bot sends it within a minute.")
        return 0

    return await _with_store(settings, secrets, work)


async def _report(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from reports.weekly import week_end  # noqa: PLC0415 - keeps --help fast

    if not re.fullmatch(r"\d{4}-W\d{2}", args.week):
        print(f"refused: --week {args.week!r} is not like 2026-W48", file=sys.stderr)
        return EXIT_USAGE
    try:
        week_end(args.week, settings.schedule.timezone)
    except ValueError:
        print(f"refused: --week {args.week!r}: no such week (a year has weeks 01 to 52, "
              "some 53)", file=sys.stderr)
        return EXIT_USAGE
    if args.out.is_dir():
        print(f"refused: --out {args.out}: is a folder; give a file name like week.png",
              file=sys.stderr)
        return EXIT_USAGE

    async def work(services: Services) -> int:
        report = await admin.weekly_report(services, cli_actor(), args.therapist, args.week,
                                           args.lang)
        for n, image in enumerate(report.images):
            target = args.out if n == 0 else args.out.with_stem(f"{args.out.stem}-{n + 1}")
            write_atomic(target, image.png)  # 0600 in a 0700 folder: codes and ratings
            print(f"wrote {target} ({image.width}x{image.height}, youths: "
                  f"{', '.join(image.panels) or 'none'})")
        print(f"caption: {report.caption}")
        return 0

    return await _with_store(settings, secrets, work)


async def _export(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    if args.out.exists() and not args.out.is_dir():
        print(f"refused: --out {args.out}: is a file; give a folder", file=sys.stderr)
        return EXIT_USAGE

    async def work(services: Services) -> int:
        youths = await admin.export(services, cli_actor(), args.out, full=args.full)
        kind = "full" if args.full else "research"
        print(f"{kind} export of {youths} youth(s): {args.out / 'answers_long.csv'}, "
              f"{args.out / 'codebook.md'}")
        return 0

    return await _with_store(settings, secrets, work)


async def _retention(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    policy = settings.retention.policy()
    if not policy.days:
        print("No retention periods are configured ([retention] in the config): "
              "everything is kept.")
        return 0

    async def work(services: Services) -> int:
        now = _now()
        report = await admin.retention(services, cli_actor(), policy, now,
                                       dry_run=args.dry_run)
        cutoffs = policy.cutoffs(now)
        verb = "would remove" if args.dry_run else "removed"
        for kind, n in report.removed.items():
            before, _ = _local(cutoffs[kind], settings, "%Y-%m-%d")
            print(f"{kind.value:<13} older than {before}: {verb} {n}")
        return 0

    return await _with_store(settings, secrets, work)


def _consent_texts(args: argparse.Namespace, settings: Settings) -> int:
    catalogue = consent_texts(settings)   # as youths see them, with the digests stored
    if args.version is None:
        for text in sorted(catalogue.texts, key=lambda t: (t.scope, t.number)):
            current = " (asked now)" if catalogue.current(text.scope) == text else ""
            print(f"{text.version}{current}: nl {text.sha256('nl')}  en {text.sha256('en')}")
        return 0
    found = catalogue.by_version(args.version)
    if found is None:
        print(f"refused: no consent text {args.version!r}; see `consent-texts` for the list",
              file=sys.stderr)
        return EXIT_USAGE
    print(found.body[args.lang])
    print(f"\n[{found.version}, {args.lang}, sha256 {found.sha256(args.lang)}]")
    return 0


async def _unbind(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        invitation = await people.unbind_youth(services, cli_actor(), args.code)
        print(f"The old Telegram account of {args.code} is unlinked: it gets nothing and can "
              "do nothing. The history stays with the youth.")
        _print_invite(invitation, await _bot_username(settings, secrets), settings)
        return 0

    return await _with_store(settings, secrets, work)


async def _unbind_staff(args: argparse.Namespace, settings: Settings,
                        secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        if args.command == "unbind-unit":
            invitation = await people.unbind_unit(services, cli_actor(), args.unit)
            print(f"The old on-call phone of unit {args.unit} is unlinked: it gets no alert "
                  "and can do nothing. Until the new phone opens the link, crisis alerts for "
                  "the unit go to the coordinators at once.")
            _print_unit_invite(invitation, await _bot_username(settings, secrets), settings)
            return 0
        invitation = await people.unbind_therapist(services, cli_actor(), args.code)
        print(f"The old Telegram account of {args.code} is unlinked: no command, alert or "
              "button works for it any more.")
        _print_invite(invitation, await _bot_username(settings, secrets), settings)
        return 0

    return await _with_store(settings, secrets, work)


async def _move_youths(args: argparse.Namespace, settings: Settings,
                       secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        moved = await people.move_youths(services, cli_actor(), args.from_code, args.to_code)
        print(f"Moved {len(moved)} youths from {args.from_code} to {args.to_code}: "
              f"{', '.join(moved)}. Sessions already held stay with {args.from_code}.")
        return 0

    return await _with_store(settings, secrets, work)


async def _audit(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    from conversations.audit_trail import verify_audit  # noqa: PLC0415

    async def work(services: Services) -> int:
        entries, check = await verify_audit(services)
        if args.action == "verify":
            for problem in check.problems:
                print(problem)
            print(check.summary())
            return 0 if check.intact else 1
        shown = [e for e in entries if args.youth in (None, e.youth_code)][-args.last:]
        for e in shown:
            print(f"{e.seq:>6}  {e.at[:19]}  {e.actor:<12} {e.action:<18} "
                  f"{e.youth_code or '-':<7} {e.detail}")
        return 0

    return await _with_store(settings, secrets, work)


async def _backup(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        try:
            await admin.backup(services, cli_actor(), args.out)
        except UnsafeTarget as err:
            print(f"refused: --out {err}", file=sys.stderr)
            return EXIT_USAGE
        print(f"Backup written to {args.out} (mode 600). It holds every answer, rating, "
              "birth year, unit, schedule and the audit trail in clear, by youth code; only "
              "chat ids and free text are encrypted. Protect it like the database itself. "
              "Keep the keys apart from it: without them nobody can be messaged or "
              "recognised, and notes stay unreadable.")
        return 0

    return await _with_store(settings, secrets, work)


async def _rotate_keys(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    def progress(line: str) -> None:
        print(line, flush=True)

    async def work(services: Services) -> int:
        counts = await admin.rotate_keys(services, cli_actor(), progress, args.batch)
        for kind, count in counts.items():
            print(count.line(kind))
        if secrets.text_key is None:
            print("note: no keys.text_key is configured, so free text stays under the "
                  "contact key; see README, Key rotation", file=sys.stderr)
        if any(count.unreadable for count in counts.values()):
            print("Some rows could not be opened with any configured key (listed above); "
                  "keep every older key configured until they are accounted for.",
                  file=sys.stderr)
            return 1
        print("Done: everything is under the newest keys. Older keys may now be removed "
              "from the configuration (then restart the bot).")
        return 0

    return await _with_store(settings, secrets, work)


async def _schedule(args: argparse.Namespace, settings: Settings, secrets: Secrets) -> int:
    async def work(services: Services) -> int:
        return await schedule_cli.run(args, services, settings)

    return await _with_store(settings, secrets, work)


def retry_delay(attempt: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, 4, ... capped)."""
    return min(RETRY_CAP, 2.0 ** min(attempt - 1, 16))


async def _run(settings: Settings, secrets: Secrets) -> int:
    """Serve until SIGTERM/SIGINT; while the Bot API cannot be reached, retry with backoff.

    An unreachable Telegram (network down, DNS, a proxy's 502) is expected to pass, so it
    gets one line per attempt rather than a traceback and a crash loop under systemd.
    """
    from telegram.error import NetworkError  # noqa: PLC0415 - keeps --help fast

    from bot.wiring import serve  # noqa: PLC0415 - keeps --help fast

    stop = asyncio.Event()
    stopped_by: list[str] = []
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        def on_signal(name: str = sig.name) -> None:
            stopped_by.append(name)
            stop.set()
        loop.add_signal_handler(sig, on_signal)
    attempt = 0
    while True:
        try:
            await serve(settings, secrets, stop)
            return 0
        except NetworkError as exc:
            attempt += 1
            if stop.is_set():
                break
            delay = retry_delay(attempt)
            print(redact(f"Telegram Bot API not reachable at start-up ({_describe(exc)}); "
                         f"attempt {attempt}, retrying in {delay:g} s"),
                  file=sys.stderr, flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                break
    print(f"Stopped ({stopped_by[0] if stopped_by else 'asked to stop'}) while the Telegram "
          f"Bot API was unreachable; {attempt} attempt(s) failed.", file=sys.stderr, flush=True)
    return 0


def _describe(exc: BaseException) -> str:
    """One line naming the failure, e.g. `NetworkError: httpx.ConnectError: ...`."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _token_refused(err: BaseException) -> str:
    """The one line for PTB's InvalidToken, which stands for a 401 and for a 404."""
    cause = err.__cause__ or err
    if "not found" in str(cause).lower():  # a malformed token, or a wrong base_url
        return ("Telegram answered 404 Not Found for the bot token: check "
                "VAKBOT_TELEGRAM__TOKEN / telegram.token_file and telegram.base_url")
    return TOKEN_REFUSED


def _new_keys(args: argparse.Namespace) -> int:
    keys = (new_key(), new_key(), new_key())  # pseudonym, contact, text: never the same
    if args.dir is None:
        for name, key in zip(("PSEUDONYM_KEY", "CONTACT_KEY", "TEXT_KEY"), keys, strict=True):
            print(f"VAKBOT_KEYS__{name}={key}")
        print("# Keep these outside the database and its backups. Losing them unlinks "
              "everyone: answers stay, but no one can be messaged or recognised.",
              file=sys.stderr)
        return 0
    private_dir(args.dir)
    # lexists: a symlink planted in the folder counts as existing, even a dangling one.
    existing = [args.dir / name for name in KEY_FILES if os.path.lexists(args.dir / name)]
    if existing:
        print(f"refused: {', '.join(map(str, existing))} exist(s) already; a key file is "
              "never overwritten (the data encrypted under it would be lost). To add a new "
              "contact or text key, put it on the first line of the existing file and run "
              "`rotate-keys` (see README, Key rotation).", file=sys.stderr)
        return 1
    for name, key in zip(KEY_FILES, keys, strict=True):
        try:
            create_secret(args.dir / name, key + "\n")  # 0600 from the first byte
        except FileExistsError:
            print(f"refused: {args.dir / name}: exists already; not overwritten",
                  file=sys.stderr)
            return 1
        print(f"wrote {args.dir / name}")
    print(f"# Put the bot token in {args.dir / TOKEN_FILE} (mode 600) or export "
          "VAKBOT_TELEGRAM__TOKEN.", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Every command runs under umask 077: the database, its -wal and -shm, backups,
    exports, report images and the erasure log are readable by the service account only."""
    with private_umask():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "new-keys":
        return _new_keys(args)
    if args.command == "crisis-phrases":
        return crisis_cli.run(args)
    if args.command == "demo":
        from bot.demo import run_demo  # noqa: PLC0415 - keeps --help fast

        return asyncio.run(run_demo(args.out, args.lang))
    try:
        settings, secrets = _load(args.config)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr if args.command != "check-config" else sys.stdout)
        return EXIT_USAGE
    for warning in startup_warnings(settings, secrets):
        if args.command == "check-config":
            print(f"warning: {warning}")
        elif args.command == "run":
            logging.getLogger("bot").warning("%s", warning)
    if args.command == "check-config":
        if (code := asyncio.run(_check_routes(settings, secrets))) != 0:
            return code
        print(f"{args.config}: ok")
        return 0
    if args.command == "consent-texts":
        return _consent_texts(args, settings)
    commands: dict[str, Callable[[], Coroutine[Any, Any, int]]] = {
        "run": lambda: _run(settings, secrets),
        "enroll-therapist": lambda: _enroll_therapist(args, settings, secrets),
        "enroll-youth": lambda: _enroll_youth(args, settings, secrets),
        "invite": lambda: _invite(args, settings, secrets),
        "enroll-unit": lambda: _enroll_unit(args, settings, secrets),
        "set-unit": lambda: _set_unit(args, settings, secrets),
        "set-simple": lambda: _set_simple(args, settings, secrets),
        "guardian-research-consent": lambda: _guardian_research(args, settings, secrets),
        "send-checkin": lambda: _send_checkin(args, settings, secrets),
        "backup": lambda: _backup(args, settings, secrets),
        "rotate-keys": lambda: _rotate_keys(args, settings, secrets),
        "report": lambda: _report(args, settings, secrets),
        "audit": lambda: _audit(args, settings, secrets),
        "unbind": lambda: _unbind(args, settings, secrets),
        "unbind-therapist": lambda: _unbind_staff(args, settings, secrets),
        "unbind-unit": lambda: _unbind_staff(args, settings, secrets),
        "move-youths": lambda: _move_youths(args, settings, secrets),
        "export": lambda: _export(args, settings, secrets),
        "retention": lambda: _retention(args, settings, secrets),
        "schedule": lambda: _schedule(args, settings, secrets),
        "overview": lambda: _schedule(args, settings, secrets),
        "login-link": lambda: console_cli.run(args, settings, secrets),
        **dict.fromkeys(kiosk_cli.COMMANDS, lambda: _with_store(
            settings, secrets, lambda services: kiosk_cli.run(args, services))),
    }
    from telegram.error import InvalidToken  # noqa: PLC0415 - keeps --help fast

    try:
        return asyncio.run(commands[args.command]())
    except InvalidToken as err:
        # PTB's message holds the whole token: never print it, say what to check.
        print(_token_refused(err), file=sys.stderr)
        return EXIT_TOKEN_REFUSED
    except (EnrolmentRefused, usecases.CheckinNotPossible) as err:
        print(f"refused: {err}", file=sys.stderr)
        return 1
    except schedule_cli.ScheduleRefused as err:
        for line in str(err).splitlines():
            print(f"refused: {line}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # a file or folder given on the command line cannot be used
        where = f"{err.filename}: " if err.filename else ""
        print(f"refused: {where}{(err.strerror or str(err)).lower()}", file=sys.stderr)
        return EXIT_USAGE
