"""Who claimed an outbox row: host, pid and a random instance tag.

After a crash the killed process's `sending` rows must go back to pending at once, yet a
live process's rows must never be released by another. A lease bounds the wait in any
case; on the same host a pid that no longer exists (or is our own pid under another
instance tag, as after a restart in a container where the bot is always pid 1) proves the
owner dead, so its rows need not wait for the lease.

"Same host" means the same hostname AND the same pid namespace: two containers sharing
the host's network (and so its hostname) each have their own pids, and a pid of the
other would look dead (or like our own) from here. The namespace is part of the host
field, so such owners are never presumed dead; their leases run out instead.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterable


def _machine() -> str:
    """This hostname and pid namespace: where a pid means the same process."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}~{namespace}"


def process_owner() -> str:
    return f"{_machine()}:{os.getpid()}:{secrets.token_hex(4)}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def dead_owners(owners: Iterable[str], me: str) -> set[str]:
    """The owners among `owners` known to have died: same host and pid namespace, and
    their pid is gone or is ours (we are a later instance). Owners elsewhere are never
    presumed dead."""
    host, pid = _machine(), os.getpid()
    dead = set()
    for owner in owners:
        parts = owner.rsplit(":", 2)
        if owner == me or len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        if int(parts[1]) == pid or not _alive(int(parts[1])):
            dead.add(owner)
    return dead
