# syntax=docker/dockerfile:1
# The API image: `syllabus serve` by default, `syllabus db upgrade` for migrations.
# No `embedded` extra: SecantusDB (GPL-2.0-only) and pgserver are never shipped in the image.

FROM python:3.11-slim AS builder

# The same uv version that scripts/bootstrap_uv.py pins for `make`.
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /bin/uv

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first (cached until pyproject.toml or uv.lock changes); no dev group, no extras.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project. `uv sync` installs the project itself in editable mode by default: the
# venv gets a .pth file pointing at /app/src instead of a copy of the package. That keeps
# src/syllabus/db/migrate.py at /app/src/syllabus/db/migrate.py, so its
# Path(__file__).resolve().parents[3] / "migrations" is /app/migrations. Do not add
# --no-editable here, or the migrations would no longer be found.
COPY src/ src/
COPY migrations/ migrations/
COPY alembic.ini ./
RUN uv sync --frozen --no-dev


FROM python:3.11-slim AS runtime

RUN groupadd --system --gid 10001 syllabus \
 && useradd --system --uid 10001 --gid syllabus --home-dir /app --no-create-home \
    --shell /usr/sbin/nologin syllabus

WORKDIR /app
# Same path as in the builder: the venv's scripts and the editable .pth refer to /app.
COPY --from=builder /app /app

ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SYLLABUS_HOST=0.0.0.0

USER syllabus
EXPOSE 8000
ENTRYPOINT ["syllabus"]
CMD ["serve"]
