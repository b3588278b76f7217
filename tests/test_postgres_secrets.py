"""The PostgreSQL password never appears in a log line, an error, or the configuration's
messages: not when the login works, not when it is refused, not when the server is
unreachable, and not when the URL is written where it does not belong.

The test server's password holds characters a URL must percent-encode (tests/pg_server),
so both its plain and its encoded form are looked for.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.config import ConfigError, load_settings
from storage.postgres.database import DatabaseUnavailable, PostgresDatabase
from storage.postgres.urls import redacted, secrets_of
from tests import pg_server

WRONG = "Wr0ng%pass@word:/x"


def assert_hidden(text: str, password: str) -> None:
    for form in (password, quote(password, safe=""), quote(password)):
        assert form not in text


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("psycopg", "psycopg.pool"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_redacted_urls_keep_everything_but_the_password() -> None:
    url = f"postgresql://vakbot:{quote(WRONG, safe='')}@db.example:5433/vakbot?sslmode=require"
    assert redacted(url) == "postgresql://vakbot:***@db.example:5433/vakbot?sslmode=require"
    assert redacted("postgresql://db.example/vakbot?password=s3cretvalue&x=1") == \
        "postgresql://db.example/vakbot?password=***&x=1"
    assert redacted("postgresql://vakbot@db.example/vakbot") == \
        "postgresql://vakbot@db.example/vakbot"
    assert WRONG in secrets_of(url)


async def test_a_working_login_logs_no_password(
        pg_url: str, pg_cluster: pg_server.PgServer,
        everything_logged: pytest.LogCaptureFixture) -> None:
    db = await PostgresDatabase.open(pg_url)
    try:
        assert await db.one("SELECT 1 AS one") is not None
        with pytest.raises(Exception) as caught:
            await db.run("SELECT * FROM no_such_table")
        assert_hidden(str(caught.value), pg_cluster.password)
        assert "***" in db.url
        assert_hidden(db.url, pg_cluster.password)
    finally:
        await db.close()
    assert_hidden(everything_logged.text, pg_cluster.password)


async def test_a_refused_login_names_the_database_but_not_the_password(
        pg_url: str, pg_cluster: pg_server.PgServer,
        everything_logged: pytest.LogCaptureFixture) -> None:
    wrong = pg_url.replace(quote(pg_cluster.password, safe=""), quote(WRONG, safe=""))
    assert wrong != pg_url
    with pytest.raises(DatabaseUnavailable) as caught:
        await PostgresDatabase.open(wrong, connect_s=5)
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "postgresql://vakbot:***@127.0.0.1" in message
    assert_hidden(message, WRONG)
    assert_hidden(everything_logged.text, WRONG)


async def test_an_unreachable_server_names_the_database_but_not_the_password(
        everything_logged: pytest.LogCaptureFixture) -> None:
    closed_port = pg_server._free_port()   # nothing listens there
    url = f"postgresql://vakbot:{quote(WRONG, safe='')}@127.0.0.1:{closed_port}/vakbot"
    with pytest.raises(DatabaseUnavailable) as caught:
        await PostgresDatabase.open(url, connect_s=2)
    assert f"127.0.0.1:{closed_port}" in str(caught.value)
    assert_hidden(str(caught.value), WRONG)
    assert_hidden(everything_logged.text, WRONG)


def test_the_config_refuses_a_password_in_the_file_without_repeating_it(
        config: Path) -> None:
    url = f"postgresql://vakbot:{quote(WRONG, safe='')}@db.example/vakbot"
    config.write_text(config.read_text().replace(
        "[storage]\n", f'[storage]\nurl = "{url}"\n'))
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert "storage.url: the password does not belong in the config file" in str(caught.value)
    assert_hidden(str(caught.value), WRONG)


def test_the_url_with_its_password_may_come_from_the_environment(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://vakbot:{quote(WRONG, safe='')}@db.example/vakbot"
    monkeypatch.setenv("VAKBOT_STORAGE__URL", url)
    settings, _ = load_settings(config)
    assert settings.storage.url is not None
    assert settings.storage.url.get_secret_value() == url
    assert_hidden(repr(settings), WRONG)
    assert_hidden(str(settings.model_dump()), WRONG)
    monkeypatch.setenv("VAKBOT_STORAGE__URL", f"mysql://vakbot:{WRONG}@db.example/vakbot")
    with pytest.raises(ConfigError, match=r"storage\.url: .*must be a PostgreSQL URL") as caught:
        load_settings(config)
    assert_hidden(str(caught.value), WRONG)
