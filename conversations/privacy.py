"""A youth's data rights in the bot: /mydata and /delete (consent lives in consent.py)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from conversations.actions import Action, Document, EditTapped, Reply, Toast
from conversations.services import Services
from core.callbacks import DeleteTap, delete_data
from core.prompts import Button
from core.questionnaire import Language
from core.texts import say
from storage import erasure_log


async def ask_delete(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/delete: explain what happens and ask once more; retention rules may forbid it."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    if services.retention_required:
        return [Reply(say(me.language, "retention_required"))]
    buttons = ((Button(say(me.language, "delete_yes"), delete_data(True)),),
               (Button(say(me.language, "delete_no"), delete_data(False)),))
    return [Reply(say(me.language, "delete_confirm"), buttons)]


async def delete_tap(services: Services, user_id: int, tap: DeleteTap,
                     lang_hint: Language) -> list[Action]:
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None:
        return [Toast(say(lang_hint, "stale_button"))]
    if not tap.confirmed or services.retention_required:
        return [EditTapped(say(me.language, "delete_kept"))]
    now = services.clock()
    if services.erasure_log is not None:
        erasure_log.record(services.erasure_log, me.code, now)
    await services.store.erase_youth(me.code, now)
    await services.audit("youth", "erase", me.code, "on the youth's request")
    if services.store.wal_truncate_pending:   # a reader held the WAL; the engine retries
        return [EditTapped(say(me.language, "deleted_pending"))]
    return [EditTapped(say(me.language, "deleted"))]


async def my_data(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/mydata: everything stored about the youth, in words and as a JSON file."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    tz = ZoneInfo(services.timezone)
    checkins = await services.store.checkins_of(me.pseudonym)
    sessions = []
    for c in checkins:
        note = c.note
        sessions.append({
            "session": c.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "status": c.status,
            "answers": c.answers,
            "note": services.cipher.open_text(note) if note else None,
        })
    consents = [{"scope": r.scope, "text_version": r.version,
                 "answer": "no" if not r.agreed else "withdrawn" if r.withdrawn else "yes"}
                for r in await services.store.consents_of(me.pseudonym)]
    data = {"code": me.code, "language": me.language, "consents": consents,
            "scale": "3-point" if me.simple_mode else "5-point",
            "questionnaire_note": "answers: 1 = lowest; x = rather not say",
            "check_ins": sessions}
    await services.audit("youth", "read:mydata", me.code)
    text = say(me.language, "mydata_intro", n=len(sessions), code=me.code)
    return [Reply(text), Document(json.dumps(data, ensure_ascii=False, indent=2).encode(),
                                  f"mijn-gegevens-{me.code}.json")]
