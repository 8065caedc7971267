"""Course card fields of [5/8] (DECISIONS 5): ``exam_type`` (ЕГЭ, ОГЭ or custom),
``subject`` (a slug) and ``grade`` (1-11), all optional in course.json and filters of
``GET /courses``. Existing cards get NULLs until their next load.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 18:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("courses", sa.Column("exam_type", sa.String(), nullable=True))
    op.add_column("courses", sa.Column("subject", sa.String(), nullable=True))
    op.add_column("courses", sa.Column("grade", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_courses_exam_type"), "courses", "exam_type IN ('ЕГЭ', 'ОГЭ', 'custom')"
    )
    op.create_check_constraint(
        op.f("ck_courses_subject"), "courses", "subject ~ '^[a-z0-9]+(?:-[a-z0-9]+)*$'"
    )
    op.create_check_constraint(op.f("ck_courses_grade"), "courses", "grade BETWEEN 1 AND 11")
    op.create_index(
        "ix_courses_exam_type_subject_grade", "courses", ["exam_type", "subject", "grade"]
    )


def downgrade() -> None:
    op.drop_index("ix_courses_exam_type_subject_grade", table_name="courses")
    for name in ("grade", "subject", "exam_type"):
        op.drop_column("courses", name)
