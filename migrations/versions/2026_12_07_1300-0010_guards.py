"""Guards that hold against every role but a deliberate owner: the activity log refuses
DELETE and TRUNCATE (it already refused UPDATE), and quiz_attempts refuses TRUNCATE (a
trigger already refuses UPDATE and DELETE of a submitted attempt).

The app's role (DML only, owning nothing) has no TRUNCATE privilege and cannot disable a
trigger; these triggers are the second line, and they stop the owner's mistakes too. An
owner who must remove rows on purpose lifts a guard inside one transaction:
``ALTER TABLE activity_log DISABLE TRIGGER activity_log_no_delete; …; ENABLE TRIGGER …``.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 13:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSE = """
CREATE FUNCTION refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is %: % refused', TG_TABLE_NAME, TG_ARGV[0], TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""

GUARDS = {
    "activity_log_no_delete": "BEFORE DELETE ON activity_log FOR EACH ROW",
    "activity_log_no_truncate": "BEFORE TRUNCATE ON activity_log FOR EACH STATEMENT",
    "quiz_attempts_no_truncate": "BEFORE TRUNCATE ON quiz_attempts FOR EACH STATEMENT",
}
REASONS = {"activity_log": "append-only", "quiz_attempts": "immutable once submitted"}


def upgrade() -> None:
    op.execute(REFUSE)
    for name, when in GUARDS.items():
        table = when.split(" ON ")[1].split()[0]
        op.execute(
            f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION refuse_change('{REASONS[table]}')"
        )


def downgrade() -> None:
    for name, when in GUARDS.items():
        op.execute(f"DROP TRIGGER {name} ON {when.split(' ON ')[1].split()[0]}")
    op.execute("DROP FUNCTION refuse_change()")
