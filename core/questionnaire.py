"""The questionnaire as data: items, scales and labels, loaded from a versioned TOML file."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Language = Literal["nl", "en"]
Discipline = Literal["music", "drama", "visual_art", "psychomotor", "dance"]
DISCIPLINES: tuple[Discipline, ...] = ("music", "drama", "visual_art", "psychomotor", "dance")
RATHER_NOT_SAY = "x"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    emoji: str
    nl: str
    en: str

    def text(self, lang: Language) -> str:
        return f"{self.emoji} {self.nl if lang == 'nl' else self.en}"


class ScaleOption(Label):
    value: int


class Scale(_Strict):
    points: int = Field(ge=2, le=7)
    options: tuple[ScaleOption, ...]

    @model_validator(mode="after")
    def _options_match_points(self) -> Scale:
        values = [o.value for o in self.options]
        if values != list(range(1, self.points + 1)):
            raise ValueError(f"options must have values 1..{self.points} in order")
        return self


class Item(_Strict):
    key: str
    nl: str
    en: str
    optional: bool = False

    def text(self, lang: Language) -> str:
        return self.nl if lang == "nl" else self.en


class Medium(_Strict):
    nl: str
    en: str


class ChoiceOption(Label):
    value: str = Field(pattern=r"^[a-z_]{1,20}$")


class EventQuestion(_Strict):
    key: str
    nl: str
    en: str
    options: tuple[ChoiceOption, ...]


class FreeText(_Strict):
    key: str
    nl: str
    en: str
    done_emoji: str
    done_nl: str
    done_en: str


class Scales(_Strict):
    full: Scale
    simple: Scale


class Questionnaire(_Strict):
    version: str = Field(pattern=r"^[a-z0-9-]{1,32}$")
    scales: Scales
    rather_not_say: Label
    items: tuple[Item, ...]
    media: dict[Discipline, Medium]
    event: EventQuestion
    free_text: FreeText

    @model_validator(mode="after")
    def _keys_unique(self) -> Questionnaire:
        keys = [i.key for i in self.items] + [self.event.key, self.free_text.key]
        if len(set(keys)) != len(keys):
            raise ValueError("item keys must be unique")
        return self

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def scale(self, simple: bool) -> Scale:
        return self.scales.simple if simple else self.scales.full

    def on_full_scale(self, value: str, simple: bool) -> int | None:
        """The 5-point value of the face a youth tapped: in alliance-2 the 3-point scale
        is the middle three faces of the 5-point one (🙁 2, 😐 3, 🙂 4), so a face means
        the same in both modes. None for "rather not say" or an unknown value."""
        if not simple:
            return int(value) if value.isdigit() else None
        emoji = next((o.emoji for o in self.scales.simple.options if str(o.value) == value),
                     None)
        return next((o.value for o in self.scales.full.options if o.emoji == emoji), None)


def parse_questionnaire(text: str) -> Questionnaire:
    """Parse and validate a questionnaire TOML document."""
    return Questionnaire.model_validate(tomllib.loads(text))


def builtin_text(name: str) -> str:
    """Return the text of a data file shipped in core/data."""
    return resources.files("core").joinpath("data", name).read_text(encoding="utf-8")


# Every published version, oldest first. The last one is asked in new check-ins; the
# others stay so that stored answers and check-ins opened before an upgrade are read (and
# completed) with the text and scale they were asked with.
PUBLISHED = ("questionnaire-alliance-1.toml", "questionnaire-alliance-2.toml")


@cache
def builtin_questionnaires() -> dict[str, Questionnaire]:
    """Every published questionnaire by its version, oldest first."""
    found = (parse_questionnaire(builtin_text(name)) for name in PUBLISHED)
    return {q.version: q for q in found}


def builtin_questionnaire() -> Questionnaire:
    """The questionnaire asked in new check-ins: the newest published version."""
    return list(builtin_questionnaires().values())[-1]


@cache
def faces_aligned(version: str) -> bool:
    """Whether the 3-point faces of this version are the middle three of its 5-point
    faces (alliance-2), so that 🙁 means the same in both modes; alliance-1 spread its
    three faces over the whole axis. Unknown or empty: the newest published version."""
    q = builtin_questionnaires().get(version) or builtin_questionnaire()
    full = [o.emoji for o in q.scales.full.options]
    return [o.emoji for o in q.scales.simple.options] == full[1:-1]


def questionnaire_version(current: Questionnaire, version: str) -> Questionnaire:
    """The questionnaire a check-in was opened with; the current one if it is unknown."""
    if version == current.version:
        return current
    return builtin_questionnaires().get(version, current)
