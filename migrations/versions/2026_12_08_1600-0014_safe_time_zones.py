"""A stored time zone PostgreSQL does not know no longer breaks anyone's streaks.

``users.time_zone`` was checked against Python's zone list, which knows names PostgreSQL
does not (``localtime``, zones newer than the server's tzdata such as
``America/Coyhaique``). ``AT TIME ZONE`` with such a name raises, so that learner's stats,
lesson completion and quiz submission failed, and so did ``analytics.streak_distribution``
and its refresh for everyone ([1/8] item 14). Now:

- the API accepts only names in ``pg_timezone_names`` (identity's service);
- function ``safe_time_zone(zone)``: the zone if PostgreSQL knows it, else ``UTC``; the
  streak rule (view ``learner_streaks``, read by the stats, the award rules and the
  analytics views) converts with it, once per learner, not once per event;
- the stored names PostgreSQL does not know become ``UTC``, what the rule used for them.

A zone can still disappear under a stored value (a server with an older tzdata, a
restore elsewhere): the rule keeps working, reading that learner's days in UTC.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 16:00:00+00:00
"""

from collections.abc import Sequence

from alembic import context, op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEARNING_VERBS = "('started', 'completed', 'attempted', 'passed', 'failed')"

# An exception block costs a subtransaction (~3 µs; ~60 µs when the zone is unknown), so
# the rule calls it once per learner. PARALLEL UNSAFE (the default, said here): before
# PostgreSQL 17 no subtransaction may start while a parallel plan runs, even in the leader.
SAFE_TIME_ZONE = """
CREATE FUNCTION safe_time_zone(zone text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL UNSAFE AS $$
BEGIN
  PERFORM statement_timestamp() AT TIME ZONE zone;
  RETURN zone;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN 'UTC';
END
$$
"""

# The zones subquery is grouped by the key so that it is not flattened into the join
# (the function would then run once per event), while a filter on the learner still
# reaches it (the stats and award queries read one learner).
LEARNER_STREAKS = f"""
    SELECT runs.user_id,
           coalesce(max(runs.length) FILTER (
             WHERE runs.last_day >= (statement_timestamp() AT TIME ZONE runs.time_zone)::date - 1
           ), 0) AS current_streak_days,
           max(runs.length) AS longest_streak_days
    FROM (
      SELECT user_id, time_zone, max(day) AS last_day, count(*) AS length
      FROM (
        SELECT user_id, time_zone, day,
               day - (row_number() OVER (PARTITION BY user_id ORDER BY day))::int AS island
        FROM (
          SELECT DISTINCT a.actor_id AS user_id, u.time_zone,
                 (a.occurred_at AT TIME ZONE u.time_zone)::date AS day
          FROM activity_log a
          JOIN (SELECT id, safe_time_zone(time_zone) AS time_zone FROM users GROUP BY id) AS u
            ON u.id = a.actor_id
          WHERE a.verb IN {LEARNING_VERBS} AND a.deleted_at IS NULL
        ) AS days
      ) AS islands
      GROUP BY user_id, time_zone, island
    ) AS runs
    GROUP BY runs.user_id
"""


def upgrade() -> None:
    op.execute(SAFE_TIME_ZONE)
    op.execute(f"CREATE OR REPLACE VIEW learner_streaks AS {LEARNER_STREAKS}")
    op.execute(
        "UPDATE users SET time_zone = 'UTC', updated_at = statement_timestamp() "
        "WHERE time_zone NOT IN (SELECT name FROM pg_timezone_names)"
    )


def downgrade() -> None:
    rules: dict[str, str] = context.script.get_revision("0009").module.RULES
    op.execute(f"CREATE OR REPLACE VIEW learner_streaks AS {rules['learner_streaks']}")
    op.execute("DROP FUNCTION safe_time_zone(text)")
