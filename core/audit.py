"""A tamper-evident audit trail in the spirit of NEN 7513: who, when, which youth, what.

Each entry's hash covers its content and the previous entry's hash, so an edited,
deleted or reordered record breaks the chain from that point on. (An attacker who can
rewrite the whole file can rebuild the chain; anchor the latest hash elsewhere, e.g. in
the backup log, to detect that too.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: str            # ISO 8601 UTC
    actor: str         # a pseudonym, a staff code, or "cli" / "system"
    action: str        # e.g. "enrol", "consent", "read:report", "schedule:add"
    youth_code: str    # "" when no single youth is concerned
    detail: str
    prev_hash: str
    hash: str


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, youth_code: str,
               detail: str) -> str:
    canonical = json.dumps([prev_hash, seq, at, actor, action, youth_code, detail],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def verify_chain(entries: list[AuditEntry]) -> list[str]:
    """Return one line per broken link; empty when the chain is intact."""
    problems = []
    prev, expected_seq = GENESIS, 1
    for e in entries:
        if e.seq != expected_seq:
            problems.append(f"entry {e.seq}: expected entry {expected_seq} here "
                            "(a record was deleted or reordered)")
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq}: does not follow the entry before it")
        if entry_hash(e.prev_hash, e.seq, e.at, e.actor, e.action, e.youth_code,
                      e.detail) != e.hash:
            problems.append(f"entry {e.seq}: content does not match its hash (edited)")
        prev, expected_seq = e.hash, e.seq + 1
    return problems


@dataclass(frozen=True)
class AnchorPoint:
    """The head of the chain as recorded outside the database after an append."""
    seq: int
    hash: str
    at: str


def compare_with_anchor(entries: list[AuditEntry], head: AnchorPoint | None) -> list[str]:
    """Return one line per way the database's chain falls short of its anchored head.

    A database with more entries than the anchor is not a problem (the process can stop
    between committing an entry and anchoring it); fewer, or another entry at the anchored
    position, means entries were cut off or an older copy was restored.
    """
    if head is None:
        return ([f"no anchor recorded, but the database holds {len(entries)} entries: "
                 "cannot tell whether entries were cut off"] if entries else [])
    by_seq = {e.seq: e for e in entries}
    last = entries[-1] if entries else None
    held = last.seq if last else 0
    if held < head.seq:
        since = f"after entry {held} of {last.at[:19]}" if last else "from the first entry"
        return [f"the database holds {held} entries, the anchor says {head.seq}: "
                f"{head.seq - held} entries missing {since} (the anchored head is of "
                f"{head.at[:19]}); the chain was cut short or an older backup was restored"]
    anchored = by_seq.get(head.seq)
    if anchored is None or anchored.hash != head.hash:
        return [f"head hash differs: entry {head.seq} in the database is not the entry "
                f"anchored at {head.at[:19]} (the chain was rewritten or replaced)"]
    return []
