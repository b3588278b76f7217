"""Deny by default: every command and action x every role x own versus another's youth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.enrolment import enroll_therapist, unbind_therapist
from core.callbacks import ack_data, answer_data, discuss_data, rating_data, scope_data
from core.delivery import Kind
from core.identity import new_token
from storage.ports import NewAlert, NewOutbox
from tests.support import Harness, running_bot

YOUTH, OTHER_YOUTH, THERAPIST, OTHER_THERAPIST, COORDINATOR, RESEARCHER, STRANGER = (
    700000001, 700000002, 600000002, 600000003, 9001, 9002, 700000999)
FORMER = 600000012   # T-02's earlier account, cut off with unbind-therapist
DENIED = {"Hoi! Deze bot is alleen voor jongeren", "Dit commando is alleen voor",
          "Deze knop werkt niet meer", "Deze melding is niet voor jou",
          "J-002 is niet een van jouw jongeren"}


@dataclass(frozen=True)
class Case:
    role: str
    action: str
    target: str          # "own" or "other" (whose youth the action concerns), or "-"
    allowed: bool


MATRIX = [Case(role, action, target, allowed) for role, action, target, allowed in [
    # commands: only the role they are for
    ("youth", "/mydata", "own", True), ("therapist", "/mydata", "-", False),
    ("coordinator", "/mydata", "-", False), ("stranger", "/mydata", "-", False),
    ("youth", "/delete", "own", True), ("stranger", "/delete", "-", False),
    ("therapist", "/delete", "-", False),
    ("youth", "/research", "own", True), ("stranger", "/research", "-", False),
    ("researcher", "/research", "-", False), ("therapist", "/research", "-", False),
    ("youth", "/toestemming", "own", True), ("therapist", "/toestemming", "-", False),
    ("researcher", "/toestemming", "-", False), ("stranger", "/toestemming", "-", False),
    ("researcher", "/mydata", "-", False), ("researcher", "/delete", "-", False),
    ("youth", "/clients", "-", False), ("therapist", "/clients", "own", True),
    ("coordinator", "/clients", "-", False), ("stranger", "/clients", "-", False),
    ("youth", "/report", "-", False), ("therapist", "/report", "own", True),
    ("stranger", "/report", "-", False),
    ("youth", "/rate", "-", False), ("therapist", "/rate", "own", True),
    ("youth", "/overview", "-", False), ("therapist", "/overview", "-", False),
    ("coordinator", "/overview", "-", True), ("stranger", "/overview", "-", False),
    ("researcher", "/clients", "-", False), ("researcher", "/report", "-", False),
    ("researcher", "/rate", "-", False), ("researcher", "/overview", "-", False),
    ("researcher", "/export", "-", True), ("youth", "/export", "-", False),
    ("therapist", "/export", "-", False), ("coordinator", "/export", "-", False),
    ("stranger", "/export", "-", False),
    # buttons: only on one's own data
    ("youth", "answer", "own", True), ("youth", "answer", "other", False),
    ("therapist", "answer", "own", False), ("stranger", "answer", "own", False),
    ("therapist", "rate", "own", True), ("therapist", "rate", "other", False),
    ("youth", "rate", "own", False), ("stranger", "rate", "own", False),
    ("therapist", "ack", "own", True), ("therapist", "ack", "other", False),
    ("youth", "ack", "own", False), ("coordinator", "ack", "own", False),
    ("researcher", "answer", "own", False), ("researcher", "rate", "own", False),
    ("researcher", "ack", "own", False),
    ("youth", "consent", "own", True), ("therapist", "consent", "own", False),
    ("researcher", "consent", "own", False), ("stranger", "consent", "own", False),
    # the coordinator's and the stranger's remaining cells: nothing outside their role
    ("coordinator", "/delete", "-", False), ("coordinator", "/research", "-", False),
    ("coordinator", "/toestemming", "-", False), ("coordinator", "/report", "-", False),
    ("coordinator", "/rate", "-", False), ("stranger", "/rate", "-", False),
    ("coordinator", "answer", "own", False), ("coordinator", "rate", "own", False),
    ("coordinator", "consent", "own", False), ("stranger", "ack", "own", False),
    ("youth", "/help", "own", True), ("therapist", "/help", "own", True),
    ("coordinator", "/help", "-", True), ("researcher", "/help", "-", True),
    ("stranger", "/help", "-", False),
    # a therapist's former (unbound) account: nothing, at once
    ("former", "/clients", "-", False), ("former", "/report", "-", False),
    ("former", "/rate", "-", False), ("former", "/overview", "-", False),
    ("former", "/mydata", "-", False), ("former", "/help", "-", False),
    ("former", "rate", "own", False), ("former", "ack", "own", False),
    ("former", "answer", "own", False), ("former", "consent", "own", False),
    # closing the loop: the youth's own line, the therapist's simple-mode switch, Besproken
    ("youth", "/mijnlijn", "own", True), ("therapist", "/mijnlijn", "-", False),
    ("coordinator", "/mijnlijn", "-", False), ("researcher", "/mijnlijn", "-", False),
    ("stranger", "/mijnlijn", "-", False),
    ("therapist", "discuss", "own", True), ("therapist", "discuss", "other", False),
    ("youth", "discuss", "own", False), ("coordinator", "discuss", "own", False),
    ("stranger", "discuss", "own", False),
    ("therapist", "/simpel J-002 aan", "other", False),
    ("youth", "/simpel J-001 aan", "-", False), ("coordinator", "/simpel J-001 aan", "-", False),
    ("researcher", "/simpel J-001 aan", "-", False), ("stranger", "/simpel J-001 aan", "-", False),
    ("therapist", "/simpel J-001 aan", "own", True),
    # the per-youth view: the therapist's own youth only
    ("therapist", "/report J-001", "own", True), ("therapist", "/report J-002", "other", False),
    ("youth", "/report J-001", "-", False), ("coordinator", "/report J-001", "-", False),
    ("researcher", "/report J-001", "-", False), ("stranger", "/report J-001", "-", False),
    ("former", "/report J-001", "-", False),
]]


async def setup(bot: Harness) -> dict[str, str]:
    store, now = bot.services.store, bot.clock()
    first = await enroll_therapist(store, "T-02", "nl", now, bot.services.invite_ttl)
    other = await enroll_therapist(store, "T-03", "nl", now, bot.services.invite_ttl)
    assert first is not None and other is not None
    bot.fake.user(FORMER).send(f"/start {first.token}")
    await bot.fake.settle()
    again = await unbind_therapist(store, "T-02", now, bot.services.invite_ttl)
    for token, chat in ((again.token, THERAPIST), (other.token, OTHER_THERAPIST)):
        bot.fake.user(chat).send(f"/start {token}")
        await bot.fake.settle()
    await bot.enrol(bot.fake.user(YOUTH), "J-001", therapist="T-02")
    await bot.enrol(bot.fake.user(OTHER_YOUTH), "J-002", therapist="T-03")
    await bot.checkin("J-001", occurrence="s1")
    await bot.checkin("J-002", occurrence="s2")
    refs = {}
    for code, therapist, key in (("J-001", "T-02", "own"), ("J-002", "T-03", "other")):
        rating_ref, alert_ref = new_token()[:16], new_token()[:16]
        await store.add_outbox([NewOutbox(f"rating:x:{code}", Kind.RATING, "x", now,
                                          now, now, code, therapist, rating_ref)], now)
        await store.add_alert(NewAlert(alert_ref, f"missed:{code}", "missed", code, therapist,
                                       "3 check-ins op rij niet ingevuld.", now, None), now)
        refs[f"rating-{key}"], refs[f"alert-{key}"] = rating_ref, alert_ref
    own_checkin = bot.fake.user(YOUTH).last.data_for("Goed").split("|")[1].split(":")[1]
    other_checkin = bot.fake.user(OTHER_YOUTH).last.data_for("Goed").split("|")[1].split(":")[1]
    refs["checkin-own"], refs["checkin-other"] = own_checkin, other_checkin
    return refs


CHATS = {"youth": YOUTH, "therapist": THERAPIST, "coordinator": COORDINATOR,
         "researcher": RESEARCHER, "stranger": STRANGER, "former": FORMER}


async def test_access_matrix(tmp_path: Path) -> None:
    extra = (f"[coordinators]\ntelegram_ids = [{COORDINATOR}]\n"
             f"[researchers]\ntelegram_ids = [{RESEARCHER}]\n")
    async with running_bot(tmp_path, extra_toml=extra) as bot:
        refs = await setup(bot)
        outcomes = []
        for case in MATRIX:
            user = bot.fake.user(CHATS[case.role])
            before = len(user.inbox)
            if case.action.startswith("/"):
                user.send(case.action)
                await bot.fake.settle()
                reply = user.inbox[before].text if len(user.inbox) > before else ""
            else:
                data = {"answer": answer_data(refs[f"checkin-{case.target}"], 0, "4"),
                        "rate": rating_data(refs[f"rating-{case.target}"], "bond", "4"),
                        "ack": ack_data(refs[f"alert-{case.target}"]),
                        "discuss": discuss_data(refs[f"alert-{case.target}"]),
                        "consent": scope_data("research", 1, False)}[case.action]
                # a button as the bot could have made it (bound to this message), so the
                # role and ownership checks behind the binding are what is tested
                carrier = next(m for m in reversed(bot.fake.user(YOUTH).inbox) if m.buttons)
                query = user.tap_data(carrier, bot.button(carrier, data))
                await bot.fake.settle()
                reply = bot.fake.answered.get(query) or ""
            assert reply, f"no answer at all to {case}"   # silence is not a clear reply
            denied = any(reply.startswith(d) for d in DENIED)
            outcomes.append((case, not denied))
        wrong = [(c.role, c.action, c.target, c.allowed) for c, allowed in outcomes
                 if allowed != c.allowed]
        assert wrong == [], f"{len(wrong)} of {len(MATRIX)} cells differ: {wrong}"
        # The comparison has teeth: one flipped expectation is exactly one differing cell.
        flipped = MATRIX[0]
        caught = [c for c, allowed in outcomes
                  if allowed != ((not c.allowed) if c is flipped else c.allowed)]
        assert caught == [flipped]
