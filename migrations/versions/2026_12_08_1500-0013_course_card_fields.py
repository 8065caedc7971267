"""Course card fields (DECISIONS 5): ``language`` (a BCP 47 primary language subtag),
``currency`` (ISO 4217), ``lesson_count``, ``duration_minutes`` (the items' total) and
``content_updated_at`` (when a load last changed the course or one of its items).

Existing cards are filled from what PostgreSQL already knows: counts and durations from
the current content index, the last change from ``updated_at``, the currency from
``SYLLABUS_DEFAULT_CURRENCY``, and the language guessed from the title (Cyrillic: ``ru``,
else ``en``); the next ``syllabus content load`` writes every one of them from course.json.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 15:00:00+00:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from syllabus.kit.standards import DEFAULT_CURRENCY, is_currency

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "language": "language ~ '^[a-z]{2,3}$'",
    "currency": "currency ~ '^[A-Z]{3}$'",
    "lesson_count": "lesson_count >= 0",
    "duration_minutes": "duration_minutes >= 0",
}


def _default_currency() -> str:
    currency = os.environ.get("SYLLABUS_DEFAULT_CURRENCY", DEFAULT_CURRENCY)
    if not is_currency(currency):
        raise ValueError(f"SYLLABUS_DEFAULT_CURRENCY: {currency!r} is not an ISO 4217 code")
    return currency


def upgrade() -> None:
    op.add_column("courses", sa.Column("language", sa.String(), nullable=True))
    op.add_column("courses", sa.Column("currency", sa.String(), nullable=True))
    op.add_column(
        "courses", sa.Column("lesson_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "courses", sa.Column("duration_minutes", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "courses",
        sa.Column(
            "content_updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("statement_timestamp()"),
            nullable=False,
        ),
    )
    op.execute(
        sa.text(
            """
            UPDATE courses c SET
              language = CASE WHEN c.title ~ '[\u0400-\u04ff]' THEN 'ru' ELSE 'en' END,
              currency = :currency,
              content_updated_at = c.updated_at,
              lesson_count = coalesce(i.lessons, 0),
              duration_minutes = coalesce(i.minutes, 0)
            FROM courses k
            LEFT JOIN (
              SELECT course_id,
                     count(*) FILTER (WHERE item_type = 'lesson') AS lessons,
                     sum(coalesce(duration_minutes, 0)) AS minutes
              FROM content_index
              WHERE status = 'active' AND deleted_at IS NULL
              GROUP BY course_id
            ) i ON i.course_id = k.id
            WHERE k.id = c.id
            """
        ).bindparams(currency=_default_currency())
    )
    op.alter_column("courses", "language", nullable=False)
    op.alter_column("courses", "currency", nullable=False)
    for name, condition in CHECKS.items():
        op.create_check_constraint(op.f(f"ck_courses_{name}"), "courses", condition)


def downgrade() -> None:
    for name in CHECKS:
        op.drop_constraint(op.f(f"ck_courses_{name}"), "courses", type_="check")
    for column in (
        "content_updated_at",
        "duration_minutes",
        "lesson_count",
        "currency",
        "language",
    ):
        op.drop_column("courses", column)
