"""Course search per language, and as you type ([2/8] item 7): the generated
``courses.search`` stems each course's words with the text-search configuration of its
``language`` (``search_config()``, ``simple`` for a language PostgreSQL has no stemmer
for) instead of always English and Russian, and keeps each word as written too
(``simple``), so a query's words can match as prefixes (``analy`` → ``analytics``,
``логар`` → ``логарифмы``) while a whole word still matches its other forms.

``search_config()`` is IMMUTABLE (a fixed table of configurations), as a generated column
requires. The column is dropped and added again (PostgreSQL cannot alter a generated
expression before 17), which rebuilds its GIN index.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-09 04:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_CONFIG = """
CREATE FUNCTION search_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE language
          WHEN 'ar' THEN 'arabic'::regconfig
          WHEN 'ca' THEN 'catalan'::regconfig
          WHEN 'da' THEN 'danish'::regconfig
          WHEN 'de' THEN 'german'::regconfig
          WHEN 'el' THEN 'greek'::regconfig
          WHEN 'en' THEN 'english'::regconfig
          WHEN 'es' THEN 'spanish'::regconfig
          WHEN 'eu' THEN 'basque'::regconfig
          WHEN 'fi' THEN 'finnish'::regconfig
          WHEN 'fr' THEN 'french'::regconfig
          WHEN 'ga' THEN 'irish'::regconfig
          WHEN 'hi' THEN 'hindi'::regconfig
          WHEN 'hu' THEN 'hungarian'::regconfig
          WHEN 'hy' THEN 'armenian'::regconfig
          WHEN 'id' THEN 'indonesian'::regconfig
          WHEN 'it' THEN 'italian'::regconfig
          WHEN 'lt' THEN 'lithuanian'::regconfig
          WHEN 'nb' THEN 'norwegian'::regconfig
          WHEN 'ne' THEN 'nepali'::regconfig
          WHEN 'nl' THEN 'dutch'::regconfig
          WHEN 'nn' THEN 'norwegian'::regconfig
          WHEN 'no' THEN 'norwegian'::regconfig
          WHEN 'pt' THEN 'portuguese'::regconfig
          WHEN 'ro' THEN 'romanian'::regconfig
          WHEN 'ru' THEN 'russian'::regconfig
          WHEN 'sr' THEN 'serbian'::regconfig
          WHEN 'sv' THEN 'swedish'::regconfig
          WHEN 'ta' THEN 'tamil'::regconfig
          WHEN 'tr' THEN 'turkish'::regconfig
          WHEN 'yi' THEN 'yiddish'::regconfig
          ELSE 'simple'::regconfig
        END
"""
VECTOR = (
    "setweight(to_tsvector(search_config(language), title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector(search_config(language), description), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, description), 'B')"
)
OLD_VECTOR = (
    "setweight(to_tsvector('english'::regconfig, title), 'A') || "
    "setweight(to_tsvector('russian'::regconfig, title), 'A') || "
    "setweight(to_tsvector('english'::regconfig, description), 'B') || "
    "setweight(to_tsvector('russian'::regconfig, description), 'B')"
)


def _search_column(expression: str) -> None:
    op.drop_index(op.f("ix_courses_search"), table_name="courses")
    op.drop_column("courses", "search")
    op.add_column(
        "courses",
        sa.Column("search", TSVECTOR(), sa.Computed(expression, persisted=True), nullable=True),
    )
    op.create_index(
        op.f("ix_courses_search"), "courses", ["search"], unique=False, postgresql_using="gin"
    )


def upgrade() -> None:
    op.execute(SEARCH_CONFIG)
    _search_column(VECTOR)


def downgrade() -> None:
    _search_column(OLD_VECTOR)
    op.execute("DROP FUNCTION search_config(text)")
