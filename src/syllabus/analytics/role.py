"""The analysts' read-only role: USAGE and SELECT on the ``analytics`` schema, nothing
else (no table of the service, so no personal data)."""

from collections.abc import Set

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from syllabus.db.roles import ROLE_NAME
from syllabus.errors import UnprocessableContent


class RoleRefused(UnprocessableContent):
    """(CLI only: ``syllabus analytics grant``.) The role name is not a plain lower-case
    name, or granting it would let it read more than the analytics schema."""

    title = "Role refused"
    code = "analytics-role-refused"


# A role that can read or write a table of the service otherwise than through analytics:
# a superuser, the owner (or a member of it), the app's role, pg_read_all_data members.
READS_MORE = """
SELECT r.rolsuper AS superuser,
       pg_has_role(r.oid, current_user, 'USAGE') AS owner,
       EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
               AND has_table_privilege(r.oid, c.oid, 'SELECT, INSERT, UPDATE, DELETE')) AS tables
FROM pg_roles r WHERE r.rolname = :r
"""


def _refuse(role: str, why: str) -> RoleRefused:
    return RoleRefused(
        f"{why}: it could not be limited to the analytics schema", field="role", role=role
    )


async def grant_read_only(
    connection: AsyncConnection,
    role: str,
    *,
    password: str | None,
    reserved: Set[str] = frozenset(),
) -> None:
    """Create ``role`` (LOGIN) if needed and give it exactly read access to analytics.
    Idempotent: run it again after new views are added.

    Refuses, before changing anything, a role that would read more than that whatever
    this grants (a superuser, the owner or a member of it, a role with rights on the
    service's tables, such as the app's) and the ``reserved`` roles (the app's and the
    owner's, by name: revoking their rights would take the service down)."""
    if not ROLE_NAME.fullmatch(role):
        raise RoleRefused(
            "role names are lower-case letters, digits and _ (63 at most)", field="role"
        )
    if role in reserved:
        raise _refuse(role, "it is one of the service's own roles")
    found = (await connection.execute(text(READS_MORE), {"r": role})).first()
    if found is not None:
        if found.superuser:
            raise _refuse(role, "it is a superuser, which reads everything")
        if found.owner:
            raise _refuse(role, "it owns the service's tables (or acts as their owner)")
        if found.tables:
            raise _refuse(role, "it has rights on the service's tables (the app's role?)")
    else:
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
    ):
        await connection.execute(text(statement))
