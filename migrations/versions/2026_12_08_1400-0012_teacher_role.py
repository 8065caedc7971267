"""The ``teacher`` role (DECISIONS 3): it grades the review queues (expert exam tasks,
homework) and is not staff. ``users.role`` is a closed list in SQL, so the CHECK
constraint is replaced; the downgrade makes teachers students again first, since the
old constraint would refuse their rows.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 14:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(
        op.f("ck_users_role"), "users", "role IN ('student', 'author', 'admin', 'teacher')"
    )


def downgrade() -> None:
    op.execute("UPDATE users SET role = 'student' WHERE role = 'teacher'")
    op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
    op.create_check_constraint(
        op.f("ck_users_role"), "users", "role IN ('student', 'author', 'admin')"
    )
