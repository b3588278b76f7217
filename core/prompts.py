"""How a check-in step looks: message text and buttons, as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from core.callbacks import answer_data
from core.flow import DONE, NO_SESSION, Step, StepKind
from core.questionnaire import RATHER_NOT_SAY, Discipline, Language, Questionnaire
from core.texts import say


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Prompt:
    text: str
    buttons: tuple[tuple[Button, ...], ...]


_CHOSEN_MARK = "✔️ "


def _options(
    q: Questionnaire, step: Step, lang: Language, simple: bool
) -> list[tuple[str, str]]:
    if step.kind is StepKind.SCALE:
        scale = q.scale(simple)
        opts = [(str(o.value), o.text(lang)) for o in scale.options]
        return [*opts, (RATHER_NOT_SAY, q.rather_not_say.text(lang))]
    if step.kind is StepKind.CHOICE:
        return [(o.value, o.text(lang)) for o in q.event.options]
    ft = q.free_text
    return [(DONE, f"{ft.done_emoji} {ft.done_nl if lang == 'nl' else ft.done_en}")]


def question_text(
    q: Questionnaire, step: Step, lang: Language, discipline: Discipline | None
) -> str:
    if step.kind is StepKind.CHOICE:
        return q.event.nl if lang == "nl" else q.event.en
    if step.kind is StepKind.TEXT:
        return q.free_text.nl if lang == "nl" else q.free_text.en
    text = q.item(step.key).text(lang)
    if "{medium}" in text and discipline is not None:
        medium = q.media[discipline]
        text = text.replace("{medium}", medium.nl if lang == "nl" else medium.en)
    return text


def render_step(
    q: Questionnaire,
    steps: tuple[Step, ...],
    index: int,
    *,
    checkin_ref: str,
    lang: Language,
    simple: bool,
    discipline: Discipline | None,
    chosen: str | None = None,
    intro: str | None = None,
    sharing: bool = True,
) -> Prompt:
    """Return the message for step `index`, marking the chosen answer if there is one.

    The first question carries `intro` (which session, and that honesty is welcome).

    The note question for a youth who does not share with the therapist (`sharing`
    False) says honestly that nobody reads the note. We keep asking rather than skip the
    question: typed text is still read for a crisis signal (the one path that reaches
    the therapist whatever the youth chose, conversations.crisis), and dropping the only
    free-text moment would silently take that channel away from exactly the youths who
    trust adults least. Telling them is honest and keeps the way to help open."""
    step = steps[index]
    text = question_text(q, step, lang, discipline)
    if step.kind is StepKind.TEXT and not sharing:
        text = f"{text}\n\n{say(lang, 'note_not_read')}"
    if index == 0:
        text = f"{intro or say(lang, 'checkin_intro')}\n\n{text}"
    options = _options(q, step, lang, simple)
    labels = dict(options)
    if chosen is not None and chosen in labels:
        text = f"{text}\n\n👉 {say(lang, 'chosen', choice=labels[chosen])}"
    rows = tuple(
        (Button((_CHOSEN_MARK if value == chosen else "") + label,
                answer_data(checkin_ref, index, value)),)
        for value, label in options
    )
    if index == 0:   # the session may not have taken place: say so in one tap
        rows = (*rows, (Button(say(lang, "no_session_button"),
                               answer_data(checkin_ref, 0, NO_SESSION)),))
    return Prompt(text, rows)

