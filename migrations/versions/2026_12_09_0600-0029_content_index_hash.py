"""The content version PostgreSQL knows for each lesson and quiz ([8/8] item 2):
``content_index.content_hash`` next to ``version``, so the one query of a lesson or quiz
read also says which content it must serve, and a per-process cache can answer for that
key without MongoDB (content/cache.py).

A lesson's (or practice's) value is its document's ``content_hash``; a quiz's covers its
questions too (``content.documents.quiz_hash``), so a question edit that does not bump
its quiz still changes the key. The loader writes it; rows loaded before this revision
stay NULL until their next load, and a NULL is never cached (served from MongoDB).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-09 06:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("content_index", sa.Column("content_hash", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("content_index", "content_hash")
