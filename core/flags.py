"""Every flag as one plain line: what fired, and what to do. Used by the image, the
caption and the alerts, so the three say the same thing in the same words.

Dutch at B1 level for therapists (English alongside); no percentages, no statistics
jargon: "dip" for a mild drop, "breuk" for a rupture (core.analytics.Rule). The words
are in the catalogue (core/data/messages.toml, flag_* and dimension_* keys).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.analytics import Rule, Rupture
from core.questionnaire import Language
from core.texts import say


def dimension_word(dimension: str, lang: Language) -> str:
    """"band", "doel", "taak", "medium" or "alles samen" (MEAN): the row names."""
    return say(lang, f"dimension_{dimension}")


def mark_word(rule: Rule, lang: Language) -> str:
    """The one-word mark above a column on the image."""
    return say(lang, f"flag_mark_{rule.value}")


def _what(kind: str, lang: Language) -> str:
    return say(lang, f"flag_what_{kind}")


def _todo(kind: str, lang: Language) -> str:
    return say(lang, f"flag_todo_{kind}")


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
    return say(lang, f"flag_rule_{rule.value}")


def _dims(dimensions: list[str], lang: Language) -> str:
    words = [dimension_word(d, lang) for d in dimensions]
    joined = words[0] if len(words) == 1 else (
        ", ".join(words[:-1]) + f" {say(lang, 'list_and')} " + words[-1])
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
    what = _what(kind, lang).format(dim=dim, rule=rule_word(rule or r.rule, lang))
    todo = _todo(kind if kind in REPAIRED_KINDS else r.rule.value, lang)
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
        out.append(Flag("missed", _what("missed", lang).format(n=missed_in_a_row),
                        _todo("missed", lang), alerting=True))
    if ceiling:
        out.append(Flag("ceiling", _what("ceiling", lang), _todo("ceiling", lang)))
    for dim, diff in discrepancy.items():
        kind = "higher" if diff > 0 else "lower"
        out.append(Flag(kind, _what(kind, lang).format(dim=dimension_word(dim, lang)
                                                       .capitalize()), _todo(kind, lang)))
    return out
