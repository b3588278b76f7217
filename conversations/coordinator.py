"""Staff commands in Telegram: /overview for coordinators; /clients, /report and /rate
for therapists; /export for researchers. Deny by default: each command checks the
sender's role."""

from __future__ import annotations

import html

from telegram import Update

from conversations import loop, research, staff
from conversations.chunks import TELEGRAM_LIMIT, split_message, telegram_length
from conversations.console_signin import CONSOLE_URL, console_command
from conversations.context import BotContext
from conversations.handlers import run_command
from conversations.overview import overview
from core.texts import say


async def on_overview(update: Update, context: BotContext) -> None:
    """Send the compliance overview to a coordinator; refuse anyone else."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    services = context.services
    found = await overview(services, user.id)
    if found is None:
        await context.bot.send_message(chat.id, say(services.coordinator_language,
                                                     "not_coordinator"))
        return
    for part in overview_messages(found.table, found.loud):
        await context.bot.send_message(chat.id, part, parse_mode="HTML")


def overview_messages(overview: str, loud: str) -> list[str]:
    """The overview as HTML messages that each fit: "reached nobody" first, then the
    table, every part in <pre> under the column header, split between youths."""
    whole = f"<pre>{html.escape(overview)}</pre>"
    if loud:
        whole = f"{html.escape(loud)}\n\n{whole}"
    if telegram_length(whole) <= TELEGRAM_LIMIT:
        return [whole]
    header, _, body = overview.partition("\n")
    return [*(split_message(loud, wrap=html.escape) if loud else []),
            *split_message(body, wrap=lambda part: f"<pre>{html.escape(header)}\n"
                                                   f"{html.escape(part)}</pre>")]


async def on_clients(update: Update, context: BotContext) -> None:
    """List the therapist's own youths with last check-in and response rate."""
    await run_command(update, context, staff.clients)


async def on_report(update: Update, context: BotContext) -> None:
    """Send the therapist this week's trend image now, or one youth's view (/report J-103)."""
    args = list(context.args or [])
    await run_command(update, context,
                      lambda s, user, hint: staff.report_now(s, user, hint, args))


async def on_rate(update: Update, context: BotContext) -> None:
    """Show the session ratings the therapist has not finished yet."""
    await run_command(update, context, staff.rate_later)


async def on_simple(update: Update, context: BotContext) -> None:
    """/simpel J-014 aan|uit: switch a youth's 3-point scale, from the next check-in."""
    args = list(context.args or [])
    await run_command(update, context,
                      lambda s, user, hint: loop.simple_command(s, user, args, hint))


async def on_export(update: Update, context: BotContext) -> None:
    """Send a researcher the de-identified research export as a zip file."""
    await run_command(update, context, research.export)


async def on_console(update: Update, context: BotContext) -> None:
    """Reply to a staff member with a single-use sign-in link to the web console."""
    base_url = str(context.bot_data.get(CONSOLE_URL, "http://127.0.0.1:8080"))
    await run_command(update, context,
                      lambda s, user, hint: console_command(s, user, hint, base_url))
