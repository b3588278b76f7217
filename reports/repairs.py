"""Which drops recovered after the therapist marked their alert "Besproken": gathered per
youth-therapist pair for the image and for the export. The rule is core.repair."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.analytics import SessionPoint, detect_ruptures
from core.export import AlertExportRow
from core.repair import DiscussedAlert, alert_repaired_after_discussion
from storage.ports import Alert, Store


def discussed_alerts(alerts: list[Alert]) -> dict[str, list[DiscussedAlert]]:
    """Rupture alerts by youth code, as the rule needs them."""
    out: dict[str, list[DiscussedAlert]] = {}
    for a in alerts:
        if a.kind == "rupture":
            out.setdefault(a.youth_code, []).append(DiscussedAlert(a.created_at,
                                                                   a.discussed_at))
    return out


async def with_repairs(store: Store, rows: list[AlertExportRow],
                       until: datetime) -> list[AlertExportRow]:
    """The export's alert rows, each discussed rupture alert marked whether its drop
    recovered after 'Besproken'. One pair that cannot be analysed leaves its rows empty;
    the others are still marked."""
    series: dict[tuple[str, str], list[SessionPoint]] = {}
    for therapist in {r.therapist_code for r in rows
                      if r.kind == "rupture" and r.discussed_at is not None}:
        for record in await store.session_records(therapist, until):
            series.setdefault((record.youth_code, therapist), []).append(record.point(until))
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
