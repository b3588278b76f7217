"""Small multiples of alliance trends, one panel per youth, readable on a phone.

matplotlib's object API with the Agg canvas (no pyplot, no global state), so rendering
is a pure function that can run in a worker thread off the event loop.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from core.analytics import Rule, Rupture, SessionPoint, State
from core.questionnaire import Language

# Okabe-Ito: distinguishable with every common colour-vision deficiency.
COLOURS = {"bond": "#0072B2", "goal": "#E69F00", "task": "#009E73", "medium": "#CC79A7"}
RUPTURE, MISSED_GREY = "#D55E00", "#8C8C8C"
WIDTH_PX, DPI = 1080, 150
ROW_PX, HEADER_PX = 330, 190
BOTTOM_PX = 40  # under the last row of panels: their session dates
PER_IMAGE = 8
LOCAL = ZoneInfo("Europe/Amsterdam")

WORDS: dict[Language, dict[str, str]] = {
    "nl": {"bond": "band", "goal": "doel", "task": "taak", "medium": "medium",
           "therapist": "therapeut", "missed": "gemist", "withheld": "zegt liever niet",
           "low": "laag", "high": "hoog", "answered": "ingevuld", "week": "week",
           "ceiling": "altijd top", "strict": "breuk (streng)", "lenient": "breuk (mild)",
           "excellent_early_drop": "daling na topstart", "repaired": "hersteld",
           "none": "nog geen sessies", "of": "van", "hidden": "delen niet (eigen keuze)"},
    "en": {"bond": "bond", "goal": "goal", "task": "task", "medium": "medium",
           "therapist": "therapist", "missed": "missed", "withheld": "rather not say",
           "low": "low", "high": "high", "answered": "answered", "week": "week",
           "ceiling": "always top marks", "strict": "rupture (strict)",
           "lenient": "rupture (lenient)", "excellent_early_drop": "drop after top start",
           "repaired": "repaired", "none": "no sessions yet", "of": "of",
           "hidden": "not sharing (their choice)"},
}
RULE_LETTER = {Rule.STRICT: "S", Rule.LENIENT: "L", Rule.EXCELLENT_EARLY: "E"}


@dataclass(frozen=True)
class Panel:
    """One youth's recent sessions and what the analytics found in them."""

    youth_code: str
    points: tuple[SessionPoint, ...]
    ruptures: tuple[Rupture, ...]
    ceiling: bool
    response_rate: float | None
    missed_in_a_row: int


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


def render_caseload(
    therapist_code: str, week_label: str, panels: list[Panel], lang: Language = "nl",
    per_image: int = PER_IMAGE, hidden: Sequence[str] = (),
) -> list[Rendered]:
    """One image per `per_image` youths; a large caseload is split over several images.

    `hidden` youths chose not to share their answers: only their codes are named, so the
    therapist knows they are missing by choice, not by fault.
    """
    chunks = [panels[i:i + per_image] for i in range(0, len(panels), per_image)] or [[]]
    return [_render_page(therapist_code, week_label, chunk, lang, n + 1, len(chunks), hidden)
            for n, chunk in enumerate(chunks)]


def _render_page(therapist_code: str, week_label: str, panels: list[Panel], lang: Language,
                 page: int, pages: int, hidden: Sequence[str]) -> Rendered:
    fig, counts = page_figure(therapist_code, week_label, panels, lang, page, pages, hidden)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    width, height = (round(v) for v in fig.get_size_inches() * DPI)
    return Rendered(buffer.getvalue(), width, height, tuple(p.youth_code for p in panels),
                    counts["rupture"], counts["repair"], counts["missed"])


def page_figure(therapist_code: str, week_label: str, panels: list[Panel],
                lang: Language = "nl", page: int = 1, pages: int = 1,
                hidden: Sequence[str] = ()) -> tuple[Figure, dict[str, int]]:
    """Lay out one image; returned unsaved so tests can check where each text landed.

    Margins are fixed in pixels, not fractions of the height: a one-row image (520 px)
    needs the same room under its panels for the session dates as a four-row one.
    """
    words = WORDS[lang]
    rows = max(1, math.ceil(len(panels) / 2))
    height = HEADER_PX + rows * ROW_PX
    fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    suffix = f"  ({page} {words['of']} {pages})" if pages > 1 else ""
    fig.text(0.03, 1 - 40 / height, f"{therapist_code} · {words['week']} {week_label}{suffix}",
             fontsize=13, fontweight="bold", va="top")
    if hidden:
        fig.text(0.98, 1 - 40 / height, f"{', '.join(hidden)}: {words['hidden']}",
                 fontsize=9, color="#555555", ha="right", va="top")
    _legend(fig, words, height)
    counts = {"rupture": 0, "repair": 0, "missed": 0}
    top = 1 - HEADER_PX / height
    grid = fig.add_gridspec(rows, 2, left=0.07, right=0.98, top=top - 0.01,
                            bottom=BOTTOM_PX / height, hspace=0.75, wspace=0.18)
    for n, panel in enumerate(panels):
        ax = fig.add_subplot(grid[n // 2, n % 2])
        _draw_panel(ax, panel, words, counts)
    if not panels:
        fig.text(0.5, 0.4, words["none"], ha="center", fontsize=12)
    return fig, counts


def _legend(fig: Figure, words: dict[str, str], height: int) -> None:
    handles = [Line2D([], [], color=COLOURS[d], marker="o", lw=2, label=words[d])
               for d in ("bond", "goal", "task", "medium")]
    handles += [
        Line2D([], [], color="#444444", marker="D", markerfacecolor="white", lw=0,
               label=words["therapist"]),
        Line2D([], [], color=RUPTURE, marker="v", lw=0, markersize=9,
               label=words["lenient"].split(" ")[0]),
        Line2D([], [], color="black", marker="^", markerfacecolor="white", lw=0,
               label=words["repaired"]),
        Line2D([], [], color=MISSED_GREY, marker="x", lw=0, label=words["missed"]),
    ]
    fig.legend(handles=handles, loc="upper left", ncol=4, fontsize=8.5, frameon=False,
               bbox_to_anchor=(0.02, 1 - 60 / height))


def _title(panel: Panel, words: dict[str, str]) -> tuple[str, str]:
    rate = f"{panel.response_rate:.0%} {words['answered']}" if panel.response_rate is not None \
        else ""
    flags = []
    open_ruptures = [r for r in panel.ruptures if r.repaired_at is None]
    if open_ruptures:
        flags.append(words[open_ruptures[-1].rule.value])
    if panel.missed_in_a_row >= 2:
        flags.append(f"{panel.missed_in_a_row} x {words['missed']}")
    if panel.ceiling:
        flags.append(words["ceiling"])
    title = f"{panel.youth_code}   {rate}"
    return title, ("! " + ", ".join(flags)) if flags else ""


def _draw_panel(ax: Axes, panel: Panel, words: dict[str, str], counts: dict[str, int]) -> None:
    points = panel.points
    xs = list(range(len(points)))
    title, flags = _title(panel, words)
    ax.set_title(title, loc="left", fontsize=10, fontweight="bold", pad=15)
    if flags:
        ax.text(0, 1.03, flags, transform=ax.transAxes, fontsize=8, color=RUPTURE,
                va="bottom")
    ax.set_ylim(-0.12, 1.18)
    ax.set_yticks([0, 1], [words["low"], words["high"]], fontsize=7.5)
    ax.set_xlim(-0.5, max(len(points), 4) - 0.5)
    ax.set_xticks(xs, [p.when.astimezone(LOCAL).strftime("%d/%m") for p in points],
                  fontsize=7, rotation=0)
    ax.grid(axis="y", color="#e5e5e5", lw=0.8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for dim, colour in COLOURS.items():
        ys = [p.youth.get(dim) for p in points]
        if all(y is None for y in ys):
            continue
        thin = dim == "medium"
        # connect answered sessions across missed ones; the missed ones get their own mark
        known = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
        ax.plot([x for x, _ in known], [y for _, y in known], color=colour,
                lw=1.2 if thin else 2.2, ls="--" if thin else "-", marker="o",
                markersize=3.5 if thin else 4.5, zorder=3)
        therapist = [p.therapist.get(dim) for p in points]
        tx = [x + 0.12 for x, t in zip(xs, therapist, strict=True) if t is not None]
        ty = [t for t in therapist if t is not None]
        if tx:
            ax.plot(tx, ty, lw=0, marker="D", markersize=4.5, markerfacecolor="white",
                    markeredgecolor=colour, markeredgewidth=1.3, zorder=4)
    for x, p in zip(xs, points, strict=True):
        if p.state is State.MISSED:
            ax.plot([x], [-0.04], marker="x", color=MISSED_GREY, markersize=7, mew=2)
            counts["missed"] += 1
        elif p.state is State.WITHHELD:
            ax.text(x, -0.06, "?", color=MISSED_GREY, ha="center", fontsize=9,
                    fontweight="bold")
    for rupture in panel.ruptures:
        y = points[rupture.index].composite
        if y is None:
            continue
        ax.plot([rupture.index], [min(y + 0.14, 1.1)], marker="v", color=RUPTURE,
                markersize=9, zorder=5)
        ax.text(rupture.index + 0.18, min(y + 0.12, 1.08), RULE_LETTER[rupture.rule],
                color=RUPTURE, fontsize=7.5, fontweight="bold")
        counts["rupture"] += 1
        if rupture.repaired_at is not None:
            ry = points[rupture.repaired_at].composite or 0.0
            ax.plot([rupture.repaired_at], [min(ry + 0.14, 1.1)], marker="^", color="black",
                    markerfacecolor="white", markersize=8, zorder=5)
            counts["repair"] += 1
