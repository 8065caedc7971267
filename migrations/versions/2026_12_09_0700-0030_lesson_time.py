"""Time spent on lessons ([6/8], DECISIONS 13): ``lesson_time`` holds one row per learner,
lesson and client session (``session_id``, a UUID the client makes when a lesson is
opened); a heartbeat carries the session's cumulative seconds and the row keeps the
largest total seen, so a retried or reordered heartbeat never counts twice. A lesson's
time is the sum of its sessions; ``created_at`` is when a session's first heartbeat
arrived, ``updated_at`` its last.

``analytics.learner_lesson_time`` shows it per learner and lesson (the learner by id only).

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-09 07:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_SESSION_SECONDS = 14_400

LEARNER_LESSON_TIME = """
    SELECT t.user_id, c.content_id AS course_id, t.lesson_content_id AS lesson_id,
           sum(t.seconds)::bigint AS seconds, count(*) AS sessions,
           min(t.created_at) AS first_heartbeat_at, max(t.updated_at) AS last_heartbeat_at
    FROM lesson_time t JOIN courses c ON c.id = t.course_id
    WHERE t.deleted_at IS NULL
    GROUP BY t.user_id, c.content_id, t.lesson_content_id
"""


def upgrade() -> None:
    op.create_table(
        "lesson_time",
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
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("lesson_content_id", sa.String(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            f"seconds BETWEEN 1 AND {MAX_SESSION_SECONDS}", name=op.f("ck_lesson_time_seconds")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_lesson_time_course_id_courses")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_lesson_time_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson_time")),
        sa.UniqueConstraint(
            "user_id",
            "lesson_content_id",
            "session_id",
            name=op.f("uq_lesson_time_user_id_lesson_content_id_session_id"),
        ),
    )
    op.create_index("ix_lesson_time_course_id_user_id", "lesson_time", ["course_id", "user_id"])
    op.execute(
        "CREATE TRIGGER lesson_time_set_updated_at BEFORE UPDATE ON lesson_time "
        "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
    )
    op.execute(f"CREATE VIEW analytics.learner_lesson_time AS {LEARNER_LESSON_TIME}")


def downgrade() -> None:
    op.execute("DROP VIEW analytics.learner_lesson_time")
    op.drop_table("lesson_time")
