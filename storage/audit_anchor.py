"""The audit anchor: the audit trail's head (count and hash), outside the database.

The hash chain in `audit_log` proves the entries are consistent with each other, not that
none are missing at the end: cutting off the last entries, or restoring an older backup,
leaves a perfectly valid shorter chain. After every append the new head is appended here
(one line, fsynced, mode 0600), so `audit verify` can say what the database lacks.

Each line carries an HMAC under a key derived from the pseudonym key (see `anchor_key`):
someone who can write the database and this file but has no key cannot forge a new head
for a rewritten chain. Lines are only ever appended; `chattr +a` on the file makes that a
rule of the file system too.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from core.audit import AnchorPoint
from storage.private_files import append_durably

_KEY_LABEL = b"vakbot audit anchor v1"


def anchor_key(pseudonym_key: bytes) -> bytes:
    """A key of its own for the anchor, derived from the pseudonym key (HMAC as a KDF).

    Deriving needs no new secret to manage, while the label keeps the two uses apart: an
    anchor MAC can never be used to test a guessed Telegram id against a pseudonym.
    """
    return hmac.new(pseudonym_key, _KEY_LABEL, hashlib.sha256).digest()


def _mac(key: bytes, seq: int, digest: str, at: str) -> str:
    return hmac.new(key, f"{seq} {digest} {at}".encode(), hashlib.sha256).hexdigest()


class AuditAnchor:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._key = key

    def record(self, seq: int, digest: str, at: str) -> None:
        """Append the head `seq digest at mac` and fsync (the folder too on creation)."""
        line = f"{seq} {digest} {at} {_mac(self._key, seq, digest, at)}\n".encode()
        append_durably(self.path, line)

    def head(self) -> tuple[AnchorPoint | None, list[str]]:
        """The highest anchored head, and one line per unreadable or forged anchor line."""
        if not self.path.exists():
            return None, []
        problems: list[str] = []
        best: AnchorPoint | None = None
        for number, raw in enumerate(self.path.read_bytes().split(b"\n"), start=1):
            if not raw:
                continue
            parts = raw.decode("utf-8", "replace").split(" ")
            if len(parts) != 4 or not parts[0].isdigit():
                problems.append(f"anchor line {number}: unreadable (torn or edited)")
                continue
            seq, digest, at, mac = int(parts[0]), parts[1], parts[2], parts[3]
            if not hmac.compare_digest(mac, _mac(self._key, seq, digest, at)):
                problems.append(f"anchor line {number}: its MAC does not match (forged, "
                                "or written under another key)")
                continue
            if best is None or seq > best.seq:
                best = AnchorPoint(seq, digest, at)
        return best, problems


