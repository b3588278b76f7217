"""The therapist's side, free of Telegram: link the account, rate sessions, acknowledge
alerts, list clients, get the report on demand. Every action checks ownership."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from conversations.actions import Action, EditTapped, Photo, Reply, Toast
from conversations.alert_actions import RatingOutcome, acknowledge_own, rate_session
from conversations.chunks import split_message
from conversations.reporting import caseload, weekly_report, youth_view
from conversations.services import Services
from core.analytics import DIMENSIONS, State, response_rate
from core.callbacks import AckTap, RatingTap, ack_data, discuss_data, rating_data
from core.flags import dimension_word
from core.identity import token_digest
from core.prompts import Button
from core.questionnaire import Language
from core.records import Alert, BindOutcome, OutboxItem, Therapist
from core.texts import say
from reports.trend import trend_words
from reports.weekly import week_label

# The sessions that never count as missed, named on /clients in the image's words.
UNCOUNTED = (State.CANCELLED, State.PAUSED, State.UNDELIVERED, State.NOT_HELD)


async def link_therapist(services: Services, user_id: int, chat_id: int, token: str,
                         lang_hint: Language) -> list[Action] | None:
    """Bind a therapist invite; None when the token is not a therapist invite."""
    invite = await services.store.invite(token_digest(token))
    if invite is None or invite.role != "therapist":
        return None
    before = await services.store.therapist_pseudonym(invite.subject_code)
    outcome = await services.store.bind_therapist(
        token_digest(token), services.pseudonym(user_id), services.cipher.seal(chat_id),
        services.clock())
    therapist = await services.store.therapist(invite.subject_code)
    lang = therapist.language if therapist else lang_hint
    if outcome is BindOutcome.BOUND:
        if before is not None:
            await services.audit(invite.subject_code, "rebind", "",
                                 "a new therapist account after unbind")
        await services.audit(invite.subject_code, "link", "", "therapist account linked")
        return [Reply(say(lang, "therapist_linked", code=invite.subject_code))]
    key = {BindOutcome.USED: "invite_used", BindOutcome.EXPIRED: "invite_expired",
           BindOutcome.TAKEN: "invite_taken"}.get(outcome, "invite_unknown")
    return [Reply(say(lang, key))]


async def me(services: Services, user_id: int) -> Therapist | None:
    return await services.store.therapist_by_pseudonym(services.pseudonym(user_id))


# The therapist rates what the youth is asked, in the same order (concrete first, bond
# last) and on the same faces and words as the youth's 5-point scale.
RATING_ORDER = ("task", "goal", "bond")


def rating_buttons(services: Services, ref: str, lang: Language, chosen: dict[str, str],
                   code: str | None = None) -> tuple[tuple[Button, ...], ...]:
    """One row per dimension, a face per scale point; in a group message the first button
    of each row also names the youth."""
    options = services.questionnaire.scales.full.options
    rows = []
    for dim in RATING_ORDER:
        row = []
        for n, option in enumerate(options):
            value = str(option.value)
            head = f"{code} " if code else ""
            label = f"{head}{dimension_word(dim, lang)} {option.emoji}" if n == 0 else option.emoji
            if chosen.get(dim) == value:
                label = f"✔️{label}"
            row.append(Button(label, rating_data(ref, dim, value)))
        rows.append(tuple(row))
    # In a group message a youth may have been absent: "did not take place" per youth.
    rows.append((Button(f"{code} {say(lang, 'not_held_button')}" if code
                        else say(lang, "not_held_button"), rating_data(ref, "held", "no")),))
    return tuple(rows)


def rating_text(services: Services, item: OutboxItem, lang: Language,
                codes: Sequence[str] = ()) -> str:
    """Which session, which youths, and the faces' words (the youth's own scale)."""
    when = item.due_at.astimezone(services.zone).strftime("%d/%m")
    legend = " · ".join(o.text(lang) for o in services.questionnaire.scales.full.options)
    return say(lang, "rating_request", code=", ".join(codes) or item.youth_code or "?",
               when=when, legend=legend)


async def rating_message(services: Services, item: OutboxItem, lang: Language
                         ) -> tuple[str, tuple[tuple[Button, ...], ...], list[OutboxItem]]:
    """The rating message for a session: one youth, or every youth of a group session
    (several youths in one occurrence with this therapist) in one message, a block of
    rows per youth. Returns the text, the buttons and the rows the message stands for."""
    assert item.therapist_code is not None
    group = [g for g in await services.store.rating_requests_for(
        item.occurrence_key, item.therapist_code) if g.youth_code and g.ref]
    if len(group) < 2:
        chosen = await services.store.ratings(item.occurrence_key, item.youth_code or "")
        return (rating_text(services, item, lang),
                rating_buttons(services, item.ref or "", lang, chosen), [item])
    rows: list[tuple[Button, ...]] = []
    for member in group:
        assert member.youth_code is not None and member.ref is not None
        chosen = await services.store.ratings(item.occurrence_key, member.youth_code)
        rows += rating_buttons(services, member.ref, lang, chosen, member.youth_code)
    codes = [g.youth_code for g in group if g.youth_code]
    return rating_text(services, item, lang, codes), tuple(rows), group


async def rating_tap(services: Services, user_id: int, tap: RatingTap,
                     lang_hint: Language) -> list[Action]:
    """Store one of the therapist's taps and show every choice of the message."""
    therapist = await me(services, user_id)
    rated = (await rate_session(services, therapist.code, tap.request_ref, tap.item,
                                tap.value) if therapist is not None else None)
    if therapist is None or rated is None or rated.item is None:
        return [Toast(say(lang_hint, "stale_button"))]
    item = rated.item
    if rated.outcome is RatingOutcome.NOT_HELD:   # never counted as missed
        text = say(therapist.language, "not_held_done", code=item.youth_code)
        return [EditTapped(text), Toast(text)]
    text, buttons, _ = await rating_message(services, item, therapist.language)
    return [EditTapped(text, buttons), Toast(say(therapist.language, "rating_done"))]


async def rate_later(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/rate: send again every rating request of the past week that is not complete."""
    therapist = await me(services, user_id)
    if therapist is None:
        return [Reply(say(lang_hint, "staff_only"))]
    since = services.clock() - timedelta(days=7)
    actions: list[Action] = []
    for item in await services.store.recent_rating_requests(therapist.code, since):
        assert item.youth_code is not None and item.ref is not None
        chosen = await services.store.ratings(item.occurrence_key, item.youth_code)
        if len(chosen) < len(DIMENSIONS):
            actions.append(Reply(rating_text(services, item, therapist.language),
                                 rating_buttons(services, item.ref, therapist.language,
                                                chosen)))
    return actions or [Reply(say(therapist.language, "no_ratings_open"))]


def alert_text(services: Services, alert: Alert, lang: Language) -> str:
    detail = alert.detail
    if alert.kind == "crisis":
        detail = services.cipher.open_text(detail.encode())
    return say(lang, f"alert_{alert.kind}", code=alert.youth_code, detail=detail)


async def ack_tap(services: Services, user_id: int, tap: AckTap,
                  lang_hint: Language) -> list[Action]:
    """The therapist saw the alert: record it, stop the escalation."""
    therapist = await me(services, user_id)
    acked = (await acknowledge_own(services, therapist.code, tap.alert_ref)
             if therapist is not None else None)
    if therapist is None or acked is None or acked.alert is None:
        return [Toast(say(lang_hint, "not_your_alert"))]
    alert, now = acked.alert, services.clock()
    when = (alert.acked_at or now).astimezone(services.zone).strftime("%H:%M")
    return [EditTapped(f"{alert_text(services, alert, therapist.language)}\n\n"
                       f"{say(therapist.language, 'acked', when=when)}",
                       ack_buttons(alert, therapist.language, seen=True)),
            Toast(say(therapist.language, "acked", when=when))]


def ack_buttons(alert: Alert, lang: Language, *,
                seen: bool = False) -> tuple[tuple[Button, ...], ...]:
    """"✓ Gezien" (until tapped) and "💬 Besproken" (until tapped) side by side."""
    row = [] if seen else [Button(say(lang, "ack_button"), ack_data(alert.ref))]
    if alert.discussed_at is None and alert.reason is None:   # urgent alerts: Gezien only
        row.append(Button(say(lang, "discussed_button"), discuss_data(alert.ref)))
    return (tuple(row),) if row else ()


async def clients(services: Services, user_id: int, lang_hint: Language) -> list[Action]:
    """/clients: the therapist's own youths, by code, with last check-in and response."""
    therapist = await me(services, user_id)
    if therapist is None:
        return [Reply(say(lang_hint, "staff_only"))]
    lang = therapist.language
    await services.audit(therapist.code, "read:clients", "", "own caseload")
    load = await caseload(services.store, therapist.code, services.clock())
    points, hidden = load.points, load.not_sharing
    if not points and not hidden:
        return [Reply(say(lang, "no_clients"))]
    tz = services.zone
    lines = [say(lang, "clients_header")]
    for code, series in points.items():
        answered = [p for p in series if p.composite is not None]
        last = answered[-1].when.astimezone(tz).strftime("%d/%m") if answered else say(
            lang, "never")
        rate = response_rate(series)
        line = say(lang, "client_line", code=code, last=last,
                   rate="-" if rate is None else f"{rate:.0%}")
        lines.append(line + "".join(
            f", {n} {trend_words(lang)[state]}" for state in UNCOUNTED
            if (n := sum(p.state is state for p in series))))
    lines += [say(lang, "client_not_sharing", code=code) for code in hidden]
    return [Reply("\n".join(lines))]


async def report_now(services: Services, user_id: int, lang_hint: Language,
                     args: Sequence[str] = ()) -> list[Action]:
    """/report: this week's picture so far; /report J-103: that one youth (youth_report)."""
    therapist = await me(services, user_id)
    if therapist is None:
        return [Reply(say(lang_hint, "staff_only"))]
    if args:
        return await youth_report(services, therapist, args[0].upper())
    label = week_label(services.clock() + timedelta(days=1), services.timezone)
    await services.audit(therapist.code, "read:report", "", label)
    report = await weekly_report(services.store, therapist.code, label, services.timezone,
                                 therapist.language, until=services.clock(),
                                 missed_after=services.missed_alert_after)
    if not report.panels:
        return [Reply(say(therapist.language, "report_empty"))]
    return [Photo(img.png, report.caption if n == 0 else "")
            for n, img in enumerate(report.images)]


async def youth_report(services: Services, therapist: Therapist, code: str) -> list[Action]:
    """/report J-103: one of the therapist's own youths over more sessions, as a strip and
    a text with the events and notes the youth shared (reports.youth). Audited as a read
    of that youth, also when the youth does not share (the attempt is a read, NEN 7513).
    Another therapist's youth, or an unknown code, gets the same kind refusal."""
    lang = therapist.language
    view = await youth_view(services.store, therapist.code, code, services.clock(), lang,
                            services.zone, services.questionnaire, services.cipher.open_text,
                            services.missed_alert_after)
    if not view.known and not view.sharing:
        return [Reply(say(lang, "report_not_yours", code=code))]
    await services.audit(therapist.code, "read:youth-report", code,
                         "per-youth view" if view.sharing else "not sharing: nothing shown")
    if not view.sharing:
        return [Reply(say(lang, "report_youth_not_sharing", code=code))]
    head = view.text.splitlines()[0]
    return [*(Photo(img.png, head) for img in view.images),
            *(Reply(part) for part in split_message(view.text))]
