"""`python -m bot login-link`: a sign-in link printed on the server, audited."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.cli import main
from conversations.enrolment import enroll_therapist
from tests.web_support import running_console, signed_in

LINK = re.compile(r"http://\S+/signin/\S+")


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The CLI in a thread (it runs its own event loop), beside the running console."""
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


async def test_login_link_for_a_coordinator_without_telegram_and_a_therapist(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async with running_console(tmp_path) as console:
        config = str(console.config_path)
        await enroll_therapist(console.services.store, "T-02", "en", console.clock())
        code, out = await cli(capsys, "login-link", "--config", config, "--coordinator", "anna")
        assert code == 0 and "Sign-in link for coordinator:anna" in out
        found = LINK.search(out)
        assert found
        # The config says port 0; the link's path works on the console as it runs.
        link = console.base_url + "/signin/" + found.group(0).rsplit("/", 1)[1]
        async with signed_in(console, link) as client:
            assert (await client.get("/people")).status_code == 200
        code, out = await cli(capsys, "login-link", "--config", config, "--code", "T-02")
        assert code == 0 and "Sign-in link for T-02 (therapist)" in out
        # A link written by another process is seen by the running console at once.
        found = LINK.search(out)
        assert found
        async with signed_in(console, console.base_url + "/signin/" +
                             found.group(0).rsplit("/", 1)[1]) as client:
            assert (await client.get("/people")).status_code == 403   # a therapist
        refused = await cli(capsys, "login-link", "--config", config, "--code", "T-99")
        assert refused == (1, "refused: unknown therapist code T-99\n")
        with pytest.raises(SystemExit):
            main(["login-link", "--config", config, "--coordinator", "700000123"])
        assert "is not a name like anna" in capsys.readouterr().err
        audit = [(e.actor, e.action, e.detail) for e in
                 await console.services.store.audit_entries()
                 if e.action.startswith("console:")]
        assert [a[1:] for a in audit] == [
            ("console:link", "for coordinator:anna (coordinator)"),
            ("console:signin", "coordinator"),
            ("console:link", "for T-02 (therapist)"), ("console:signin", "therapist")]
        assert audit[0][0].startswith("cli:") and audit[1][0] == "coordinator:anna"
