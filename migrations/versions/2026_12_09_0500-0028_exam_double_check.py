"""Expert tasks graded by two independent graders, and a third on a discrepancy
([5/8], docs/exams.md "Expert grading"): each grader's mark moves to its own append-only
table, ``exam_expert_marks`` (a grader marks a task once: ``UNIQUE (grade_id,
grader_id)``; seats 1 and 2 are the independent graders, 3 the one called on a
discrepancy). ``exam_expert_grades`` keeps one row per expert task of a sealed attempt
with how many marks it needs and, once they are in, the final points; its
``grader_id`` and ``comment`` move to the marks (each given grade becomes mark 1 of its
task, so nothing is lost).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-09 05:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exam_expert_marks",
        sa.Column("id", sa.Uuid(), server_default=sa.text("uuid_generate_v7()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("grade_id", sa.Uuid(), nullable=False),
        sa.Column("seat", sa.SmallInteger(), nullable=False),
        sa.Column("grader_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(), server_default="", nullable=False),
        sa.CheckConstraint(
            "length(comment) <= 4000", name=op.f("ck_exam_expert_marks_comment_length")
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_exam_expert_marks_points")),
        sa.CheckConstraint("seat BETWEEN 1 AND 3", name=op.f("ck_exam_expert_marks_seat")),
        sa.ForeignKeyConstraint(
            ["grade_id"],
            ["exam_expert_grades.id"],
            name=op.f("fk_exam_expert_marks_grade_id_exam_expert_grades"),
        ),
        sa.ForeignKeyConstraint(
            ["grader_id"], ["users.id"], name=op.f("fk_exam_expert_marks_grader_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_expert_marks")),
        sa.UniqueConstraint(
            "grade_id", "grader_id", name=op.f("uq_exam_expert_marks_grade_id_grader_id")
        ),
        sa.UniqueConstraint("grade_id", "seat", name=op.f("uq_exam_expert_marks_grade_id_seat")),
    )
    op.create_index(
        op.f("ix_exam_expert_marks_grader_id"), "exam_expert_marks", ["grader_id"], unique=False
    )
    op.execute(
        "CREATE TRIGGER exam_expert_marks_set_updated_at BEFORE UPDATE ON exam_expert_marks "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    # refuse_change() is migration 0010's: a mark is written once.
    op.execute(
        "CREATE TRIGGER exam_expert_marks_append_only BEFORE UPDATE OR DELETE "
        "ON exam_expert_marks FOR EACH ROW EXECUTE FUNCTION refuse_change('append-only')"
    )
    op.execute(
        "CREATE TRIGGER exam_expert_marks_no_truncate BEFORE TRUNCATE ON exam_expert_marks "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('append-only')"
    )
    op.execute(
        "INSERT INTO exam_expert_marks "
        "(grade_id, seat, grader_id, points, comment, created_at, updated_at) "
        "SELECT id, 1, grader_id, points, comment, graded_at, graded_at "
        "FROM exam_expert_grades WHERE points IS NOT NULL"
    )
    op.add_column(
        "exam_expert_grades",
        sa.Column("marks_needed", sa.SmallInteger(), server_default="1", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_exam_expert_grades_marks_needed"),
        "exam_expert_grades",
        "marks_needed BETWEEN 1 AND 3",
    )
    op.drop_constraint(
        op.f("ck_exam_expert_grades_grader_with_points"), "exam_expert_grades", type_="check"
    )
    op.drop_index(op.f("ix_exam_expert_grades_grader_id"), table_name="exam_expert_grades")
    op.drop_column("exam_expert_grades", "grader_id")
    op.drop_column("exam_expert_grades", "comment")


def downgrade() -> None:
    op.add_column("exam_expert_grades", sa.Column("grader_id", sa.Uuid(), nullable=True))
    op.add_column(
        "exam_expert_grades",
        sa.Column("comment", sa.String(), server_default="", nullable=False),
    )
    op.create_foreign_key(
        op.f("fk_exam_expert_grades_grader_id_users"),
        "exam_expert_grades",
        "users",
        ["grader_id"],
        ["id"],
    )
    op.create_index(
        op.f("ix_exam_expert_grades_grader_id"), "exam_expert_grades", ["grader_id"], unique=False
    )
    # The given grades keep the grader and comment of their deciding mark (the last).
    op.execute("ALTER TABLE exam_expert_grades DISABLE TRIGGER exam_expert_grades_given")
    op.execute(
        "UPDATE exam_expert_grades g SET grader_id = m.grader_id, comment = m.comment "
        "FROM (SELECT DISTINCT ON (grade_id) grade_id, grader_id, comment "
        "FROM exam_expert_marks ORDER BY grade_id, seat DESC) m "
        "WHERE m.grade_id = g.id AND g.points IS NOT NULL"
    )
    op.execute("ALTER TABLE exam_expert_grades ENABLE TRIGGER exam_expert_grades_given")
    op.create_check_constraint(
        op.f("ck_exam_expert_grades_grader_with_points"),
        "exam_expert_grades",
        "(points IS NULL) = (grader_id IS NULL)",
    )
    op.drop_constraint(
        op.f("ck_exam_expert_grades_marks_needed"), "exam_expert_grades", type_="check"
    )
    op.drop_column("exam_expert_grades", "marks_needed")
    op.drop_index(op.f("ix_exam_expert_marks_grader_id"), table_name="exam_expert_marks")
    op.drop_table("exam_expert_marks")
