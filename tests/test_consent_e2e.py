"""Consent scopes end to end: each asked on its own, withdrawable in the bot, enforced where
the data would go, and asked again when a newer text is published."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load_settings
from bot.rules import default_timing
from bot.wiring import make_engine
from conversations.enrolment import enroll_therapist
from conversations.usecases import CheckinNotPossible, start_checkin
from core.compliance import render_overview
from core.questionnaire import builtin_text
from core.records import NewSeries
from tests.support import Harness, data_of, running_bot

YOUTH, OTHER, THERAPIST = 700000001, 700000002, 600000002
MONDAY = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)            # 14:00 in Amsterdam


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute(sql))


async def link_therapist(bot: Harness) -> None:
    invitation = await enroll_therapist(bot.services.store, "T-02", "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    bot.fake.user(THERAPIST).send(f"/start {invitation.token}")
    await bot.fake.settle()


async def clients(bot: Harness) -> str:
    bot.fake.user(THERAPIST).send("/clients")
    await bot.fake.settle()
    return bot.fake.user(THERAPIST).last.text


async def test_withdrawing_sharing_hides_answers_but_never_a_crisis(bot: Harness) -> None:
    await link_therapist(bot)
    youth, other = bot.fake.user(YOUTH), bot.fake.user(OTHER)
    await bot.enrol(youth, "J-001")
    await bot.enrol(other, "J-002", share=False)
    assert other.last.text.startswith("Oké! Je therapeut ziet je antwoorden niet.")
    listing = await clients(bot)
    assert "J-001: " in listing and "J-001: deelt" not in listing
    assert "J-002: deelt de antwoorden niet met jou (eigen keuze van de jongere)" in listing

    youth.send("/toestemming")
    await bot.fake.settle()
    menu = youth.last
    assert menu.text.splitlines()[:4] == [
        "Jouw keuzes:", "📋 Meedoen met de vragen: ja ✅",
        "👀 Je therapeut ziet je antwoorden: ja ✅", "🔬 Onderzoek, zonder je naam: nog niet "
        "gevraagd"]
    assert menu.button_labels() == ["📋 Meedoen", "👀 Therapeut", "🔬 Onderzoek"]
    youth.tap(menu, "Therapeut")
    await bot.fake.settle()
    youth.tap(youth.last, "Nee, liever niet")
    await bot.fake.settle()
    assert youth.last.text.startswith("Oké! Je therapeut ziet je antwoorden niet.")
    assert "J-001: deelt de antwoorden niet" in await clients(bot)
    bot.fake.user(THERAPIST).send("/report")
    await bot.fake.settle()
    assert bot.fake.user(THERAPIST).last.text == "Nog geen sessies om te tonen."

    # Safety first: a crisis phrase still reaches the therapist.
    engine = make_engine(bot.settings, bot.services)
    youth.send("ik wil dood")
    await bot.fake.settle()
    bot.clock.advance(timedelta(seconds=30))
    await engine.tick(bot.channel)
    assert bot.fake.user(THERAPIST).last.text.startswith("🚨 Dringend: J-001")

    decisions = rows(bot.database, "SELECT scope, text_version, answer, withdrawn_at IS NULL"
                                   " FROM consents ORDER BY id")
    assert decisions[-1] == ("sharing", "sharing-2", "no", 1)
    assert ("sharing", "sharing-2", "yes", 0) in decisions, "the earlier yes is withdrawn"
    audited = rows(bot.database, "SELECT action, youth_code FROM audit_log")
    assert ("decline:sharing", "J-001") in audited and ("decline:sharing", "J-002") in audited

    youth.send("/toestemming")
    await bot.fake.settle()
    youth.tap(youth.last, "Therapeut")
    await bot.fake.settle()
    youth.tap(youth.last, "Ja, dat mag")
    await bot.fake.settle()
    assert "J-001: deelt" not in await clients(bot)


async def test_withdrawing_participation_stops_questions_and_writes(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth)
    await bot.checkin(discipline=None)
    bond = youth.last
    youth.tap(bond, "Goed")
    await bot.fake.settle()
    goal = youth.last
    youth.send("/toestemming")
    await bot.fake.settle()
    youth.tap(youth.last, "Meedoen")
    await bot.fake.settle()
    assert youth.last.text.startswith("Hoi! Je therapeut werkt met deze bot.")
    youth.tap(youth.last, "Nu niet")
    await bot.fake.settle()
    assert youth.last.text.startswith("Oké, je krijgt geen vragen meer.")
    assert "/delete" in youth.last.text
    query = youth.tap(goal, "Goed")
    await bot.fake.settle()
    assert (bot.fake.answered[query] or "").startswith("Je doet nu niet mee, dus ik bewaar")
    youth.send("nog een notitie")
    await bot.fake.settle()
    assert youth.last.text.startswith("Je doet nu niet mee")
    assert rows(bot.database, "SELECT item FROM answers") == [("task",)]
    assert rows(bot.database, "SELECT count(*) FROM notes") == [(0,)]
    with pytest.raises(CheckinNotPossible, match="does not take part"):
        await start_checkin(bot.services, "J-014", "s2", None)
    overview = render_overview(await bot.services.store.compliance(bot.clock()))
    assert overview.splitlines()[1].startswith("J-014")
    assert overview.splitlines()[1].endswith("⚠️ doet niet mee (eigen keuze)")

    youth.send("/toestemming")
    await bot.fake.settle()
    assert "📋 Meedoen met de vragen: nee ❌" in youth.last.text
    youth.tap(youth.last, "Meedoen")
    await bot.fake.settle()
    youth.tap(youth.last, "Ik doe mee")
    await bot.fake.settle()
    assert youth.last.text == "Fijn dat je meedoet! 🙌"
    assert await start_checkin(bot.services, "J-014", "s2", None) is not None


def newer_participation_text(directory: Path) -> None:
    text = builtin_text("consent-participation-3.toml").replace("number = 3", "number = 4")
    text = text.replace("💾 Wat bewaar ik? Je antwoorden.",
                        "💾 Wat bewaar ik? Je antwoorden, drie jaar lang.")
    directory.mkdir()
    (directory / "consent-participation-4.toml").write_text(text, encoding="utf-8")


async def test_a_new_consent_text_is_asked_before_the_next_checkin(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        bot.clock.now = MONDAY
        await bot.enrol(bot.fake.user(YOUTH), "J-001")
        await bot.services.store.add_series(NewSeries(
            "T-02", ("J-001",), "music", frozenset({0}), time(15, 0), timedelta(hours=1),
            "Europe/Amsterdam", date(2026, 11, 23), None, default_timing(bot.settings)),
            bot.clock())
    newer_participation_text(tmp_path / "texts")
    extra = '[privacy]\nconsent_texts_dir = "texts"\n'
    async with running_bot(tmp_path, extra_toml=extra) as bot:   # the same database and keys
        bot.clock.now = MONDAY
        youth, engine = bot.fake.user(YOUTH), make_engine(bot.settings, bot.services)
        for _ in range(40):                                       # until 17:20 local
            bot.clock.advance(timedelta(minutes=5))
            await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        texts = [m.text for m in youth.inbox]
        assert len(texts) == 1, "asked once, and no question about the session yet"
        assert texts[0].startswith("Er is iets veranderd in de uitleg.")
        assert "drie jaar lang" in texts[0]
        ask = youth.last
        assert data_of(ask) == ["g:p:4:y", "g:p:4:n"]
        stale = youth.tap_data(ask, bot.button(ask, "g:p:3:y"))   # yes to the old text
        await bot.fake.settle()
        assert bot.fake.answered[stale] == "Deze uitleg is veranderd. Hier is de nieuwe. 👇"
        assert rows(bot.database, "SELECT count(*) FROM consents WHERE text_version ="
                                  " 'participation-4'") == [(0,)]
        assert youth.last is not ask and "drie jaar lang" in youth.last.text, "shown anew"
        forged = youth.tap_data(youth.last, bot.button(youth.last, "g:p:77:y"))  # unpublished
        await bot.fake.settle()
        assert bot.fake.answered[forged] == "Deze knop werkt niet meer. 🙂"
        youth.tap(youth.last, "Ik doe mee")
        await bot.fake.settle()
        assert youth.last.text == "Dank je! De vragen over je therapie komen zo. 👇"
        bot.clock.advance(timedelta(minutes=1))
        await engine.tick(bot.channel)
        await bot.fake.settle(expect_response=False)
        assert youth.last.text.startswith("Hoi! 👋 Een paar vragen over je ")
        (digest,) = rows(bot.database, "SELECT text_sha256 FROM consents WHERE text_version ="
                                       " 'participation-4'")[0]
        assert digest == bot.services.consents.current("participation").sha256("nl")


def test_a_broken_consent_text_file_stops_the_config(config: Path) -> None:
    texts = config.parent / "texts"
    texts.mkdir()
    (texts / "consent-sharing-2.toml").write_text('scope = "sharing"\nnumber = 2\n')
    config.write_text(config.read_text() + '[privacy]\nconsent_texts_dir = "texts"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert err.value.problems == [
        "privacy.consent_texts_dir: consent-sharing-2.toml: missing key 'nl'"]


async def test_an_invite_answer_to_a_superseded_text_binds_nothing(bot: Harness) -> None:
    youth = bot.fake.user(YOUTH)
    token = await bot.invite("J-001")
    youth.send(f"/start {token}")
    await bot.fake.settle()
    shown = youth.last
    old = youth.tap_data(shown, bot.button(shown, f"c:{token}:1:y"))  # participation-1
    await bot.fake.settle()
    assert bot.fake.answered[old] == "Deze uitleg is veranderd. Hier is de nieuwe. 👇"
    assert youth.last is not shown and youth.last.text == shown.text
    assert rows(bot.database, "SELECT count(*) FROM consents") == [(0,)]
    assert rows(bot.database, "SELECT pseudonym IS NULL FROM youths") == [(1,)]


async def test_help_lists_each_role_its_own_commands(bot: Harness) -> None:
    await link_therapist(bot)
    youth = bot.fake.user(YOUTH)
    await bot.enrol(youth, "J-001")
    youth.send("/help")
    await bot.fake.settle()
    assert youth.last.text.startswith("Wat je kunt typen:\n/toestemming: je keuzes")
    assert "/clients" not in youth.last.text
    therapist = bot.fake.user(THERAPIST)
    therapist.send("/help")
    await bot.fake.settle()
    assert therapist.last.text.startswith("Voor therapeuten:\n/clients")
    assert "/delete" not in therapist.last.text


async def test_not_now_at_the_invite_is_a_decision_kept_by_code_only(tmp_path: Path) -> None:
    coordinator = 9001
    extra = f"[coordinators]\ntelegram_ids = [{coordinator}]\n"
    async with running_bot(tmp_path, extra_toml=extra) as bot:
        youth = bot.fake.user(YOUTH)
        token = await bot.invite("J-001")
        await bot.invite("J-002")
        youth.send(f"/start {token}")
        await bot.fake.settle()
        youth.tap(youth.last, "Nu niet")
        await bot.fake.settle()
        assert youth.last.text.startswith("Oké, geen probleem.")
        text = bot.services.consents.current("participation")
        assert rows(bot.database, "SELECT youth_code, text_version, text_sha256, language"
                                  " FROM invite_declines") == [
            ("J-001", text.version, text.sha256("nl"), "nl")]
        assert rows(bot.database, "SELECT count(*) FROM consents") == [(0,)]
        assert rows(bot.database, "SELECT count(*) FROM contacts") == [(0,)]
        assert rows(bot.database, "SELECT pseudonym FROM youths") == [(None,), (None,)]
        bot.fake.user(coordinator).send("/overview")
        await bot.fake.settle()
        lines = bot.fake.user(coordinator).last.text.splitlines()
        assert next(x for x in lines if "J-001" in x).endswith(
            "⚠️ zei nee bij de uitnodiging (eigen keuze)"), lines
        assert "⚠️ nog niet aangemeld" in next(x for x in lines if "J-002" in x)
        # The same link still works, and then the youth is simply taking part.
        youth.send(f"/start {token}")
        await bot.fake.settle()
        youth.tap(youth.last, "Ik doe mee")
        await bot.fake.settle()
        rows_now = await bot.services.store.compliance(bot.clock())
        assert [r.declined for r in rows_now] == [False, False]
