"""Issue 11: key rotation end to end, and a rotation killed halfway that is run again.

Chat ids live under the contact keys, free text (notes, crisis texts, the matched crisis
rule) under the text keys; `rotate-keys` moves everything under the newest key, after
which the old key can be removed and the bot still reaches everyone and shows their data.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from core.identity import ContactCipher, new_key
from tests.support import Harness, run_cli, running_bot

YOUTHS = {"J-001": 700000001, "J-002": 700000002}
REPO = Path(__file__).parent.parent


async def answer_with_note(bot: Harness, code: str, occurrence: str, labels: tuple[str, ...],
                           note: str) -> None:
    youth = bot.fake.user(YOUTHS[code])
    await bot.checkin(code, discipline=None, occurrence=occurrence)
    for label in labels:
        youth.tap(youth.last, label)
        await bot.fake.settle()
    youth.send(note)
    await bot.fake.settle()


async def rotate_in_thread(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, str]:
    """`rotate-keys` runs its own event loop, so from an async test it runs in a thread."""
    return await asyncio.to_thread(lambda: run_cli(capsys, "rotate-keys", "--config",
                                                   str(config)))


def sealed_rows(database: Path) -> dict[str, list[bytes]]:
    with sqlite3.connect(database) as conn:
        def column(sql: str) -> list[bytes]:
            return [v.encode() if isinstance(v, str) else v for (v,) in conn.execute(sql)]
        return {"contacts": column("SELECT chat_id_enc FROM contacts"),
                "texts": column("SELECT text_enc FROM notes")
                + column("SELECT text_enc FROM crisis_flags")
                + column("SELECT detail FROM alerts WHERE kind = 'crisis'")}


async def test_rotate_to_new_keys_then_drop_the_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # Contact key A for chat ids, text key T for free text (the key files of the folder).
    async with running_bot(tmp_path) as bot:
        for youth_code, user_id in YOUTHS.items():
            await bot.enrol(bot.fake.user(user_id), youth_code)
            await answer_with_note(bot, youth_code, "s1", ("Goed", "Gewoon", "Goed", "Iets leuks"),
                                   f"Notitie van {youth_code}: de klei was fijn")
        await answer_with_note(bot, "J-002", "s2", ("Gewoon", "Gewoon", "Gewoon", "Iets moeilijks"),
                               "Soms wil ik dood, echt.")
        config = bot.config_path
    before = sealed_rows(bot.database)
    assert [len(v) for v in before.values()] == [2, 4], "2 chat ids; 2 notes, crisis text+rule"

    key_a = (tmp_path / "contact.key").read_text().strip()
    key_t = (tmp_path / "text.key").read_text().strip()
    key_b, key_c = new_key(), new_key()
    (tmp_path / "contact.key").write_text(f"{key_b}\n{key_a}\n")   # newest first
    (tmp_path / "text.key").write_text(f"{key_c}\n{key_t}\n")
    code, output = await rotate_in_thread(capsys, config)
    assert code == 0, output
    for line in ("contacts: 2 checked, 2 re-encrypted, 0 already under the newest key",
                 "notes: 2 checked, 2 re-encrypted, 0 already under the newest key",
                 "crisis texts: 1 checked, 1 re-encrypted, 0 already under the newest key",
                 "crisis rules: 1 checked, 1 re-encrypted, 0 already under the newest key",
                 "Done: everything is under the newest keys."):
        assert f"\n{line}" in output, output
    code, output = await rotate_in_thread(capsys, config)
    assert code == 0 and "contacts: 2 checked, 0 re-encrypted, 2 already under the newest " \
                         "key" in output, output

    # Keys A and T are gone. Every chat id opens with B alone, every text with C alone.
    (tmp_path / "contact.key").write_text(f"{key_b}\n")
    (tmp_path / "text.key").write_text(f"{key_c}\n")
    after = sealed_rows(bot.database)
    assert sorted(Fernet(key_b).decrypt(s) for s in after["contacts"]) == [
        b"700000001", b"700000002"]
    texts = {Fernet(key_c).decrypt(s).decode() for s in after["texts"]}
    assert {"Notitie van J-001: de klei was fijn", "Soms wil ik dood, echt."} <= texts
    for sealed in after["contacts"] + after["texts"]:
        for old_key in (key_a, key_t):
            with pytest.raises(InvalidToken):
                Fernet(old_key).decrypt(sealed)

    async with running_bot(tmp_path) as bot:  # same folder: key files as written above
        assert bot.secrets.contact_keys() == [key_b.encode()]
        assert bot.secrets.text_keys() == [key_c.encode()]
        first = bot.fake.user(YOUTHS["J-001"])
        await bot.checkin("J-001", discipline=None, occurrence="s3")
        text = first.last.text
        assert text.startswith("Hoi! 👋 Een paar vragen over je therapie"), text
        for youth_code, user_id in YOUTHS.items():
            youth = bot.fake.user(user_id)
            youth.send("/mydata")
            await bot.fake.settle()
            document = youth.last.document
            assert document is not None, youth.last.text
            notes = [c["note"] for c in json.loads(document)["check_ins"]]
            assert f"Notitie van {youth_code}: de klei was fijn" in notes


def test_rotation_killed_halfway_continues_where_it_was(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run_cli(capsys, "enroll-therapist", "--config", str(config), "--code", "T-02")[0] == 0
    key_a, key_b = os.environ["VAKBOT_KEYS__CONTACT_KEY"], new_key()
    rows = 4000
    old = ContactCipher(key_a.encode())
    with sqlite3.connect(config.parent / "db.sqlite3") as conn:
        conn.executemany("INSERT INTO contacts (pseudonym, chat_id_enc) VALUES (?, ?)",
                         [(f"p{i:05d}", old.seal(700000000 + i)) for i in range(rows)])
    monkeypatch.setenv("VAKBOT_KEYS__CONTACT_KEY", f"{key_b},{key_a}")

    run = subprocess.Popen(
        [sys.executable, "-m", "bot", "rotate-keys", "--config", str(config), "--batch", "10"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert run.stdout is not None
    first = run.stdout.readline()
    assert first.startswith("progress: contacts: 10 checked, 10 re-encrypted"), first
    run.send_signal(signal.SIGKILL)
    run.communicate()
    assert run.returncode == -signal.SIGKILL

    def under_b() -> int:
        newest = Fernet(key_b)
        done = 0
        with sqlite3.connect(config.parent / "db.sqlite3") as conn:
            for (sealed,) in conn.execute("SELECT chat_id_enc FROM contacts"):
                try:
                    newest.decrypt(sealed)
                    done += 1
                except InvalidToken:  # still under key A
                    continue
        return done

    done = under_b()
    assert 10 <= done < rows, "killed halfway: some rows moved, not all"
    code, output = run_cli(capsys, "rotate-keys", "--config", str(config))
    assert code == 0, output
    assert (f"\ncontacts: {rows} checked, {rows - done} re-encrypted, {done} already under "
            "the newest key") in output, output
    assert under_b() == rows


def test_text_under_the_contact_key_moves_to_a_new_text_key() -> None:
    """An install from before the text key: texts were sealed with the contact key."""
    contact, text = new_key().encode(), new_key().encode()
    before = ContactCipher(contact)                 # no text key: text uses the contact key
    note, chat = before.seal_text("klei was fijn"), before.seal(700000001)
    after = ContactCipher(contact, text)            # text key configured
    assert after.open_text(note) == "klei was fijn"  # still readable on the way
    moved = after.rotate_text(note)
    assert moved is not None and Fernet(text).decrypt(moved) == b"klei was fijn"
    assert after.rotate_text(moved) is None and after.rotate(chat) is None
    with pytest.raises(InvalidToken):
        ContactCipher(new_key().encode()).rotate(chat)  # no configured key opens it
