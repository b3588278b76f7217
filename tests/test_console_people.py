"""The coordinators' People pages over HTTP: enrol, invite with QR, join, re-invite,
unbind, move, simple mode and unit, each audited by the coordinator's actor."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from conversations.enrolment import enroll_therapist, enroll_unit
from tests.web_support import running_console, signed_in

INVITE = re.compile(r"https://t\.me/vakbot_demo_bot\?start=([A-Za-z0-9_-]+)")
YOUTH = 700000001


async def test_a_coordinator_enrols_a_youth_who_then_joins_from_the_invite(
        tmp_path: Path) -> None:
    async with running_console(tmp_path, "[units]\ndefault_unit = \"W-1\"\n") as console:
        store, now, ttl = console.services.store, console.clock(), console.services.invite_ttl
        await enroll_therapist(store, "T-02", "nl", now)
        await enroll_therapist(store, "T-03", "nl", now)
        await enroll_unit(store, "W-1", "nl", now, ttl)
        await enroll_unit(store, "W-2", "nl", now, ttl)
        async with signed_in(console, await console.sign_in_link("coordinator")) as client:
            before = (await client.get("/people")).text
            assert "Nog geen jongeren aangemeld" in before
            invite = await client.post("/people/youths", data={
                "code": "J-014", "therapist": "T-02", "birth_year": "2008",
                "language": "nl", "unit": ""})
            assert invite.status_code == 200, invite.text
            found = INVITE.search(invite.text)
            assert found and "<svg" in invite.text and "Uitnodiging voor J-014" in invite.text
            assert "afdeling W-1 heeft nog geen gekoppeld crisiscontact" in invite.text
            listed = (await client.get("/people")).text
            assert 'id="youth-J-014"' in listed and "Nog niet aangemeld" in listed
            assert "Link werkt tot 07-12 14:00" in listed   # 14 days, Amsterdam time

            youth = console.fake.user(YOUTH)
            youth.send(f"/start {found.group(1)}")
            await console.fake.settle()
            youth.tap(youth.last, "✅")
            await console.fake.settle()
            row = await client.post("/people/youths/J-014/simple", data={"simple": "on"},
                                    headers={"HX-Request": "true"})
            assert row.status_code == 200 and row.text.lstrip().startswith("<tr")
            assert "Doet mee" in row.text and "3 (eenvoudig)" in row.text
            moved = await client.post("/people/youths/J-014/therapist",
                                      data={"therapist": "T-03"},
                                      headers={"HX-Request": "true"})
            assert "Verplaatst" in moved.text
            again = await client.post("/people/youths/J-014/therapist",
                                      data={"therapist": "T-03"},
                                      headers={"HX-Request": "true"})
            assert again.status_code == 400 and "J-014 zit al bij T-03" in again.text
            assert again.text.lstrip().startswith("<tr")   # the row, with the reason
            unit = await client.post("/people/youths/J-014/unit", data={"unit": "W-2"})
            assert unit.status_code == 303   # without HTMX: back to the list
            unbound = await client.post("/people/youths/J-014/unbind")
            assert "Het oude account van J-014 is ontkoppeld" in unbound.text
            assert INVITE.search(unbound.text)
        youth_row = await store.youth_by_code("J-014")
        assert youth_row is not None and youth_row.simple_mode
        assert youth_row.therapist_code == "T-03"
        assert await store.youth_unit("J-014") == "W-2"
        audit = [(e.actor.split(":")[0], e.action, e.youth_code)
                 for e in await store.audit_entries() if e.actor.startswith("coordinator:")]
        assert [a for a in audit if not a[1].startswith("console:")] == [
            ("coordinator", "enrol", "J-014"), ("coordinator", "set-simple", "J-014"),
            ("coordinator", "move-youth", "J-014"), ("coordinator", "set-unit", "J-014"),
            ("coordinator", "unbind", "J-014")]


async def test_bad_input_gets_a_specific_reason_and_writes_nothing(tmp_path: Path) -> None:
    async with running_console(tmp_path, "[units]\ndefault_unit = \"W-1\"\n") as console:
        store = console.services.store
        await enroll_therapist(store, "T-02", "nl", console.clock())
        async with signed_in(console, await console.sign_in_link("coordinator")) as client:
            cases = [
                ({"code": "Jan", "therapist": "T-02", "birth_year": "2008"},
                 "is geen code zoals J-014"),
                ({"code": "J-1", "therapist": "T-09", "birth_year": "2008"},
                 "Therapeut T-09 ken ik niet"),
                ({"code": "J-1", "therapist": "T-02", "birth_year": "twee"},
                 "is geen geboortejaar"),
                ({"code": "J-1", "therapist": "T-02", "birth_year": "2014"},
                 "Aanmelden kan zo nog niet: born in 2014"),
                ({"code": "J-1", "therapist": "T-02", "birth_year": "2008",
                  "guardian": "2099-01-01"}, "De datum 2099-01-01 ligt in de toekomst"),
            ]
            for data, reason in cases:
                answer = await client.post("/people/youths", data=data)
                assert answer.status_code == 400 and reason in answer.text, (data, answer.text)
            again = await client.post("/people/youths/J-404/invite")
            assert again.status_code == 400 and "Jongere J-404 ken ik niet" in again.text
            odd = await client.post("/people/other/J-404/invite")
            assert odd.status_code == 404
        assert await store.active_youths() == []


async def test_a_therapist_is_enrolled_and_reinvited_from_the_page(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        link = await console.sign_in_link("coordinator")
        async with signed_in(console, link) as client:
            first = await client.post("/people/therapists", data={"code": "T-07",
                                                                  "language": "en"})
            assert "Uitnodiging voor T-07" in first.text
            again = await client.post("/people/therapists/T-07/invite")
            assert "1 oudere link(s) werken niet meer" in again.text
            old, new = INVITE.search(first.text), INVITE.search(again.text)
            assert old and new and old.group(1) != new.group(1)
            twice = await client.post("/people/therapists", data={"code": "T-07"})
            assert twice.status_code == 400 and "Therapeut T-07 is al aangemeld" in twice.text


async def test_an_expired_invite_shows_as_no_working_link(tmp_path: Path) -> None:
    async with running_console(tmp_path) as console:
        await console.invite("J-020", therapist="T-02")
        console.clock.advance(timedelta(days=15))   # invites work 14 days
        link = await console.sign_in_link("coordinator")
        async with signed_in(console, link) as client:
            listed = (await client.get("/people")).text
            assert "Geen werkende link: maak een nieuwe" in listed
            fresh = await client.post("/people/youths/J-020/invite")
            assert INVITE.search(fresh.text)
            assert "Link werkt tot" in (await client.get("/people")).text


async def test_a_unit_is_enrolled_its_phone_linked_and_replaced_from_the_page(
        tmp_path: Path) -> None:
    """The crisis contact is set up on the web too: no shell needed for a new unit."""
    async with running_console(tmp_path) as console:
        async with signed_in(console, await console.sign_in_link("coordinator")) as client:
            enrolled = await client.post("/people/units", data={"code": "W-7",
                                                                "language": "nl"})
            assert enrolled.status_code == 200 and "<svg" in enrolled.text
            assert "24/7-telefoon van de afdeling" in enrolled.text
            found = INVITE.search(enrolled.text)
            assert found
            listed = (await client.get("/people")).text
            assert 'id="unit-W-7"' in listed and "Niet gekoppeld" in listed

            again = await client.post("/people/units", data={"code": "W-7",
                                                             "language": "nl"})
            assert again.status_code == 400 and "Afdeling W-7 is al aangemeld" in again.text
            bad = await client.post("/people/units", data={"code": "W 7!", "language": "nl"})
            assert bad.status_code == 400 and "geen afdelingscode" in bad.text

            phone = console.fake.user(800000077)
            phone.send(f"/start {found.group(1)}")
            await console.fake.settle()
            assert phone.last.text.startswith("Deze telefoon is nu het crisiscontact van "
                                              "afdeling W-7.")
            listed = (await client.get("/people")).text
            assert "Gekoppeld" in listed.split('id="unit-W-7"')[1].split("</tr>")[0]
            refused = await client.post("/people/units/W-7/invite")
            assert refused.status_code == 400
            assert "al een gekoppelde crisistelefoon" in refused.text

            replaced = await client.post("/people/units/W-7/unbind")
            assert replaced.status_code == 200 and INVITE.search(replaced.text)
            listed = (await client.get("/people")).text
            assert "Niet gekoppeld" in listed.split('id="unit-W-7"')[1].split("</tr>")[0]
        audit = [(e.action, e.detail) for e in await console.services.store.audit_entries()
                 if e.action in ("enrol", "invite:unit", "unbind:unit")]
        assert audit[0] == ("enrol", "unit W-7") and audit[-1][0] == "unbind:unit"
