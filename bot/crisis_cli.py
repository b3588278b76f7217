"""`python -m bot crisis-phrases test FILE`: a clinician checks the crisis rules on texts.

Reads one text per line and prints `alert` or `none`, a tab, the rules that fired (or
`-`), a tab, and the text. With --config the institution's own rule file is used too,
read straight from the config file so no keys or database are needed.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any, NoReturn

from core.crisis import CrisisRules, RulesError, find_crisis_phrases, load_rules

EXIT_USAGE = 2


class _OneLineParser(argparse.ArgumentParser):
    """An argument error is one line (and exit 2): a clinician sees what to fix."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def add_parsers(sub: Any) -> None:
    """Register `crisis-phrases test` on the main parser."""
    text = ("Check the crisis rules: for each line of a file print alert/none, the rules "
            "that fired and the text.")
    p = sub.add_parser("crisis-phrases", help=text, description=text)
    setattr(p, "error", _OneLineParser.error.__get__(p))  # noqa: B010 - one-line errors
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION",
                               parser_class=_OneLineParser)
    test_text = ("Read one text per line (blank lines skipped) and print `alert` or `none`, "
                 "a tab, the rules that fired (or -), a tab, the text.")
    t = actions.add_parser("test", help=test_text, description=test_text)
    t.add_argument("file", type=Path, metavar="FILE", help="UTF-8 text, one text per line")
    t.add_argument("--config", type=Path, help="also use this configuration's "
                   "[checkin] crisis_phrases_file (default: built-in rules only)")


def _extension(config: Path) -> Path | None:
    """The institution's rule file named in the config, resolved like load_settings does."""
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{config}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(f"{config}: not valid TOML: {exc}") from None
    checkin = data.get("checkin", {})
    value = checkin.get("crisis_phrases_file") if isinstance(checkin, dict) else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise RulesError(f"{config}: checkin.crisis_phrases_file: a file name in quotes")
    path = Path(value)
    return path if path.is_absolute() else config.parent / path


def verdict(text: str, rules: CrisisRules) -> str:
    """One output line: alert/none, TAB, rule names or -, TAB, the text."""
    fired = find_crisis_phrases(text, rules)
    return f"{'alert' if fired else 'none'}\t{','.join(fired) or '-'}\t{text}"


def run(args: argparse.Namespace) -> int:
    """Print a verdict for every non-blank line; problems are one line and exit 2."""
    try:
        rules = load_rules(_extension(args.config) if args.config else None)
        lines = args.file.read_text(encoding="utf-8").splitlines()
    except RulesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {args.file}: cannot read: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError:
        print(f"error: {args.file}: not UTF-8 text", file=sys.stderr)
        return EXIT_USAGE
    for line in lines:
        if line.strip():
            print(verdict(line.strip(), rules))
    return 0
