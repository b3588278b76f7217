"""The weekly image: per youth a heat strip, readable at a glance on a phone.

One block per youth, stacked (full phone width): rows band / doel / taak / medium /
therapeut, one column per session (newest right). Each cell is coloured on one scale from
"heel slecht" (orange) to "heel goed" (blue), the youth's own answer words, and carries
the word, so no axis has to be read and no line can hide another. Sessions that were not
answered get one mark over the whole column saying why (gemist, afgezegd, gepauzeerd, niet
bezorgd, geen sessie), so a cancelled session never looks like a missed one. Above the
columns: ▼ where a flag fired (with its word), ↑ where it was repaired ("↑ besproken" when
it recovered after the therapist marked its alert "Besproken", core.repair), ◆ for a concrete
event the youth chose ("Ruzie gehad"), ✎ for a note (never its text), ! for a crisis text.
Answers, events and notes reach the image only for youths who agreed to share
(reports.weekly.caseload). Under the code: each flag as one plain line, what fired and
what to do.

matplotlib's object API with the Agg canvas (no pyplot, no global state), so rendering is
a pure function (data in, PNG out) that can run in a worker thread off the event loop.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING

from core import texts
from core.analytics import ALL_DIMENSIONS, Rule, Rupture, SessionPoint, State
from core.flags import REPAIRED_KINDS, SEVERITY, Flag, dimension_word, mark_word
from core.questionnaire import Language

if TYPE_CHECKING:  # matplotlib is imported when the first image is drawn (bot start-up)
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_PX, DPI = 1080, 150
HEADER_PX = 200
TITLE_PX, FLAG_PX, MARK_PX, CELL_PX, DATE_PX, GAP_PX = 44, 30, 34, 46, 30, 34
MAX_FLAG_LINES = 3
LABEL_PX, RIGHT_PX = 150, 24
PER_IMAGE = 6
ROWS = (*ALL_DIMENSIONS, "therapist")

# One ordered scale, orange (low) to blue (high); ends distinguishable with common
# colour-vision deficiencies (Okabe-Ito orange and blue), the word is in every cell anyway.
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
LEVEL_COLOURS = ("#D55E00", "#F0A868", "#EDE6D6", "#8CC0E0", "#0072B2")
LEVEL_TEXT = ("white", "black", "black", "black", "white")
FLAG_RED, FLAG_AMBER, GREY = "#B5121B", "#C77700", "#8C8C8C"



def trend_words(lang: Language) -> dict[str, str]:
    """The image's words from the catalogue (trend_* keys), by the rest of the key; a
    State is its own key ("missed", "cancelled", ...)."""
    return texts.words(lang, "trend_")


STATE_MARK = {State.MISSED: "✕", State.CANCELLED: "—", State.PAUSED: "||",
              State.UNDELIVERED: "✉", State.NOT_HELD: "∅", State.OPEN: "…"}
SERIOUS = frozenset({Rule.RUPTURE, Rule.FLOOR, Rule.EXCELLENT_EARLY})


@dataclass(frozen=True)
class Panel:
    """One youth's recent sessions with one therapist and what the analytics found."""

    youth_code: str
    points: tuple[SessionPoint, ...]
    ruptures: tuple[Rupture, ...]
    ceiling: bool
    response_rate: float | None
    missed_in_a_row: int
    flags: tuple[Flag, ...] = ()
    simple: bool = False           # answers on the 3-point scale (at the newest session)
    discussed: frozenset[int] = frozenset()   # drops repaired after "Besproken" (core.repair)


@dataclass(frozen=True)
class Rendered:
    """A PNG and what was drawn on it, so tests can check structure, not pixels."""

    png: bytes
    width: int
    height: int
    panels: tuple[str, ...]
    rupture_markers: int
    repair_markers: int
    missed_markers: int
    marks: dict[str, int] = field(default_factory=dict)   # every kind of mark drawn


def level(score: float) -> int:
    """The nearest of the five levels; a 3-point answer lands on 0, 2 or 4."""
    return min(range(len(LEVELS)), key=lambda n: abs(LEVELS[n] - score))


def render_caseload(
    therapist_code: str, week_label: str, panels: list[Panel], lang: Language = "nl",
    per_image: int = PER_IMAGE, hidden: Sequence[str] = (), title: str | None = None,
    *, zone: tzinfo,
) -> list[Rendered]:
    """One image per `per_image` youths; a large caseload is split over several images.
    Session dates are shown in `zone`, the configured time zone (schedule.timezone).

    `hidden` youths chose not to share their answers: only their codes are named, so the
    therapist knows they are missing by choice, not by fault. `title` replaces the
    "T-02 · week 2026-W48" head (the per-youth view, reports.youth).
    """
    chunks = [panels[i:i + per_image] for i in range(0, len(panels), per_image)] or [[]]
    return [_render_page(therapist_code, week_label, chunk, lang, n + 1, len(chunks), hidden,
                         title, zone)
            for n, chunk in enumerate(chunks)]


def _render_page(therapist_code: str, week_label: str, panels: list[Panel], lang: Language,
                 page: int, pages: int, hidden: Sequence[str],
                 title: str | None, zone: tzinfo) -> Rendered:
    fig, counts = page_figure(therapist_code, week_label, panels, lang, page, pages, hidden,
                              title, zone=zone)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    width, height = (round(v) for v in fig.get_size_inches() * DPI)
    return Rendered(buffer.getvalue(), width, height, tuple(p.youth_code for p in panels),
                    counts["rupture"], counts["repair"], counts[State.MISSED.value],
                    dict(counts))


def _rows(panel: Panel) -> list[str]:
    """The rows this youth needs: medium and therapist only when there is something."""
    out = ["bond", "goal", "task"]
    if any(p.youth.get("medium") is not None for p in panel.points):
        out.append("medium")
    if any(p.therapist for p in panel.points):
        out.append("therapist")
    return out


def _block_px(panel: Panel) -> int:
    lines = min(len(panel.flags), MAX_FLAG_LINES + 1)
    return TITLE_PX + lines * FLAG_PX + MARK_PX + len(_rows(panel)) * CELL_PX + DATE_PX + GAP_PX


def page_figure(therapist_code: str, week_label: str, panels: list[Panel],
                lang: Language = "nl", page: int = 1, pages: int = 1,
                hidden: Sequence[str] = (),
                title: str | None = None, *, zone: tzinfo) -> tuple[Figure, dict[str, int]]:
    """Lay out one image; returned unsaved so tests can check where each text landed.

    Every size is in pixels, so a one-youth image has the same proportions per block as
    a full one: only the height grows with the number of youths and their flag lines.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - see top
    from matplotlib.figure import Figure  # noqa: PLC0415

    words = trend_words(lang)
    height = HEADER_PX + sum(_block_px(p) for p in panels) + (0 if panels else 120)
    fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    suffix = f"  ({page} {words['of']} {pages})" if pages > 1 else ""
    head = title or f"{therapist_code} · {words['week']} {week_label}"
    fig.text(0.03, 1 - 30 / height, f"{head}{suffix}",
             fontsize=13, fontweight="bold", va="top")
    if hidden:
        fig.text(0.97, 1 - 34 / height, f"{', '.join(hidden)}: {words['hidden']}",
                 fontsize=8.5, color="#555555", ha="right", va="top")
    _legend(fig, words, height)
    counts: dict[str, int] = {"rupture": 0, "repair": 0, "repair_discussed": 0, "note": 0,
                              "crisis": 0, "event": 0,
                              **{s.value: 0 for s in STATE_MARK}}
    top = HEADER_PX
    for panel in panels:
        _draw_block(fig, panel, words, lang, counts, top, height, zone)
        top += _block_px(panel)
    if not panels:
        fig.text(0.5, 60 / height, words["none"], ha="center", fontsize=12)
    return fig, counts


def _legend(fig: Figure, words: dict[str, str], height: int) -> None:
    """The colour scale with its words, and every mark with its meaning."""
    from matplotlib.patches import Rectangle  # noqa: PLC0415 - see top

    y = 1 - 78 / height
    w = 0.94 / len(LEVELS)
    for n, word in enumerate(words["levels"].split("|")):
        ax_x = 0.03 + n * w
        fig.patches.append(Rectangle((ax_x, y - 30 / height), w - 0.006, 30 / height,
                                     transform=fig.transFigure, facecolor=LEVEL_COLOURS[n],
                                     edgecolor="white"))
        fig.text(ax_x + (w - 0.006) / 2, y - 15 / height, word, ha="center", va="center",
                 fontsize=9, color=LEVEL_TEXT[n], fontweight="bold")
    marks = [f"{STATE_MARK[s]} {words[s]}" for s in (State.MISSED, State.CANCELLED,
                                                      State.PAUSED, State.UNDELIVERED,
                                                      State.NOT_HELD)]
    marks.append(f"↑ {words['discussed']}: {words['discussed_legend']}")
    fig.text(0.03, 1 - 128 / height, "   ".join(marks), fontsize=8.5, va="top")
    more = [f"▼ {words['flag']}", f"↑ {words['repaired']}", f"◆ {words['event']}",
            f"✎ {words['note']}",
            f"! {words['crisis']}", f"? {words[State.WITHHELD]}"]
    fig.text(0.03, 1 - 156 / height, "   ".join(more), fontsize=8.5, va="top")


def _cell_value(point: SessionPoint, row: str) -> float | None:
    if row == "therapist":
        rated = [v for k in ("bond", "goal", "task") if (v := point.therapist.get(k)) is not None]
        return sum(rated) / len(rated) if rated else None
    return point.youth.get(row)


def _title(panel: Panel, words: dict[str, str]) -> str:
    parts = [panel.youth_code]
    if panel.response_rate is not None:
        parts.append(f"{panel.response_rate:.0%} {words['answered']}")
    if panel.simple:
        parts.append(words["simple"])
    return "  ·  ".join(parts)


def _draw_block(fig: Figure, panel: Panel, words: dict[str, str], lang: Language,
                counts: dict[str, int], top: int, height: int, zone: tzinfo) -> None:
    """One youth: title, flag lines, then the strip (its own axes, one unit per cell)."""
    def fy(px: float) -> float:       # pixels from the top -> figure fraction from bottom
        return 1 - px / height

    fig.text(0.03, fy(top + 8), _title(panel, words), fontsize=11.5, fontweight="bold",
             va="top")
    y = top + TITLE_PX
    shown = panel.flags[:MAX_FLAG_LINES]
    for flag in shown:
        colour = FLAG_RED if flag.alerting or flag.kind == Rule.EXCELLENT_EARLY.value else (
            "#2F6B2F" if flag.kind in REPAIRED_KINDS else FLAG_AMBER)
        fig.text(0.05, fy(y + 2), f"• {flag.what} {flag.todo}", fontsize=8.5, color=colour,
                 va="top")
        y += FLAG_PX
    if len(panel.flags) > MAX_FLAG_LINES:
        fig.text(0.05, fy(y + 2), words["more"].format(n=len(panel.flags) - MAX_FLAG_LINES),
                 fontsize=8.5, color="#555555", va="top")
        y += FLAG_PX
    rows = _rows(panel)
    strip_top = y + MARK_PX
    strip_h = len(rows) * CELL_PX
    ax = fig.add_axes((LABEL_PX / WIDTH_PX, fy(strip_top + strip_h),
                       1 - (LABEL_PX + RIGHT_PX) / WIDTH_PX, strip_h / height))
    _draw_strip(ax, panel, rows, words, lang, counts, zone)


def _draw_strip(ax: Axes, panel: Panel, rows: list[str], words: dict[str, str],
                lang: Language, counts: dict[str, int], zone: tzinfo) -> None:
    from matplotlib.patches import Rectangle  # noqa: PLC0415 - see top

    points = panel.points
    columns = max(len(points), 6)
    ax.set_xlim(0, columns)
    ax.set_ylim(len(rows), 0)
    ax.set_yticks([n + 0.5 for n in range(len(rows))],
                  [words["therapist"] if r == "therapist" else dimension_word(r, lang)
                   for r in rows], fontsize=9)
    ax.set_xticks([n + 0.5 for n in range(len(points))],
                  [p.when.astimezone(zone).strftime("%d/%m") for p in points], fontsize=7.5)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    level_words = words["levels"].split("|")
    flagged = {(r.index, r.dimension): r for r in panel.ruptures if r.repaired_at is None}
    for x, p in enumerate(points):
        if p.state in STATE_MARK:
            ax.add_patch(Rectangle((x + 0.04, 0.04), 0.92, len(rows) - 0.08,
                                   facecolor="#F2F2F2", edgecolor="#D0D0D0", hatch="//"
                                   if p.state is State.MISSED else None, lw=0.6))
            ax.text(x + 0.5, len(rows) / 2, f"{STATE_MARK[p.state]}\n{words[p.state]}",
                    ha="center", va="center", fontsize=7, color="#444444",
                    linespacing=1.3)
            counts[p.state.value] += 1
            continue
        for y, row in enumerate(rows):
            value = _cell_value(p, row)
            if value is None:
                ax.add_patch(Rectangle((x + 0.04, y + 0.06), 0.92, 0.88, facecolor="white",
                                       edgecolor="#DDDDDD", lw=0.6))
                if row != "therapist" and (row != "medium" or p.state is State.WITHHELD):
                    ax.text(x + 0.5, y + 0.5, words["withheld_cell"], ha="center",
                            va="center", fontsize=8, color=GREY)
                continue
            n = level(value)
            flag = flagged.get((x, row))
            edge = "white" if flag is None else (
                FLAG_RED if flag.rule in SERIOUS else FLAG_AMBER)
            ax.add_patch(Rectangle((x + 0.04, y + 0.06), 0.92, 0.88,
                                   facecolor=LEVEL_COLOURS[n], edgecolor=edge,
                                   lw=0.6 if flag is None else 2.4))
            ax.text(x + 0.5, y + 0.5, level_words[n].replace(" ", "\n"), ha="center",
                    va="center", fontsize=6.5 if " " in level_words[n] else 7.5,
                    color=LEVEL_TEXT[n], linespacing=0.95)
    _draw_marks(ax, panel, lang, words, counts)


def _draw_marks(ax: Axes, panel: Panel, lang: Language, words: dict[str, str],
                counts: dict[str, int]) -> None:
    """Above each column: flags (▼ word), repairs (↑), note (✎) and crisis (!)."""
    above: dict[int, list[tuple[str, str]]] = {}
    for r in sorted(panel.ruptures, key=lambda r: SEVERITY.index(r.rule)):
        colour = FLAG_RED if r.rule in SERIOUS else FLAG_AMBER
        word = mark_word(r.rule, lang)
        above.setdefault(r.index, []).append((f"▼{word}", colour))
        counts["rupture"] += 1
        if r.repaired_at is not None:
            talked = r.index in panel.discussed
            above.setdefault(r.repaired_at, []).append(
                (f"↑ {words['discussed']}" if talked else "↑", "#2F6B2F"))
            counts["repair"] += 1
            counts["repair_discussed"] += talked
    for x, p in enumerate(panel.points):
        if p.event:
            above.setdefault(x, []).append(("◆", "#333333"))
            counts["event"] += 1
        if p.note:
            above.setdefault(x, []).append(("✎", "#333333"))
            counts["note"] += 1
        if p.crisis:
            above.setdefault(x, []).append(("!", FLAG_RED))
            counts["crisis"] += 1
    for x, marks in above.items():
        unique: list[tuple[str, str]] = []
        for m in marks:
            if m not in unique:
                unique.append(m)
        text_marks = [m for m in unique if m[0].startswith("▼")][:1]
        small = [m for m in unique if not m[0].startswith("▼")]
        if ("!", FLAG_RED) in small:      # a crisis text: first, and the label in red
            small = [("!", FLAG_RED), *(m for m in small if m[0] != "!")]
        label = " ".join(m[0] for m in (*text_marks, *small))
        colour = FLAG_RED if ("!", FLAG_RED) in small else (text_marks or small)[0][1]
        ax.text(x + 0.5, -0.12, label, ha="center", va="bottom", fontsize=7.5,
                color=colour, fontweight="bold", clip_on=False)
