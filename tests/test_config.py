"""Settings refuse to start with weak secrets or bad values, naming the variable."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from syllabus.config import (
    ENV_PREFIX,
    ConfigError,
    Settings,
    load_settings,
    load_tool_settings,
    to_asyncpg_url,
    to_libpq_url,
)

STRONG_SECRET = "a" * 40
PROD_URLS = {
    "postgres_url": "postgresql://u:p@db:5432/syllabus",
    "mongo_url": "mongodb://mongo:27017/?replicaSet=rs0",
    "public_base_url": "https://learn.example.org",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No SYLLABUS_* variable or .env file from the developer's machine leaks in."""
    for name in list(os.environ):
        if name.startswith("SYLLABUS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _error_lines(**overrides: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(**overrides)
    return str(caught.value).splitlines()


def test_prod_without_urls_or_secret_names_every_missing_variable() -> None:
    lines = _error_lines()
    assert [line.split(":")[0] for line in lines] == [
        "SYLLABUS_POSTGRES_URL",
        "SYLLABUS_MONGO_URL",
        "SYLLABUS_JWT_SECRET",
        "SYLLABUS_PUBLIC_BASE_URL",
    ]


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("0.0.0.0", 9000, "http://127.0.0.1:9000"),  # noqa: S104
        ("::1", 8000, "http://[::1]:8000"),
        ("api.local", 80, "http://api.local:80"),
    ],
)
def test_dev_links_default_to_the_bind_address(host: str, port: int, expected: str) -> None:
    assert load_settings(env="dev", host=host, port=port).public_url == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://learn.example.org", "https://learn.example.org"),
        ("https://learn.example.org/", "https://learn.example.org"),
        ("https://example.org:8443/learning/", "https://example.org:8443/learning"),
    ],
)
def test_the_public_base_url_is_kept_without_a_trailing_slash(value: str, expected: str) -> None:
    settings = load_settings(
        env="prod", jwt_secret=STRONG_SECRET, **{**PROD_URLS, "public_base_url": value}
    )
    assert settings.public_url == expected


@pytest.mark.parametrize(
    "value",
    [
        "learn.example.org",
        "ftp://learn.example.org",
        "https://a.example?x=1",
        "https://a.example/#top",
        "https://user@a.example",
        "https://a b.example",
    ],
)
def test_a_public_base_url_that_is_not_one_is_refused(value: str) -> None:
    (line,) = _error_lines(env="dev", public_base_url=value)
    assert line.startswith("SYLLABUS_PUBLIC_BASE_URL: must be http(s)://host[:port][/path]")


@pytest.mark.parametrize(
    ("owner", "accepted"),
    [
        ("postgresql://u:other@db:5432/syllabus", False),  # the app's user: refused
        ("postgresql+asyncpg://u@db:5432/other", False),
        ("postgresql://owner:p@db:5432/syllabus", True),
        ("postgresql://u:p@replica:5432/syllabus", True),  # another server
    ],
)
def test_prod_refuses_an_owner_url_naming_the_apps_own_role(owner: str, accepted: bool) -> None:
    """The API must not connect as the tables' owner: in prod the two URLs name two roles."""
    settings = {**PROD_URLS, "jwt_secret": STRONG_SECRET, "postgres_owner_url": owner}
    if accepted:
        assert load_settings(env="prod", **settings).postgres_owner_url == owner
    else:
        (line,) = _error_lines(env="prod", **settings)
        assert line.startswith(
            "SYLLABUS_POSTGRES_OWNER_URL: names the same role as SYLLABUS_POSTGRES_URL"
        )


def test_an_owner_url_needs_the_apps_url_too() -> None:
    (line,) = _error_lines(env="dev", postgres_owner_url="postgresql://owner@db/syllabus")
    assert line.startswith("SYLLABUS_POSTGRES_OWNER_URL: set SYLLABUS_POSTGRES_URL too")


@pytest.mark.parametrize("secret", ["", "changethis", "  ChangeThis ", "secret"])
def test_prod_refuses_empty_or_default_secret(secret: str) -> None:
    lines = _error_lines(env="prod", jwt_secret=secret, **PROD_URLS)
    assert len(lines) == 1
    assert lines[0].startswith("SYLLABUS_JWT_SECRET: is empty or a well-known default")


def test_prod_refuses_short_secret() -> None:
    (line,) = _error_lines(env="prod", jwt_secret="x" * 31, **PROD_URLS)
    assert line == "SYLLABUS_JWT_SECRET: must be at least 32 characters"


def test_prod_accepts_strong_secret_and_urls() -> None:
    settings = load_settings(env="prod", jwt_secret=STRONG_SECRET, **PROD_URLS)
    assert settings.jwt_secret.get_secret_value() == STRONG_SECRET
    assert settings.sqlalchemy_url == "postgresql+asyncpg://u:p@db:5432/syllabus"
    assert STRONG_SECRET not in repr(settings)


@pytest.mark.parametrize("env", ["dev", "test"])
def test_dev_and_test_allow_default_secret_and_embedded_stores(env: str) -> None:
    settings = load_settings(env=env)
    assert settings.jwt_secret.get_secret_value() == "changethis"
    assert settings.postgres_url is None
    assert settings.mongo_url is None
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_variables_are_read_with_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYLLABUS_ENV", "dev")
    monkeypatch.setenv("SYLLABUS_PORT", "9001")
    monkeypatch.setenv("SYLLABUS_LOG_LEVEL", "debug")
    monkeypatch.setenv("SYLLABUS_MONGO_DB", "courses_eu")
    settings = load_settings()
    assert (settings.port, settings.log_level, settings.mongo_db) == (9001, "debug", "courses_eu")


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SYLLABUS_ENV=test\nSYLLABUS_PORT=8123\n", encoding="utf-8")
    settings = load_settings()
    assert (settings.env, settings.port) == ("test", 8123)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
        ("", []),
        ("http://localhost:5173,http://[::1]:8080", ["http://localhost:5173", "http://[::1]:8080"]),
        ("*", ["*"]),
    ],
)
def test_cors_origins_accept_commas_or_json(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("SYLLABUS_CORS_ORIGINS", raw)
    assert load_settings(env="dev").cors_origins == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SYLLABUS_PORT", "eighty", "SYLLABUS_PORT: Input should be a valid integer"),
        ("SYLLABUS_PORT", "70000", "SYLLABUS_PORT: Input should be less than or equal to 65535"),
        ("SYLLABUS_ENV", "staging", "SYLLABUS_ENV: Input should be 'dev', 'test' or 'prod'"),
        ("SYLLABUS_LOG_LEVEL", "loud", "SYLLABUS_LOG_LEVEL: Input should be"),
        ("SYLLABUS_POSTGRES_URL", "mysql://x", "SYLLABUS_POSTGRES_URL: must start with"),
        ("SYLLABUS_MONGO_URL", "http://x", "SYLLABUS_MONGO_URL: must start with mongodb://"),
        ("SYLLABUS_MONGO_DB", "bad name!", "SYLLABUS_MONGO_DB: String should match pattern"),
        ("SYLLABUS_MAX_BODY_BYTES", "100", "SYLLABUS_MAX_BODY_BYTES: Input should be greater"),
        ("SYLLABUS_MAX_BODY_BYTES", "1MB", "SYLLABUS_MAX_BODY_BYTES: Input should be a valid"),
        ("SYLLABUS_MAX_JSON_DEPTH", "1", "SYLLABUS_MAX_JSON_DEPTH: Input should be greater"),
        ("SYLLABUS_MAX_JSON_DEPTH", "1000", "SYLLABUS_MAX_JSON_DEPTH: Input should be less"),
        (
            "SYLLABUS_CORS_ORIGINS",
            "https://a.example, https://b.example/, app.example",
            "SYLLABUS_CORS_ORIGINS: not an origin (scheme://host[:port]): "
            "https://b.example/, app.example",
        ),
    ],
)
def test_bad_value_gives_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv("SYLLABUS_ENV", "dev")
    monkeypatch.setenv(variable, value)
    (line,) = _error_lines()
    assert line.startswith(message)


def test_url_forms_convert_both_ways() -> None:
    socket_url = "postgresql://postgres:@/syllabus?host=/tmp/pg"
    assert to_asyncpg_url(socket_url) == "postgresql+asyncpg://postgres:@/syllabus?host=/tmp/pg"
    assert to_libpq_url(to_asyncpg_url(socket_url)) == socket_url
    assert to_asyncpg_url("postgres://h/db") == "postgresql+asyncpg://h/db"
    with pytest.raises(ConfigError):
        to_asyncpg_url("mysql://h/db")


def test_database_tools_default_to_dev_and_need_only_postgres_in_prod(
    tmp_path: Path,
) -> None:
    assert load_tool_settings().env == "dev"
    with pytest.raises(ConfigError) as caught:
        load_tool_settings(env="prod")
    (line,) = str(caught.value).splitlines()
    assert line == "SYLLABUS_POSTGRES_URL: required when SYLLABUS_ENV=prod"
    settings = load_tool_settings(env="prod", postgres_url=PROD_URLS["postgres_url"])
    assert settings.mongo_url is None
    # The environment still comes from .env when the process environment is silent.
    (tmp_path / ".env").write_text("SYLLABUS_ENV=prod\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="SYLLABUS_POSTGRES_URL"):
        load_tool_settings()


def test_settings_are_immutable() -> None:
    settings = load_settings(env="dev")
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_cli_start_up_with_bad_settings_prints_one_line_per_variable_and_no_traceback(
    tmp_path: Path,
) -> None:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("SYLLABUS_")
    }
    environment.update(SYLLABUS_ENV="prod", SYLLABUS_PORT="eighty", COLUMNS="40")
    result = subprocess.run(
        [sys.executable, "-m", "syllabus.cli", "serve"],
        env=environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "SYLLABUS_POSTGRES_URL",
        "SYLLABUS_MONGO_URL",
        "SYLLABUS_JWT_SECRET",
        "SYLLABUS_PORT",
        "SYLLABUS_PUBLIC_BASE_URL",
    ]
    assert all(line.startswith("error: ") for line in lines)


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_env_example_and_the_readme(field: str) -> None:
    """A setting nobody can find is a setting nobody sets right: each has its commented
    line in .env.example and its row in the README's table."""
    variable = f"{ENV_PREFIX}{field.upper()}"
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(rf"^# {variable}=", example, re.M), f"{variable} not in .env.example"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"| `{variable}` |" in readme, f"{variable} not in the README's settings table"
