"""The command line and the configuration, as a coordinator meets them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from core.export import ALERTS_HEADING
from tests.support import run_cli as run

COMMANDS = ["check-config", "run", "new-keys", "enroll-therapist", "enroll-youth", "invite",
            "send-checkin", "backup", "demo", "schedule", "overview", "schedule add",
            "schedule list", "schedule cancel", "schedule move", "schedule pause",
            "schedule resume", "schedule import", "schedule window", "report", "audit",
            "unbind", "export", "enroll-unit", "set-unit", "unbind-therapist", "unbind-unit",
            "move-youths", "rotate-keys", "set-simple"]


def test_example_config_documents_every_key_and_is_valid(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    example = Path(__file__).parent.parent / "config.example.toml"
    text = example.read_text()
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            index = text.splitlines().index(line)
            assert text.splitlines()[index - 1].startswith("#"), f"undocumented: {line}"
    local = tmp_path / "example.toml"
    text = (text.replace('token_file = "/run/secrets/vakbot-token"\n', "")
            .replace('pseudonym_key_file = "/run/secrets/vakbot-pseudonym.key"\n', "")
            .replace('contact_key_file = "/run/secrets/vakbot-contact.key"\n', ""))
    local.write_text(text)
    # As shipped, nobody is enrolled yet: the empty crisis route is a loud warning (the
    # refusal once youths are enrolled is in test_crisis_route_e2e).
    code, output = run(capsys, "check-config", "--config", str(local))
    assert code == 0
    assert output.startswith("warning: crisis route: coordinators.telegram_ids: empty"), output
    local.write_text(text.replace("telegram_ids = []", "telegram_ids = [9001]", 1))
    assert run(capsys, "check-config", "--config", str(local)) == (0, f"{local}: ok\n")


@pytest.mark.parametrize(("body", "expected"), [
    ("[storage]\ndatabse = 'x'\n", "storage.databse: unknown key (a typo?)"),
    ("[telegram]\nmode = 'push'\n", "telegram.mode: Input should be 'polling' or 'webhook'"),
    ("[checkin]\nexpiry_hours = 0\n", "checkin.expiry_hours: Input should be greater than 0"),
    ("[telegram]\ntoken = 'abc'\n", "telegram.token: secrets do not belong in the config file;"
     " set VAKBOT_TELEGRAM__TOKEN or telegram.token_file"),
    ("[keys]\ncontact_key = 'k'\n", "keys.contact_key: secrets do not belong"),
    ("[telegram\n", "config: not valid TOML"),
    ("[telegram]\nmode = 'webhook'\n", "telegram.webhook.secret_token: missing; set "
     "VAKBOT_TELEGRAM__WEBHOOK__SECRET_TOKEN or telegram.webhook.secret_token_file"),
    ("[telegram]\nmode = 'webhook'\n", "telegram.webhook.public_url: required in webhook mode"),
    ("[shedule]\n", "shedule: unknown key (a typo?)"),
    ("[alerts]\nescalate_after_hours = 4\n", "alerts.escalate_after_hours: Value error, "
     "replaced by alerts.crisis_escalate_after_minutes (15 to 30)"),
    ("[alerts]\ncrisis_escalate_after_minutes = 60\n", "alerts.crisis_escalate_after_minutes:"
     " Input should be less than or equal to 30"),
    ("[units]\ndefault_unit = 'W 1'\n", "units.default_unit: String should match pattern"),
])
def test_check_config_reports_each_problem_on_one_line(
    config: Path, capsys: pytest.CaptureFixture[str], body: str, expected: str
) -> None:
    config.write_text(body)
    code, output = run(capsys, "check-config", "--config", str(config))
    assert code == 2
    assert any(line.startswith(expected) for line in output.splitlines()), output


def test_missing_file_and_missing_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = run(capsys, "check-config", "--config", str(tmp_path / "nope.toml"))
    assert (code, output.strip()) == (2, f"config: file not found: {tmp_path / 'nope.toml'}")
    (tmp_path / "c.toml").write_text("")
    for var in ("VAKBOT_TELEGRAM__TOKEN", "VAKBOT_KEYS__PSEUDONYM_KEY",
                "VAKBOT_KEYS__CONTACT_KEY"):
        monkeypatch.delenv(var, raising=False)
    code, output = run(capsys, "check-config", "--config", str(tmp_path / "c.toml"))
    assert code == 2
    assert output.splitlines() == [
        "telegram.token: missing; set VAKBOT_TELEGRAM__TOKEN or telegram.token_file",
        "keys.pseudonym_key: missing; set VAKBOT_KEYS__PSEUDONYM_KEY or keys.pseudonym_key_file",
        "keys.contact_key: missing; set VAKBOT_KEYS__CONTACT_KEY or keys.contact_key_file",
    ]


def test_environment_overrides_the_file(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAKBOT_CHECKIN__EXPIRY_HOURS", "500")
    code, output = run(capsys, "check-config", "--config", str(config))
    assert code == 2 and "checkin.expiry_hours: Input should be less than or equal to 168" in output
    monkeypatch.setenv("VAKBOT_KEYS__CONTACT_KEY", "not-fernet")
    monkeypatch.setenv("VAKBOT_CHECKIN__EXPIRY_HOURS", "12")
    code, output = run(capsys, "check-config", "--config", str(config))
    assert code == 2 and output.startswith("keys.contact_key: not a Fernet key")


def test_enrolment_from_the_command_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = ("--config", str(config))
    code, output = run(capsys, "enroll-youth", *cfg, "--code", "J-014", "--therapist", "T-02",
                       "--birth-year", "2008")
    assert code == 1 and "--unit is required (or set units.default_unit)" in output
    config.write_text(config.read_text() + '[units]\ndefault_unit = "W-1"\n')
    code, output = run(capsys, "enroll-youth", *cfg, "--code", "J-014", "--therapist", "T-02",
                       "--birth-year", "2008")
    assert code == 1 and "unknown therapist T-02" in output
    assert run(capsys, "enroll-therapist", *cfg, "--code", "T-02")[0] == 0
    code, output = run(capsys, "enroll-youth", *cfg, "--code", "J-015", "--therapist", "T-02",
                       "--birth-year", "2011")
    assert code == 1 and "--guardian-consent-date" in output
    code, output = run(capsys, "enroll-youth", *cfg, "--code", "J-015", "--therapist", "T-02",
                       "--birth-year", "2011", "--guardian-consent-date", "2026-10-01")
    assert code == 0 and "https://t.me/vakbot_demo_bot?start=" in output
    code, output = run(capsys, "enroll-youth", *cfg, "--code", "J-015", "--therapist", "T-02",
                       "--birth-year", "2011", "--guardian-consent-date", "2026-10-01")
    assert code == 1 and "enrolled already" in output
    code, output = run(capsys, "invite", *cfg, "--code", "J-015")
    assert code == 0 and "works once" in output
    code, output = run(capsys, "send-checkin", *cfg, "--code", "J-015")
    assert code == 1 and "has not used the invite link yet" in output
    with pytest.raises(SystemExit):
        main(["enroll-youth", *cfg, "--code", "Jamie", "--therapist", "T-02",
              "--birth-year", "2008"])
    assert "codes keep names out of the data" in capsys.readouterr().err
    code, output = run(capsys, "backup", *cfg, "--out", str(config.parent / "b.sqlite3"))
    assert code == 0 and (config.parent / "b.sqlite3").exists()


def test_new_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(capsys, "new-keys", "--dir", str(tmp_path / "keys"))
    keys = tmp_path / "keys"
    assert code == 0 and (keys / "vakbot-contact.key").stat().st_mode & 0o777 == 0o600
    assert (keys / "vakbot-pseudonym.key").stat().st_mode & 0o777 == 0o600
    assert run(capsys, "new-keys", "--dir", str(tmp_path / "keys"))[0] == 1


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), "--help"])
    assert exit_info.value.code == 0
    assert "usage: python -m bot" in capsys.readouterr().out


def test_module_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True,
                          text=True, check=False, timeout=60)
    assert done.returncode == 0 and "enroll-youth" in done.stdout


@pytest.mark.parametrize(("argv", "expected"), [
    (["report", "--therapist", "T-02", "--week", "2026-W99", "--out", "w.png"],
     "refused: --week '2026-W99': no such week"),
    (["report", "--therapist", "T-02", "--week", "2026-W48", "--out", "{tmp}/a-file/w.png"],
     "refused: {tmp}/a-file: file exists"),
    (["report", "--therapist", "T-02", "--week", "2026-W48", "--out", "{tmp}"],
     "is a folder; give a file name"),
    (["export", "--out", "{tmp}/a-file"], "refused: --out {tmp}/a-file: is a file"),
    (["backup", "--out", "{tmp}/a-file/b.sqlite3"], "refused: {tmp}/a-file: file exists"),
    (["enroll-youth", "--code", "J-001", "--therapist", "T-02", "--birth-year", "2011",
      "--guardian-consent-date", "2026-13-01"], "'2026-13-01' is not a date like"),
    (["enroll-youth", "--code", "J-001", "--therapist", "T-02", "--birth-year", "abc"],
     "argument --birth-year: invalid int value: 'abc' (see python -m bot enroll-youth"),
    (["audit", "show", "--last", "-3"], "argument --last: '-3' is not a whole number"),
    (["consent-texts", "--version", "participation-99"], "no consent text"),
    (["schedule", "cancel", "--series", "x", "--date", "2030-01-01"],
     "argument --series: invalid int value: 'x'"),
    (["schedule", "window", "--youth", "J-999", "--days", "mon", "--from", "10:00",
      "--to", "12:00"], "refused: youth: unknown youth code J-999"),
    (["schedule", "import", "{tmp}/nope.csv"], "nope.csv: file not found"),
])
def test_every_argument_error_is_one_line_and_exit_2(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    argv: list[str], expected: str,
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    assert run(capsys, "enroll-therapist", "--config", str(config), "--code", "T-02")[0] == 0
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    try:
        code, output = run(capsys, *argv, "--config", str(config))
    except SystemExit as exit_info:        # argparse's own errors
        code, output = int(str(exit_info.code)), capsys.readouterr().err
    assert code == 2, output
    assert len(output.strip().splitlines()) == 1, output
    assert expected.replace("{tmp}", str(tmp_path)) in output, output


@pytest.mark.parametrize(("flags", "first_column", "foreign"), [
    ([], "participant", ["youth_code", "real date"]),
    (["--full"], "youth_code", ["participant", "shifted by"]),
])
def test_each_export_ships_the_codebook_that_describes_it(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    flags: list[str], first_column: str, foreign: list[str],
) -> None:
    out = tmp_path / "export"
    code, _ = run(capsys, "export", "--config", str(config), "--out", str(out), *flags)
    assert code == 0
    columns = (out / "answers_long.csv").read_text().splitlines()[0].split(",")
    book = (out / "codebook.md").read_text()
    answers_book, alerts_book = book.split(ALERTS_HEADING)

    def described(part: str) -> list[str]:
        return [line.split("|")[1].strip() for line in part.splitlines()
                if line.startswith("| ") and not line.startswith("| variable")]

    assert columns[0] == first_column and described(answers_book) == columns
    alert_columns = (out / "alerts.csv").read_text().splitlines()[0].split(",")
    assert alert_columns[0] == first_column and described(alerts_book) == alert_columns
    assert not [word for word in foreign if word in book], book
