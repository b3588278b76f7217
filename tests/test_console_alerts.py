"""Alerts, the overview and the audit trail in the console: the same use cases as the
Telegram button and the CLI, who was reached and when, refusals that change nothing."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from core.records import NewAlert
from tests.web_support import ConsoleHarness, running_console, signed_in

YOUTH = 700000014


def rows(console: ConsoleHarness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(console.database) as conn:
        return list(conn.execute(sql))


async def crisis_on_unit(console: ConsoleHarness) -> None:
    """T-02 and unit W-1 linked, J-014 on W-1 writes a crisis text, one engine tick."""
    await console.staff_user("therapist", "T-02")
    await console.staff_user("unit", "W-1")
    youth = console.fake.user(YOUTH)
    await console.enrol(youth)
    assert await console.services.store.set_unit("J-014", "W-1")
    youth.send("ik snij mezelf, ik wil dood")
    await console.fake.settle()
    assert console.web is not None and console.web.engine is not None
    await console.web.engine.tick(console.channel)
    await console.fake.settle()


async def test_an_urgent_alert_shows_who_was_reached_escalates_and_a_coordinator_acks(
        tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await crisis_on_unit(console)
        link = await console.sign_in_link(role="coordinator")
        async with signed_in(console, link) as client:
            page = (await client.get("/alerts")).text
            assert 'data-ref-state="open"' in page
            assert "therapeut T-02" in page and "groepsleiding W-1" in page
            assert "bezorgd" in page
            assert "snij" not in page     # only the therapist sees which rule fired
            assert console.web is not None and console.web.engine is not None
            console.clock.advance(timedelta(minutes=21))
            await console.web.engine.tick(console.channel)
            await console.fake.settle()
            page = (await client.get("/alerts?state=escalated")).text
            assert 'data-ref-state="escalated"' in page and "een coördinator" in page
            (ref,) = rows(console, "SELECT ref FROM alerts")[0]
            acked = await client.post("/alerts/ack", data={"ref": ref,
                                                           "next": "/alerts?state="})
            assert acked.status_code == 303 and "done=acked" in acked.headers["location"]
            page = (await client.get(acked.headers["location"])).text
            assert "Gezien: de melding is bij jou" in page
            assert "gezien door een coördinator" in page
            again = await client.post("/alerts/ack", data={"ref": ref})
            assert "done=already" in again.headers["location"]
        # Recorded as this coordinator's own "✓ Gezien" on their row: after the next tick
        # the others are told who took it up, the coordinator who did is not.
        assert rows(console, "SELECT a.acked_by = d.recipient FROM alerts a JOIN "
                             "alert_deliveries d ON d.alert_id = a.id "
                             "WHERE d.recipient LIKE 'coordinator:%'") == [(1,)]
        await console.web.engine.tick(console.channel)
        await console.fake.settle()
        told = "is opgepakt door een coördinator"
        unit = await console.staff_user("unit", "W-1")
        coordinator = await console.staff_user("coordinator")
        assert told in unit.last.text
        assert not any(told in m.text for m in coordinator.inbox)
        acks = [e for e in await console.services.store.audit_entries()
                if e.action == "ack:urgent"]
        assert [(e.actor.split(":")[0], e.youth_code) for e in acks] == [
            ("coordinator", "J-014")]


async def test_a_therapist_acknowledges_own_alerts_only(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await crisis_on_unit(console)
        store, now = console.services.store, console.clock()
        await console.staff_user("therapist", "T-03")
        assert await store.add_alert(NewAlert(
            "missedref0000001", "missed:J-014:1", "missed", "J-014", "T-02",
            "3 keer op rij gemist.", now, None), now)
        assert await store.add_alert(NewAlert(   # sealed under a key no longer configured
            "oldcrisisref0001", "crisis:J-014:old", "crisis", "J-014", "T-02",
            "not-sealed-with-any-key", now, None), now)
        link = await console.sign_in_link(role="therapist", code="T-03")
        async with signed_in(console, link) as other:
            page = (await other.get("/alerts")).text
            assert "J-014" not in page
            refused = await other.post("/alerts/ack", data={"ref": "missedref0000001"})
            assert refused.headers["location"] == "/alerts?done=not_yours"
            assert "Deze melding is niet voor jou" in (await other.get(
                refused.headers["location"])).text
        assert rows(console, "SELECT count(*) FROM alerts WHERE acked_at IS NOT NULL") == [
            (0,)]
        link = await console.sign_in_link(role="therapist", code="T-02")
        async with signed_in(console, link) as client:
            page = (await client.get("/alerts")).text
            assert "3 keer op rij gemist." in page and "snij" in page
            assert "J-014: deze melding kan niet worden geopend" in page
            done = await client.post("/alerts/ack", data={"ref": "missedref0000001"})
            assert done.status_code == 303
        assert rows(console, "SELECT kind, acked_by FROM alerts WHERE acked_at IS NOT NULL"
                    ) == [("missed", "therapist")]


async def test_the_overview_filters_and_names_the_reason(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await console.staff_user("therapist", "T-02")
        await console.enrol(console.fake.user(YOUTH))
        assert await console.services.store.set_unit("J-014", "W-1")
        youth = await console.services.store.youth_by_code("J-014")
        assert youth is not None and youth.pseudonym is not None
        await console.services.store.set_paused(youth.pseudonym, True)
        link = await console.sign_in_link(role="coordinator")
        async with signed_in(console, link) as client:
            page = (await client.get("/overview")).text
            assert 'data-youth="J-014"' in page and "gestopt met /stop" in page
            assert 'data-youth="J-014"' in (await client.get("/overview?unit=W-1")).text
            assert 'data-youth="J-014"' not in (await client.get("/overview?unit=W-2")).text
            assert 'data-youth="J-014"' not in (
                await client.get("/overview?therapist=T-03")).text
        reads = [e.detail for e in await console.services.store.audit_entries()
                 if e.action == "read:overview"]
        assert reads[-1] == "console; unit all, therapist T-03"


async def test_the_audit_page_filters_and_shows_the_verdict(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await console.staff_user("therapist", "T-02")
        await console.enrol(console.fake.user(YOUTH))
        link = await console.sign_in_link(role="coordinator")
        async with signed_in(console, link) as client:
            page = (await client.get("/audit")).text
            assert "De keten is heel" in page
            page = (await client.get("/audit?youth=j-014&action=consent")).text
            assert "consent" in page and "console:signin" not in page
            with sqlite3.connect(console.database) as conn:   # a tampered copy
                conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
                conn.execute("UPDATE audit_log SET detail = 'edited' WHERE seq = 1")
            page = (await client.get("/audit")).text
            assert "GEBROKEN" in page and "entry 1: content does not match its hash" in page
        assert any(e.action == "read:audit" and e.youth_code == "J-014"
                   for e in await console.services.store.audit_entries())


async def test_the_unit_contact_sees_its_urgent_alert_and_acknowledges_it(
        tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await crisis_on_unit(console)
        link = await console.sign_in_link(role="unit", code="W-1")
        async with signed_in(console, link) as client:
            page = (await client.get("/alerts")).text
            assert "Zorg dat nu iemand naar J-014 toe gaat" in page
            assert "snij" not in page
            (ref,) = rows(console, "SELECT ref FROM alerts")[0]
            done = await client.post("/alerts/ack", data={"ref": ref})
            assert "done=acked" in done.headers["location"]
            assert (await client.get("/overview")).status_code == 403
        assert rows(console, "SELECT acked_by FROM alerts") == [("unit:W-1",)]
        assert console.web is not None and console.web.engine is not None
        await console.web.engine.tick(console.channel)   # the others hear who took it up
        await console.fake.settle()
        therapist = await console.staff_user("therapist", "T-02")
        assert any("groepsleiding" in m.text for m in therapist.inbox if m.text)
