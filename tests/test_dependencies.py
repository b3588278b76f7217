"""Issue 11, "Dependencies": floors above known advisories and a hashed lock that `make`
installs from. (CI runs `make test` on a fresh clone, which proves the lock installs.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
# Versions with known advisories lie below these.
FLOORS = {"cryptography": (46, 0, 5), "pillow": (11, 3)}


def locked() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes), from requirements.lock."""
    text = (ROOT / "requirements.lock").read_text()
    pins: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[a-z0-9])", text):
        match = re.match(r"([a-z0-9._-]+)==([^\s\\]+)", block)
        if match:
            pins[match[1]] = (match[2], len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block)))
    return pins


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_lock_pins_every_dependency_with_hashes_above_the_floors() -> None:
    pins = locked()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    for requirement in wanted:
        name = re.match(r"[A-Za-z0-9._-]+", requirement)[0].lower()  # type: ignore[index]
        assert name in pins, f"{name} is not in requirements.lock (run `make lock`)"
    assert "setuptools" in pins, "the build backend is locked too (--no-build-isolation)"
    for name, (pinned, hashes) in pins.items():
        assert hashes >= 1, f"{name}=={pinned} has no hash"
    for name, floor in FLOORS.items():
        assert version(pins[name][0]) >= floor, f"{name} {pins[name][0]} is below {floor}"
    assert any(r.startswith("pillow>=11.3,<") for r in project["dependencies"]), "bounded"
    assert any(r.startswith("cryptography>=46.0.5") for r in project["dependencies"])


def test_make_installs_from_the_lock_and_can_refresh_it() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(BIN\)/\.installed: .*requirements\.lock|^\$\(BIN\)/\.installed: "
                     r".*\$\(LOCK\)", makefile, re.M), "the venv stamp depends on the lock"
    assert "--require-hashes --no-deps -r $(LOCK)" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
    assert re.search(r"^lock:", makefile, re.M) and "--generate-hashes" in makefile
