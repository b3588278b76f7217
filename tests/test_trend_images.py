"""The weekly image: checked for size and structure, not pixels."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.analytics import SessionPoint, State
from reports.caption import caption
from reports.drawn import DRAWN, DrawnImages
from reports.trend import Panel, Rendered, page_figure, render_caseload
from reports.weekly import Caseload, panels_from, render_weekly

ZONE = ZoneInfo("Europe/Amsterdam")   # the configured zone of these tests (schedule.timezone)

T0 = datetime(2026, 9, 7, 13, tzinfo=UTC)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


MARKS = {"m": State.MISSED, "c": State.CANCELLED, "p": State.PAUSED, "u": State.UNDELIVERED,
         "n": State.NOT_HELD}


def panel(code: str, values: list[float | str], points_scale: int = 5,
          note_at: int | None = None, crisis_at: int | None = None) -> Panel:
    points = []
    for n, v in enumerate(values):
        when = T0 + timedelta(weeks=n)
        if isinstance(v, str):
            points.append(SessionPoint(when, MARKS[v]))
        else:
            points.append(SessionPoint(when, State.ANSWERED, {"bond": v, "goal": v, "task": v},
                                       {"bond": 0.75}, points_scale, note=n == note_at,
                                       crisis=n == crisis_at))
    return panels_from({code: points})[0]


def test_one_strip_per_youth_with_markers_at_phone_width() -> None:
    panels = [panel("J-001", [0.75, 0.75, 0.75, 0.75, 0.25, 0.75]),
              panel("J-002", [0.5, "m", "m", "m"]),
              panel("J-003", [1.0, 1.0, 1.0, 1.0])]
    (image,) = render_caseload("T-02", "2026-W48", panels, zone=ZONE)
    assert png_size(image.png) == (image.width, image.height) and image.width == 1080
    assert image.panels == ("J-001", "J-002", "J-003")
    # the two-step V on every dimension: a breuk per dimension, each repaired
    assert (image.rupture_markers, image.repair_markers, image.missed_markers) == (3, 3, 3)


def test_each_kind_of_session_gets_its_own_mark_never_missed() -> None:
    panels = [panel("J-001", [0.75, "c", "p", "u", "n", 0.75, "m"], note_at=0, crisis_at=5)]
    (image,) = render_caseload("T-02", "2026-W48", panels, zone=ZONE)
    assert {k: image.marks[k] for k in ("missed", "cancelled", "paused", "undelivered",
                                        "not_held", "note", "crisis")} == {
        "missed": 1, "cancelled": 1, "paused": 1, "undelivered": 1, "not_held": 1,
        "note": 1, "crisis": 1}
    assert panels[0].missed_in_a_row == 1 and panels[0].response_rate == 2 / 3


def test_a_three_point_youth_is_marked_and_flags_are_plain_lines() -> None:
    (p,) = [panel("J-001", [1.0, 1.0, 1.0, 0.0], points_scale=3)]
    assert p.simple
    fig, _ = page_figure("T-02", "2026-W48", [p], zone=ZONE)
    texts = [t.get_text() for t in fig.texts]
    assert any("3-punts" in t for t in texts)
    assert any(t == "• Band, doel en taak: het laagste antwoord. Bespreek het in de volgende "
               "sessie." for t in texts), texts


def test_a_large_caseload_is_split_over_several_images() -> None:
    panels = [panel(f"J-{n:03d}", [0.5, 0.75, 0.75]) for n in range(12)]
    images = render_caseload("T-02", "2026-W48", panels, lang="en", zone=ZONE)
    assert [len(i.panels) for i in images] == [6, 6]
    assert all(png_size(i.png)[0] == 1080 for i in images)
    assert [p for i in images for p in i.panels] == [p.youth_code for p in panels]


def test_empty_caseload_still_renders() -> None:
    (image,) = render_caseload("T-09", "2026-W48", [], zone=ZONE)
    assert image.panels == () and png_size(image.png)[0] == 1080


def test_youths_who_do_not_share_are_named_never_drawn() -> None:
    panels = [panel("J-001", [0.75, 0.5, 0.75])]
    (plain,) = render_caseload("T-02", "2026-W48", panels, zone=ZONE)
    (named,) = render_caseload("T-02", "2026-W48", panels, hidden=("J-004",), zone=ZONE)
    assert named.panels == ("J-001",) and named.png != plain.png
    assert caption("2026-W48", panels, "nl", ["J-004"]).endswith(
        "Delen niet (eigen keuze): J-004.")


def test_caption_says_who_needs_a_look() -> None:
    panels = [panel("J-001", [0.75, 0.75, 0.75, 0.75, 0.25]),
              panel("J-002", [0.5, "m", "m", "m"]), panel("J-003", [1.0] * 4)]
    text = caption("2026-W48", panels)
    assert text.startswith("Week 2026-W48: 3 jongeren. 3 breuk(en), 0 hersteld.")
    assert "J-001: Band, doel en taak: breuk, veel lager dan gewoonlijk. Bespreek het" in text
    assert "J-002: 3 check-ins op rij gemist. Vraag hoe het gaat." in text
    assert "J-003: Altijd de hoogste score. Vraag wat beter kan; eerlijk mag." in text
    assert caption("2026-W48", panels, "en").startswith("Week 2026-W48: 3 youths.")


def test_every_date_and_title_lies_inside_the_image_at_one_row_and_at_several() -> None:
    for youths in (1, 2, 3, 8):
        panels = [panel(f"J-{n:03d}", [0.75, 0.5, "m", 0.75, 0.25, 0.75]) for n in range(youths)]
        fig, _ = page_figure("T-02", "2026-W48", panels, hidden=("J-009",), zone=ZONE)
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
        frame = fig.bbox
        texts = [t for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels(),
                                                ax.title, *ax.texts)] + list(fig.texts)
        assert len([t for ax in fig.axes for t in ax.get_xticklabels()]) == 6 * youths
        for text in texts:
            if not text.get_text():
                continue
            box = text.get_window_extent(renderer)
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (youths, text.get_text())
            assert frame.y0 <= box.y0 and box.y1 <= frame.y1, (youths, text.get_text(), box)


def test_drawn_images_are_kept_by_their_inputs_for_a_while() -> None:
    now = [0.0]
    drawn = DrawnImages(size=2, lifetime_s=600, now=lambda: now[0])
    image = Rendered(b"png", 1, 1, ("J-001",), 0, 0, 0)
    one, two, three = (drawn.key("T-02", "2026-W48", n) for n in (1, 2, 3))
    assert drawn.get(one) is None
    drawn.put(one, [image])
    assert drawn.get(one) == [image]
    drawn.put(two, [image])
    drawn.get(one)                     # one is now the most recent
    drawn.put(three, [image])          # two goes: least recently used
    assert drawn.get(two) is None and drawn.get(one) == [image]
    now[0] = 601.0                     # older than its lifetime: drawn again
    assert drawn.get(three) is None
    assert (drawn.info.hits, drawn.info.misses) == (3, 3)


async def test_the_same_week_is_drawn_once_and_a_new_answer_draws_it_again() -> None:
    points = {"J-001": [SessionPoint(T0, State.ANSWERED, {"bond": 3.0, "goal": 3.0,
                                                          "task": 3.0}, {}, 5)]}
    before = DRAWN.info.hits
    first = await render_weekly("T-02", "2026-W37", Caseload(points, []), {}, "nl", ZONE)
    again = await render_weekly("T-02", "2026-W37", Caseload(points, []), {}, "nl", ZONE)
    assert again.images is first.images and DRAWN.info.hits == before + 1
    points["J-001"].append(SessionPoint(T0 + timedelta(days=1), State.MISSED))
    newer = await render_weekly("T-02", "2026-W37", Caseload(points, []), {}, "nl", ZONE)
    assert newer.images is not first.images and DRAWN.info.hits == before + 1
