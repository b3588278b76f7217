"""Which drops recovered after the therapist marked their alert "Besproken", for the
export: pure, from the series a use case hands over (conversations.reporting gathers
them). The rule is core.repair."""

from __future__ import annotations

from dataclasses import replace

from core.analytics import SessionPoint, detect_ruptures
from core.export import AlertExportRow
from core.repair import DiscussedAlert, alert_repaired_after_discussion

Series = dict[tuple[str, str], list[SessionPoint]]   # by (youth code, therapist code)


def needs_series(rows: list[AlertExportRow]) -> set[str]:
    """The therapists whose series the marking needs: those with a discussed rupture."""
    return {r.therapist_code for r in rows
            if r.kind == "rupture" and r.discussed_at is not None}


def mark_repairs(rows: list[AlertExportRow], series: Series) -> list[AlertExportRow]:
    """The export's alert rows, each discussed rupture alert marked whether its drop
    recovered after 'Besproken'. A pair without points leaves its rows unmarked."""
    out = []
    for r in rows:
        points = series.get((r.youth_code, r.therapist_code))
        if r.kind != "rupture" or r.discussed_at is None or not points:
            out.append(r)
            continue
        outcome = alert_repaired_after_discussion(
            points, detect_ruptures(points), DiscussedAlert(r.created_at, r.discussed_at))
        out.append(replace(r, repaired_after_discussion=outcome))
    return out
