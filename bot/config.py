"""Settings: environment variables and `.env`; nothing else in the code reads the environment."""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.db.files import make_private, private_dir

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
LOCALES_DIR = ROOT / "locales"
SUPPORTED_LOCALES = ("en", "ru")


def _within(default: float, lo: float, hi: float, what: str, *, note: str = "") -> Any:
    """A number setting from `lo` to `hi`; what it means, and its range, is what a bad value's
    error says is expected ("hours between …, 1..168")."""
    return Field(default=default, ge=lo, le=hi, description=f"{what}, {lo}..{hi}" + (f" {note}" if note else ""))


def _listed(value: str) -> list[str]:
    """The items of a setting given as a list: separated by commas or semicolons, blanks dropped."""
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: str | None = Field(default=None, description="token from @BotFather")
    bot_username: str | None = Field(default=None, description="the bot's @username, for links it prints")
    telegram_api_base: str | None = Field(
        default=None, description="base URL of a Bot API server, e.g. http://127.0.0.1:8081"
    )
    telegram_api_local: bool = Field(default=False, description="1 when the server runs --local")
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DATA_DIR / 'kabinet.sqlite3'}",
        description="an sqlite+aiosqlite:/// or a postgresql+asyncpg:// URL",
    )
    default_locale: Literal["en", "ru"] = Field(default="en", description="en or ru")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL"
    )
    admin_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(), description="comma-separated Telegram user ids"
    )
    tasks_concurrency_limit: int = Field(
        default=64, ge=1, le=10_000, description="an integer from 1 to 10000"
    )
    shutdown_timeout: float = Field(default=10.0, gt=0, le=600, description="seconds, > 0")
    sweep_interval: int = _within(60, 1, 86_400, "seconds")
    throttle_rate: float = _within(3.0, 0, 1000, "updates a second per user after the burst", note="(0: off)")
    throttle_burst: int = _within(10, 1, 1000, "updates at once per user")
    delivery_rate: int = _within(25, 1, 10_000, "pushes per second overall",
                                 note="(Telegram allows ~30; more only against a local test server)")
    telegram_rate: int = _within(30, 1, 10_000, "messages per second the bot sends, replies and pushes, "
                                 "all instances together", note="(Telegram allows ~30)")
    delivery_interval: float = _within(2.0, 0.5, 3600, "seconds between delivery runs")
    delivery_concurrency: int = _within(4, 1, 32, "pushes in flight at once")
    delivery_lease: float = _within(120.0, 2, 3600, "seconds a claimed push stays claimed before another run may send it")
    card_fingerprint_key: SecretStr | None = Field(
        default=None, description="a secret of at least 32 characters (unset: generated into data/)"
    )

    # Orders (see bot/services/orders/states.py: OrderPolicy)
    unpaid_order_ttl_hours: int = _within(24, 1, 720, "hours an unpaid order waits before it is cancelled")
    buyer_protection_days: int = _within(60, 1, 365, "days of buyer protection after shipment")
    dispute_window_days: int = _within(15, 0, 365, "days after completion to open a dispute")
    refund_days: int = _within(10, 1, 90, "days a refund takes")
    refund_days_fast: int = _within(3, 1, 90, "days a refund takes from loyalty level 3")
    dispute_decision_days: int = _within(10, 1, 90, "days to decide a dispute")
    dispute_decision_days_priority: int = _within(5, 1, 90, "days to decide a dispute from loyalty level 4")
    return_send_days: int = _within(10, 1, 90, "days a buyer has to send a returned item back")
    return_receive_days: int = _within(15, 1, 90, "days a store has to confirm a returned item came back")
    # Loyalty (see bot/services/loyalty.py): points needed for levels 1..5 within 365 days
    loyalty_thresholds: Annotated[tuple[int, ...], NoDecode] = Field(
        default=(0, 200, 400, 800, 1500),
        description="points for levels 1..5, five increasing numbers from 0, e.g. 0,200,400,800,1500",
    )
    tracking_poll_hours: int = _within(6, 1, 168, "hours between carrier checks of a parcel")
    # Points are 1 per whole US dollar: an order in another currency needs a rate. The shop API and
    # the CLI may give one per order; otherwise (and for checkout in the bot) this one is used.
    usd_rates: Annotated[dict[str, Decimal], NoDecode] = Field(
        default_factory=dict,
        description="US dollars per unit of each other currency, e.g. RUB=0.011,EUR=1.08 (orders in a "
                    "currency without a rate earn no points for the amount)",
    )
    # The shop API (bot/api/): off unless API_LISTEN is set and at least one shop has a key
    api_listen: str | None = Field(default=None, description="host:port, e.g. 127.0.0.1:8080")
    api_rate: float = _within(20.0, 0.1, 10_000, "API requests a second per shop key after the burst")
    api_burst: int = _within(40, 1, 100_000, "API requests at once per shop key")
    # Scale-out (README "Scale-out"): webhook mode instead of polling; Redis for FSM and locks
    webhook_url: str | None = Field(
        default=None, description="the public https:// URL Telegram posts updates to (its path is the route)"
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="1-256 characters of A-Z, a-z, 0-9, _ and - (required with WEBHOOK_URL)"
    )
    redis_url: str | None = Field(default=None, description="a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0")
    privacy_url: str | None = Field(default=None, description="an https:// URL of the shop's privacy policy")
    redis_prefix: str = Field(default="kabinet", pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                              description="1-64 characters of A-Z, a-z, 0-9, _ . - before every Redis key")
    fsm_ttl_days: int = _within(30, 1, 365, "days an untouched flow is kept in Redis")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_locale", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("loyalty_thresholds", mode="before")
    @classmethod
    def _split_thresholds(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(p) for p in _listed(value))
        return value

    @field_validator("loyalty_thresholds")
    @classmethod
    def _check_thresholds(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if len(value) != 5 or value[0] != 0 or any(b <= a for a, b in pairwise(value)):
            raise ValueError("five increasing numbers starting at 0, e.g. 0,200,400,800,1500")
        return value

    @field_validator("usd_rates", mode="before")
    @classmethod
    def _split_rates(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        rates: dict[str, object] = {}
        for part in _listed(value):
            code, sep, rate = part.partition("=")
            if not sep:
                raise ValueError(f"{part!r}: CODE=rate, e.g. RUB=0.011")
            rates[code.strip()] = rate.strip()
        return rates

    @field_validator("usd_rates")
    @classmethod
    def _check_rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        checked: dict[str, Decimal] = {}
        for code, rate in value.items():
            if not re.fullmatch(r"[A-Za-z]{3}", code) or code.upper() == "USD":
                raise ValueError(f"{code!r}: a three-letter currency code other than USD")
            if not rate.is_finite() or rate <= 0:
                raise ValueError(f"{code}: the rate must be a positive number")
            checked[code.upper()] = rate
        return checked

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(p) for p in _listed(value))
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("api_listen", mode="before")
    @classmethod
    def _host_port(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("must be host:port, e.g. 127.0.0.1:8080")
        return value

    @property
    def api_address(self) -> tuple[str, int] | None:
        """API_LISTEN as (host, port); a bracketed IPv6 host loses its brackets."""
        if not self.api_listen:
            return None
        host, _, port = self.api_listen.rpartition(":")
        return host.strip("[]"), int(port)

    @field_validator("webhook_url", "redis_url", "privacy_url", mode="before")
    @classmethod
    def _blank_url(cls, value: object) -> object:
        if isinstance(value, str):
            return value.strip() or None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an https:// URL without a query, e.g. https://bot.example.com/telegram")
        if webhook_path(value).startswith("/api/"):
            raise ValueError("its path must not start with /api/ (the shop API's)")
        return value

    @field_validator("privacy_url")
    @classmethod
    def _privacy_url(cls, value: str | None) -> str | None:
        if value is not None and (urlsplit(value).scheme not in ("https", "http") or not urlsplit(value).hostname):
            raise ValueError("must be an http(s):// URL, e.g. https://shop.example.com/privacy")
        return value

    @field_validator("webhook_secret", "card_fingerprint_key", mode="before")
    @classmethod
    def _secret(cls, value: object, info: ValidationInfo) -> object:
        """Stripped; blank is unset; else it must be what its setting takes (_SECRETS)."""
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        if not isinstance(raw, str):
            return raw
        raw = raw.strip()
        fits, problem = _SECRETS[info.field_name or ""]
        if raw and not fits(raw):
            raise ValueError(problem)
        return raw or None

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _webhook_needs(self) -> Settings:
        if self.webhook_url is None:
            return self
        if self.webhook_secret is None:
            raise _Missing("webhook_secret", "required with WEBHOOK_URL")
        if self.api_listen is None:
            raise _Missing("api_listen", "required with WEBHOOK_URL: the address the webhook listens on")
        if self.webhook_url.startswith("http://") and not self.telegram_api_local:
            raise _Missing("webhook_url", "https:// (http:// only with a local Bot API server, TELEGRAM_API_LOCAL=1)")
        return self

    @property
    def webhook_path(self) -> str | None:
        """The route the webhook is served at: WEBHOOK_URL's path ("/" when it has none)."""
        return webhook_path(self.webhook_url) if self.webhook_url else None

    @field_validator("bot_token", "telegram_api_base", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("expected an sqlite+aiosqlite:/// or a postgresql+asyncpg:// URL")
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, or None for an in-memory database or PostgreSQL."""
        if not self.database_url.startswith("sqlite"):
            return None
        tail = self.database_url.split(":///", 1)[1] if ":///" in self.database_url else ""
        if not tail or tail == ":memory:":
            return None
        return Path(tail)


_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")

# what a secret setting must be, and what is said when it is not
_SECRETS: dict[str, tuple[Callable[[str], object], str]] = {
    "webhook_secret": (_SECRET_TOKEN.fullmatch, "1-256 characters of A-Z, a-z, 0-9, _ and -"),
    "card_fingerprint_key": (lambda key: len(key) >= 32, "too short"),
}


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


class _Missing(ValueError):
    """A setting another one needs: the error names that setting, not the model."""

    def __init__(self, field: str, expected: str) -> None:
        super().__init__(expected)
        self.field = field


class SettingsError(Exception):
    """A setting has a bad value; `str()` is one line naming the variable and what is expected."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, _Missing):  # one setting needs another (WEBHOOK_URL: WEBHOOK_SECRET)
            raise SettingsError(f"{cause.field.upper()}: {cause}") from None
        field = str(err["loc"][0]) if err.get("loc") else "?"
        info = Settings.model_fields.get(field)
        expected = info.description if info and info.description else err["msg"]
        reason = err["msg"].removeprefix("Value error, ")
        raise SettingsError(
            f"{field.upper()}: bad value ({reason}); expected {expected}"
        ) from None


FINGERPRINT_KEY_FILE = "card_fingerprint.key"
_log = logging.getLogger(__name__)


def card_fingerprint_key(settings: Settings) -> bytes:
    """The secret that keys card fingerprints (HMAC-SHA256 of the number, used to spot the same
    card twice). From CARD_FINGERPRINT_KEY; when unset, generated once into a file next to the
    database (data/ by default) and read from there afterwards. Changing the key makes every saved
    card look new to the duplicate check, so production sets it explicitly and keeps it."""
    if settings.card_fingerprint_key is not None:
        return settings.card_fingerprint_key.get_secret_value().encode()
    db_file = settings.sqlite_path
    if db_file is None and settings.database_url.startswith("postgresql"):
        # kept in DATA_DIR like SQLite's; several machines must share it: set CARD_FINGERPRINT_KEY
        db_file = DATA_DIR / "postgresql"
    if db_file is None:
        _log.warning("CARD_FINGERPRINT_KEY is not set and the database is in memory: using a key "
                     "that lives as long as this process")
        return secrets.token_hex(32).encode()
    path = db_file.parent / FINGERPRINT_KEY_FILE
    if not path.exists():
        private_dir(path.parent)
        # written whole into a private temporary file, then linked into place: another process
        # starting at the same moment either wins the link or reads the finished file
        tmp = path.with_name(f".{FINGERPRINT_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
            _log.warning("CARD_FINGERPRINT_KEY is not set: generated one into %s; "
                         "set it in production", path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    make_private(path)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise SettingsError(f"CARD_FINGERPRINT_KEY: the key file {path} is damaged; "
                            "restore it or set CARD_FINGERPRINT_KEY")
    return key.encode()
