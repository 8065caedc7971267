"""The analysts' read-only role: USAGE and SELECT on the ``analytics`` schema, nothing
else (no table of the service, so no personal data)."""

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from syllabus.errors import UnprocessableContent

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


async def grant_read_only(connection: AsyncConnection, role: str, *, password: str | None) -> None:
    """Create ``role`` (LOGIN) if needed and give it exactly read access to analytics.
    Idempotent: run it again after new views are added."""
    if not ROLE_NAME.fullmatch(role):
        raise UnprocessableContent(
            "role names are lower-case letters, digits and _ (63 at most)", field="role"
        )
    exists = (
        await connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    ).first()
    if exists is None:
        await connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
    if password is not None:
        statement = (
            await connection.execute(
                text(
                    "SELECT format('ALTER ROLE %I PASSWORD %L', CAST(:r AS text), CAST(:p AS text))"
                ),
                {"r": role, "p": password},
            )
        ).scalar_one()
        await connection.execute(text(statement))
    database = (await connection.execute(text("SELECT current_database()"))).scalar_one()
    for statement in (
        f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"',
        f'GRANT USAGE ON SCHEMA analytics TO "{role}"',
        f'GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO "{role}"',
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO "{role}"',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"',
    ):
        await connection.execute(text(statement))
