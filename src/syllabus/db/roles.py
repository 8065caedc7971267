"""The two PostgreSQL roles of a deployment, and what each may do.

- The **owner** (``SYLLABUS_POSTGRES_OWNER_URL``) owns the schema: it migrates, refreshes
  the analytics views, provisions roles (the analysts', the app's rights) and repairs
  (``doctor --fix``). Only operators' commands use it; the API never does.
- The **app** (``SYLLABUS_POSTGRES_URL``) is what the API and the learner-side commands
  connect as: ``SELECT, INSERT, UPDATE, DELETE`` on the service's tables, nothing else.
  It owns nothing, so it cannot ``ALTER`` (``DISABLE TRIGGER``) or ``DROP``, it has no
  ``TRUNCATE``, and the triggers that keep submitted attempts immutable and the activity
  log append-only hold against it.

:func:`grant_app` runs after every ``syllabus db upgrade``, so tables added by a
migration get the same rights. :func:`provision_script` is the SQL that creates both
roles and the database where Syllabus sets up its own server (``syllabus dev``, tests).
"""

import re
from urllib.parse import unquote, urlsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from syllabus.db.sandbox import BUILDER_ROLE

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
NOT_FOR_THE_APP = ("alembic_version",)
"""Tables of the schema's own bookkeeping: the app neither reads nor writes them."""


class RoleError(ValueError):
    """A role that cannot play the part asked of it; the message says why."""


def checked_role(name: str) -> str:
    """A role name safe to put in SQL between double quotes (lower-case identifiers)."""
    if not ROLE_NAME.fullmatch(name):
        raise RoleError(f"{name!r}: role names are lower-case letters, digits and _ (63 at most)")
    return name


def user_of(url: str) -> str | None:
    """The user a PostgreSQL URL connects as, when it names one."""
    user = urlsplit(url.replace("+asyncpg", "", 1)).username
    return unquote(user) if user else None


async def grant_app(connection: AsyncConnection, role: str) -> int:
    """Give ``role`` exactly the app's rights on the current database (run as the owner,
    in the owner's transaction). Refuses a superuser (it would bypass every guard) and
    the owner itself. Returns how many tables the app may use."""
    role = checked_role(role)
    found = (
        await connection.execute(
            text(
                "SELECT rolsuper, pg_has_role(:r, current_user, 'USAGE') AS owner "
                "FROM pg_roles WHERE rolname = :r"
            ),
            {"r": role},
        )
    ).first()
    if found is None:
        raise RoleError(f"{role}: no such role (create it first: CREATE ROLE {role} LOGIN)")
    if found.rolsuper:
        raise RoleError(
            f"{role} is a superuser, which no trigger or privilege holds back: "
            "give the API a role with no special attributes"
        )
    if found.owner:
        raise RoleError(
            f"{role} is (or acts as) the owner that migrates: give the API a role of its own"
        )
    database = (await connection.execute(text("SELECT current_database()"))).scalar_one()
    statements = [
        f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"',
        f'GRANT USAGE ON SCHEMA public TO "{role}"',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"',
        f'GRANT {APP_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO "{role}"',
        *(f'REVOKE ALL ON public."{table}" FROM "{role}"' for table in NOT_FOR_THE_APP),
        # The SQL sandbox's schemas are made by the app, as their owner role (db/sandbox.py).
        f"""DO $$ BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{BUILDER_ROLE}') THEN
    GRANT "{BUILDER_ROLE}" TO "{role}";
  END IF;
EXCEPTION WHEN insufficient_privilege THEN
  RAISE WARNING 'cannot grant {BUILDER_ROLE} to {role}: SQL practices cannot be checked';
END $$""",
    ]
    for statement in statements:
        await connection.execute(text(statement))
    granted = await connection.execute(
        text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') "
            "AND has_table_privilege(:r, c.oid, 'INSERT')"
        ),
        {"r": role},
    )
    return int(granted.scalar_one())


def roles_sql(*, owner: str, app: str) -> str:
    """Both roles, created if missing (run as a superuser or a role with CREATEROLE): the
    owner may create roles (the analysts'), the app has no attribute at all."""
    owner, app = checked_role(owner), checked_role(app)
    return f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{owner}') THEN
    CREATE ROLE "{owner}" LOGIN CREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{app}') THEN
    CREATE ROLE "{app}" LOGIN;
  END IF;
END $$;"""


def provision_script(*, database: str, owner: str, app: str, superuser: str) -> str:
    """psql input, run as a superuser: the two roles (created if missing), the database
    owned by the owner, and, in a database that an earlier version created as the
    superuser's, every object of the service handed to the owner. Idempotent."""
    database, superuser = checked_role(database), checked_role(superuser)
    return f"""\\set ON_ERROR_STOP on
{roles_sql(owner=owner, app=app)}
SELECT 'CREATE DATABASE "{database}" OWNER "{owner}"'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}')\\gexec
ALTER DATABASE "{database}" OWNER TO "{owner}";
\\connect "{database}"
{hand_over_sql(owner=owner, superuser=superuser)}
"""


def hand_over_sql(*, owner: str, superuser: str) -> str:
    """Every table, view, sequence, function and schema of the service that
    ``superuser`` owns (the single-role layout of earlier versions), given to ``owner``.
    Indexes, triggers and owned sequences follow their tables."""
    return f"""DO $$
DECLARE item record;
BEGIN
  FOR item IN
    SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
             WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind, c.oid::regclass AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'analytics') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      AND c.relowner = '{superuser}'::regrole
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
                      AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass)
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO "{owner}"', item.kind, item.name);
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname IN ('public', 'analytics') AND p.proowner = '{superuser}'::regrole
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO "{owner}"', item.name);
  END LOOP;
  IF EXISTS (SELECT FROM pg_namespace WHERE nspname = 'analytics'
             AND nspowner = '{superuser}'::regrole) THEN
    ALTER SCHEMA analytics OWNER TO "{owner}";
  END IF;
END $$;"""
