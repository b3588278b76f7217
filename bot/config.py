"""Configuration: a TOML file, environment overrides, secrets only from env or files.

Environment variables are named VAKBOT_<SECTION>__<KEY>, e.g. VAKBOT_TELEGRAM__TOKEN.
"""

from __future__ import annotations

import tomllib
from datetime import time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from cryptography.fernet import Fernet
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.consent import (
    ConsentCatalogue,
    ConsentTextError,
    builtin_consents,
    consent_values,
    parse_consent_text,
)
from core.crisis import RulesError, load_rules
from core.retention import MINIMUM_DAYS, DataKind, RetentionPolicy
from storage.postgres.urls import secrets_of

ENV_PREFIX = "VAKBOT_"

# Secret keys that must never be written in the config file itself.
SECRET_KEYS: dict[str, tuple[str, ...]] = {
    "telegram": ("token",),
    "keys": ("pseudonym_key", "contact_key", "text_key"),
    "webhook": ("secret_token",),
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookSettings(_Section):
    listen: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    path: str = Field("/telegram", pattern=r"^/[A-Za-z0-9/_-]*$")
    public_url: str | None = Field(None, pattern=r"^https://")
    secret_token: SecretStr | None = None
    secret_token_file: Path | None = None


class TelegramSettings(_Section):
    token: SecretStr | None = None
    token_file: Path | None = None
    base_url: str = Field("https://api.telegram.org/bot", pattern=r"^https?://")
    bot_username: str | None = Field(None, pattern=r"^[A-Za-z0-9_]{5,32}$")
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: int = Field(10, ge=0, le=60)
    request_timeout: float = Field(15, ge=1, le=120)
    # "httpx" (default): the HTTP client PTB ships with, proxies (HTTPS_PROXY) included.
    # "lean": bot/lean_request.py, half the CPU per request, no proxy support; for a bot
    # whose bursts of taps are CPU-bound (issue 16's latency bench runs on it).
    http_client: Literal["httpx", "lean"] = "httpx"
    chat_burst: int = Field(3, ge=1, le=30)
    inbound_burst: int = Field(8, ge=1, le=1000)
    stranger_reply_minutes: float = Field(5, ge=0, le=1440)
    webhook: WebhookSettings = WebhookSettings()


class KeySettings(_Section):
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: Path | None = None
    # Fernet keys, newest first: several may be given (one per line in the file, or
    # separated by spaces or commas in the environment). The first encrypts; every one
    # decrypts, so an old key stays readable until `rotate-keys` has moved everything.
    contact_key: SecretStr | None = None
    contact_key_file: Path | None = None
    # Free text (notes, crisis texts, matched crisis rules) under its own key(s). When
    # absent the contact key(s) are used, with a warning.
    text_key: SecretStr | None = None
    text_key_file: Path | None = None


class StorageSettings(_Section):
    database: Path = Path("var/vakbot.sqlite3")
    erasure_log: Path | None = None
    audit_anchor: Path | None = None   # the audit trail's head, outside the database
    # PostgreSQL instead of the SQLite file (storage/postgres): postgresql://user@host/db.
    # A SecretStr, as it may carry the password: printed, it shows only asterisks; where
    # the database is named to a person, storage.postgres.urls.redacted masks it.
    url: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: it may hold the password.
        if value is not None and not value.get_secret_value().lower().startswith(
                ("postgresql://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL, postgresql://user@host:port/database")
        return value


class PrivacySettings(_Section):
    retention_required: bool = False
    consent_texts_dir: Path | None = None
    # Who is responsible for the data, and how to reach them: shown in the consent texts.
    controller: str | None = Field(None, min_length=2, max_length=120)
    contact: str | None = Field(None, min_length=2, max_length=160)


def _days(kind: DataKind) -> Any:
    return Field(None, ge=MINIMUM_DAYS[kind], le=36500)


class RetentionSettings(_Section):
    run_at: time = time(3, 30)
    sessions_days: int | None = _days(DataKind.SESSIONS)
    notes_days: int | None = _days(DataKind.NOTES)
    alerts_days: int | None = _days(DataKind.ALERTS)
    delivery_log_days: int | None = _days(DataKind.DELIVERY_LOG)
    invites_days: int | None = _days(DataKind.INVITES)

    def policy(self) -> RetentionPolicy:
        days = {kind: getattr(self, f"{kind.value}_days") for kind in DataKind}
        return RetentionPolicy({kind: n for kind, n in days.items() if n is not None})


class CheckinSettings(_Section):
    expiry_hours: float = Field(24, gt=0, le=168)
    invite_days: int = Field(14, ge=1, le=60)
    free_text_limit: int = Field(1000, ge=20, le=4000)
    crisis_phrases_file: Path | None = None


class ScheduleSettings(_Section):
    timezone: str = "Europe/Amsterdam"
    quiet_start: time = time(21, 30)
    quiet_end: time = time(8, 0)
    send_after_minutes: int = Field(15, ge=0, le=24 * 60)
    remind_after_hours: float = Field(3, gt=0, le=72)
    horizon_days: int = Field(14, ge=1, le=90)
    tick_seconds: float = Field(30, ge=0.2, le=600)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError):
            raise ValueError(f"unknown timezone {value!r}, e.g. Europe/Amsterdam") from None
        return value


class AlertSettings(_Section):
    missed_in_a_row: int = Field(3, ge=2, le=20)
    crisis_escalate_after_minutes: int = Field(20, ge=15, le=30)
    # Replaced by crisis_escalate_after_minutes; kept only to refuse it with a clear reason.
    escalate_after_hours: float | None = None

    @field_validator("escalate_after_hours")
    @classmethod
    def _replaced(cls, value: float | None) -> float | None:
        if value is not None:
            raise ValueError("replaced by alerts.crisis_escalate_after_minutes (15 to 30): "
                             "an unacknowledged crisis alert now goes to the coordinators "
                             "within half an hour, not after hours; remove this key")
        return value


class UnitSettings(_Section):
    # The unit of youths enrolled without --unit: its 24/7 crisis contact gets their
    # crisis alerts. Without it, every youth needs a unit of their own.
    default_unit: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,20}$")


class ReportSettings(_Section):
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    at: time = time(8, 0)


class CoordinatorSettings(_Section):
    telegram_ids: list[int] = []
    language: Literal["nl", "en"] = "nl"   # of /overview and the coordinators' notices


class ResearcherSettings(_Section):
    telegram_ids: list[int] = []


class ConsoleSettings(_Section):
    """The web console (and, in webhook mode, the webhook route): one ASGI app served by
    uvicorn in the bot's own event loop."""

    enabled: bool = True
    listen: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)   # 0: any free port (tests)
    # The address staff open, for sign-in links: the TLS reverse proxy's in production.
    public_url: str = Field("http://127.0.0.1:8080", pattern=r"^https?://")
    idle_minutes: int = Field(30, ge=1, le=24 * 60)
    lifetime_hours: float = Field(12, gt=0, le=7 * 24)
    # Sign-in attempts a minute, per client address and for everyone together.
    signin_per_address: int = Field(10, ge=1, le=1000)
    signin_overall: int = Field(60, ge=1, le=10000)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid",
        nested_model_default_partial_update=True,
    )

    telegram: TelegramSettings = TelegramSettings()
    keys: KeySettings = KeySettings()
    storage: StorageSettings = StorageSettings()
    checkin: CheckinSettings = CheckinSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    privacy: PrivacySettings = PrivacySettings()
    retention: RetentionSettings = RetentionSettings()
    alerts: AlertSettings = AlertSettings()
    units: UnitSettings = UnitSettings()
    reports: ReportSettings = ReportSettings()
    coordinators: CoordinatorSettings = CoordinatorSettings()
    researchers: ResearcherSettings = ResearcherSettings()
    console: ConsoleSettings = ConsoleSettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the TOML file (passed in as init values).
        return (env_settings, init_settings)


class ConfigError(Exception):
    """The configuration has problems; each is one line `field: problem`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Secrets(BaseModel):
    """The resolved secrets, held as SecretStr so they never print."""

    token: SecretStr
    pseudonym_key: SecretStr
    contact_key: SecretStr           # one or more Fernet keys, newest first
    webhook_secret: SecretStr | None
    text_key: SecretStr | None = None  # one or more Fernet keys, newest first

    def contact_keys(self) -> list[bytes]:
        return split_keys(self.contact_key)

    def text_keys(self) -> list[bytes]:
        """The free-text keys; the contact keys when no text key is configured."""
        return split_keys(self.text_key) if self.text_key is not None else self.contact_keys()

    def all_secret_values(self) -> list[str]:
        """Every secret as a string, each key on its own, for redaction in logs."""
        values = [self.token.get_secret_value(), self.pseudonym_key.get_secret_value()]
        for many in (self.contact_key, self.text_key):
            if many is not None:
                values.append(many.get_secret_value())
                values.extend(k.decode() for k in split_keys(many))
        return values


def split_keys(value: SecretStr) -> list[bytes]:
    """Keys given one per line, or separated by spaces or commas; newest first."""
    return [k.encode() for k in value.get_secret_value().replace(",", " ").split()]


def _secret_in_file_problems(data: dict[str, Any]) -> list[str]:
    problems = []
    telegram = data.get("telegram", {})
    sections = {"telegram": telegram, "keys": data.get("keys", {}),
                "webhook": telegram.get("webhook", {}) if isinstance(telegram, dict) else {}}
    for section, keys in SECRET_KEYS.items():
        table = sections[section]
        for key in keys:
            if isinstance(table, dict) and key in table:
                where = "telegram.webhook" if section == "webhook" else section
                env = f"{ENV_PREFIX}{where.replace('.', '__').upper()}__{key.upper()}"
                problems.append(
                    f"{where}.{key}: secrets do not belong in the config file; set {env} "
                    f"or {where}.{key}_file"
                )
    return problems


def _storage_url_problems(data: dict[str, Any]) -> list[str]:
    """A password written into the config file's storage.url (the URL is fine there)."""
    storage = data.get("storage", {})
    url = storage.get("url") if isinstance(storage, dict) else None
    if not isinstance(url, str) or not secrets_of(url):
        return []
    return [f"storage.url: the password does not belong in the config file; leave it out "
            f"and use ~/.pgpass or PGPASSWORD, or set {ENV_PREFIX}STORAGE__URL"]


def _format(error: ValidationError) -> list[str]:
    lines = []
    for err in error.errors():
        field = ".".join(str(part) for part in err["loc"]) or "config"
        msg = "unknown key (a typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{field}: {msg}")
    return lines


def _resolve(base: Path, path: Path | None) -> Path | None:
    if path is None:
        return None
    return path if path.is_absolute() else (base / path)


def _read_secret(
    name: str, value: SecretStr | None, file: Path | None, problems: list[str]
) -> SecretStr | None:
    if value is not None and value.get_secret_value().strip():
        return SecretStr(value.get_secret_value().strip())
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(f"{name}_file: cannot read {file}: {exc.strerror}")
            return None
        if text:
            return SecretStr(text)
        problems.append(f"{name}_file: {file} is empty")
        return None
    env = f"{ENV_PREFIX}{name.replace('.', '__').upper()}"
    problems.append(f"{name}: missing; set {env} or {name}_file")
    return None


def _resolve_storage(storage: StorageSettings, base: Path) -> None:
    """Paths relative to the config file; the erasure log and audit anchor default to
    files beside the database (outside it, and outside its backups)."""
    storage.database = _resolve(base, storage.database) or Path()
    storage.erasure_log = _resolve(base, storage.erasure_log) or (
        storage.database.with_name(storage.database.name + ".erasures"))
    storage.audit_anchor = _resolve(base, storage.audit_anchor) or (
        storage.database.with_name(storage.database.name + ".audit-anchor"))


def load_settings(path: Path) -> tuple[Settings, Secrets]:
    """Load and check the whole configuration; raise ConfigError listing every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"config: file not found: {path}"]) from None
    except OSError as exc:
        raise ConfigError([f"config: cannot read {path}: {exc.strerror}"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"config: not valid TOML: {exc}"]) from None
    problems = _secret_in_file_problems(data) + _storage_url_problems(data)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(problems + _format(exc)) from None
    if problems:
        raise ConfigError(problems)
    base = path.parent
    _resolve_storage(settings.storage, base)
    settings.checkin.crisis_phrases_file = _resolve(base, settings.checkin.crisis_phrases_file)
    if settings.checkin.crisis_phrases_file is not None:
        try:
            load_rules(settings.checkin.crisis_phrases_file)
        except RulesError as exc:
            problems.append(f"checkin.crisis_phrases_file: {exc}")
    settings.privacy.consent_texts_dir = _resolve(base, settings.privacy.consent_texts_dir)
    if settings.privacy.consent_texts_dir is not None:
        try:
            consent_catalogue(settings.privacy.consent_texts_dir)
        except ConsentTextError as exc:
            problems.append(f"privacy.consent_texts_dir: {exc}")
    tg, keys, hook = settings.telegram, settings.keys, settings.telegram.webhook
    token = _read_secret("telegram.token", tg.token, _resolve(base, tg.token_file), problems)
    pkey, ckey, tkey = _read_keys(keys, base, problems)
    tg.token_file, hook.secret_token_file = (_resolve(base, tg.token_file),
                                             _resolve(base, hook.secret_token_file))
    hook_secret = None
    if tg.mode == "webhook":
        hook_secret = _read_secret("telegram.webhook.secret_token", hook.secret_token,
                                   _resolve(base, hook.secret_token_file), problems)
        if hook.public_url is None:
            problems.append("telegram.webhook.public_url: required in webhook mode")
        if hook_secret is not None and not _valid_webhook_secret(hook_secret):
            problems.append("telegram.webhook.secret_token: use 16 to 256 of A-Z a-z 0-9 _ -")
    if pkey is not None and len(pkey.get_secret_value()) < 32:
        problems.append("keys.pseudonym_key: too short; use at least 32 random characters")
    for name, many in (("keys.contact_key", ckey), ("keys.text_key", tkey)):
        if many is not None and not _valid_fernet(many):
            problems.append(f"{name}: not a Fernet key (or one of several is not); make one "
                            "with `python -m bot new-keys`")
    problems.extend(_shared_key_problems(pkey, ckey, tkey))
    if problems or token is None or pkey is None or ckey is None:
        raise ConfigError(problems)
    return settings, Secrets(token=token, pseudonym_key=pkey, contact_key=ckey,
                             webhook_secret=hook_secret, text_key=tkey)


def _read_keys(keys: KeySettings, base: Path, problems: list[str],
               ) -> tuple[SecretStr | None, SecretStr | None, SecretStr | None]:
    """The pseudonym, contact and (optional) text keys; key file paths made absolute."""
    for field in ("pseudonym_key_file", "contact_key_file", "text_key_file"):
        setattr(keys, field, _resolve(base, getattr(keys, field)))
    pkey = _read_secret("keys.pseudonym_key", keys.pseudonym_key, keys.pseudonym_key_file,
                        problems)
    ckey = _read_secret("keys.contact_key", keys.contact_key, keys.contact_key_file, problems)
    tkey = None
    if keys.text_key is not None or keys.text_key_file is not None:
        tkey = _read_secret("keys.text_key", keys.text_key, keys.text_key_file, problems)
    return pkey, ckey, tkey


def _shared_key_problems(pkey: SecretStr | None, ckey: SecretStr | None,
                         tkey: SecretStr | None) -> list[str]:
    """One key doing two jobs: a leak of one would then expose both."""
    problems = []
    pseudonym = pkey.get_secret_value().encode() if pkey is not None else None
    contact = set(split_keys(ckey)) if ckey is not None else set()
    text = set(split_keys(tkey)) if tkey is not None else set()
    if pseudonym is not None and pseudonym in contact:
        problems.append("keys.pseudonym_key: the same as keys.contact_key; each needs its own "
                        "key (`python -m bot new-keys`)")
    if pseudonym is not None and pseudonym in text:
        problems.append("keys.pseudonym_key: the same as keys.text_key; each needs its own key")
    if contact & text:
        problems.append("keys.text_key: shares a key with keys.contact_key; give free text a "
                        "key of its own (`python -m bot new-keys`)")
    return problems


def startup_warnings(settings: Settings, secrets: Secrets) -> list[str]:
    """What `run` and `check-config` warn about: secret files others can read, and free
    text sharing the contact key. Each is one line `field: problem`."""
    warnings = []
    keys, tg = settings.keys, settings.telegram
    files = {"keys.pseudonym_key_file": keys.pseudonym_key_file,
             "keys.contact_key_file": keys.contact_key_file,
             "keys.text_key_file": keys.text_key_file,
             "telegram.token_file": tg.token_file,
             "telegram.webhook.secret_token_file": tg.webhook.secret_token_file}
    for field, path in files.items():
        try:
            mode = path.stat().st_mode & 0o777 if path is not None else 0
        except OSError:
            continue
        if mode & 0o077:
            warnings.append(f"{field}: {path} is readable by group or others (mode "
                            f"{mode:o}); run `chmod 600 {path}`")
    if secrets.text_key is None:
        warnings.append("keys.text_key: not set; notes and crisis texts are encrypted with "
                        "the contact key. Make a key with `python -m bot new-keys`, set "
                        "keys.text_key_file (or VAKBOT_KEYS__TEXT_KEY) and run "
                        "`python -m bot rotate-keys` (see README, Key rotation)")
    return warnings


def consent_texts(settings: Settings) -> ConsentCatalogue:
    """The consent texts as youths see them: the institution's name, contact and
    retention periods filled in."""
    values = consent_values(settings.privacy.controller, settings.privacy.contact,
                            settings.retention.sessions_days, settings.retention.notes_days)
    return consent_catalogue(settings.privacy.consent_texts_dir).filled(values)


def consent_catalogue(texts_dir: Path | None) -> ConsentCatalogue:
    """The built-in consent texts plus the institution's own `consent-*.toml` files."""
    catalogue = builtin_consents()
    if texts_dir is None:
        return catalogue
    if not texts_dir.is_dir():
        raise ConsentTextError(f"{texts_dir} is not a directory")
    own = []
    for path in sorted(texts_dir.glob("consent-*.toml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConsentTextError(f"{path.name}: cannot read it ({exc})") from None
        own.append(parse_consent_text(text, path.name))
    return catalogue.with_texts(own)


def _valid_fernet(keys: SecretStr) -> bool:
    try:
        for key in split_keys(keys) or [b""]:
            Fernet(key)
    except ValueError:
        return False
    return True


def _valid_webhook_secret(secret: SecretStr) -> bool:
    value = secret.get_secret_value()
    return 16 <= len(value) <= 256 and all(c.isalnum() or c in "_-" for c in value)
