"""The researcher's side: the de-identified export, in Telegram. Nothing else."""

from __future__ import annotations

import io
import zipfile

from conversations.actions import Action, Document, Reply
from conversations.reporting import with_repairs
from conversations.services import Services
from core.export import build_export
from core.questionnaire import Language
from core.texts import say


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


async def export(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/export: youths with research consent only, re-keyed and date-shifted, no free text."""
    if services.pseudonym(user_id) not in services.researchers:
        return [Reply(say(lang_hint, "researcher_only"))]
    alerts = await with_repairs(services.store,
                                await services.store.export_alerts(research_only=True),
                                services.clock())
    files = build_export(await services.store.export_rows(research_only=True),
                         alerts=alerts)
    await services.audit(services.staff_actor("researcher", user_id), "export:research", "",
                         f"telegram; {files.youths} youths, {files.rows} rows")
    day = services.clock().astimezone(services.zone).strftime("%Y%m%d")
    archive = zipped({"answers_long.csv": files.answers_csv, "alerts.csv": files.alerts_csv,
                      "codebook.md": files.codebook})
    return [Reply(say(lang_hint, "researcher_export", n=files.youths, rows=files.rows)),
            Document(archive, f"research-export-{day}.zip")]
