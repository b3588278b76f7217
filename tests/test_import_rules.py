"""The layers' import rules (tools/import_rules.py, run by `make lint`): the real tree keeps
them, and a copy of it with a deliberate outward import or cycle fails, naming the file,
the line and the rule."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools.import_rules import EXCEPTIONS, Problem, check, table

ROOT = Path(__file__).resolve().parent.parent
CHECKER = ROOT / "tools" / "import_rules.py"


def not_python(folder: str, names: list[str]) -> list[str]:
    """What copytree leaves out: caches and every file that is not Python."""
    return [n for n in names if n == "__pycache__"
            or (not n.endswith(".py") and not (Path(folder) / n).is_dir())]


def copy_tree(tmp_path: Path) -> Path:
    """The project's Python files (no data, no caches) in a fresh folder."""
    target = tmp_path / "tree"
    target.mkdir()
    for package in ROOT.iterdir():
        if (package / "__init__.py").is_file():
            shutil.copytree(package, target / package.name, ignore=not_python)
    return target


def add_lines(path: Path, *lines: str) -> int:
    """Append lines to a module; return the line number of the first one."""
    before = path.read_text(encoding="utf-8")
    path.write_text(before + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return len(before.splitlines()) + 2


def run(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHECKER), str(root)], capture_output=True,
                          text=True, check=False, timeout=120)


def where(problems: list[Problem], rule: str) -> list[tuple[str, int]]:
    return [(p.path.as_posix(), p.line) for p in problems if p.rule == rule]


def test_the_real_tree_keeps_every_rule() -> None:
    assert check(ROOT) == []
    done = run(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no cycles hold" in done.stdout


def test_an_outward_import_inside_a_function_fails_naming_file_line_and_rule(
        tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    line = add_lines(tree / "storage" / "timefmt.py",
                     "def _helper() -> None:",
                     "    from conversations import usecases  # noqa: PLC0415",
                     "    del usecases")
    problems = check(tree)
    assert where(problems, "storage-is-inward") == [("storage/timefmt.py", line + 1)]
    done = run(tree)
    assert done.returncode == 1
    assert f"storage/timefmt.py:{line + 1}: [storage-is-inward]" in done.stdout
    assert "storage.timefmt imports conversations.usecases" in done.stdout


def test_telegram_outside_the_adapter_fails(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    line = add_lines(tree / "scheduler" / "engine.py", "from telegram import Bot")
    web_line = add_lines(tree / "web" / "app.py", "from telegram import Update")
    (tree / "web" / "telegram_webhook.py").write_text("from telegram import Update\n")
    problems = check(tree)
    assert where(problems, "telegram-in-the-adapter") == [
        ("scheduler/engine.py", line), ("web/app.py", web_line)]


def test_a_cycle_behind_type_checking_is_still_a_cycle(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    line = add_lines(tree / "scheduler" / "checkins.py",
                     "from typing import TYPE_CHECKING",
                     "if TYPE_CHECKING:",
                     "    from scheduler.engine import Engine")
    problems = check(tree)
    cycles = [p for p in problems if p.rule == "no-cycles"]
    assert len(cycles) == 1, problems
    assert "module cycle" in cycles[0].detail
    assert f"scheduler.checkins imports scheduler.engine at scheduler/checkins.py:{line + 2}" \
        in cycles[0].detail
    assert "scheduler.engine imports scheduler.checkins at scheduler/engine.py:" \
        in cycles[0].detail


def test_a_cycle_between_packages_fails(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    line = add_lines(tree / "faketelegram" / "server.py", "import bot.demo")
    problems = check(tree)
    assert where(problems, "fake-stands-alone") == [("faketelegram/server.py", line)]
    package = [p for p in problems if p.rule == "no-cycles" and "package cycle" in p.detail]
    assert len(package) == 1
    assert "bot -> faketelegram -> bot" in package[0].detail or \
        "faketelegram -> bot -> faketelegram" in package[0].detail


def test_a_known_exception_fails_once_it_is_no_longer_needed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = copy_tree(tmp_path)
    # An exception for an import nobody makes (any more): the check names it stale.
    monkeypatch.setitem(EXCEPTIONS, ("bot.demo", "faketelegram.server"), "a test's")
    stale = [p for p in check(tree) if p.rule == "stale-exception"]
    assert [p.detail.split(" (")[0] for p in stale] == [
        "bot.demo no longer imports faketelegram.server"]


def test_the_architecture_page_shows_the_rules_of_the_checker() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert table() in page
