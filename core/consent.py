"""Who may be enrolled, and what consent the law needs first (Netherlands)."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from datetime import date

from core.questionnaire import Language, builtin_text

DIGITAL_CONSENT_AGE = 16
MIN_AGE = 12
MAX_AGE = 25


def enrolment_problems(
    birth_year: int, guardian_consent_date: date | None, today: date
) -> list[str]:
    """Return why a youth may not be enrolled yet; empty when enrolment may go ahead.

    Only the birth year is known, so someone born in year Y may still be 15 during all of
    Y + 16. To stay on the safe side, guardian consent is required until the year in which
    the youth certainly is 16 or older (Y + 17).
    """
    problems: list[str] = []
    oldest = today.year - birth_year
    youngest = oldest - 1
    if oldest < MIN_AGE or youngest > MAX_AGE:
        problems.append(
            f"birth year {birth_year} gives an age outside {MIN_AGE} to {MAX_AGE}"
        )
        return problems
    if youngest < DIGITAL_CONSENT_AGE:
        if guardian_consent_date is None:
            problems.append(
                f"born in {birth_year}, this youth may be younger than {DIGITAL_CONSENT_AGE}: "
                "record the guardian's consent with --guardian-consent-date YYYY-MM-DD"
            )
        elif guardian_consent_date > today:
            problems.append("the guardian consent date lies in the future")
    return problems


@dataclass(frozen=True)
class ConsentText:
    version: str
    body: dict[Language, str]
    agree: dict[Language, str]
    decline: dict[Language, str]

    def sha256(self, lang: Language) -> str:
        """Return the digest stored with a consent, proving which exact text was shown."""
        return hashlib.sha256(self.body[lang].strip().encode()).hexdigest()


def parse_consent_text(text: str) -> ConsentText:
    data = tomllib.loads(text)
    return ConsentText(
        version=data["version"],
        body={"nl": data["nl"].strip(), "en": data["en"].strip()},
        agree={"nl": data["agree_nl"], "en": data["agree_en"]},
        decline={"nl": data["decline_nl"], "en": data["decline_en"]},
    )


def builtin_consent() -> ConsentText:
    return parse_consent_text(builtin_text("consent-1.toml"))
