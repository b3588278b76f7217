"""Data rights and the audit trail: /mydata, /delete, the erasure log, the hash chain."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import zipfile
from contextlib import closing
from datetime import date, time, timedelta
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.export import export
from bot.wiring import make_engine, open_services
from conversations.enrolment import unbind_youth
from conversations.usecases import CheckinNotPossible, start_checkin
from core.audit import GENESIS, AuditEntry, entry_hash, verify_chain
from core.delivery import Window
from core.records import NewSeries, PhoneWindow
from core.schedule import Timing
from storage.erasure_log import ErasureLogFile
from storage.sqlite import SqliteStore
from tests.support import Harness, run_cli, running_bot

YOUTH = 700000123
MARKER = "MARKER-zeldzaam-7781"


def chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        fields = (f"2026-11-28T10:0{seq}:00", "cli", "enrol", f"J-00{seq}", "")
        digest = entry_hash(prev, seq, *fields)
        entries.append(AuditEntry(seq, *fields, prev, digest))
        prev = digest
    return entries


def test_chain_detects_edits_deletions_and_reordering() -> None:
    intact = chain(4)
    assert verify_chain(intact) == []
    edited = [*intact]
    edited[1] = AuditEntry(2, edited[1].at, "cli", "enrol", "J-999", "", edited[1].prev_hash,
                           edited[1].hash)
    assert any("edited" in p for p in verify_chain(edited))
    assert any("deleted or reordered" in p for p in verify_chain([intact[0], *intact[2:]]))
    assert verify_chain([intact[0], intact[2], intact[1], intact[3]]) != []


async def answer_with_marker(bot: Harness) -> None:
    await bot.answer_everything(bot.fake.user(YOUTH), f"vandaag {MARKER} gemaakt")


async def test_mydata_sends_everything_as_words_and_a_file(bot: Harness) -> None:
    await answer_with_marker(bot)
    youth = bot.fake.user(YOUTH)
    youth.send("/mydata")
    await bot.fake.settle()
    intro, document = youth.inbox[-2], youth.inbox[-1]
    assert intro.text.startswith("Dit is wat ik over je bewaar, onder code J-014: 1 check-ins.")
    assert document.document is not None
    data = json.loads(document.document)
    assert data["check_ins"][0]["answers"]["bond"] == "4"
    assert data["check_ins"][0]["questionnaire_version"] == "alliance-2"
    assert MARKER in data["check_ins"][0]["note"]
    assert data["consents"] == [
        {"scope": "participation", "text_version": "participation-3", "answer": "yes"},
        {"scope": "sharing", "text_version": "sharing-2", "answer": "yes"}]


def _disk_bytes(database: Path) -> bytes:
    """The database file, its WAL and its shared-memory index, as they lie on disk."""
    raw = b""
    for name in (database.name, database.name + "-wal", database.name + "-shm"):
        path = database.with_name(name)
        raw += path.read_bytes() if path.exists() else b""
    return raw


async def test_delete_erases_from_database_and_wal(bot: Harness) -> None:
    await answer_with_marker(bot)
    backup = bot.database.with_name("before.sqlite3")
    assert isinstance(bot.services.store, SqliteStore)   # a backup is SQLite's own tool
    await bot.services.store.backup(backup)
    with closing(sqlite3.connect(bot.database)) as conn:
        # Plaintext (or ciphertext) that lies on disk before the erasure, not just the
        # marker (which was always encrypted): pseudonym, check-in ref, consent digests.
        (pseudonym,) = conn.execute("SELECT pseudonym FROM youths").fetchone()
        (ref,) = conn.execute("SELECT ref FROM checkins").fetchone()
        (note,) = conn.execute("SELECT text_enc FROM notes").fetchone()
        digests = [r[0] for r in conn.execute("SELECT text_sha256 FROM consents")]
    traces = [pseudonym.encode(), ref.encode(), bytes(note)[:40], *(d.encode() for d in digests)]
    assert all(t in _disk_bytes(bot.database) for t in traces[:2])
    youth = bot.fake.user(YOUTH)
    youth.send("/delete")
    await bot.fake.settle()
    assert youth.last.button_labels() == ["🗑️ Ja, wis alles", "↩️ Nee, toch niet"]
    youth.tap(youth.last, "Nee")
    await bot.fake.settle()
    assert youth.last.text == "Oké, er is niks gewist. 👍"
    youth.send("/delete")
    await bot.fake.settle()
    # A reader holds a snapshot (a backup, `audit show`) while the youth confirms.
    reader = sqlite3.connect(bot.database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM checkins").fetchone()
    youth.tap(youth.last, "Ja")
    await bot.fake.settle()
    assert youth.last.text.startswith("Je antwoorden en je gegevens zijn gewist. Over een "
                                      "paar minuten zijn ze ook helemaal van de computer af.")
    assert bot.services.store.wal_truncate_pending
    reader.execute("COMMIT")
    reader.close()
    await make_engine(bot.settings, bot.services).tick(bot.channel)   # the engine retries
    assert not bot.services.store.wal_truncate_pending
    raw = _disk_bytes(bot.database)
    for trace in traces:
        assert trace not in raw, trace
    assert MARKER.encode() not in raw
    with closing(sqlite3.connect(bot.database)) as conn:
        for table in ("answers", "checkins", "notes", "contacts", "consents"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)
        for table in ("outbox", "alerts", "therapist_ratings", "series_youths"):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE youth_code = 'J-014'"
                                ).fetchone() == (0,)
    youth.send("hallo")
    await bot.fake.settle()
    assert youth.last.text.startswith("Hoi! Deze bot is alleen voor jongeren")
    assert isinstance(bot.services.erasure_log, ErasureLogFile)
    assert bot.services.erasure_log.path.read_text().startswith("J-014\t")
    # A restore from the older backup: the erasure log erases J-014 again at start-up.
    await bot.services.store.close()
    shutil.copy(backup, bot.database)
    for suffix in ("-wal", "-shm"):
        bot.database.with_name(bot.database.name + suffix).unlink(missing_ok=True)
    settings, secrets = load_settings(bot.config_path)
    services = await open_services(settings, secrets)
    try:
        with closing(sqlite3.connect(bot.database)) as conn:
            assert conn.execute("SELECT count(*) FROM answers").fetchone() == (0,)
        raw = _disk_bytes(bot.database)
        assert MARKER.encode() not in raw and pseudonym.encode() not in raw
    finally:
        await services.store.close()


async def test_delete_without_a_reader_says_plainly_it_is_gone(bot: Harness) -> None:
    await answer_with_marker(bot)
    youth = bot.fake.user(YOUTH)
    youth.send("/delete")
    await bot.fake.settle()
    youth.tap(youth.last, "Ja")
    await bot.fake.settle()
    assert youth.last.text.startswith("Je antwoorden en je gegevens zijn gewist. Je krijgt "
                                      "geen berichten meer.")
    assert not bot.services.store.wal_truncate_pending


async def test_retention_rules_explain_instead_of_erasing(tmp_path: Path) -> None:
    async with running_bot(tmp_path, extra_toml="[privacy]\nretention_required = true\n") as bot:
        await answer_with_marker(bot)
        youth = bot.fake.user(YOUTH)
        youth.send("/delete")
        await bot.fake.settle()
        assert youth.last.text.startswith("Je antwoorden horen bij je dossier.")
        with sqlite3.connect(bot.database) as conn:
            assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 4


def test_audit_trail_records_and_verifies(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    assert run_cli(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    assert run_cli(capsys, "enroll-youth", *cfg, "--code", "J-014", "--therapist", "T-02",
                   "--birth-year", "2008", "--unit", "W-1")[0] == 0
    assert run_cli(capsys, "overview", *cfg)[0] == 0
    code, out = run_cli(capsys, "audit", *cfg, "verify")
    assert code == 0 and "3 entries; chain intact" in out
    code, out = run_cli(capsys, "audit", *cfg, "show", "--youth", "J-014")
    assert "enrol" in out and "J-014" in out and "read:overview" not in out
    db = config.parent / "db.sqlite3"
    with sqlite3.connect(db) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit_log SET detail = 'x' WHERE seq = 1")
        conn.execute("DROP TRIGGER audit_log_no_update")   # an attacker with file access
        conn.execute("UPDATE audit_log SET youth_code = 'J-999' WHERE seq = 2")
        conn.commit()
    code, out = run_cli(capsys, "audit", *cfg, "verify")
    assert code == 1 and "entry 2: content does not match its hash (edited)" in out


async def test_unbind_a_lost_phone_then_the_new_account_takes_over(bot: Harness) -> None:
    old = bot.fake.user(YOUTH)
    await bot.enrol(old)
    await bot.checkin(discipline=None)
    bond = old.last
    old.tap(bond, "Goed")
    await bot.fake.settle()
    invitation = await unbind_youth(bot.services.store, "J-014", bot.clock(),
                                    bot.services.invite_ttl)
    stale = old.tap_data(bond, bond.buttons[0][0][1])
    await bot.fake.settle()
    assert bot.fake.answered[stale] == "Deze knop werkt niet meer. 🙂"
    old.send("/start")
    await bot.fake.settle()
    assert old.last.text.startswith("Hoi! Deze bot is alleen voor jongeren")
    with pytest.raises(CheckinNotPossible, match="no contact on file"):
        await start_checkin(bot.services, "J-014", "s2", None)
    new = bot.fake.user(700000555)
    new.send(f"/start {invitation.token}")
    await bot.fake.settle()
    new.tap(new.last, "Ik doe mee")
    await bot.fake.settle()
    assert new.inbox[-2].text.startswith("Top, dank je wel!")
    assert new.last.text.startswith("👀 Mag je therapeut je antwoorden zien?")
    with sqlite3.connect(bot.database) as conn:
        history = conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        joined = conn.execute("SELECT c.youth_pseudonym = y.pseudonym FROM checkins c"
                              " JOIN youths y ON y.code = 'J-014'").fetchone()[0]
    assert history == 1 and joined == 1
    before = len(old.inbox)
    await bot.checkin(occurrence="s3")
    assert "Hoe ging het samenwerken met je therapeut" in new.last.text
    assert len(old.inbox) == before, "the old account receives nothing"


async def test_research_export_only_consenting_youths_deidentified(bot: Harness) -> None:
    await answer_with_marker(bot)                      # J-014 answers, then agrees below
    other = bot.fake.user(700000456)
    await bot.enrol(other, "J-015")
    await bot.checkin("J-015", occurrence="s9", discipline=None)
    other.tap(other.last, "Heel slecht")
    await bot.fake.settle()
    youth = bot.fake.user(YOUTH)
    youth.send("/research")
    await bot.fake.settle()
    assert youth.last.text.startswith("🔬 Onderzoekers willen leren hoe therapie beter kan.")
    youth.tap(youth.last, "Dat mag")
    await bot.fake.settle()
    assert youth.last.text == ("Dank je! Je antwoorden mogen zonder naam voor onderzoek "
                               "gebruikt worden. 🔬")
    first, second = bot.database.parent / "e1", bot.database.parent / "e2"
    assert await export(bot.services.store, first) == 1
    assert await export(bot.services.store, second) == 1
    rows1 = list(csv.DictReader((first / "answers_long.csv").read_text().splitlines()))
    rows2 = list(csv.DictReader((second / "answers_long.csv").read_text().splitlines()))
    text = (first / "answers_long.csv").read_text() + (first / "codebook.md").read_text()
    assert "J-014" not in text and "J-015" not in text and "T-02" not in text
    assert MARKER not in text and "gemaakt" not in text
    assert {r["item"] for r in rows1} == {"bond", "goal", "task", "event"}
    assert len({r["participant"] for r in rows1}) == 1
    assert rows1[0]["participant"] != rows2[0]["participant"], "re-keyed per export"
    assert len({r["session_date"] for r in rows1}) == 1      # one person, one shift
    full = bot.database.parent / "full"
    assert await export(bot.services.store, full, full=True) == 2
    assert "J-015" in (full / "answers_long.csv").read_text()
    # Withdrawing takes the youth out of the next export.
    youth.send("/research")
    await bot.fake.settle()
    youth.tap(youth.last, "Liever niet")
    await bot.fake.settle()
    assert await export(bot.services.store, bot.database.parent / "e3") == 0


async def test_a_researcher_gets_the_research_export_in_telegram(tmp_path: Path) -> None:
    researcher = 9002
    async with running_bot(tmp_path, extra_toml=f"[researchers]\ntelegram_ids = [{researcher}]\n"
                           ) as bot:
        await answer_with_marker(bot)
        youth = bot.fake.user(YOUTH)
        youth.send("/research")
        await bot.fake.settle()
        youth.tap(youth.last, "Dat mag")
        await bot.fake.settle()
        user = bot.fake.user(researcher)
        user.send("/export")
        await bot.fake.settle()
        assert user.inbox[-2].text.startswith("Onderzoeksexport: 1 jongeren met toestemming, "
                                              "4 antwoorden.")
        archive = user.last.document
        assert archive is not None
        with zipfile.ZipFile(io.BytesIO(archive)) as z:
            assert sorted(z.namelist()) == ["alerts.csv", "answers_long.csv", "codebook.md"]
            exported = z.read("answers_long.csv").decode()
        assert exported.startswith("participant,session_date,session_index,status,item,value")
        assert "J-014" not in exported and "T-02" not in exported and MARKER not in exported
        audited = [r[0] for r in sqlite3.connect(bot.database).execute(
            "SELECT action FROM audit_log WHERE actor LIKE 'researcher:%'")]
        assert audited == ["export:research"]


async def test_mydata_includes_everything_held_about_the_youth(bot: Harness) -> None:
    await answer_with_marker(bot)
    youth = bot.fake.user(YOUTH)
    youth.send("ik snij mezelf elke avond")            # a crisis text, and an alert
    await bot.fake.settle()
    store, now = bot.services.store, bot.clock()
    await store.rate("s1", "J-014", "T-02", "bond", "2", now)
    timing = Timing(timedelta(minutes=15), timedelta(hours=3), timedelta(hours=24))
    for n in range(200):          # a long schedule: the words are split under 4096
        await store.add_series(NewSeries(
            "T-02", ("J-014",), "music", frozenset({0, 3}), time(14, n % 60),
            timedelta(minutes=60), "Europe/Amsterdam", date(2026, 11, 23), None, timing), now)
    await store.add_window(PhoneWindow("youth", "J-014", Window(
        frozenset(range(7)), time(16, 0), time(18, 0))))
    before = len(youth.inbox)
    youth.send("/mydata")
    await bot.fake.settle()
    sent = youth.inbox[before:]
    texts, document = [m.text for m in sent[:-1]], sent[-1].document
    assert len(texts) >= 2 and all(0 < len(t) <= 4096 for t in texts)
    words = "\n".join(texts)
    assert texts[0].startswith("Dit is wat ik over je bewaar, onder code J-014: 1 check-ins.")
    assert "geboren in 2008" in words and "Therapeut: T-02" in words
    assert ("Ook bewaard: 1 berichten waar ik me zorgen over maakte, 1 cijfers van je "
            "therapeut over jullie sessies, 1 seintjes over jou") in words
    assert words.count("• music: mon,thu 14:") == 200 and "Je telefoontijden:" in words
    assert document is not None
    data = json.loads(document)
    assert data["birth_year"] == 2008 and data["therapist"] == "T-02"
    assert "unit" in data and "guardian_consent_date" in data
    assert data["crisis_texts"][0]["text"] == "ik snij mezelf elke avond"
    assert data["therapist_ratings"] == [{"session": "s1", "therapist": "T-02", "item": "bond",
                                          "value": "2", "rated_at": "2026-11-23 14:00"}]
    assert [a["kind"] for a in data["alerts_about_you"]] == ["crisis"]
    assert len(data["schedule"]) == 200 and data["schedule"][0]["weekdays"]
    assert data["phone_windows"][0]["start_time"] == "16:00"
