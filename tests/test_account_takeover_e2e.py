"""Issue 11, account takeover and revocation: one live account per code, old links dead,
staff accounts revocable at once, a caseload handed over with one command."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from typing import Any

import pytest

from conversations.enrolment import enroll_therapist, enroll_unit, invite_therapist, invite_youth
from core.identity import new_token, token_digest
from core.records import BindOutcome, Consent, NewAlert
from faketelegram import FakeUser
from storage.timefmt import iso
from tests.support import Harness, run_cli

YOUTH, THIEF, NEW_PHONE = 700000014, 700000666, 700000777
T09, T09_NEW, T05 = 600000009, 600000019, 600000005
UNIT_PHONE, UNIT_NEW = 800000001, 800000002


def rows(bot: Harness, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql, params))


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The command line in a thread, as from another shell while the bot runs."""
    return await asyncio.to_thread(run_cli, capsys, *argv)


async def open_link(bot: Harness, user: FakeUser, token: str) -> str:
    user.send(f"/start {token}")
    await bot.fake.settle()
    return user.last.text


async def test_an_older_youth_invite_cannot_take_over_the_account(bot: Harness) -> None:
    """The issue's reproduction: a second invite for J-014 because the first 'did not
    work', the youth joins with link 2, whoever holds link 1 opens it later."""
    link1 = await bot.invite("J-014")
    link2 = (await invite_youth(bot.services.store, "J-014", bot.clock(),
                                bot.services.invite_ttl)).token
    youth = bot.fake.user(YOUTH)
    await open_link(bot, youth, link2)
    youth.tap(youth.last, "✅")
    await bot.fake.settle()
    youth.tap(youth.last, "✅")
    await bot.fake.settle()
    await bot.checkin(discipline=None)
    youth.tap(youth.last, "Goed")
    await bot.fake.settle()

    bot.clock.advance(timedelta(days=3))
    thief = bot.fake.user(THIEF)
    assert await open_link(bot, thief, link1) == (
        "Deze link is al gebruikt. Vraag je therapeut of de coördinator om een nieuwe link.")
    assert not thief.last.buttons, "no consent button to tap"
    thief.send("/mydata")
    await bot.fake.settle()
    assert thief.last.text.startswith("Hoi! Deze bot is alleen voor jongeren")
    assert not any(m.document for m in thief.inbox), "no data file"
    assert all("Goed" not in m.text and "J-014" not in m.text for m in thief.inbox)
    # The real youth is still linked and still gets the next check-in.
    await bot.checkin(occurrence="s2", discipline=None)
    assert "Hoe ging het samenwerken met je therapeut vandaag?" in youth.last.text
    assert rows(bot, "SELECT count(*) FROM contacts") == [(1,)]   # the youth's only


async def test_an_open_invite_from_before_the_fix_is_refused_kindly(bot: Harness) -> None:
    """Invites issued before revocation existed may still be open next to a live account:
    the code's live account makes them refuse too, and nothing is written."""
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    old = new_token()
    with sqlite3.connect(bot.database) as conn:   # an invite left open by an older version
        conn.execute("INSERT INTO invites (token_digest, role, subject_code, created_at,"
                     " expires_at) VALUES (?, 'youth', 'J-014', ?, ?)",
                     (token_digest(old), iso(bot.clock()), iso(bot.clock() + timedelta(days=9))))
    thief = bot.fake.user(THIEF)
    assert await open_link(bot, thief, old) == (
        "Deze link werkt niet meer. Vraag je therapeut of de coördinator om hulp.")
    # Even a consent tap forged past that reply binds nothing: the store refuses too.
    outcome = await bot.services.store.bind_youth(
        token_digest(old), bot.services.pseudonym(THIEF), bot.services.cipher.seal(THIEF),
        _participation(bot), bot.clock())
    assert outcome is BindOutcome.TAKEN
    assert rows(bot, "SELECT count(*) FROM youths WHERE pseudonym = ?",
                (bot.services.pseudonym(YOUTH),)) == [(1,)]
    assert rows(bot, "SELECT count(*) FROM contacts") == [(1,)]


async def test_unbind_then_rebind_is_audited_and_the_old_contact_removed(
        bot: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    code, out = await cli(capsys, "unbind", "--config", str(bot.config_path), "--code", "J-014")
    assert code == 0
    token = out.split("?start=")[1].split()[0]
    assert rows(bot, "SELECT count(*) FROM contacts") == [(0,)]
    new = bot.fake.user(NEW_PHONE)
    await open_link(bot, new, token)
    new.tap(new.last, "✅")
    await bot.fake.settle()
    actions = [a for a, in rows(bot, "SELECT action FROM audit_log WHERE youth_code = 'J-014'"
                                     " ORDER BY seq")]
    assert actions.index("unbind") < actions.index("rebind")
    assert rows(bot, "SELECT count(*) FROM contacts") == [(1,)]


def _participation(bot: Harness) -> Consent:
    text = bot.services.consents.current("participation")
    return Consent("participation", text.version, text.sha256("nl"), "nl")


async def test_therapist_old_invite_refused_unbind_cuts_off_at_once_new_account_links(
        bot: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    store = bot.services.store
    first = await enroll_therapist(store, "T-09", "nl", bot.clock(), bot.services.invite_ttl)
    assert first is not None
    second = await invite_therapist(store, "T-09", bot.clock(), bot.services.invite_ttl)
    assert second.revoked == 1
    therapist = bot.fake.user(T09)
    assert (await open_link(bot, therapist, second.token)).startswith(
        "Je bent gekoppeld als therapeut T-09")
    await bot.enrol(bot.fake.user(YOUTH), therapist="T-09")
    thief = bot.fake.user(THIEF)
    assert (await open_link(bot, thief, first.token)).startswith("Deze link is al gebruikt.")
    thief.send("/clients")
    await bot.fake.settle()
    assert thief.last.text == "Dit commando is alleen voor therapeuten."
    # An alert with a button, on the therapist's phone before it is lost.
    now = bot.clock()
    await store.add_alert(NewAlert(new_token()[:16], "missed:J-014", "missed", "J-014",
                                   "T-09", "3 check-ins op rij niet ingevuld.", now, None), now)
    from bot.wiring import make_engine  # noqa: PLC0415

    await make_engine(bot.settings, bot.services).tick(bot.channel)
    await bot.fake.settle(expect_response=False)
    alert = next(m for m in therapist.inbox if "Gezien" in " ".join(m.button_labels()))

    code, out = await cli(capsys, "unbind-therapist", "--config", str(bot.config_path),
                          "--code", "T-09")
    assert code == 0 and "no command, alert or button works for it" in out
    token = out.split("?start=")[1].split()[0]
    for command in ("/clients", "/report", "/rate"):
        therapist.send(command)
        await bot.fake.settle()
        assert therapist.last.text == "Dit commando is alleen voor therapeuten.", command
    query = therapist.tap(alert, "Gezien")
    await bot.fake.settle()
    assert (bot.fake.answered[query] or "").startswith(("Deze melding is niet voor jou",
                                               "Deze knop werkt niet meer"))
    assert rows(bot, "SELECT count(*) FROM alerts WHERE acked_at IS NOT NULL") == [(0,)]
    assert rows(bot, "SELECT count(*) FROM contacts WHERE pseudonym = ?",
                (bot.services.pseudonym(T09),)) == [(0,)]
    assert rows(bot, "SELECT count(*) FROM invites WHERE role = 'therapist'"
                     " AND used_at IS NULL") == [(1,)], "only the new link is open"

    new = bot.fake.user(T09_NEW)
    assert (await open_link(bot, new, token)).startswith("Je bent gekoppeld als therapeut T-09")
    new.send("/clients")
    await bot.fake.settle()
    assert "J-014" in new.last.text
    actions = [a for a, in rows(bot, "SELECT action FROM audit_log ORDER BY seq")]
    assert actions.index("unbind:therapist") < actions.index("rebind")
    # A new link while the new account is live is refused, naming the way out.
    code, out = await cli(capsys, "invite", "--config", str(bot.config_path), "--code", "T-09")
    assert code == 1 and "unbind-therapist --code T-09" in out


async def test_move_youths_hands_a_caseload_over_and_keeps_history(
        bot: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    from core.delivery import Kind  # noqa: PLC0415
    from core.records import NewOutbox  # noqa: PLC0415

    store = bot.services.store
    for therapist, chat in (("T-02", 600000002), ("T-05", T05)):
        invitation = await enroll_therapist(store, therapist, "nl", bot.clock(),
                                            bot.services.invite_ttl)
        assert invitation is not None
        await open_link(bot, bot.fake.user(chat), invitation.token)
    await bot.enrol(bot.fake.user(700000001), "J-001")
    await bot.enrol(bot.fake.user(700000002), "J-002")
    now = bot.clock()
    await store.rate("held", "J-001", "T-02", "bond", "4", now)
    await store.add_outbox([
        NewOutbox("rating:held:J-001", Kind.RATING, "held", now - timedelta(hours=1), now,
                  now + timedelta(days=1), "J-001", "T-02", new_token()[:16]),
        NewOutbox("rating:next:J-001", Kind.RATING, "next", now + timedelta(days=7),
                  now + timedelta(days=7), now + timedelta(days=8), "J-001", "T-02",
                  new_token()[:16])], now)
    code, out = await cli(capsys, "move-youths", "--config", str(bot.config_path),
                          "--from", "T-02", "--to", "T-05")
    assert code == 0 and "Moved 2 youths from T-02 to T-05: J-001, J-002." in out
    assert rows(bot, "SELECT code, therapist_code FROM youths ORDER BY code") == [
        ("J-001", "T-05"), ("J-002", "T-05")]
    assert rows(bot, "SELECT therapist_code FROM therapist_ratings") == [("T-02",)]
    assert rows(bot, "SELECT occurrence_key, therapist_code FROM outbox WHERE kind = 'rating'"
                     " ORDER BY occurrence_key") == [("held", "T-02"), ("next", "T-05")]
    assert rows(bot, "SELECT youth_code, detail FROM audit_log WHERE action = 'move-youth'"
                     " ORDER BY seq") == [("J-001", "therapist T-02 -> T-05"),
                                          ("J-002", "therapist T-02 -> T-05")]
    receiver = bot.fake.user(T05)
    receiver.send("/clients")
    await bot.fake.settle()
    assert "J-001" in receiver.last.text and "J-002" in receiver.last.text
    code, out = await cli(capsys, "move-youths", "--config", str(bot.config_path),
                          "--from", "T-02", "--to", "T-07")
    assert code == 1 and "unknown therapist code T-07" in out


async def test_a_unit_phone_is_replaced_only_after_an_explicit_unbind(
        bot: Harness, capsys: pytest.CaptureFixture[str]) -> None:
    store = bot.services.store
    invitation = await enroll_unit(store, "W-1", "nl", bot.clock(), bot.services.invite_ttl)
    phone = bot.fake.user(UNIT_PHONE)
    assert (await open_link(bot, phone, invitation.token)).startswith(
        "Deze telefoon is nu het crisiscontact van afdeling W-1.")
    config = str(bot.config_path)
    code, out = await cli(capsys, "invite", "--config", config, "--unit", "W-1")
    assert code == 1 and "unbind-unit --unit W-1" in out
    code, out = await cli(capsys, "unbind-unit", "--config", config, "--unit", "W-1")
    assert code == 0 and "go to the coordinators at once" in out
    token = out.split("?start=")[1].split()[0]
    unit = await store.unit("W-1")
    assert unit is not None and unit.pseudonym != bot.services.pseudonym(UNIT_PHONE)
    assert rows(bot, "SELECT count(*) FROM contacts") == [(0,)]
    assert len(phone.inbox) == 1, "the old phone is told nothing"
    assert (await open_link(bot, bot.fake.user(UNIT_NEW), token)).startswith(
        "Deze telefoon is nu het crisiscontact van afdeling W-1.")
    actions = [a for a, in rows(bot, "SELECT action FROM audit_log ORDER BY seq")]
    assert actions.index("unbind:unit") < actions.index("rebind")
