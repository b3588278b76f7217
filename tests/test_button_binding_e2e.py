"""Every button works only on the message it was sent on: a button's data replayed on
another message, or invented, gets a kind toast, and nothing is written or edited."""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.wiring import make_engine
from conversations.enrolment import enroll_therapist
from core.callbacks import scope_data
from core.delivery import Kind
from core.identity import new_token
from core.records import NewAlert, NewOutbox
from faketelegram.server import SentMessage
from tests.support import Harness

YOUTH, THERAPIST = 700000001, 600000002
REFUSED = "Deze knop werkt niet meer. 🙂"


def rows(bot: Harness, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(bot.database) as conn:
        return list(conn.execute(sql))


def snapshot(bot: Harness) -> list[Any]:
    """Everything a replayed tap could change."""
    return [rows(bot, "SELECT scope, answer, withdrawn_at FROM consents ORDER BY id"),
            rows(bot, "SELECT * FROM answers ORDER BY checkin_id, item"),
            rows(bot, "SELECT * FROM therapist_ratings"),
            rows(bot, "SELECT acked_at FROM alerts"),
            rows(bot, "SELECT code, pseudonym IS NULL FROM youths")]


def shown(message: SentMessage) -> tuple[str, list[list[tuple[str, str]]], int]:
    return message.text, [list(row) for row in message.buttons], message.edits


async def replay(bot: Harness, chat: int, data: str, on: SentMessage) -> None:
    """Tap `data` on message `on`; assert the toast, and no write, edit or message."""
    user = bot.fake.user(chat)
    before, seen, inbox = snapshot(bot), shown(on), len(user.inbox)
    query = user.tap_data(on, data)
    await bot.fake.settle()
    assert bot.fake.answered[query] == REFUSED
    assert snapshot(bot) == before and shown(on) == seen and len(user.inbox) == inbox


async def test_the_sharing_yes_replayed_on_a_checkin_question_changes_nothing(
    bot: Harness,
) -> None:
    youth = bot.fake.user(YOUTH)
    token = await bot.invite("J-001")
    youth.send(f"/start {token}")
    await bot.fake.settle()
    youth.tap(youth.last, "✅")
    await bot.fake.settle()
    sharing_question = youth.last
    sharing_yes = sharing_question.data_for("✅")
    youth.tap(sharing_question, "🙅")                 # no sharing with the therapist
    await bot.fake.settle()
    await bot.checkin("J-001")
    question = youth.last
    await replay(bot, YOUTH, sharing_yes, question)   # the very data the bot sent, elsewhere
    await replay(bot, YOUTH, scope_data("sharing", 1, True), question)   # as it used to be
    assert rows(bot, "SELECT answer FROM consents WHERE scope = 'sharing'") == [("no",)]
    youth.tap(question, "Goed")                       # the question's own buttons still work
    await bot.fake.settle()
    assert "👉" in question.text


async def test_no_kind_of_button_works_on_another_message(bot: Harness) -> None:
    store = bot.services.store
    invitation = await enroll_therapist(store, "T-02", "nl", bot.clock(),
                                        bot.services.invite_ttl)
    assert invitation is not None
    bot.fake.user(THERAPIST).send(f"/start {invitation.token}")
    await bot.fake.settle()
    youth = bot.fake.user(YOUTH)
    token = await bot.invite("J-001")
    youth.send(f"/start {token}")
    await bot.fake.settle()
    invite = youth.last
    join = invite.data_for("Ik doe mee")               # the invite's consent button
    youth.tap(invite, "Ik doe mee")
    await bot.fake.settle()
    youth.tap(youth.last, "✅")
    await bot.fake.settle()
    await bot.checkin("J-001")
    question = youth.last
    answer = question.data_for("Goed")
    youth.send("/toestemming")
    await bot.fake.settle()
    menu = youth.last
    scope = menu.data_for("Onderzoek")
    youth.send("/delete")
    await bot.fake.settle()
    confirm = youth.last
    delete = confirm.buttons[0][0][1]
    for data, elsewhere in ((answer, menu), (join, question), (scope, question),
                            (delete, question), (answer, confirm), (scope, invite)):
        await replay(bot, YOUTH, data, elsewhere)

    now = bot.clock()
    await store.add_outbox([NewOutbox("rating:x:J-001", Kind.RATING, "x", now, now,
                                      now + bot.services.checkin_ttl, "J-001", "T-02",
                                      new_token()[:16])], now)
    await store.add_alert(NewAlert(new_token()[:16], "missed:J-001", "missed", "J-001",
                                   "T-02", "3 check-ins op rij niet ingevuld.", now, None), now)
    await make_engine(bot.settings, bot.services).tick(bot.channel)
    await bot.fake.settle(expect_response=False)
    therapist = bot.fake.user(THERAPIST)
    rating = next(m for m in therapist.inbox if "Gezien" not in " ".join(m.button_labels())
                  and m.buttons)
    alert = next(m for m in therapist.inbox if "Gezien" in " ".join(m.button_labels()))
    await replay(bot, THERAPIST, rating.buttons[0][0][1], alert)
    await replay(bot, THERAPIST, alert.buttons[0][0][1], rating)
    therapist.tap(alert, "Gezien")                    # on its own message it works
    await bot.fake.settle()
    assert rows(bot, "SELECT count(*) FROM alerts WHERE acked_at IS NOT NULL") == [(1,)]
