"""PostgreSQL side: the rules about a learner's record (docs/architecture.md, "Progress").

Completion and rollups, streaks and points, achievements and the one quiz-passed rule,
written once in SQL (migration 0009) and read by the API and the analytics views alike.
Learning and assessment call this package; it calls neither: it reads their tables
(``lesson_progress``, ``enrollments``, ``quiz_attempts``) in SQL, and completes an
enrollment when the completion rule says so.
"""
