"""`rotate-keys`: re-encrypt every chat id and every free text under the newest key.

The configured keys are listed newest first; the bot decrypts with any of them and
encrypts with the first. Rotation walks each encrypted column in batches (one short write
transaction per batch), re-encrypting what the newest key does not open yet. A row that
is already under the newest key is skipped, so a killed run simply runs again: it finds
the finished rows done and continues with the rest. A row that no configured key opens is
counted and reported, never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.identity import ContactCipher, InvalidToken
from core.records import SealedKind
from storage.ports import SealedRepo

BATCH = 500


@dataclass
class RotationCount:
    checked: int = 0
    rotated: int = 0     # re-encrypted under the newest key
    current: int = 0     # already under the newest key
    unreadable: int = 0  # no configured key opens it
    changed_meanwhile: int = 0  # the bot rewrote the row during the run (it is current)

    def line(self, kind: SealedKind) -> str:
        extra = f", {self.unreadable} UNREADABLE (no configured key opens them)" \
            if self.unreadable else ""
        moved = f", {self.changed_meanwhile} rewritten by the bot meanwhile" \
            if self.changed_meanwhile else ""
        return (f"{kind.value}: {self.checked} checked, {self.rotated} re-encrypted, "
                f"{self.current} already under the newest key{moved}{extra}")


async def rotate_all(store: SealedRepo, cipher: ContactCipher, progress: Callable[[str], None],
                     batch: int = BATCH) -> dict[SealedKind, RotationCount]:
    """Re-encrypt every sealed column under the newest keys; return counts per kind."""
    counts = {}
    for kind in SealedKind:
        counts[kind] = await _rotate_kind(store, cipher, kind, progress, batch)
    return counts


async def _rotate_kind(store: SealedRepo, cipher: ContactCipher, kind: SealedKind,
                       progress: Callable[[str], None], batch: int) -> RotationCount:
    rotate = cipher.rotate if kind is SealedKind.CONTACTS else cipher.rotate_text
    count = RotationCount()
    after = 0
    while rows := await store.sealed_batch(kind, after, batch):
        changes = []
        for rowid, old in rows:
            try:
                new = rotate(old)
            except InvalidToken:
                count.unreadable += 1
                continue
            if new is None:
                count.current += 1
            else:
                changes.append((rowid, old, new))
        done = await store.replace_sealed(kind, changes) if changes else 0
        count.rotated += done
        count.changed_meanwhile += len(changes) - done
        count.checked += len(rows)
        after = rows[-1][0]
        progress(f"progress: {count.line(kind)}")
    return count
