"""Content sources (DECISIONS 11): every catalog row a load writes records the source
that loaded it (``source_id``, the ``id`` of the folder's ``source.json``), and so does
each ``content_loads`` row, so that ``content load --prune`` archives only what that
source loaded. Existing rows get null: owned by no source, taken over by the first
load that names a source and defines them (see docs/authoring.md).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("categories", "tracks", "courses", "achievements", "content_loads")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("source_id", sa.String(), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, "source_id")
