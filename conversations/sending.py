"""Sending through the channel port (core.channel), for every channel alike: a check-in
question (its message recorded), the questions whose send was never confirmed, and
notices to the coordinators."""

from __future__ import annotations

import logging
from datetime import datetime

from conversations import usecases
from conversations.actions import SendPrompt
from conversations.services import Services
from core.channel import (
    Address,
    Ambiguous,
    Outbound,
    Outcome,
    Sent,
    Text,
    counts_as_sent,
    message_ref,
    why,
)

log = logging.getLogger(__name__)


async def send_prompt(services: Services, channel: Outbound, to: Address,
                      prompt: SendPrompt) -> Outcome:
    """Send a question, then record its message; an unrecorded send is retried later.

    A question that counts as sent (core.channel.counts_as_sent) is recorded, with an
    unknown message id when the send timed out; one that did not is left unrecorded, so
    the resend (send_unsent) tries it again.
    """
    outcome = await channel.send(to, Text(prompt.text, prompt.buttons))
    if isinstance(outcome, Ambiguous):
        log.warning("a question timed out; recorded as sent, not retried")
    if counts_as_sent(outcome):
        await usecases.prompt_sent(services, prompt, message_ref(outcome))
    return outcome


async def send_unsent(services: Services, channel: Outbound, created_before: datetime) -> int:
    """Send questions that were recorded but never confirmed, oldest first."""
    sent = 0
    for outgoing in await usecases.unsent_prompts(services, created_before):
        try:
            outcome = await send_prompt(services, channel, outgoing.chat_id, outgoing.prompt)
        except Exception as exc:  # one bad row must not stop the rest
            log.error("could not resend an unconfirmed question: %s: %s",
                      type(exc).__name__, exc)
            continue
        if isinstance(outcome, Sent):
            sent += 1
        elif not counts_as_sent(outcome):   # one failed chat must not stop the rest
            log.warning("could not resend an unconfirmed question: %s", why(outcome))
    return sent


async def tell_coordinators(channel: Outbound, chats: tuple[Address, ...], text: str) -> None:
    """Send a notice to every coordinator; one unreachable chat must not stop the rest."""
    for chat in chats:
        outcome = await channel.send(chat, Text(text))
        if not isinstance(outcome, Sent):
            log.warning("could not tell a coordinator: %s", outcome.reason)
