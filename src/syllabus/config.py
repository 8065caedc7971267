"""Settings from the environment (prefix ``SYLLABUS_``) and an optional ``.env`` file.

Start-up fails fast, with one line per bad variable, rather than running with a weak
secret or a half-configured store.
"""

import hashlib
import hmac
import ipaddress
import json
import re
from pathlib import Path
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from syllabus.kit.standards import DEFAULT_CURRENCY, CurrencyCode

Environment = Literal["dev", "test", "prod"]
LogLevel = Literal["debug", "info", "warning", "error", "critical"]
LogFormat = Literal["json", "text"]

ENV_PREFIX = "SYLLABUS_"
DEFAULT_SECRETS = frozenset({"", "changethis", "secret", "change-me", "changeme"})
MIN_SECRET_LENGTH = 32
POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+asyncpg://")
MIB = 1024 * 1024
# A browser origin: scheme, host and optional port; no path, no trailing slash.
ORIGIN_PATTERN = re.compile(r"^https?://(\[[0-9A-Fa-f:.]+\]|[^/\s:?#\[\]@]+)(:\d{1,5})?$")
# Where clients reach the service: an origin, then optionally a path prefix (no query,
# fragment or user info); a trailing slash is dropped.
BASE_URL_PATTERN = re.compile(
    r"^https?://(\[[0-9A-Fa-f:.]+\]|[^/\s:?#\[\]@]+)(:\d{1,5})?(/[^\s?#]*)?$"
)
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind


YOOKASSA_NOTIFICATION_IPS = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "77.75.154.128/25",
    "2a02:5180::/32",
)
"""The addresses YooKassa documents as the sources of its HTTP notifications."""


SUBMISSION_MEDIA_TYPES = (
    "text/plain",
    "text/markdown",
    "text/csv",
    "text/x-python",
    "application/sql",
    "application/json",
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/zip",
)
"""What homework files may be by default: text and code (UTF-8), PDF, PNG, JPEG, ZIP."""
MEDIA_TYPE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class ConfigError(Exception):
    """Settings could not be loaded; ``str()`` is ready to print, one line per problem."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # The API process needs every store and the secret; database tools relax that.
    requires_service_settings: ClassVar[bool] = True

    env: Environment = "prod"
    postgres_url: str | None = Field(
        default=None,
        validate_default=True,
        description="PostgreSQL URL; unset in dev/test starts an embedded server.",
    )
    postgres_owner_url: str | None = Field(
        default=None,
        description="PostgreSQL URL of the tables' owner, for migrations and operators' "
        "commands; the API connects with SYLLABUS_POSTGRES_URL (DML only).",
    )
    mongo_url: str | None = Field(
        default=None,
        validate_default=True,
        description="MongoDB URL; unset in dev/test starts an embedded wire server.",
    )
    mongo_db: str = Field(default="syllabus", pattern=r"^[A-Za-z0-9_-]{1,63}$")
    jwt_secret: SecretStr = Field(default=SecretStr("changethis"), validate_default=True)
    cursor_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs list cursors; unset: derived from the JWT secret.",
    )
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: str | None = Field(
        default=None,
        validate_default=True,
        description="The URL clients use to reach the service; every absolute link starts "
        "with it (never the request's Host). Unset in dev/test: from the bind address.",
    )
    log_level: LogLevel = "info"
    log_format: LogFormat | None = Field(
        default=None,
        description="json (one object per line) or text; unset: text in dev, else json.",
    )
    metrics_enabled: bool = Field(
        default=True, description="Serve GET /metrics and record the HTTP metrics."
    )
    data_dir: Path = Path(".data")
    pg_pool_size: int = Field(default=10, ge=1, le=100)
    pg_max_overflow: int = Field(default=0, ge=0, le=100)
    content_max_files: int = Field(default=100_000, ge=1)
    content_max_file_bytes: int = Field(default=2 * 1024 * 1024, ge=1)
    default_currency: CurrencyCode = Field(
        default=DEFAULT_CURRENCY,
        description="ISO 4217 currency of a course whose course.json names none.",
    )
    health_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    max_body_bytes: int = Field(
        default=MIB,
        ge=1024,
        le=64 * MIB,
        description="Largest request body accepted; larger ones are refused with 413.",
    )
    max_json_depth: int = Field(
        default=32,
        ge=2,
        le=256,
        description="Deepest nesting of arrays and objects accepted in a JSON body.",
    )
    submission_max_file_bytes: int = Field(
        default=10 * MIB,
        ge=1,
        le=1024 * MIB,
        description="Largest file a homework submission may carry; larger is refused with 413.",
    )
    submission_max_files: int = Field(
        default=5,
        ge=0,
        le=100,
        description="Most files one homework submission may carry; more is refused with 413.",
    )
    submission_media_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(SUBMISSION_MEDIA_TYPES),
        description="Media types a homework file may have (its content must match); any "
        "other is refused with 415.",
    )
    exam_sweep_seconds: float = Field(
        default=30,
        ge=0,
        description="How often each API process seals exam attempts past their deadline "
        "(0: never; `syllabus exams seal-due` from cron does the same).",
    )
    signin_max_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins on one account (from addresses it has not signed in "
        "from, or from one known address) per sign-in window; more are refused with 429.",
    )
    signin_max_per_account_hour: int = Field(
        default=100, ge=1, description="Failed sign-ins on one account per hour, anywhere."
    )
    signin_max_per_address: int = Field(
        default=30, ge=1, description="Failed sign-ins from one client address per window."
    )
    signin_window_seconds: int = Field(
        default=900,
        ge=1,
        le=3600,
        description="The sign-in throttle's short window (attempts are kept for an hour).",
    )
    signup_max_per_address: int = Field(
        default=30,
        ge=1,
        description="Sign-ups (created or refused as taken) from one client address per window.",
    )
    signup_max_per_email: int = Field(
        default=5, ge=1, description="Sign-ups naming one email address per window."
    )
    signup_window_seconds: int = Field(
        default=3600, ge=1, le=7 * 24 * 3600, description="The sign-up throttle's window."
    )
    password_work_max_pending: int = Field(
        default=4,
        ge=1,
        le=1000,
        description="Sign-ups, sign-ins and password changes in progress at once in one "
        "process (each may wait for the one hashing thread); more are refused with 503.",
    )
    password_work_max_per_address: int = Field(
        default=2,
        ge=1,
        le=1000,
        description="The same, per client address; more are refused with 429.",
    )
    known_address_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="How long an address an account signed in from stays known: failures "
        "from elsewhere do not lock the owner out there.",
    )
    ai_base_url: str | None = Field(
        default=None,
        description="Base URL of an OpenAI-compatible chat-completions API (a hosted API, "
        "vLLM, Ollama, llama.cpp server), e.g. http://127.0.0.1:11434/v1; unset: the "
        "features that need a model answer 503 and everything else works.",
    )
    ai_api_key: SecretStr | None = Field(
        default=None, description="API key sent as a Bearer token (self-hosted servers: any)."
    )
    ai_model: str = Field(default="gpt-4o-mini", min_length=1, max_length=200)
    ai_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    ai_max_retries: int = Field(
        default=2, ge=0, le=10, description="Retries of a failed model call, with backoff."
    )
    ai_breaker_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Consecutive model failures that open the circuit (503 at once).",
    )
    ai_breaker_reset_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="How long an open circuit refuses calls."
    )
    ai_daily_token_budget: int = Field(
        default=50_000,
        ge=0,
        le=100_000_000,
        description="Model tokens one user may spend per UTC day; then 429 with Retry-After.",
    )
    content_cache_entries: int = Field(
        default=512,
        ge=0,
        le=1_000_000,
        description="Course outlines, lessons and quizzes each API process keeps in memory "
        "(each an LRU of this many entries; 0 turns the caches off), by the content version "
        "PostgreSQL reports. A new load changes the version, so they never serve stale "
        "content.",
    )
    sql_sandbox_url: str | None = Field(
        default=None,
        description="PostgreSQL URL signing in as the SQL-practice sandbox's reader role "
        "(syllabus_sandbox, made by migration 0034); unset: SYLLABUS_POSTGRES_URL's server "
        "and database as that role, without a password.",
    )
    sql_check_timeout_ms: int = Field(
        default=2000,
        ge=10,
        le=60_000,
        description="statement_timeout of a learner's query (and the reference query) in "
        "the SQL sandbox.",
    )
    sql_check_max_rows: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Rows of a query's result the SQL sandbox reads (it fetches one more, "
        "to know the query returned too many).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-* headers are trusted (comma list or *).",
    )
    # Payments (docs/payments.md). A provider without its settings is not offered.
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, description="Signing secret of the Stripe webhook endpoint (whsec_…)."
    )
    stripe_api_base: str | None = Field(
        default=None, description="Stripe's API base URL; unset: Stripe's own (tests: a double)."
    )
    yookassa_shop_id: str | None = None
    yookassa_secret_key: SecretStr | None = None
    yookassa_api_base: str | None = Field(
        default=None,
        description="YooKassa's API base URL; unset: YooKassa's own (tests: a double).",
    )
    yookassa_notification_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(YOOKASSA_NOTIFICATION_IPS),
        description="Addresses YooKassa sends notifications from (its published list).",
    )
    payment_return_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins a checkout's return_url may point at; unset: the public base "
        "URL's origin only.",
    )
    sandbox_payments: bool | None = Field(
        default=None,
        description="Offer the sandbox provider (pay without keys); unset: on in dev and "
        "test; refused in prod.",
    )
    payment_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="Timeout of every call to a payment provider."
    )

    @field_validator("postgres_url")
    @classmethod
    def _postgres_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("env") == "prod":
                raise ValueError("required when SYLLABUS_ENV=prod")
            return None
        if not value.startswith(POSTGRES_SCHEMES):
            raise ValueError("must start with postgresql:// (or postgresql+asyncpg://)")
        return value

    @field_validator("sql_sandbox_url")
    @classmethod
    def _sql_sandbox_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(POSTGRES_SCHEMES):
            raise ValueError("must start with postgresql:// (or postgresql+asyncpg://)")
        return value

    @field_validator("postgres_owner_url")
    @classmethod
    def _postgres_owner_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.startswith(POSTGRES_SCHEMES):
            raise ValueError("must start with postgresql:// (or postgresql+asyncpg://)")
        app = info.data.get("postgres_url")
        if app is None and "postgres_url" in info.data:
            raise ValueError("set SYLLABUS_POSTGRES_URL too: the API's role, DML only")
        if app is not None and info.data.get("env") == "prod" and _same_role(app, value):
            raise ValueError(
                "names the same role as SYLLABUS_POSTGRES_URL: the API must not connect as "
                "the tables' owner (give it a role with DML rights only)"
            )
        return value

    @field_validator("mongo_url")
    @classmethod
    def _mongo_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("env") == "prod" and cls.requires_service_settings:
                raise ValueError("required when SYLLABUS_ENV=prod")
            return None
        if not value.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        # An invalid SYLLABUS_ENV is reported on its own; don't guess which rules apply.
        if info.data.get("env", "dev") in ("dev", "test") or not cls.requires_service_settings:
            return value
        secret = value.get_secret_value()
        if secret.strip().lower() in DEFAULT_SECRETS:
            raise ValueError("is empty or a well-known default; set a random value")
        if len(secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _public_base_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if info.data.get("env") == "prod" and cls.requires_service_settings:
                raise ValueError(
                    "required when SYLLABUS_ENV=prod (e.g. https://learn.example.org): "
                    "absolute links are never built from the request's Host header"
                )
            return None
        if not BASE_URL_PATTERN.match(value):
            raise ValueError("must be http(s)://host[:port][/path], without query or fragment")
        return value.rstrip("/")

    @field_validator("ai_base_url")
    @classmethod
    def _ai_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not BASE_URL_PATTERN.match(value):
            raise ValueError("must be http(s)://host[:port][/path], e.g. http://127.0.0.1:8080/v1")
        return value.rstrip("/")

    @field_validator("cursor_secret")
    @classmethod
    def _cursor_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or info.data.get("env", "dev") in ("dev", "test"):
            return value
        return cls._jwt_secret(value, info)

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept ``a,b`` as well as a JSON list, since env files are edited by hand."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        """An origin with a path or a trailing slash never matches what browsers send,
        so it is a typo to report, not a setting to ignore silently."""
        bad = [origin for origin in value if origin != "*" and not ORIGIN_PATTERN.match(origin)]
        if bad:
            raise ValueError(f"not an origin (scheme://host[:port]): {', '.join(bad)}")
        return value

    @field_validator("yookassa_notification_ips", "payment_return_origins", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        return cls._split_origins(value)

    @field_validator("yookassa_notification_ips")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        bad = []
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                bad.append(network)
        if bad:
            raise ValueError(f"not an address or network: {', '.join(bad)}")
        return value

    @field_validator("payment_return_origins")
    @classmethod
    def _check_return_origins(cls, value: list[str]) -> list[str]:
        """Exact origins only: a wildcard would let a checkout send buyers anywhere."""
        bad = [origin for origin in value if not ORIGIN_PATTERN.match(origin)]
        if bad:
            raise ValueError(f"not an origin (scheme://host[:port]): {', '.join(bad)}")
        return value

    @field_validator("submission_media_types", mode="before")
    @classmethod
    def _split_media_types(cls, value: object) -> object:
        return cls._split_origins(value)

    @field_validator("submission_media_types")
    @classmethod
    def _check_media_types(cls, value: list[str]) -> list[str]:
        """``type/subtype`` in lower case, no parameters: what uploads are compared with."""
        bad = [item for item in value if not MEDIA_TYPE_PATTERN.match(item)]
        if bad:
            raise ValueError(f"not a media type (type/subtype, lower case): {', '.join(bad)}")
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _stripe_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if (value is None) != (info.data.get("stripe_secret_key") is None):
            raise ValueError("set together with SYLLABUS_STRIPE_SECRET_KEY, or neither")
        return value

    @field_validator("yookassa_secret_key")
    @classmethod
    def _yookassa_pair(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if (value is None) != (info.data.get("yookassa_shop_id") is None):
            raise ValueError("set together with SYLLABUS_YOOKASSA_SHOP_ID, or neither")
        return value

    @field_validator("sandbox_payments")
    @classmethod
    def _sandbox(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and info.data.get("env") == "prod":
            raise ValueError("the sandbox payment provider is for dev and tests, never prod")
        return value

    @property
    def sandbox_enabled(self) -> bool:
        if self.sandbox_payments is not None:
            return self.sandbox_payments
        return self.env in ("dev", "test")

    @property
    def payment_providers(self) -> tuple[str, ...]:
        """The providers this deployment offers, in the order they are tried."""
        offered = []
        if self.stripe_secret_key is not None:
            offered.append("stripe")
        if self.yookassa_shop_id is not None:
            offered.append("yookassa")
        if self.sandbox_enabled:
            offered.append("sandbox")
        return tuple(offered)

    @property
    def return_origins(self) -> list[str]:
        """Where a checkout may send the buyer back to."""
        if self.payment_return_origins:
            return self.payment_return_origins
        parts = urlsplit(self.public_url)
        return [f"{parts.scheme}://{parts.netloc}"]

    @property
    def effective_log_format(self) -> LogFormat:
        """``SYLLABUS_LOG_FORMAT``, or by default text for a developer and JSON elsewhere."""
        if self.log_format is not None:
            return self.log_format
        return "text" if self.env == "dev" else "json"

    @property
    def public_url(self) -> str:
        """``SYLLABUS_PUBLIC_BASE_URL``, or (dev/test, tools) the bind address over plain
        HTTP, a wildcard bind read as loopback."""
        if self.public_base_url is not None:
            return self.public_base_url
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def cursor_key(self) -> bytes:
        """The HMAC key of list cursors: ``SYLLABUS_CURSOR_SECRET``, or else one derived
        from the JWT secret (HMAC with a fixed label, so neither key reveals the other and
        prod needs no second secret; changing the JWT secret then voids issued cursors,
        which costs a client one restarted list)."""
        if self.cursor_secret is not None:
            return self.cursor_secret.get_secret_value().encode()
        secret = self.jwt_secret.get_secret_value().encode()
        return hmac.new(secret, b"syllabus list cursors v1", hashlib.sha256).digest()

    @property
    def sandbox_reader_url(self) -> str:
        """The SQL sandbox's reader URL for asyncpg (libpq form): the setting, or the app's
        server and database signing in as ``syllabus_sandbox`` with no password."""
        if self.sql_sandbox_url is not None:
            return to_libpq_url(self.sql_sandbox_url)
        from urllib.parse import urlsplit

        parts = urlsplit(to_libpq_url(self.sqlalchemy_url))
        host = parts.netloc.rpartition("@")[2]
        return parts._replace(netloc=f"syllabus_sandbox@{host}").geturl()

    @property
    def sqlalchemy_url(self) -> str:
        """The Postgres URL with the asyncpg driver named, as SQLAlchemy wants it."""
        if self.postgres_url is None:
            raise ConfigError("SYLLABUS_POSTGRES_URL is not set")
        return to_asyncpg_url(self.postgres_url)


class ToolSettings(Settings):
    """Settings for database tools (``syllabus db …``): PostgreSQL only, dev by default,
    so they work on a fresh checkout and in a migration job without API secrets."""

    requires_service_settings: ClassVar[bool] = False

    env: Environment = "dev"


def _same_role(first: str, second: str) -> bool:
    from urllib.parse import urlsplit

    one, other = urlsplit(to_libpq_url(first)), urlsplit(to_libpq_url(second))
    return (one.username, one.hostname, one.port) == (other.username, other.hostname, other.port)


def to_asyncpg_url(url: str) -> str:
    for scheme in POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+asyncpg://" + url.removeprefix(scheme)
    raise ConfigError(f"not a PostgreSQL URL: {url!r}")


def to_libpq_url(url: str) -> str:
    """The same URL as psql and other libpq tools accept it."""
    return "postgresql://" + to_asyncpg_url(url).removeprefix("postgresql+asyncpg://")


def format_validation_error(error: ValidationError) -> str:
    """One line per problem, naming the environment variable rather than the field."""
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "settings"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{ENV_PREFIX}{field.upper()}: {message}")
    return "\n".join(lines)


def _load(settings_class: type[Settings], overrides: dict[str, object]) -> Settings:
    try:
        return settings_class(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        raise ConfigError(format_validation_error(error)) from None


def load_settings(**overrides: object) -> Settings:
    """Read the API's settings, turning a validation failure into a :class:`ConfigError`."""
    return _load(Settings, overrides)


def load_tool_settings(**overrides: object) -> Settings:
    """Read settings for the database tools (see :class:`ToolSettings`)."""
    return _load(ToolSettings, overrides)
