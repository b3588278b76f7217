"""Closing the loop: the pure rules of core.loop, table by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.loop import (
    LastCheckin,
    PastCheckin,
    TalkReasons,
    is_low,
    low_dimensions,
    my_line,
    talk_due,
    talk_line,
    talk_message,
    talk_reasons,
    thanks_key,
)
from core.questionnaire import builtin_questionnaires

V1, V2 = builtin_questionnaires()["alliance-1"], builtin_questionnaires()["alliance-2"]


@pytest.mark.parametrize(("value", "points", "low"), [
    ("1", 5, True), ("2", 5, True), ("3", 5, False), ("4", 5, False), ("5", 5, False),
    ("1", 3, True), ("2", 3, False), ("3", 3, False),
    ("x", 5, False), ("x", 3, False), ("done", 5, False), ("argument", 5, False),
])
def test_is_low_means_below_the_middle_face(value: str, points: int, low: bool) -> None:
    assert is_low(value, points) is low


@pytest.mark.parametrize(("answers", "points", "expected"), [
    ({"bond": "1", "goal": "4", "task": "4"}, 5, ("bond",)),
    ({"bond": "2", "goal": "2", "task": "5", "medium": "1"}, 5, ("medium", "goal", "bond")),
    ({"bond": "x", "goal": "3", "task": "3"}, 5, ()),
    ({"bond": "1", "event": "argument", "note": "done"}, 3, ("bond",)),
    ({}, 5, ()),
])
def test_low_dimensions_in_question_order(answers: dict[str, str], points: int,
                                          expected: tuple[str, ...]) -> None:
    assert low_dimensions(answers, points) == expected


@pytest.mark.parametrize(("answers", "points", "sharing", "key"), [
    ({"bond": "1"}, 5, True, "thanks_honest"),
    ({"bond": "1"}, 5, False, "thanks"),         # nobody sees it: no "now your therapist knows"
    ({"bond": "3", "goal": "x"}, 5, True, "thanks"),
    ({"task": "1"}, 3, True, "thanks_honest"),
    ({"task": "2"}, 3, True, "thanks"),
])
def test_thanks_for_honesty(answers: dict[str, str], points: int, sharing: bool,
                            key: str) -> None:
    assert thanks_key(answers, points, sharing) == key


LOW_BOND = {"task": "4", "goal": "4", "bond": "1"}


@pytest.mark.parametrize(("last", "alerts", "expected"), [
    (None, [], None),
    (LastCheckin({"task": "4", "bond": "5"}, 5, crisis=False, shared=True), [], None),
    (LastCheckin(LOW_BOND, 5, crisis=False, shared=True), [],
     TalkReasons("J-1", ("bond",), crisis=False, alerts=())),
    (LastCheckin(LOW_BOND, 5, crisis=False, shared=False), [], None),   # not shared: not told
    (LastCheckin(LOW_BOND, 5, crisis=True, shared=False), [],
     TalkReasons("J-1", (), crisis=True, alerts=())),
    (None, ["rupture", "rupture"], TalkReasons("J-1", (), crisis=False, alerts=("rupture",))),
    (LastCheckin({"bond": "x"}, 3, crisis=False, shared=True), ["missed"],
     TalkReasons("J-1", (), crisis=False, alerts=("missed",))),
])
def test_talk_reasons(last: LastCheckin | None, alerts: list[str],
                      expected: TalkReasons | None) -> None:
    assert talk_reasons("J-1", last, alerts) == expected


START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(("minutes_before", "due"), [
    (61, False), (60, True), (30, True), (1, True), (0, False), (-5, False)])
def test_talk_due_from_an_hour_before_until_the_start(minutes_before: int, due: bool) -> None:
    assert talk_due(START, START - timedelta(minutes=minutes_before)) is due


@pytest.mark.parametrize(("reasons", "nl", "en"), [
    (TalkReasons("J-103", ("bond",), False, ()),
     "J-103: band was laag na de vorige sessie. Even bespreken?",
     "J-103: bond was low after the last session. Talk about it?"),
    (TalkReasons("J-103", ("task", "goal", "bond"), False, ()),
     "J-103: samenwerken, doel en band waren laag na de vorige sessie. Even bespreken?",
     "J-103: working together, goal and bond were low after the last session. Talk about it?"),
    (TalkReasons("J-103", ("medium",), True, ("rupture",)),
     "J-103: het medium was laag, er kwam een zorgelijk bericht en er was een breuk na de"
     " vorige sessie. Even bespreken?",
     "J-103: the medium was low, a worrying message came in and there was a rupture after"
     " the last session. Talk about it?"),
])
def test_talk_line(reasons: TalkReasons, nl: str, en: str) -> None:
    assert (talk_line("nl", reasons), talk_line("en", reasons)) == (nl, en)


def test_talk_message_lists_every_youth_of_a_group() -> None:
    text = talk_message("nl", "15:00", [TalkReasons("J-1", ("bond",), crisis=False, alerts=()),
                                        TalkReasons("J-2", (), False, ("missed",))])
    assert text.splitlines() == [
        "🗣️ Straks om 15:00 heb je sessie. Even aandacht voor:",
        "J-1: band was laag na de vorige sessie. Even bespreken?",
        "J-2: er werd vaak gemist na de vorige sessie. Even bespreken?"]


def test_my_line_shows_each_answer_with_its_own_scale() -> None:
    past = [PastCheckin(V1, False, {"bond": "1", "goal": "5", "task": "3"}),
            PastCheckin(V2, False, {"task": "1", "goal": "x", "bond": "5"}),
            PastCheckin(V2, True, {"task": "2", "medium": "3", "goal": "1"})]
    text = my_line("nl", V2, True, past).splitlines()
    assert text[0] == "📈 Jouw lijn: je laatste 3 keer. Van oud naar nieuw."
    assert text[1:5] == ["Samenwerken: 😊 😢 😐", "Samen doen: ▫️ ▫️ 🙂",
                         "Je doel: 🤩 🤐 🙁", "Veilig voelen: 😐 😄 ▫️"]
    assert text[6] == "🙁 Slecht · 😐 Gewoon · 🙂 Goed", "the youth's own (simple) scale"
    assert text[-1] == ("Let op: bij 1 van deze keren waren er nog de oude vragen, met"
                        " andere gezichtjes.")
    english = my_line("en", V2, False, past[1:])
    assert "Feeling safe: 😄 ▫️" in english and "old questions" not in english
    assert my_line("nl", V2, False, []).startswith("Je hebt nog geen vragen beantwoord.")
