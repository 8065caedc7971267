"""The lesson progress write as one server-side function ([8/8]): ``PUT
/progress/lessons/{id}`` was five to nine statements (the user, the lesson's course and
enrollment, the time heartbeat, the upsert, the completion rollup, the awards, the
activity log), each built by SQLAlchemy per request, with BEGIN and COMMIT around them;
now it is one ``SELECT * FROM save_lesson_progress(…)``, atomic by itself.

Two rules move from SQL text in Python into functions, so the progress write and the
other writes that apply them (the quiz submit, a practice marked done, the sweep of
expired attempts) call the one definition:

- ``complete_enrollments(user, courses, actor)``: the completion rule applied (the
  learner's active enrollments in ``courses`` whose ``course_completion`` is complete
  become ``completed``), returning the courses it completed;
- ``award_achievements(user, perfect_quiz)``: the award rules (one per ``rule.type``),
  inserting what the learner now meets and lacks, returning those achievements.

``save_lesson_progress`` keeps every rule of the write as it was (docs/progress.md):
who may write (a live user; a current lesson of a course they may see; a live
enrollment), ``completed`` never going back, ``started_at``/``completed_at`` set once,
absent fields kept, the heartbeat's bounds, completion and awards only on the write
that completed the lesson, the streak counted before this write's events are logged,
and the events in order. It answers an ``outcome`` instead of raising, so the API
renders each refusal as before, and writes nothing unless the outcome is ``ok``.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-09 14:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0037"
down_revision: str | None = "0036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HEARTBEAT_LEAD_SECONDS = 300

COMPLETE_ENROLLMENTS = """
CREATE FUNCTION complete_enrollments(p_user uuid, p_courses uuid[], p_actor uuid)
RETURNS SETOF uuid LANGUAGE sql VOLATILE AS $$
  UPDATE enrollments e SET status = 'completed', completed_at = statement_timestamp(),
    updated_by = coalesce(p_actor, e.updated_by)
  FROM course_completion c
  WHERE e.user_id = p_user AND e.course_id = ANY(p_courses) AND e.status = 'active'
    AND e.deleted_at IS NULL
    AND c.user_id = e.user_id AND c.course_id = e.course_id AND c.complete
  RETURNING e.course_id
$$
"""

AWARD_ACHIEVEMENTS = """
CREATE FUNCTION award_achievements(p_user uuid, p_perfect boolean)
RETURNS SETOF achievements LANGUAGE sql VOLATILE AS $$
  WITH facts AS (
    SELECT
      (SELECT count(*) FROM lesson_progress
        WHERE user_id = p_user AND status = 'completed' AND deleted_at IS NULL) AS lessons,
      (SELECT coalesce(array_agg(c.content_id), '{}') FROM enrollments e
        JOIN courses c ON c.id = e.course_id
        WHERE e.user_id = p_user AND e.status = 'completed' AND e.deleted_at IS NULL) AS courses,
      coalesce((SELECT current_streak_days FROM learner_streaks WHERE user_id = p_user), 0)
        AS streak
  ), awarded AS (
    INSERT INTO user_achievements (user_id, achievement_id, context, created_by, updated_by)
    SELECT p_user, a.id, jsonb_build_object('rule', a.rule), p_user, p_user
    FROM achievements a, facts
    WHERE a.deleted_at IS NULL AND (
      (a.rule->>'type' = 'lessons_completed' AND facts.lessons >= (a.rule->>'count')::int)
      OR (a.rule->>'type' = 'quiz_perfect_score' AND p_perfect)
      OR (a.rule->>'type' = 'streak_days' AND facts.streak >= (a.rule->>'days')::int)
      OR (a.rule->>'type' = 'course_completed' AND cardinality(facts.courses) > 0
          AND (a.rule->>'course' IS NULL OR a.rule->>'course' = ANY(facts.courses)))
    )
    ON CONFLICT (user_id, achievement_id) DO NOTHING
    RETURNING achievement_id
  )
  SELECT a.* FROM awarded JOIN achievements a ON a.id = awarded.achievement_id
  ORDER BY a.code
$$
"""

UUID_STEP = """
CREATE FUNCTION uuid_step(p_base uuid, p_step integer) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT encode(overlay(uuid_send(p_base) PLACING int4send(p_step) FROM 13 FOR 4), 'hex')::uuid
$$
"""
"""The ``p_step``-th id after a UUIDv7 made by the app: its last four (random) bytes
replaced by the step, so the events of one write sort in the order written."""

SAVE_LESSON_PROGRESS = f"""
CREATE FUNCTION save_lesson_progress(
  p_user uuid, p_lesson varchar, p_changes jsonb, p_id uuid, p_events_id uuid,
  p_session uuid, p_seconds integer, p_refused boolean, p_staff text[],
  OUT outcome text, OUT course_content_id varchar, OUT status varchar,
  OUT completed_at timestamptz, OUT bookmarked boolean, OUT note varchar,
  OUT "position" jsonb, OUT time_spent_seconds bigint, OUT updated_at timestamptz,
  OUT course_completed boolean, OUT achievements jsonb)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  v_now timestamptz := statement_timestamp();
  v_status varchar := p_changes->>'status';
  v_role text;
  v_course uuid;
  v_course_status text;
  v_enrollment uuid;
  v_enrollment_status text;
  v_row lesson_progress;
  v_completed boolean;
  v_verbs text[] := '{{}}';
  v_types text[] := '{{}}';
  v_objects text[] := '{{}}';
  v_courses uuid[] := '{{}}';
  v_codes text[];
BEGIN
  SELECT u.role INTO v_role FROM users u WHERE u.id = p_user AND u.deleted_at IS NULL;
  IF NOT FOUND THEN
    outcome := 'no_user';
    RETURN;
  END IF;
  SELECT i.course_id, c.content_id, c.status, e.id, e.status
    INTO v_course, course_content_id, v_course_status, v_enrollment, v_enrollment_status
  FROM content_index i
  JOIN courses c ON c.id = i.course_id AND c.deleted_at IS NULL
  LEFT JOIN enrollments e
    ON e.course_id = i.course_id AND e.user_id = p_user
   AND e.status IN ('active', 'completed') AND e.deleted_at IS NULL
  WHERE i.content_id = p_lesson AND i.item_type = 'lesson'
    AND i.status = 'active' AND i.deleted_at IS NULL;
  -- A lesson of a course the learner may not see reads exactly like no lesson.
  IF v_course IS NULL OR NOT (v_course_status = 'published' OR v_role = ANY(p_staff)) THEN
    outcome := 'not_found';
    RETURN;
  END IF;
  IF v_enrollment IS NULL THEN
    outcome := 'enrollment_required';
    RETURN;
  END IF;
  IF p_refused THEN  -- the body's own rules, answered once the caller may write here
    outcome := 'refused';
    RETURN;
  END IF;

  IF p_session IS NOT NULL THEN
    -- The session's total is the largest one seen; one running ahead of the clock since
    -- the session's first heartbeat (by more than the lead) is refused: no row.
    INSERT INTO lesson_time AS t (user_id, course_id, lesson_content_id, session_id, seconds,
                                  created_by, updated_by)
    SELECT p_user, v_course, p_lesson, p_session, p_seconds, p_user, p_user
    WHERE p_seconds <= {HEARTBEAT_LEAD_SECONDS} OR EXISTS (
      SELECT FROM lesson_time
      WHERE user_id = p_user AND lesson_content_id = p_lesson AND session_id = p_session)
    ON CONFLICT (user_id, lesson_content_id, session_id) DO UPDATE
    SET seconds = greatest(t.seconds, excluded.seconds), course_id = excluded.course_id,
        updated_by = excluded.updated_by
    WHERE excluded.seconds <= t.seconds
       OR excluded.seconds <= extract(epoch FROM v_now - t.created_at)
                              + {HEARTBEAT_LEAD_SECONDS};
    IF NOT FOUND THEN
      outcome := 'ahead_of_clock';
      RETURN;
    END IF;
  END IF;

  -- Idempotent under any concurrency: completed never goes back (nor a status to none),
  -- started_at and completed_at are set once, absent fields are kept.
  INSERT INTO lesson_progress AS p (id, user_id, course_id, lesson_content_id, status,
      started_at, completed_at, bookmarked, note, "position", created_by, updated_by)
  VALUES (p_id, p_user, v_course, p_lesson, v_status,
      CASE WHEN v_status IS NOT NULL THEN v_now END,
      CASE WHEN v_status = 'completed' THEN v_now END,
      coalesce((p_changes->>'bookmarked')::boolean, false),
      p_changes->>'note',
      nullif(p_changes->'position', 'null'::jsonb),
      p_user, p_user)
  ON CONFLICT (user_id, lesson_content_id) DO UPDATE SET
      status = CASE WHEN p.status = 'completed' THEN 'completed'
                    ELSE coalesce(excluded.status, p.status) END,
      started_at = coalesce(p.started_at, excluded.started_at),
      completed_at = coalesce(p.completed_at, excluded.completed_at),
      course_id = excluded.course_id,
      deleted_at = NULL,
      updated_by = excluded.updated_by,
      bookmarked = CASE WHEN p_changes ? 'bookmarked'
                        THEN coalesce((p_changes->>'bookmarked')::boolean, p.bookmarked)
                        ELSE p.bookmarked END,
      note = CASE WHEN p_changes ? 'note' THEN excluded.note ELSE p.note END,
      "position" = CASE WHEN p_changes ? 'position' THEN excluded."position"
                        ELSE p."position" END
  RETURNING p.* INTO v_row;

  -- This write's events, each exactly once however many requests race: only the
  -- statement that set started_at / completed_at sees them equal to its own time.
  IF v_row.started_at IS NOT DISTINCT FROM v_now THEN
    v_verbs := v_verbs || 'started'::text;
    v_types := v_types || 'lesson'::text;
    v_objects := v_objects || p_lesson::text;
    v_courses := v_courses || v_course;
  END IF;
  v_completed := v_row.completed_at IS NOT DISTINCT FROM v_now;
  course_completed := false;
  achievements := '[]';
  IF v_completed THEN
    v_verbs := v_verbs || 'completed'::text;
    v_types := v_types || 'lesson'::text;
    v_objects := v_objects || p_lesson::text;
    v_courses := v_courses || v_course;
    IF v_enrollment_status = 'active' THEN
      course_completed := EXISTS (SELECT FROM complete_enrollments(p_user, ARRAY[v_course], p_user));
      IF course_completed THEN
        v_verbs := v_verbs || 'completed'::text;
        v_types := v_types || 'course'::text;
        v_objects := v_objects || course_content_id::text;
        v_courses := v_courses || v_course;
      END IF;
    END IF;
    -- Awarded before this write's events are logged: a lesson's own event does not
    -- count towards the streak it might earn.
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', a.id, 'code', a.code,
                                                 'title', a.title,
                                                 'description', a.description,
                                                 'rarity', a.rarity) ORDER BY a.code),
                    '[]'::jsonb),
           coalesce(array_agg(a.code ORDER BY a.code), '{{}}')
      INTO achievements, v_codes
    FROM award_achievements(p_user, false) a;
    v_verbs := v_verbs || array_fill('earned'::text, ARRAY[cardinality(v_codes)]);
    v_types := v_types || array_fill('achievement'::text, ARRAY[cardinality(v_codes)]);
    v_objects := v_objects || v_codes;
    v_courses := v_courses || array_fill(NULL::uuid, ARRAY[cardinality(v_codes)]);
  END IF;
  IF cardinality(v_verbs) > 0 THEN
    INSERT INTO activity_log (id, created_by, updated_by, actor_id, verb, object_type,
                              object_id, course_id, result)
    SELECT uuid_step(p_events_id, e.n::integer), p_user, p_user, p_user, e.verb, e.kind,
           e.object, e.course, 'null'::jsonb
    FROM unnest(v_verbs, v_types, v_objects, v_courses)
      WITH ORDINALITY AS e(verb, kind, object, course, n)
    ORDER BY e.n;
  END IF;

  SELECT coalesce(sum(t.seconds), 0) INTO time_spent_seconds FROM lesson_time t
  WHERE t.user_id = p_user AND t.lesson_content_id = p_lesson AND t.deleted_at IS NULL;
  status := v_row.status;
  completed_at := v_row.completed_at;
  bookmarked := v_row.bookmarked;
  note := v_row.note;
  "position" := v_row."position";
  updated_at := v_row.updated_at;
  outcome := 'ok';
END
$$
"""


def upgrade() -> None:
    op.execute(COMPLETE_ENROLLMENTS)
    op.execute(AWARD_ACHIEVEMENTS)
    op.execute(UUID_STEP)
    op.execute(SAVE_LESSON_PROGRESS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION save_lesson_progress(uuid, varchar, jsonb, uuid, uuid, uuid, integer, "
        "boolean, text[])"
    )
    op.execute("DROP FUNCTION uuid_step(uuid, integer)")
    op.execute("DROP FUNCTION award_achievements(uuid, boolean)")
    op.execute("DROP FUNCTION complete_enrollments(uuid, uuid[], uuid)")
