"""The layers' import rules, checked on every `make lint` (standard library only, offline).

Why a check and not a convention: the layering (a pure `core`, storage behind ports, one
adapter per channel) slipped quietly before, one lazy import at a time. Every import
counts here, at the top of a file, inside a function, or under `TYPE_CHECKING`: a cycle
or an outward edge hidden behind them is still one.

Run: `python tools/import_rules.py [ROOT]`. Exit status 1 and one line per problem
(file, line, rule, why) when a rule is broken; 0 and a one-line summary otherwise.
`--table` prints the rules as Markdown (as in docs/architecture.md).
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

# The modules that speak Telegram: the adapter, the wiring that starts it, and the fake.
TELEGRAM_ADAPTER = (
    "conversations.telegram_io",     # the channel adapter: sends, edits, maps telegram.error
    "conversations.handlers",        # PTB handlers of the youth's conversation
    "conversations.coordinator",     # PTB handlers of the staff commands
    "conversations.inbound",         # the per-person limit on incoming updates
    "conversations.routes",          # the one routing table of PTB handlers
    "conversations.context",         # PTB's typed context (context.services)
    "bot.wiring",                    # builds the PTB Application and starts it
    "bot.updates",                   # PTB's update processor (one person's updates in order)
    "bot.ratelimit",                 # PTB's rate limiter
    "bot.lean_request",              # PTB's requests on a lean HTTP client of our own
    "bot.cli",                       # the command line's one-off bot and its errors
    "bot.application",               # the PTB Application type and the engine it carries
    "bot.console",                   # starts the console; hands webhook updates to PTB
    "faketelegram",                  # the fake Bot API server the tests and demo run against
    "web.*webhook*",                 # the console's route that receives Telegram's webhook
    "tests",
    "bench",                         # benchmarks drive the bot as the tests do
)
# The channel adapters: only the edges (wiring, console, tests) may import them.
ADAPTERS = ("conversations.telegram_io", "conversations.handlers", "conversations.coordinator",
            "conversations.inbound", "conversations.routes", "conversations.context")
# The concrete storage backends: the use cases see storage through storage.ports.
BACKEND = ("storage.sql_*", "storage.sqlite*", "storage.database", "storage.postgres",
           "storage.erasure_log", "storage.private_files", "aiosqlite", "psycopg*")


@dataclass(frozen=True)
class Rule:
    """One layer rule: modules matching `applies_to` (and not `unless`) may not import
    anything matching `forbidden`; with `only`, they may import no first-party module
    outside it either."""

    name: str
    why: str
    applies_to: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    unless: tuple[str, ...] = ()


# The table. A pattern names a module and everything below it ("core" is core and
# core.*); a pattern with * is matched as a glob over the dotted name.
RULES: tuple[Rule, ...] = (
    Rule("core-is-pure",
         "core holds the rules as pure functions with table-driven tests: no I/O, no "
         "channel, no database; only core itself",
         applies_to=("core",), only=("core",),
         forbidden=("aiosqlite", "apscheduler", "starlette", "uvicorn")),
    Rule("storage-is-inward",
         "storage implements the ports in storage.ports; it knows nothing of who uses it",
         applies_to=("storage",),
         forbidden=("conversations", "scheduler", "bot", "web", "reports", "faketelegram")),
    Rule("one-sqlite-adapter",
         "the repositories speak storage.sql, so SQLite and PostgreSQL run the same "
         "queries: only the SQLite adapter imports its driver",
         applies_to=("*",), unless=("storage.database",), forbidden=("aiosqlite",)),
    Rule("one-postgres-adapter",
         "the repositories speak storage.sql, so SQLite and PostgreSQL run the same "
         "queries: only the PostgreSQL adapter imports its driver",
         applies_to=("*",), unless=("storage.postgres",), forbidden=("psycopg*",)),
    Rule("memory-twin-is-plain",
         "the in-memory twin (storage.memory) is dicts of rows: no database driver and no "
         "SQL backend, so it runs anywhere and stays a second, independent reading of the "
         "ports",
         applies_to=("storage.memory",),
         forbidden=("storage.sqlite*", "storage.database", "storage.sql_*",
                    "storage.postgres", "aiosqlite", "psycopg", "psycopg_pool")),
    Rule("reports-render-only",
         "reports draw what a use case hands them: no queries, no channel",
         applies_to=("reports",),
         forbidden=("storage", "conversations", "scheduler", "bot", "web", "faketelegram")),
    Rule("telegram-in-the-adapter",
         "Telegram is one channel among others (the kiosk is next): only its adapter, the "
         "wiring, the console's webhook route, the fake and the tests may import it",
         applies_to=("*",), unless=TELEGRAM_ADAPTER, forbidden=("telegram",)),
    Rule("scheduler-uses-the-port",
         "the delivery engine sends through the channel port (core.channel); Telegram is "
         "one adapter of it",
         applies_to=("scheduler",), forbidden=ADAPTERS),
    Rule("use-cases-see-ports",
         "use cases, the engine, reports and the console reach storage through its ports "
         "(storage.ports), so a second backend changes nothing above it",
         applies_to=("conversations", "scheduler", "reports", "web"), forbidden=BACKEND),
    Rule("conversations-not-outward",
         "use cases are called by the edges (Telegram, the console, the scheduler), never "
         "the other way round",
         applies_to=("conversations",),
         forbidden=("scheduler", "bot", "web", "faketelegram")),
    Rule("web-is-an-edge",
         "the console is an edge like the Telegram adapter: it calls use cases, the "
         "scheduler, reports and storage ports; no channel adapter, and not the wiring that "
         "starts it (bot hands it what it needs)",
         applies_to=("web",), forbidden=(*ADAPTERS, "bot", "faketelegram")),
    Rule("edges-not-imported",
         "nothing inside imports an edge: the wiring (bot), the console (web) and the fake "
         "(faketelegram) are started from outside",
         applies_to=("core", "storage", "reports", "conversations", "scheduler"),
         forbidden=("bot", "web", "faketelegram")),
    Rule("fake-stands-alone",
         "the fake Telegram server is a test double of Telegram, not of our code: it imports "
         "none of ours",
         applies_to=("faketelegram",),
         only=("faketelegram",)),
)

# Known edges the rules still allow, each with the reason and who removes it. An entry
# that no longer matches any import fails the check: remove it then.
EXCEPTIONS: dict[tuple[str, str], str] = {}

CYCLE_RULE = "no-cycles"
CYCLE_WHY = ("a cycle makes two modules (or packages) one: neither can change or be "
             "tested alone")


@dataclass(frozen=True)
class Edge:
    """One import: `importer` (a module of ours) imports `target` at `path`:`line`."""

    importer: str
    target: str
    path: Path
    line: int


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.detail}"


def matches(module: str, pattern: str) -> bool:
    """'core' matches core and core.x; a pattern with * is a glob over the dotted name."""
    if pattern == "*":
        return True
    if "*" in pattern:
        return fnmatchcase(module, pattern) or fnmatchcase(module, pattern + ".*")
    return module == pattern or module.startswith(pattern + ".")


def matches_any(module: str, patterns: Iterable[str]) -> bool:
    return any(matches(module, p) for p in patterns)


def first_party(root: Path) -> dict[str, Path]:
    """Every module of ours by dotted name: top-level packages (a folder with
    __init__.py) and everything below them."""
    modules: dict[str, Path] = {}
    for package in sorted(p for p in root.iterdir() if (p / "__init__.py").is_file()):
        if package.name.startswith("."):
            continue
        for path in sorted(package.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if any(part.startswith(".") for part in parts):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def _imported_names(node: ast.Import | ast.ImportFrom, module: str,
                    is_package: bool) -> Iterator[str]:
    """The dotted names one import statement asks for (relative ones made absolute)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        parts = module.split(".")
        keep = len(parts) - node.level + (1 if is_package else 0)
        base = ".".join(parts[:max(keep, 0)] + ([base] if base else []))
    for alias in node.names:
        yield f"{base}.{alias.name}" if alias.name != "*" else base
    yield base


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The module of ours a dotted name lands in (longest known prefix), or the name's
    top-level package for a third-party or standard-library import."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in modules:
            return candidate
    return parts[0]


def edges(root: Path) -> list[Edge]:
    """Every import in every module of ours, wherever in the file it stands."""
    modules = first_party(root)
    found: list[Edge] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            seen: set[str] = set()
            for name in _imported_names(node, module, is_package):
                if not name:
                    continue
                target = _resolve(name, modules)
                if target != module and target not in seen:
                    seen.add(target)
                    found.append(Edge(module, target, path.relative_to(root), node.lineno))
    # `from pkg import sub` yields pkg and pkg.sub; keep only the submodule then.
    precise = {(e.importer, e.line, e.target) for e in found}
    return [e for e in found
            if not any(t != e.target and t.startswith(e.target + ".") and (i, ln) ==
                       (e.importer, e.line) for i, ln, t in precise)]


def _broken(rule: Rule, edge: Edge, ours: set[str]) -> bool:
    if not matches_any(edge.importer, rule.applies_to) or matches_any(edge.importer,
                                                                    rule.unless):
        return False
    if matches_any(edge.target, rule.forbidden):
        return True
    top = edge.target.split(".")[0]
    return rule.only is not None and top in ours and not matches_any(edge.target, rule.only)


def rule_problems(all_edges: list[Edge], ours: set[str]) -> list[Problem]:
    problems = []
    for edge in all_edges:
        if (edge.importer, edge.target) in EXCEPTIONS:
            continue
        for rule in RULES:
            if _broken(rule, edge, ours):
                problems.append(Problem(edge.path, edge.line, rule.name,
                                        f"{edge.importer} imports {edge.target}: {rule.why}"))
    return problems


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of nodes that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def _path_back(graph: dict[str, set[str]], start: str, group: set[str]) -> list[str]:
    """A shortest way round the cycle from `start` back to itself, inside `group`."""
    came: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, ())):
                if child not in group:
                    continue
                if child == start:
                    way = [node]
                    while way[-1] != start:
                        way.append(came[way[-1]])
                    return [start, *reversed(way[:-1]), start]
                if child not in came:
                    came[child] = node
                    following.append(child)
        frontier = following
    return [start, start]


def _cycles(all_edges: list[Edge], key: str) -> list[Problem]:
    """Cycles between modules (key 'module') or between top-level packages ('package')."""
    def node(name: str) -> str:
        return name if key == "module" else name.split(".", maxsplit=1)[0]

    graph: dict[str, set[str]] = {}
    where: dict[tuple[str, str], Edge] = {}
    for e in all_edges:
        a, b = node(e.importer), node(e.target)
        if a == b or (e.importer, e.target) in EXCEPTIONS:
            continue
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
        where.setdefault((a, b), e)
    problems = []
    for group in _strongly_connected(graph):
        members, seen = set(group), set()
        for start in group:     # the shortest way round through each member, once each
            way = _path_back(graph, start, members)
            steps = [where[pair] for pair in itertools.pairwise(way)]
            turn = way.index(min(way[:-1]))
            key_ = tuple(way[turn:-1] + way[:turn])
            if key_ in seen:
                continue
            seen.add(key_)
            at = "; ".join(f"{s.importer} imports {s.target} at {s.path}:{s.line}"
                           for s in steps)
            problems.append(Problem(steps[0].path, steps[0].line, CYCLE_RULE,
                                    f"{key} cycle {' -> '.join(way)} ({at}): {CYCLE_WHY}"))
    return problems


def stale_exceptions(all_edges: list[Edge]) -> list[Problem]:
    present = {(e.importer, e.target) for e in all_edges}
    return [Problem(Path("tools/import_rules.py"), 0, "stale-exception",
                    f"{a} no longer imports {b} ({why}): remove the exception")
            for (a, b), why in EXCEPTIONS.items() if (a, b) not in present]


def check(root: Path) -> list[Problem]:
    """Every problem in the tree at `root`: broken rules, then cycles."""
    all_edges = edges(root)
    ours = {name.split(".")[0] for name in first_party(root)}
    return [*rule_problems(all_edges, ours), *_cycles(all_edges, "module"),
            *_cycles(all_edges, "package"), *stale_exceptions(all_edges)]


def table() -> str:
    """The rules as a Markdown table (docs/architecture.md shows the same one)."""
    def names(patterns: Iterable[str]) -> str:
        return ", ".join(f"`{p}`" for p in patterns)

    lines = ["| rule | modules | may not import | why |", "|---|---|---|---|"]
    for rule in RULES:
        where = names(rule.applies_to)
        if rule.unless:
            where += (" but the Telegram adapter" if rule.unless == TELEGRAM_ADAPTER
                      else f" but {names(rule.unless)}")
        banned = names(rule.forbidden)
        if rule.only is not None:
            banned = f"anything of ours but {names(rule.only)}" + (f"; {banned}" if banned
                                                                   else "")
        lines.append(f"| {rule.name} | {where} | {banned} | {rule.why} |")
    lines.append(f"| {CYCLE_RULE} | every module and package | each other in a circle, "
                 f"lazy and TYPE_CHECKING imports included | {CYCLE_WHY} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--table"]:
        print(table())
        return 0
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"import rules: {len(problems)} problem(s); the rules and their reasons are in "
              "tools/import_rules.py and docs/architecture.md", file=sys.stderr)
        return 1
    print(f"import rules: {len(RULES)} rules and no cycles hold "
          f"({len(EXCEPTIONS)} known exception(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
