"""Every flag as one plain line: what fired, and what to do. Used by the image, the
caption and the alerts, so the three say the same thing in the same words.

Dutch at B1 level for therapists (English alongside); no percentages, no statistics
jargon: "dip" for a mild drop, "breuk" for a rupture (core.analytics.Rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.analytics import MEAN, Rule, Rupture
from core.questionnaire import Language

DIMENSION_WORDS: dict[Language, dict[str, str]] = {
    "nl": {"bond": "band", "goal": "doel", "task": "taak", "medium": "medium",
           MEAN: "alles samen"},
    "en": {"bond": "bond", "goal": "goal", "task": "task", "medium": "medium",
           MEAN: "overall"},
}

_WHAT: dict[Language, dict[str, str]] = {
    "nl": {Rule.RUPTURE: "{dim}: breuk, veel lager dan gewoonlijk.",
           Rule.DIP: "{dim}: dip, iets lager dan gewoonlijk.",
           Rule.FLOOR: "{dim}: het laagste antwoord.",
           Rule.DRIFT: "{dim}: zakt langzaam, sessie na sessie.",
           Rule.EXCELLENT_EARLY: "Daling na een topstart.",
           "repaired": "{dim}: hersteld na {rule}.",
           "repaired_discussed": "{dim}: hersteld na bespreking ({rule}).",
           "missed": "{n} check-ins op rij gemist.",
           "ceiling": "Altijd de hoogste score.",
           "higher": "{dim}: de jongere scoort steeds hoger dan jij.",
           "lower": "{dim}: de jongere scoort steeds lager dan jij."},
    "en": {Rule.RUPTURE: "{dim}: rupture, much lower than usual.",
           Rule.DIP: "{dim}: dip, a little lower than usual.",
           Rule.FLOOR: "{dim}: the lowest answer.",
           Rule.DRIFT: "{dim}: sliding slowly, session after session.",
           Rule.EXCELLENT_EARLY: "Drop after a top start.",
           "repaired": "{dim}: repaired after a {rule}.",
           "repaired_discussed": "{dim}: repaired after discussion ({rule}).",
           "missed": "Missed {n} check-ins in a row.",
           "ceiling": "Always the top score.",
           "higher": "{dim}: the youth keeps rating higher than you.",
           "lower": "{dim}: the youth keeps rating lower than you."},
}
_TODO: dict[Language, dict[str, str]] = {
    "nl": {Rule.RUPTURE: "Bespreek het in de volgende sessie.",
           Rule.DIP: "Vraag er kort naar.",
           Rule.FLOOR: "Bespreek het in de volgende sessie.",
           Rule.DRIFT: "Vraag wat er verandert.",
           Rule.EXCELLENT_EARLY: "Vraag wat er anders is; een vroege topscore zegt weinig.",
           "repaired": "Benoem samen wat hielp.",
           "repaired_discussed": "Het gesprek hielp; benoem samen wat werkte.",
           "missed": "Vraag hoe het gaat.",
           "ceiling": "Vraag wat beter kan; eerlijk mag.",
           "higher": "Vergelijk jullie beeld in de sessie.",
           "lower": "Vergelijk jullie beeld in de sessie."},
    "en": {Rule.RUPTURE: "Talk about it next session.",
           Rule.DIP: "Ask about it briefly.",
           Rule.FLOOR: "Talk about it next session.",
           Rule.DRIFT: "Ask what is changing.",
           Rule.EXCELLENT_EARLY: "Ask what changed; an early top score means little.",
           "repaired": "Name together what helped.",
           "repaired_discussed": "The talk helped; name together what worked.",
           "missed": "Ask how things are.",
           "ceiling": "Ask what could be better; honesty is welcome.",
           "higher": "Compare your views in the session.",
           "lower": "Compare your views in the session."},
}
# The one-word mark above a column on the image.
MARK_WORD: dict[Language, dict[str, str]] = {
    "nl": {Rule.RUPTURE: "breuk", Rule.DIP: "dip", Rule.FLOOR: "laagst",
           Rule.DRIFT: "zakt", Rule.EXCELLENT_EARLY: "topstart"},
    "en": {Rule.RUPTURE: "rupture", Rule.DIP: "dip", Rule.FLOOR: "lowest",
           Rule.DRIFT: "sliding", Rule.EXCELLENT_EARLY: "top start"},
}
_RULE_WORD: dict[Language, dict[str, str]] = {
    "nl": {Rule.RUPTURE: "breuk", Rule.DIP: "dip", Rule.FLOOR: "laagste antwoord",
           Rule.DRIFT: "langzame daling", Rule.EXCELLENT_EARLY: "daling na topstart"},
    "en": {Rule.RUPTURE: "rupture", Rule.DIP: "dip", Rule.FLOOR: "lowest answer",
           Rule.DRIFT: "slow slide", Rule.EXCELLENT_EARLY: "drop after top start"},
}
# Most serious first: which flag a youth's row leads with, and the order of the lines.
SEVERITY = (Rule.FLOOR, Rule.RUPTURE, Rule.EXCELLENT_EARLY, Rule.DRIFT, Rule.DIP)


@dataclass(frozen=True)
class Flag:
    """One thing that fired for one youth: `what` happened, and what `todo`."""

    kind: str              # a Rule value, or 'repaired', 'repaired_discussed', 'missed',
                           # 'ceiling', 'higher'/'lower'
    what: str
    todo: str
    alerting: bool = False

    def line(self, code: str) -> str:
        return f"{code}: {self.what} {self.todo}"


def rule_word(rule: Rule, lang: Language) -> str:
    return _RULE_WORD[lang][rule]


def _dims(dimensions: list[str], lang: Language) -> str:
    words = [DIMENSION_WORDS[lang][d] for d in dimensions]
    joined = words[0] if len(words) == 1 else (
        ", ".join(words[:-1]) + (" en " if lang == "nl" else " and ") + words[-1])
    return joined[0].upper() + joined[1:]


def _kind(r: Rupture, discussed: frozenset[int] = frozenset()) -> str:
    """'repaired' for a drop that recovered; 'repaired_discussed' when it recovered after
    the therapist marked its alert "Besproken" (core.repair decides, `discussed` holds
    the sessions where it did)."""
    if r.repaired_at is not None and r.rule in (Rule.RUPTURE, Rule.DIP, Rule.FLOOR,
                                                 Rule.EXCELLENT_EARLY):
        return "repaired_discussed" if r.index in discussed else "repaired"
    return r.rule.value


REPAIRED_KINDS = ("repaired", "repaired_discussed")


def rupture_flag(r: Rupture, lang: Language, dimensions: list[str] | None = None,
                 rule: Rule | None = None, discussed: frozenset[int] = frozenset()) -> Flag:
    """One rupture (or a group of the same kind on several dimensions) as a line."""
    kind = _kind(r, discussed)
    dim = _dims(dimensions or [r.dimension], lang)
    what = _WHAT[lang][kind].format(dim=dim, rule=rule_word(rule or r.rule, lang))
    todo = _TODO[lang][kind if kind in REPAIRED_KINDS else r.rule]
    return Flag(kind, what, todo, alerting=kind in (Rule.RUPTURE.value, Rule.FLOOR.value))


def flags(ruptures: list[Rupture] | tuple[Rupture, ...], missed_in_a_row: int,
          ceiling: bool, discrepancy: dict[str, float], lang: Language,
          missed_after: int, discussed: frozenset[int] = frozenset()) -> list[Flag]:
    """The youth's flags, most serious first: one line per kind, naming its dimensions.

    Only the newest session at which a kind fired counts (an old dip that has passed is
    not repeated when a newer one fired); repaired drops are one line of their own, and
    drops repaired after discussion (`discussed`: their sessions, core.repair) another.
    """
    newest: dict[str, int] = {}
    for r in ruptures:
        kind = _kind(r, discussed)
        newest[kind] = max(newest.get(kind, -1), r.index)
    grouped: dict[str, list[Rupture]] = {}
    for r in ruptures:
        if r.index == newest[_kind(r, discussed)]:
            grouped.setdefault(_kind(r, discussed), []).append(r)
    order = [*(rule.value for rule in SEVERITY), *REPAIRED_KINDS]
    out = []
    for kind in sorted(grouped, key=order.index):
        group = grouped[kind]
        dims = list(dict.fromkeys(r.dimension for r in group))
        out.append(rupture_flag(group[0], lang, dims, group[0].rule, discussed))
    if missed_in_a_row >= missed_after:
        out.append(Flag("missed", _WHAT[lang]["missed"].format(n=missed_in_a_row),
                        _TODO[lang]["missed"], alerting=True))
    if ceiling:
        out.append(Flag("ceiling", _WHAT[lang]["ceiling"], _TODO[lang]["ceiling"]))
    for dim, diff in discrepancy.items():
        kind = "higher" if diff > 0 else "lower"
        out.append(Flag(kind, _WHAT[lang][kind].format(dim=DIMENSION_WORDS[lang][dim]
                                                        .capitalize()), _TODO[lang][kind]))
    return out
