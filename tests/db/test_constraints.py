"""Every CHECK and UNIQUE rule in the schema rejects a bad row, tested with plain SQL.

The last test compares the cases here with the constraints PostgreSQL actually has, so a
new constraint without a test (or a test for a constraint that went away) fails the suite.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class Ids:
    user: uuid.UUID
    category: uuid.UUID
    track: uuid.UUID
    course: uuid.UUID
    achievement: uuid.UUID


@pytest.fixture
async def ids(connection: AsyncConnection) -> Ids:
    """One valid row in each parent table."""

    async def insert(sql: str) -> uuid.UUID:
        value: uuid.UUID = (await connection.execute(text(sql + " RETURNING id"))).scalar_one()
        return value

    user = await insert("INSERT INTO users (email, name) VALUES ('ada@example.org', 'Ada')")
    category = await insert("INSERT INTO categories (name, slug) VALUES ('Web', 'web')")
    track = await insert(
        f"INSERT INTO tracks (category_id, name, slug) VALUES ('{category}', 'APIs', 'apis')"
    )
    course = await insert(
        "INSERT INTO courses (content_id, slug, title, category_id, level, status, language, "
        f"currency) VALUES ('course:rest', 'rest', 'REST', '{category}', 'Beginner', "
        "'published', 'en', 'USD')"
    )
    achievement = await insert(
        "INSERT INTO achievements (code, title, rule) "
        "VALUES ('first-lesson', 'First lesson', '{\"event\": \"lesson_completed\"}')"
    )
    return Ids(user, category, track, course, achievement)


def _lesson_progress(ids: Ids, columns: str, values: str) -> str:
    return (
        f"INSERT INTO lesson_progress (user_id, course_id, lesson_content_id{columns}) "
        f"VALUES ('{ids.user}', '{ids.course}', {values})"
    )


def _attempt(ids: Ids, columns: str, values: str) -> str:
    return (
        f"INSERT INTO quiz_attempts (user_id, quiz_content_id, attempt_no{columns}) "
        f"VALUES ('{ids.user}', {values})"
    )


def _course(ids: Ids, content_id: str, slug: str, extra: str = "", *, language: str = "en") -> str:
    columns, values = ("", "") if not extra else extra.split("|")
    return (
        "INSERT INTO courses (content_id, slug, title, category_id, level, language, "
        f"currency{columns}) VALUES ('{content_id}', '{slug}', 'T', '{ids.category}', "
        f"'Beginner', '{language}', 'USD'{values})"
    )


def _index_row(ids: Ids, **overrides: str) -> str:
    values = {
        "content_id": "'lesson:intro'",
        "item_type": "'lesson'",
        "version": "1",
        "points": "10",
        "status": "'active'",
        **overrides,
    }
    return (
        "INSERT INTO content_index (course_id, module_id, module_title, module_order, position, "
        f"title, required, {', '.join(values)}) VALUES ('{ids.course}', 'module:m', 'M', 1, 0, "
        f"'Intro', true, {', '.join(values.values())})"
    )


def _idempotency(ids: Ids, **overrides: str) -> str:
    values = {
        "key": "'key-00000001'",
        "method": "'PUT'",
        "route": "'/api/v1/progress/lessons/lesson:intro'",
        "request_hash": "repeat('a', 64)",
        "response_status": "200",
        "response_body": "'{}'",
        **overrides,
    }
    return (
        f"INSERT INTO idempotency_keys (user_id, {', '.join(values)}) "
        f"VALUES ('{ids.user}', {', '.join(values.values())})"
    )


def _note(ids: Ids, **values: str) -> str:
    row = {
        "lesson_content_id": "'lesson:intro'",
        "course_id": f"'{ids.course}'",
        "lesson_version": "1",
        "content_hash": "'h'",
        "generator": "'offline'",
        "prompt_version": "'offline-1'",
        "summary_markdown": "''",
        "summary_points": "'[]'",
        "key_concepts": "'[]'",
        "concept_text": "''",
        "generated_at": "now()",
    } | values
    return f"INSERT INTO ai_notes ({', '.join(row)}) VALUES ({', '.join(row.values())})"


def _chat_session(ids: Ids, **values: str) -> str:
    row = {"user_id": f"'{ids.user}'", "session_type": "'lesson'", "context": "'{}'"} | values
    return f"INSERT INTO chat_sessions ({', '.join(row)}) VALUES ({', '.join(row.values())})"


def _chat_message(ids: Ids, **values: str) -> list[str]:
    session = f"(SELECT id FROM chat_sessions WHERE user_id = '{ids.user}' LIMIT 1)"
    row = {
        "session_id": session,
        "user_id": f"'{ids.user}'",
        "role": "'user'",
        "content": "'hi'",
        "citations": "'[]'",
    } | values
    return [
        _chat_session(ids),
        f"INSERT INTO chat_messages ({', '.join(row)}) VALUES ({', '.join(row.values())})",
    ]


def _preferences(ids: Ids, **values: str) -> str:
    row = {
        "user_id": f"'{ids.user}'",
        "language": "'en'",
        "speech_rate": "1.0",
        "autoplay": "false",
        "daily_goal_minutes": "20",
        "theme": "'system'",
        "notify_email": "false",
        "notify_push": "false",
    } | values
    return f"INSERT INTO user_preferences ({', '.join(row)}) VALUES ({', '.join(row.values())})"


EXAM_ATTEMPT = "00000000-0000-7000-8000-0000000000e1"


def _exam_attempt(ids: Ids, **overrides: str) -> str:
    values = {
        "id": f"'{EXAM_ATTEMPT}'",
        "exam_content_id": "'exam:ege'",
        "exam_version": "1",
        "attempt_no": "1",
        "seed": "42",
        "variant": "'[]'",
        "started_at": "'2026-01-01T10:00:00Z'",
        "deadline": "'2026-01-01T13:55:00Z'",
        **overrides,
    }
    return (
        f"INSERT INTO exam_attempts (user_id, course_id, {', '.join(values)}) "
        f"VALUES ('{ids.user}', '{ids.course}', {', '.join(values.values())})"
    )


def _exam_child(table: str, **values: str) -> str:
    return (
        f"INSERT INTO {table} (attempt_id, {', '.join(values)}) "
        f"VALUES ('{EXAM_ATTEMPT}', {', '.join(values.values())})"
    )


def _answer_event(**overrides: str) -> str:
    return _exam_child(
        "exam_answer_events",
        **{
            "seq": "1",
            "task": "1",
            "answer": "'1'",
            "at": "now()",
            "prev_hash": "repeat('0', 64)",
            "hash": "repeat('a', 64)",
            **overrides,
        },
    )


def _expert_grade(**overrides: str) -> str:
    return _exam_child(
        "exam_expert_grades",
        **{
            "id": f"'{EXPERT_GRADE}'",
            "exam_content_id": "'exam:ege'",
            "task": "13",
            "max_points": "2",
            **overrides,
        },
    )


EXPERT_GRADE = "00000000-0000-7000-8000-0000000000e2"


def _expert_mark(ids: Ids, **overrides: str) -> str:
    values = {
        "grade_id": f"'{EXPERT_GRADE}'",
        "seat": "1",
        "grader_id": f"'{ids.user}'",
        "points": "1",
        **overrides,
    }
    return (
        f"INSERT INTO exam_expert_marks ({', '.join(values)}) VALUES ({', '.join(values.values())})"
    )


def _exam_result(**overrides: str) -> str:
    return _exam_child(
        "exam_results",
        **{
            "version": "1",
            "primary_score": "10",
            "max_primary": "32",
            "test_score": "62",
            "final": "true",
            "passed": "true",
            "task_points": "'{}'",
            "reason": "'sealed'",
            **overrides,
        },
    )


QUIZ_ATTEMPT = "00000000-0000-7000-8000-0000000000a1"


def _open_attempt(ids: Ids) -> str:
    return (
        "INSERT INTO quiz_attempts (id, user_id, quiz_content_id, attempt_no) "
        f"VALUES ('{QUIZ_ATTEMPT}', '{ids.user}', 'quiz:basics', 1)"
    )


def _quiz_result(**overrides: str) -> str:
    values = {
        "version": "2",
        "score": "1",
        "max_score": "2",
        "passed": "false",
        "question_points": "'[]'",
        "reason": "'regrade'",
        **overrides,
    }
    return (
        f"INSERT INTO quiz_results (attempt_id, {', '.join(values)}) "
        f"VALUES ('{QUIZ_ATTEMPT}', {', '.join(values.values())})"
    )


def _payment(ids: Ids, **overrides: str) -> str:
    values = {
        "provider": "'stripe'",
        "course_id": f"'{ids.course}'",
        "amount_minor": "1900",
        "currency": "'USD'",
        **overrides,
    }
    return (
        f"INSERT INTO payments (user_id, {', '.join(values)}) "
        f"VALUES ('{ids.user}', {', '.join(values.values())})"
    )


def _plan(**overrides: str) -> str:
    values = {
        "code": "'monthly'",
        "title": "'Monthly'",
        "price_minor": "900",
        "currency": "'USD'",
        "period": "'month'",
        **overrides,
    }
    return f"INSERT INTO plans ({', '.join(values)}) VALUES ({', '.join(values.values())})"


def _subscription(ids: Ids, **overrides: str) -> str:
    values = {
        "provider": "'stripe'",
        "provider_subscription_id": "'sub_1'",
        "status": "'active'",
        **overrides,
    }
    return (
        "INSERT INTO subscriptions (user_id, plan_id, current_period_end, state_at, "
        f"{', '.join(values)}) SELECT '{ids.user}', id, now() + interval '1 month', now(), "
        f"{', '.join(values.values())} FROM plans WHERE code = 'monthly'"
    )


def _entitlement(ids: Ids, **overrides: str) -> str:
    values = {"source": "'admin'", "course_id": f"'{ids.course}'", **overrides}
    return (
        f"INSERT INTO entitlements (user_id, {', '.join(values)}) "
        f"VALUES ('{ids.user}', {', '.join(values.values())})"
    )


def _event(provider: str = "'stripe'") -> str:
    return (
        "INSERT INTO payment_events (provider, event_id, type, payload) "
        f"VALUES ({provider}, 'evt_1', 'charge.refunded', '{{}}')"
    )


def _submission(ids: Ids, **overrides: str) -> str:
    values = {
        "course_id": f"'{ids.course}'",
        "practice_content_id": "'practice:rest-task'",
        "practice_version": "1",
        "version": "1",
        "status": "'submitted'",
        "submitted_at": "now()",
        "links": "'[]'",
        "rubric": "'[]'",
        **overrides,
    }
    return (
        f"INSERT INTO submissions (user_id, {', '.join(values)}) "
        f"VALUES ('{ids.user}', {', '.join(values.values())})"
    )


def _submission_file(**overrides: str) -> str:
    values = {
        "gridfs_id": "'65f0c0ffee0000000000000a'",
        "filename": "'a.txt'",
        "media_type": "'text/plain'",
        "size_bytes": "4",
        "sha256": "repeat('a', 64)",
        **overrides,
    }
    return (
        f"INSERT INTO submission_files (submission_id, {', '.join(values)}) "
        f"SELECT id, {', '.join(values.values())} FROM submissions LIMIT 1"
    )


# constraint name -> SQL statements; the last one must violate exactly that constraint.
COMPETENCY = "INSERT INTO competencies (code, title) VALUES ('sql.joins', 'Joins')"
COMPETENCY_ID = "(SELECT id FROM competencies WHERE code = 'sql.joins')"


def _mastery(ids: Ids, mastery: str = "0.5", observations: str = "1") -> str:
    return (
        "INSERT INTO competency_mastery (user_id, competency_id, mastery, observations) "
        f"VALUES ('{ids.user}', {COMPETENCY_ID}, {mastery}, {observations})"
    )


def _evidence(ids: Ids, source: str = "'quiz'", points: str = "1", max_points: str = "1") -> str:
    return (
        "INSERT INTO competency_evidence (user_id, competency_id, source, source_id, "
        "container_id, container_version, item_id, item_version, points, max_points, "
        f"mastery_after) VALUES ('{ids.user}', {COMPETENCY_ID}, {source}, "
        f"'{uuid.uuid4()}', 'quiz:q', 1, 'question:a', 1, {points}, {max_points}, 0.5)"
    )


def _ticket(ids: Ids, **overrides: str) -> str:
    values = {
        "source": "'quiz'",
        "status": "'to_do'",
        "priority": "1",
        "closed_at": "NULL",
        **overrides,
    }
    return (
        "INSERT INTO feedback_tickets (user_id, competency_id, source, source_id, container_id, "
        "container_version, item_id, item_version, description, status, priority, closed_at) "
        f"VALUES ('{ids.user}', {COMPETENCY_ID}, {values['source']}, '{uuid.uuid4()}', "
        f"'quiz:q', 1, 'question:a', 1, 'Revise', {values['status']}, {values['priority']}, "
        f"{values['closed_at']})"
    )


def _link(ids: Ids, content_id: str = "'lesson:joins'") -> str:
    return (
        "INSERT INTO competency_links (competency_id, content_id, course_id) "
        f"VALUES ({COMPETENCY_ID}, {content_id}, '{ids.course}')"
    )


def _practice_done(ids: Ids, practice: str = "'practice:task'") -> str:
    return (
        "INSERT INTO practice_progress (user_id, course_id, practice_content_id) "
        f"VALUES ('{ids.user}', '{ids.course}', {practice})"
    )


def _check_run(ids: Ids, practice: str = "'practice:task'", answer: str = "'SELECT 1'") -> str:
    return (
        "INSERT INTO practice_check_runs (user_id, course_id, practice_content_id, "
        "practice_version, answer, passed, message) "
        f"VALUES ('{ids.user}', '{ids.course}', {practice}, 1, {answer}, false, 'no')"
    )


STUDY_PLAN = "(SELECT id FROM study_plans LIMIT 1)"
STUDY_VERSION = "(SELECT id FROM study_plan_versions LIMIT 1)"


def _study_plan(ids: Ids, exam: str = "NULL") -> str:
    return (
        "INSERT INTO study_plans (user_id, course_id, exam_id) "
        f"VALUES ('{ids.user}', '{ids.course}', {exam})"
    )


def _study_version(ids: Ids, **overrides: str) -> str:
    values = {
        "version": "1",
        "target_date": "current_date + 7",
        "minutes_per_day": "60",
        "daily_minutes": "30",
        **overrides,
    }
    return (
        "INSERT INTO study_plan_versions (plan_id, user_id, version, target_date, "
        "minutes_per_day, starts_on, daily_minutes, planner) "
        f"VALUES ({STUDY_PLAN}, '{ids.user}', {values['version']}, {values['target_date']}, "
        f"{values['minutes_per_day']}, current_date, {values['daily_minutes']}, 'sequential')"
    )


def _study_item(ids: Ids, **overrides: str) -> str:
    values = {
        "position": "1",
        "kind": "'lesson'",
        "content_id": "'lesson:intro'",
        "competency_id": "NULL",
        "minutes": "10",
        "part": "1",
        "parts": "1",
        **overrides,
    }
    return (
        "INSERT INTO study_plan_items (version_id, user_id, position, day, kind, content_id, "
        f"competency_id, minutes, part, parts) VALUES ({STUDY_VERSION}, '{ids.user}', "
        f"{values['position']}, current_date, {values['kind']}, {values['content_id']}, "
        f"{values['competency_id']}, {values['minutes']}, {values['part']}, {values['parts']})"
    )


def _lesson_time(ids: Ids, seconds: str = "60") -> str:
    return (
        "INSERT INTO lesson_time (user_id, course_id, lesson_content_id, session_id, seconds) "
        f"VALUES ('{ids.user}', '{ids.course}', 'lesson:a', "
        f"'00000000-0000-7000-8000-000000000001', {seconds})"
    )


CASES: dict[str, Callable[[Ids], list[str]]] = {
    "ck_lesson_time_seconds": lambda i: [_lesson_time(i, "0")],
    "uq_lesson_time_user_id_lesson_content_id_session_id": lambda i: [_lesson_time(i)] * 2,
    "ck_competencies_code": lambda i: [
        "INSERT INTO competencies (code, title) VALUES ('SQL Joins', 'Joins')"
    ],
    "uq_competencies_code": lambda i: [COMPETENCY] * 2,
    "ck_competency_links_content_id": lambda i: [COMPETENCY, _link(i, "'quiz:joins'")],
    "uq_competency_links_competency_id_content_id_course_id": lambda i: [
        COMPETENCY,
        _link(i),
        _link(i),
    ],
    "ck_competency_mastery_mastery": lambda i: [COMPETENCY, _mastery(i, mastery="1.5")],
    "ck_competency_mastery_observations": lambda i: [COMPETENCY, _mastery(i, observations="0")],
    "uq_competency_mastery_user_id_competency_id": lambda i: [
        COMPETENCY,
        _mastery(i),
        _mastery(i),
    ],
    "ck_competency_evidence_source": lambda i: [COMPETENCY, _evidence(i, source="'guess'")],
    "ck_competency_evidence_points": lambda i: [COMPETENCY, _evidence(i, points="2")],
    "ck_submissions_status": lambda i: [_submission(i, status="'accepted'")],
    "ck_submissions_practice_id": lambda i: [_submission(i, practice_content_id="'lesson:x'")],
    "ck_submissions_version": lambda i: [_submission(i, version="0")],
    "ck_submissions_submitted_at": lambda i: [_submission(i, status="'draft'")],
    "ck_submissions_reviewed_at": lambda i: [
        _submission(i, status="'in_review'", reviewed_at="now()", reviewer_id=f"'{i.user}'")
    ],
    "ck_submissions_score": lambda i: [_submission(i, score="50")],
    "ck_submissions_what_to_fix": lambda i: [_submission(i, what_to_fix="'the JOIN'")],
    "uq_submissions_review_id": lambda i: [
        _submission(
            i,
            review_id="'0190f6f6-0000-7000-8000-000000000001'",
            status="'reviewed'",
            score="90",
            reviewed_at="now()",
            reviewer_id=f"'{i.user}'",
        ),
        _submission(i, review_id="'0190f6f6-0000-7000-8000-000000000001'", version="2"),
    ],
    "uq_submissions_user_id_practice_content_id_version": lambda i: [
        _submission(
            i,
            status="'returned'",
            what_to_fix="'x'",
            reviewed_at="now()",
            reviewer_id=f"'{i.user}'",
        ),
        _submission(i),
    ],
    "uq_submissions_user_id_practice_content_id_open": lambda i: [
        _submission(i),
        _submission(i, version="2"),
    ],
    "ck_submission_files_sha256": lambda i: [_submission(i), _submission_file(sha256="'abc'")],
    "ck_submission_files_size_bytes": lambda i: [_submission(i), _submission_file(size_bytes="-1")],
    "ck_submission_files_filename": lambda i: [_submission(i), _submission_file(filename="''")],
    "uq_submission_files_gridfs_id": lambda i: [
        _submission(i),
        _submission_file(),
        _submission_file(),
    ],
    "ck_feedback_tickets_status": lambda i: [COMPETENCY, _ticket(i, status="'open'")],
    "ck_feedback_tickets_source": lambda i: [COMPETENCY, _ticket(i, source="'chat'")],
    "ck_feedback_tickets_priority": lambda i: [COMPETENCY, _ticket(i, priority="4")],
    "ck_feedback_tickets_closed_at": lambda i: [COMPETENCY, _ticket(i, status="'done'")],
    "uq_feedback_tickets_user_id_competency_id_item_id_open": lambda i: [
        COMPETENCY,
        _ticket(i),
        _ticket(i, status="'in_progress'"),
    ],
    "ck_practice_progress_practice_id": lambda i: [_practice_done(i, "'lesson:task'")],
    "uq_practice_progress_user_id_practice_content_id": lambda i: [_practice_done(i)] * 2,
    "ck_practice_check_runs_practice_id": lambda i: [_check_run(i, practice="'quiz:task'")],
    "ck_practice_check_runs_answer_length": lambda i: [_check_run(i, answer="repeat('x', 20001)")],
    # study plans
    "ck_study_plans_exam_id": lambda i: [_study_plan(i, exam="'quiz:final'")],
    "ck_study_plan_versions_version": lambda i: [_study_plan(i), _study_version(i, version="0")],
    "ck_study_plan_versions_minutes_per_day": lambda i: [
        _study_plan(i),
        _study_version(i, minutes_per_day="5", daily_minutes="5"),
    ],
    "ck_study_plan_versions_target_date": lambda i: [
        _study_plan(i),
        _study_version(i, target_date="current_date"),
    ],
    "ck_study_plan_versions_daily_minutes": lambda i: [
        _study_plan(i),
        _study_version(i, daily_minutes="61"),
    ],
    "uq_study_plan_versions_plan_id_version": lambda i: [
        _study_plan(i),
        _study_version(i),
        _study_version(i),
    ],
    "ck_study_plan_items_kind": lambda i: [
        _study_plan(i),
        _study_version(i),
        _study_item(i, kind="'video'", content_id="'video:intro'"),
    ],
    "ck_study_plan_items_target": lambda i: [
        COMPETENCY,
        _study_plan(i),
        _study_version(i),
        _study_item(i, competency_id=COMPETENCY_ID),
    ],
    "ck_study_plan_items_content_id": lambda i: [
        _study_plan(i),
        _study_version(i),
        _study_item(i, content_id="'quiz:intro'"),
    ],
    "ck_study_plan_items_minutes": lambda i: [
        _study_plan(i),
        _study_version(i),
        _study_item(i, minutes="0"),
    ],
    "ck_study_plan_items_part": lambda i: [
        _study_plan(i),
        _study_version(i),
        _study_item(i, part="2"),
    ],
    "uq_study_plan_items_version_id_position": lambda i: [
        _study_plan(i),
        _study_version(i),
        _study_item(i),
        _study_item(i),
    ],
    # exams
    "ck_courses_exam_type": lambda i: [
        f"UPDATE courses SET exam_type = 'SAT' WHERE id = '{i.course}'"
    ],
    "ck_courses_subject": lambda i: [
        f"UPDATE courses SET subject = 'Math' WHERE id = '{i.course}'"
    ],
    "ck_courses_grade": lambda i: [f"UPDATE courses SET grade = 12 WHERE id = '{i.course}'"],
    "ck_exam_attempts_attempt_no": lambda i: [_exam_attempt(i, attempt_no="0")],
    "ck_exam_attempts_deadline_after_start": lambda i: [
        _exam_attempt(i, deadline="'2026-01-01T09:00:00Z'")
    ],
    "ck_exam_attempts_exam_id": lambda i: [_exam_attempt(i, exam_content_id="'quiz:ege'")],
    "ck_exam_attempts_exam_version": lambda i: [_exam_attempt(i, exam_version="0")],
    "ck_exam_attempts_sealed_by": lambda i: [
        _exam_attempt(
            i,
            sealed_at="now()",
            sealed_by="'teacher'",
            sheet="'{}'",
            sheet_sha256="repeat('a', 64)",
        )
    ],
    "ck_exam_attempts_sealed_whole": lambda i: [_exam_attempt(i, sealed_at="now()")],
    "ck_exam_attempts_sheet_sha256": lambda i: [
        _exam_attempt(
            i, sealed_at="now()", sealed_by="'submit'", sheet="'{}'", sheet_sha256="'abc'"
        )
    ],
    "uq_exam_attempts_user_id_exam_content_id_attempt_no": lambda i: [
        _exam_attempt(
            i, sealed_at="now()", sealed_by="'submit'", sheet="'{}'", sheet_sha256="repeat('a', 64)"
        ),
        _exam_attempt(i, id="uuid_generate_v7()"),
    ],
    "uq_exam_attempts_user_id_exam_content_id_open": lambda i: [
        _exam_attempt(i),
        _exam_attempt(i, id="uuid_generate_v7()", attempt_no="2"),
    ],
    "ck_exam_answer_events_hash": lambda i: [_exam_attempt(i), _answer_event(hash="'x'")],
    "ck_exam_answer_events_prev_hash": lambda i: [_exam_attempt(i), _answer_event(prev_hash="'x'")],
    "ck_exam_answer_events_seq": lambda i: [_exam_attempt(i), _answer_event(seq="0")],
    "ck_exam_answer_events_task": lambda i: [_exam_attempt(i), _answer_event(task="0")],
    "uq_exam_answer_events_attempt_id_seq": lambda i: [
        _exam_attempt(i),
        _answer_event(),
        _answer_event(),
    ],
    "ck_exam_expert_grades_graded_whole": lambda i: [
        _exam_attempt(i),
        _expert_grade(points="1"),
    ],
    "ck_exam_expert_grades_marks_needed": lambda i: [
        _exam_attempt(i),
        _expert_grade(marks_needed="4"),
    ],
    "ck_exam_expert_grades_points": lambda i: [
        _exam_attempt(i),
        _expert_grade(points="-1", graded_at="now()"),
    ],
    "ck_exam_expert_marks_comment_length": lambda i: [
        _exam_attempt(i),
        _expert_grade(),
        _expert_mark(i, comment="repeat('x', 4001)"),
    ],
    "ck_exam_expert_marks_points": lambda i: [
        _exam_attempt(i),
        _expert_grade(),
        _expert_mark(i, points="-1"),
    ],
    "ck_exam_expert_marks_seat": lambda i: [
        _exam_attempt(i),
        _expert_grade(),
        _expert_mark(i, seat="4"),
    ],
    "uq_exam_expert_marks_grade_id_seat": lambda i: [
        _exam_attempt(i),
        _expert_grade(),
        _expert_mark(i),
        "INSERT INTO users (id, email, name) VALUES "
        "('00000000-0000-7000-8000-0000000000e3', 'bo@example.org', 'Bo')",
        _expert_mark(i, grader_id="'00000000-0000-7000-8000-0000000000e3'"),
    ],
    "uq_exam_expert_marks_grade_id_grader_id": lambda i: [
        _exam_attempt(i),
        _expert_grade(),
        _expert_mark(i),
        _expert_mark(i, seat="2"),
    ],
    "ck_exam_expert_grades_task": lambda i: [_exam_attempt(i), _expert_grade(task="0")],
    "uq_exam_expert_grades_attempt_id_task": lambda i: [
        _exam_attempt(i),
        _expert_grade(),
        _expert_grade(id="uuid_generate_v7()"),
    ],
    "ck_exam_results_passed_when_final": lambda i: [
        _exam_attempt(i),
        _exam_result(final="false", passed="false"),
    ],
    "ck_exam_results_primary": lambda i: [_exam_attempt(i), _exam_result(primary_score="33")],
    "ck_exam_results_reason": lambda i: [_exam_attempt(i), _exam_result(reason="'whim'")],
    "ck_exam_results_test_score": lambda i: [_exam_attempt(i), _exam_result(test_score="-1")],
    "ck_exam_results_version": lambda i: [_exam_attempt(i), _exam_result(version="0")],
    "uq_exam_results_attempt_id_version": lambda i: [
        _exam_attempt(i),
        _exam_result(),
        _exam_result(),
    ],
    # users
    "ck_users_role": lambda i: [
        "INSERT INTO users (email, name, role) VALUES ('b@example.org', 'B', 'root')"
    ],
    "ck_users_email": lambda i: ["INSERT INTO users (email, name) VALUES ('B@Example.org', 'B')"],
    "ck_users_name_length": lambda i: ["INSERT INTO users (email, name) VALUES ('b@x.org', '')"],
    "ck_users_time_zone": lambda i: [
        "INSERT INTO users (email, name, time_zone) VALUES ('b@x.org', 'B', '')"
    ],
    "uq_users_email_live": lambda i: [
        "INSERT INTO users (email, name) VALUES ('ada@example.org', 'Other Ada')"
    ],
    # refresh tokens
    "ck_auth_refresh_tokens_token_hash_sha256": lambda i: [
        "INSERT INTO auth_refresh_tokens (user_id, token_hash, family_id, expires_at) "
        f"VALUES ('{i.user}', 'plain-token', gen_random_uuid(), now())"
    ],
    "uq_auth_refresh_tokens_token_hash": lambda i: (
        [
            "INSERT INTO auth_refresh_tokens (user_id, token_hash, family_id, expires_at) "
            f"VALUES ('{i.user}', repeat('a', 64), gen_random_uuid(), now())",
        ]
        * 2
    ),
    "uq_auth_known_addresses_user_id_client_ip": lambda i: (
        [
            "INSERT INTO auth_known_addresses (user_id, client_ip, last_success_at) "
            f"VALUES ('{i.user}', '203.0.113.1', now())",
        ]
        * 2
    ),
    # catalog
    "ck_categories_slug": lambda i: [
        "INSERT INTO categories (name, slug) VALUES ('X', 'Not A Slug')"
    ],
    "uq_categories_slug": lambda i: ["INSERT INTO categories (name, slug) VALUES ('X', 'web')"],
    "ck_tracks_slug": lambda i: [
        f"INSERT INTO tracks (category_id, name, slug) VALUES ('{i.category}', 'X', 'x_y')"
    ],
    "uq_tracks_slug": lambda i: [
        f"INSERT INTO tracks (category_id, name, slug) VALUES ('{i.category}', 'X', 'apis')"
    ],
    "ck_courses_slug": lambda i: [_course(i, "course:Bad-Slug", "Bad-Slug")],
    "ck_courses_content_id": lambda i: [_course(i, "course:other", "sql")],
    "uq_courses_content_id": lambda i: [_course(i, "course:rest", "rest")],
    "ck_courses_level": lambda i: [
        f"INSERT INTO courses (content_id, slug, title, category_id, level, language, currency) "
        f"VALUES ('course:sql', 'sql', 'T', '{i.category}', 'Wizard', 'en', 'USD')"
    ],
    "ck_courses_language": lambda i: [_course(i, "course:sql", "sql", language="en-US")],
    "ck_courses_currency": lambda i: [
        f"INSERT INTO courses (content_id, slug, title, category_id, level, language, currency) "
        f"VALUES ('course:sql', 'sql', 'T', '{i.category}', 'Beginner', 'en', 'usd')"
    ],
    "ck_courses_lesson_count": lambda i: [_course(i, "course:sql", "sql", ", lesson_count|, -1")],
    "ck_courses_duration_minutes": lambda i: [
        _course(i, "course:sql", "sql", ", duration_minutes|, -1")
    ],
    "ck_courses_status": lambda i: [_course(i, "course:sql", "sql", ", status|, 'live'")],
    "ck_courses_price_cents": lambda i: [_course(i, "course:sql", "sql", ", price_cents|, -1")],
    # enrollments
    "ck_enrollments_status": lambda i: [
        "INSERT INTO enrollments (user_id, course_id, status) "
        f"VALUES ('{i.user}', '{i.course}', 'paused')"
    ],
    "ck_enrollments_completed_at": lambda i: [
        "INSERT INTO enrollments (user_id, course_id, status) "
        f"VALUES ('{i.user}', '{i.course}', 'completed')"
    ],
    "uq_enrollments_user_id_course_id_live": lambda i: (
        [
            f"INSERT INTO enrollments (user_id, course_id) VALUES ('{i.user}', '{i.course}')",
        ]
        * 2
    ),
    # lesson progress
    "ck_lesson_progress_status": lambda i: [
        _lesson_progress(i, ", status, started_at", "'lesson:intro', 'viewed', now()")
    ],
    "ck_lesson_progress_completed_at": lambda i: [
        _lesson_progress(i, ", status, started_at", "'lesson:intro', 'completed', now()")
    ],
    "ck_lesson_progress_started": lambda i: [
        _lesson_progress(i, ", status", "'lesson:intro', 'started'")
    ],
    "ck_lesson_progress_lesson_id": lambda i: [_lesson_progress(i, "", "'quiz:intro'")],
    "ck_lesson_progress_note_length": lambda i: [
        _lesson_progress(i, ", note", "'lesson:intro', repeat('n', 10001)")
    ],
    "uq_lesson_progress_user_id_lesson_content_id": lambda i: (
        [_lesson_progress(i, "", "'lesson:intro'")] * 2
    ),
    # quiz attempts
    "ck_quiz_attempts_quiz_id": lambda i: [_attempt(i, "", "'lesson:intro', 1")],
    "ck_quiz_attempts_attempt_no": lambda i: [_attempt(i, "", "'quiz:basics', 0")],
    "ck_quiz_attempts_max_score": lambda i: [_attempt(i, ", max_score", "'quiz:basics', 1, -1")],
    "ck_quiz_attempts_score": lambda i: [
        _attempt(i, ", score, max_score", "'quiz:basics', 1, 11, 10")
    ],
    "ck_quiz_attempts_scoring_policy": lambda i: [
        _attempt(i, ", scoring_policy", "'quiz:basics', 1, 'best'")
    ],
    "ck_quiz_attempts_submitted_after_start": lambda i: [
        _attempt(i, ", submitted_at", "'quiz:basics', 1, now() - interval '1 hour'")
    ],
    "uq_quiz_attempts_user_id_quiz_content_id_attempt_no": lambda i: (
        [_attempt(i, "", "'quiz:basics', 1")] * 2
    ),
    "uq_quiz_attempts_user_id_quiz_content_id_open": lambda i: [
        _attempt(i, "", "'quiz:basics', 1"),
        _attempt(i, "", "'quiz:basics', 2"),
    ],
    # quiz results
    "ck_quiz_results_version": lambda i: [_open_attempt(i), _quiz_result(version="0")],
    "ck_quiz_results_score": lambda i: [_open_attempt(i), _quiz_result(score="3")],
    "ck_quiz_results_reason": lambda i: [_open_attempt(i), _quiz_result(reason="'whim'")],
    "ck_quiz_results_question_points": lambda i: [
        _open_attempt(i),
        _quiz_result(question_points="'{}'"),
    ],
    "uq_quiz_results_attempt_id_version": lambda i: [
        _open_attempt(i),
        _quiz_result(),
        _quiz_result(),
    ],
    # content index
    "ck_content_index_item_type": lambda i: [
        _index_row(i, content_id="'video:intro'", item_type="'video'")
    ],
    "ck_content_index_content_id": lambda i: [_index_row(i, content_id="'quiz:intro'")],
    "ck_content_index_status": lambda i: [_index_row(i, status="'hidden'")],
    "ck_content_index_version": lambda i: [_index_row(i, version="0")],
    "ck_content_index_points": lambda i: [_index_row(i, points="-5")],
    "uq_content_index_content_id": lambda i: [_index_row(i)] * 2,
    # activity log
    "ck_activity_log_verb": lambda i: [
        "INSERT INTO activity_log (actor_id, verb, object_type, object_id) "
        f"VALUES ('{i.user}', 'liked', 'course', 'course:rest')"
    ],
    "ck_activity_log_object_type": lambda i: [
        "INSERT INTO activity_log (actor_id, verb, object_type, object_id) "
        f"VALUES ('{i.user}', 'completed', 'video', 'video:intro')"
    ],
    # achievements
    "ck_achievements_code": lambda i: [
        "INSERT INTO achievements (code, title, rule) VALUES ('First Lesson', 'T', '{}')"
    ],
    "ck_achievements_rarity": lambda i: [
        "INSERT INTO achievements (code, title, rarity, rule) VALUES ('x', 'T', 'mythic', '{}')"
    ],
    "ck_achievements_rule_object": lambda i: [
        "INSERT INTO achievements (code, title, rule) VALUES ('x', 'T', '[1, 2]')"
    ],
    "uq_achievements_code": lambda i: [
        "INSERT INTO achievements (code, title, rule) VALUES ('first-lesson', 'T', '{}')"
    ],
    # idempotency keys
    "ck_idempotency_keys_key_length": lambda i: [_idempotency(i, key="'short'")],
    "ck_idempotency_keys_method": lambda i: [_idempotency(i, method="'GET'")],
    "ck_idempotency_keys_request_hash_sha256": lambda i: [
        _idempotency(i, request_hash="'not-a-hash'")
    ],
    "ck_idempotency_keys_response_status": lambda i: [_idempotency(i, response_status="500")],
    "uq_idempotency_keys_user_id_key": lambda i: [_idempotency(i)] * 2,
    "uq_user_achievements_user_id_achievement_id": lambda i: (
        [
            "INSERT INTO user_achievements (user_id, achievement_id) "
            f"VALUES ('{i.user}', '{i.achievement}')"
        ]
        * 2
    ),
    # AI notes, the tutor chat, preferences
    "ck_ai_notes_generator": lambda i: [_note(i, generator="'guess'")],
    "ck_ai_notes_lesson_id": lambda i: [_note(i, lesson_content_id="'quiz:intro'")],
    "ck_ai_notes_lesson_version": lambda i: [_note(i, lesson_version="0")],
    "uq_ai_notes_lesson_content_id": lambda i: [_note(i)] * 2,
    "ck_chat_sessions_lesson_id": lambda i: [_chat_session(i, lesson_content_id="'intro'")],
    "ck_chat_sessions_session_type": lambda i: [_chat_session(i, session_type="'gossip'")],
    "ck_chat_sessions_ended_at": lambda i: [
        _chat_session(i, started_at="now()", ended_at="now() - interval '1 minute'")
    ],
    "ck_chat_messages_role": lambda i: _chat_message(i, role="'tool'"),
    "ck_chat_messages_status": lambda i: _chat_message(i, status="'lost'"),
    "ck_chat_messages_tokens": lambda i: _chat_message(i, prompt_tokens="-1"),
    "ck_user_preferences_language": lambda i: [_preferences(i, language="'de'")],
    "ck_user_preferences_theme": lambda i: [_preferences(i, theme="'neon'")],
    "ck_user_preferences_daily_goal": lambda i: [_preferences(i, daily_goal_minutes="1441")],
    "ck_user_preferences_speech_rate": lambda i: [_preferences(i, speech_rate="2.5")],
    "uq_user_preferences_user_id": lambda i: [_preferences(i)] * 2,
    # plans
    "ck_plans_code": lambda i: [_plan(code="'Monthly Plan'")],
    "ck_plans_price_minor": lambda i: [_plan(price_minor="0")],
    "ck_plans_currency": lambda i: [_plan(currency="'usd'")],
    "ck_plans_period": lambda i: [_plan(period="'week'")],
    "uq_plans_code": lambda i: [_plan()] * 2,
    # payments
    "ck_payments_provider": lambda i: [_payment(i, provider="'paypal'")],
    "ck_payments_status": lambda i: [_payment(i, status="'paid'")],
    "ck_payments_one_item": lambda i: [_payment(i, course_id="NULL")],
    "ck_payments_amount_minor": lambda i: [_payment(i, amount_minor="0")],
    "ck_payments_currency": lambda i: [_payment(i, currency="'RUBLES'")],
    "ck_payments_refunded_minor": lambda i: [_payment(i, refunded_minor="1901")],
    "uq_payments_provider_provider_payment_id": lambda i: [
        _payment(i, provider_payment_id="'cs_1'", status="'failed'"),
        _payment(i, provider_payment_id="'cs_1'", status="'failed'"),
    ],
    "uq_payments_user_id_item_pending": lambda i: [_payment(i)] * 2,
    # payment events
    "ck_payment_events_provider": lambda i: [_event("'paypal'")],
    "uq_payment_events_provider_event_id": lambda i: [_event()] * 2,
    # subscriptions
    "ck_subscriptions_provider": lambda i: [_plan(), _subscription(i, provider="'paypal'")],
    "ck_subscriptions_status": lambda i: [_plan(), _subscription(i, status="'paused'")],
    "uq_subscriptions_provider_provider_subscription_id": lambda i: [
        _plan(),
        _subscription(i),
        _subscription(i),
    ],
    # entitlements
    "ck_entitlements_source": lambda i: [_entitlement(i, source="'gift'")],
    "ck_entitlements_scope": lambda i: [_entitlement(i, course_id="NULL")],
    "ck_entitlements_payment": lambda i: [_entitlement(i, source="'purchase'")],
    "ck_entitlements_subscription": lambda i: [
        _entitlement(i, source="'subscription'", course_id="NULL")
    ],
    "ck_entitlements_period": lambda i: [_entitlement(i, ends_at="now() - interval '1 day'")],
    "uq_entitlements_payment_id": lambda i: [
        _payment(i, provider_payment_id="'cs_1'"),
        *[_entitlement(i, source="'purchase'", payment_id="(SELECT id FROM payments)")] * 2,
    ],
    "uq_entitlements_subscription_id": lambda i: [
        _plan(),
        _subscription(i),
        *[
            _entitlement(
                i,
                source="'subscription'",
                course_id="NULL",
                subscription_id="(SELECT id FROM subscriptions)",
            )
        ]
        * 2,
    ],
    "uq_entitlements_user_id_course_id_admin": lambda i: [_entitlement(i)] * 2,
}


def constraint_of(error: IntegrityError) -> str | None:
    """The constraint PostgreSQL names in the error (asyncpg keeps it on the cause)."""
    name = getattr(error.orig.__cause__, "constraint_name", None) if error.orig else None
    return name if isinstance(name, str) else None


@pytest.mark.parametrize("constraint", sorted(CASES))
async def test_constraint_rejects_bad_row(
    connection: AsyncConnection, ids: Ids, constraint: str
) -> None:
    statements = CASES[constraint](ids)
    *setup, bad = statements
    for statement in setup:
        await connection.execute(text(statement))
    with pytest.raises(IntegrityError) as caught:
        async with connection.begin_nested():
            await connection.execute(text(bad))
    assert constraint_of(caught.value) == constraint


async def test_cases_cover_every_check_and_unique_rule(connection: AsyncConnection) -> None:
    in_schema = set(
        (
            await connection.execute(
                text(
                    "SELECT conname FROM pg_constraint c "
                    "JOIN pg_namespace n ON n.oid = c.connamespace "
                    "WHERE n.nspname = 'public' AND c.contype IN ('c', 'u') "
                    "UNION "
                    "SELECT i.relname FROM pg_index x "
                    "JOIN pg_class i ON i.oid = x.indexrelid "
                    "JOIN pg_namespace n ON n.oid = i.relnamespace "
                    "WHERE n.nspname = 'public' AND x.indisunique AND NOT x.indisprimary "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)"
                )
            )
        )
        .scalars()
        .all()
    )
    assert in_schema == set(CASES)


async def test_erased_users_free_their_email(connection: AsyncConnection, ids: Ids) -> None:
    await connection.execute(
        text("UPDATE users SET deleted_at = now() WHERE id = :id"), {"id": ids.user}
    )
    await connection.execute(
        text("INSERT INTO users (email, name) VALUES ('ada@example.org', 'New Ada')")
    )


async def test_cancelled_enrollment_allows_enrolling_again(
    connection: AsyncConnection, ids: Ids
) -> None:
    insert = text("INSERT INTO enrollments (user_id, course_id) VALUES (:user, :course)")
    params = {"user": ids.user, "course": ids.course}
    await connection.execute(insert, params)
    await connection.execute(text("UPDATE enrollments SET status = 'cancelled'"))
    await connection.execute(insert, params)
    statuses = (
        (await connection.execute(text("SELECT status FROM enrollments ORDER BY created_at")))
        .scalars()
        .all()
    )
    assert statuses == ["cancelled", "active"]


async def test_score_within_bounds_is_accepted(connection: AsyncConnection, ids: Ids) -> None:
    await connection.execute(
        text(
            "INSERT INTO quiz_attempts (user_id, quiz_content_id, attempt_no, score, max_score) "
            "VALUES (:user, 'quiz:basics', 1, 7.5, 10)"
        ),
        {"user": ids.user},
    )


async def test_every_foreign_key_leads_an_index(connection: AsyncConnection) -> None:
    """Joins and ON DELETE checks on a foreign key must not scan the referencing table."""
    unindexed = (
        (
            await connection.execute(
                text(
                    "SELECT c.conname FROM pg_constraint c "
                    "JOIN pg_namespace n ON n.oid = c.connamespace "
                    "WHERE n.nspname = 'public' AND c.contype = 'f' AND NOT EXISTS ("
                    "  SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid "
                    "  AND i.indkey[0] = c.conkey[1])"
                )
            )
        )
        .scalars()
        .all()
    )
    assert unindexed == []
