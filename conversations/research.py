"""The researcher's side: the de-identified export, in Telegram. Nothing else.

`export_files` is the one function that builds an export: the CLI (bot/export.py),
/export here and the console's download (web/routes_export.py) all call it."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from conversations.actions import Action, Document, Reply
from conversations.reporting import with_repairs
from conversations.services import Services
from core.export import ExportFiles, build_export
from core.questionnaire import Language
from core.texts import say
from storage.ports import Store


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


async def export_files(store: Store, now: datetime, *, full: bool = False) -> ExportFiles:
    """The export's content: de-identified research data of youths with research consent
    (default), or the institution's full data; alerts with whether they were repaired."""
    alerts = await with_repairs(store, await store.export_alerts(research_only=not full), now)
    return build_export(await store.export_rows(research_only=not full), full=full,
                        alerts=alerts)


def export_zip(files: ExportFiles) -> bytes:
    """The three files of an export in one zip, as /export and the console hand it out."""
    return zipped({"answers_long.csv": files.answers_csv, "alerts.csv": files.alerts_csv,
                   "codebook.md": files.codebook})


async def export(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/export: youths with research consent only, re-keyed and date-shifted, no free text."""
    if services.pseudonym(user_id) not in services.researchers:
        return [Reply(say(lang_hint, "researcher_only"))]
    files = await export_files(services.store, services.clock())
    await services.audit(services.staff_actor("researcher", user_id), "export:research", "",
                         f"telegram; {files.youths} youths, {files.rows} rows")
    day = services.clock().astimezone(services.zone).strftime("%Y%m%d")
    archive = export_zip(files)
    return [Reply(say(lang_hint, "researcher_export", n=files.youths, rows=files.rows)),
            Document(archive, f"research-export-{day}.zip")]
