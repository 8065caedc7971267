"""The completion rule (view ``course_completion``, ``progress``'s) no longer completes a
course that requires nothing, nor one that is not published: ``complete`` now also
needs at least one current required item and the course ``published``. Before, an
archived course (whose items ``--prune`` archives) had 0 required items, which read as
"all done", so any learner action on it completed the enrollment ([1/8] item 4). The
columns are unchanged, so the views that read it (``analytics.learner_course``) stand.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 12:00:00+00:00
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COURSE_COMPLETION = """
    SELECT l.user_id, l.course_id,
           count(*) FILTER (WHERE i.required AND d.item_id IS NOT NULL) AS completed_required,
           count(*) FILTER (WHERE i.required) AS total_required,
           coalesce(round(100.0 * count(*) FILTER (WHERE i.required AND d.item_id IS NOT NULL)
                          / nullif(count(*) FILTER (WHERE i.required), 0), 1), 0)
             AS percent_complete,
           c.status = 'published'
             AND count(*) FILTER (WHERE i.required) > 0
             AND NOT coalesce(bool_or(i.required AND d.item_id IS NULL), false) AS complete,
           max(i.position) FILTER (WHERE d.item_id IS NOT NULL) AS last_done_position
    FROM (SELECT DISTINCT user_id, course_id FROM enrollments WHERE deleted_at IS NULL) AS l
    JOIN courses c ON c.id = l.course_id
    LEFT JOIN content_index i
      ON i.course_id = l.course_id AND i.status = 'active' AND i.deleted_at IS NULL
    LEFT JOIN items_done d ON d.user_id = l.user_id AND d.item_id = i.content_id
    GROUP BY l.user_id, l.course_id, c.status
"""


def upgrade() -> None:
    op.execute(f"CREATE OR REPLACE VIEW course_completion AS {COURSE_COMPLETION}")


def downgrade() -> None:
    rules: dict[str, str] = context.script.get_revision("0009").module.RULES
    op.execute(f"CREATE OR REPLACE VIEW course_completion AS {rules['course_completion']}")
