"""`python -m bot set-channel J-103 kiosk` and `kiosk-codes`: the kiosk from the shell.

A coordinator sets where a youth answers (Telegram, the kiosk, or both) at any time;
every change is kept with its time and actor and written to the audit trail. The
therapist's live codes can be listed here too (the console shows the same).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conversations import kiosk_staff
from conversations.enrolment import cli_actor
from conversations.services import Services

COMMANDS = ("set-channel", "kiosk-codes")


def add_parsers(command: Any) -> None:
    """Register `set-channel` and `kiosk-codes` on the main parser."""
    p = command("set-channel", "Set where a youth answers: telegram, kiosk (the tablet "
                               "in the therapy room, with a code from the therapist) or "
                               "both. Without CHANNEL: show the setting and its history.")
    p.add_argument("code", metavar="CODE", help="youth code, e.g. J-103")
    p.add_argument("channel", metavar="CHANNEL", nargs="?",
                   help="telegram, kiosk or both")
    p = command("kiosk-codes", "List the kiosk codes that can still be used.")
    p.add_argument("--therapist", help="only this therapist's codes, e.g. T-02")


async def run(args: argparse.Namespace, services: Services) -> int:
    if args.command == "kiosk-codes":
        return await _codes(args, services)
    if args.channel is None:
        return await _show(args.code, services)
    try:
        result = await kiosk_staff.set_channel(services, args.code, args.channel, cli_actor())
    except kiosk_staff.ChannelRefused as err:
        print(f"refused: {err}", file=sys.stderr)
        return 1
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if result.changed:
        print(f"{args.code}: {result.before.value} -> {result.after.value}. Answers given "
              "so far stay with the youth.")
    else:
        print(f"{args.code}: already {result.after.value}; nothing changed.")
    return 0


async def _show(code: str, services: Services) -> int:
    youth = await services.store.youth_by_code(code)
    if youth is None:
        print(f"refused: unknown youth code {code}", file=sys.stderr)
        return 1
    channel = await kiosk_staff.channel_of(services, youth)
    history = await services.store.channel_history(code)
    print(f"{code}: {channel.value}" + ("" if history else " (default: no choice made)"))
    for change in history:
        stamp = change.changed_at.astimezone(services.zone).strftime("%Y-%m-%d %H:%M")
        print(f"  {stamp}  {change.channel.value:<8}  {change.actor}  {change.reason}")
    return 0


async def _codes(args: argparse.Namespace, services: Services) -> int:
    codes = await kiosk_staff.live_codes(services, args.therapist)
    if not codes:
        print("No kiosk codes can be used now.")
    for live in codes:
        until = live.expires_at.astimezone(services.zone).strftime("%H:%M")
        print(f"{live.youth_code}  {live.code}  until {until}")
    return 0
