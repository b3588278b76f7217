"""A youth's data rights in the bot: /mydata and /delete (consent lives in consent.py)."""

from __future__ import annotations

import json

from conversations.actions import Action, Document, EditTapped, Reply, Toast
from conversations.chunks import split_message
from conversations.services import Services
from core.callbacks import DeleteTap, delete_data
from core.identity import InvalidToken
from core.prompts import Button
from core.questionnaire import Language
from core.schedule import WEEKDAYS
from core.texts import say
from storage.timefmt import parse_iso


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
        services.erasure_log.record(me.code, now)
    await services.store.erase_youth(me.code, now)
    await services.audit("youth", "erase", me.code, "on the youth's request")
    if services.store.wal_truncate_pending:   # a reader held the WAL; the engine retries
        return [EditTapped(say(me.language, "deleted_pending"))]
    return [EditTapped(say(me.language, "deleted"))]


def _open(services: Services, value: str | int | None) -> str | None:
    """A sealed text opened for its owner; plain text is returned as it is."""
    if not isinstance(value, str) or not value:
        return None if value is None else str(value)
    try:
        return services.cipher.open_text(value.encode())
    except InvalidToken:   # not sealed (a plain detail), or sealed under another key
        return value if not value.startswith("gAAAAA") else "(onleesbaar / unreadable)"


def _days(stored: str | int | None) -> str:
    """Weekdays as stored ("0,3") in words ("mon,thu")."""
    try:
        return ",".join(WEEKDAYS[int(d)] for d in str(stored).split(","))
    except (ValueError, IndexError):
        return str(stored)


def _local(services: Services, value: str | int | None) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso(value).astimezone(services.zone).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


async def my_data(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/mydata: everything stored about the youth, in words and as a JSON file."""
    me = await services.store.youth_by_pseudonym(services.pseudonym(user_id))
    if me is None or me.pseudonym is None:
        return [Reply(say(lang_hint, "unknown_user"))]
    tz = services.zone
    checkins = await services.store.checkins_of(me.pseudonym)
    sessions = []
    for c in checkins:
        note = c.note
        sessions.append({
            "session": c.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            "status": c.status,
            "questionnaire_version": c.questionnaire_version,
            "scale": "3-point" if c.simple_mode else "5-point",
            "answers": c.answers,
            "note": services.cipher.open_text(note) if note else None,
        })
    consents = [{"scope": r.scope, "text_version": r.version,
                 "answer": "no" if not r.agreed else "withdrawn" if r.withdrawn else "yes"}
                for r in await services.store.consents_of(me.pseudonym)]
    held = await services.store.subject_records(me.code, me.pseudonym)
    profile = held.profile
    crisis = [{"at": _local(services, r["created_at"]), "text": _open(services, r["text_enc"]),
               "rules": _open(services, r["phrases"]),
               "alert_sent": _local(services, r["alerted_at"])} for r in held.crisis_texts]
    ratings = [{"session": r["session"], "therapist": r["therapist"], "item": r["item"],
                "value": r["value"], "rated_at": _local(services, r["rated_at"])}
               for r in held.ratings]
    alerts = [{"kind": r["kind"], "at": _local(services, r["created_at"]),
               "to_therapist": r["therapist"], "unit": r["unit"],
               "detail": _open(services, r["detail"]), "reason": r["reason"],
               "seen_at": _local(services, r["acked_at"]), "seen_by": r["acked_by"]}
              for r in held.alerts]
    data = {"code": me.code, "language": me.language, "consents": consents,
            "scale": "3-point" if me.simple_mode else "5-point",
            "therapist": profile.get("therapist"),
            "birth_year": profile.get("birth_year"),
            "unit": profile.get("unit"),
            "guardian_consent_date": profile.get("guardian_consent_date"),
            "guardian_research_consent_date": profile.get("guardian_research_consent_date"),
            "paused": bool(profile.get("paused")),
            "enrolled_at": _local(services, profile.get("enrolled_at")),
            "questionnaire_note": "answers: 1 = lowest; x = rather not say; each check-in"
                                  " names the questionnaire version it was asked with",
            "check_ins": sessions,
            "crisis_texts": crisis,
            "therapist_ratings": ratings,
            "alerts_about_you": alerts,
            "schedule": held.schedule,
            "phone_windows": held.phone_windows}
    await services.audit("youth", "read:mydata", me.code)
    lang = me.language
    none = say(lang, "mydata_none")
    lines = [say(lang, "mydata_intro", n=len(sessions), code=me.code), "",
             say(lang, "mydata_profile", birth_year=profile.get("birth_year") or none,
                 unit=profile.get("unit") or none, therapist=profile.get("therapist") or none,
                 guardian=profile.get("guardian_consent_date") or none,
                 guardian_research=profile.get("guardian_research_consent_date") or none),
             say(lang, "mydata_counts", crisis=len(crisis), ratings=len(ratings),
                 alerts=len(alerts))]
    lines += [say(lang, "mydata_schedule")] + [
        f"• {r['discipline']}: {_days(r['weekdays'])} {r['start_time']} "
        f"({r['duration_minutes']} min)"
        for r in held.schedule] if held.schedule else []
    lines += [say(lang, "mydata_windows")] + [
        f"• {_days(r['weekdays'])} {r['start_time']}-{r['end_time']}"
        for r in held.phone_windows] if held.phone_windows else []
    replies: list[Action] = [Reply(part) for part in split_message("\n".join(lines))]
    return [*replies, Document(json.dumps(data, ensure_ascii=False, indent=2).encode(),
                               f"mijn-gegevens-{me.code}.json")]
