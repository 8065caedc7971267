"""Exams as the API shows them. The learner's shapes (exam, task as shown, attempt) have
no field that could carry a key, an expert problem's answer or its solution; those
appear only in :class:`TaskReview` (attached when the review policy allows) and in the
reviewer's :class:`ExpertTaskItem`, which in turn has no field for a learner's identity."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import Field

from syllabus.content.documents import ExamReviewPolicy, Grading
from syllabus.content.schemas import QuestionPublic
from syllabus.kit.ids import content_id_pattern
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.kit.vocabulary import ExamType

ExamRef = Annotated[str, Path(pattern=content_id_pattern("exam"), max_length=200)]
"""An exam id in a URL path."""
MAX_TASKS = 100
MAX_EXTENDED_ANSWER = 20_000
MAX_COMMENT = 4000


class CriterionPublic(OutputSchema):
    points: int
    description: str


class TaskOutline(OutputSchema):
    number: int
    part: int
    max_points: int
    grading: Grading
    topic: str
    criteria: list[CriterionPublic] = Field(description="Expert tasks: the rubric levels.")


class PartPublic(OutputSchema):
    number: int
    title: str


class ExamSummary(OutputSchema):
    id: str
    course_id: str
    title: str
    version: int
    exam_type: ExamType
    subject: str
    year: int | None
    duration_seconds: int
    max_primary: int
    passing_score: int | None = Field(description="The test score that passes.")
    max_attempts: int | None
    available_from: datetime | None
    available_until: datetime | None
    review_policy: ExamReviewPolicy


class ExpertGradingPublic(OutputSchema):
    double_check: bool = Field(
        description="Two independent graders per expert task, and a third on a discrepancy."
    )
    threshold: int = Field(
        description="The difference in points between the two marks that calls the third."
    )


class AdaptivePublic(OutputSchema):
    strategy: Literal["weak_competencies"] = Field(
        description="Auto tasks draw among the pool questions on your weak competencies."
    )
    below: float = Field(description="A competency is weak while your mastery is below this.")


class ExamPublic(ExamSummary):
    grading: ExpertGradingPublic
    adaptive: AdaptivePublic | None = Field(description="How your variant adapts to you.")
    parts: list[PartPublic]
    tasks: list[TaskOutline]
    scale: list[int] = Field(
        description="scale[p] is the test score of primary score p (empty: percentage)."
    )


class ProblemPublic(OutputSchema):
    """An expert task's problem as asked: no answer, no solution."""

    id: str
    prompt: str


class TaskShown(OutputSchema):
    number: int
    part: int
    grading: Grading
    max_points: int
    question: QuestionPublic | None = Field(description="Auto-graded tasks.")
    problem: ProblemPublic | None = Field(description="Expert-graded tasks.")


class ResultPublic(OutputSchema):
    version: int = Field(description="Result versions are append-only; regrades add one.")
    primary_score: float
    max_primary: int
    test_score: int
    passed: bool | None = Field(description="Known once the result is final.")
    final: bool = Field(description="Every expert-graded task has been graded.")


class TaskReview(OutputSchema):
    task: int
    points: float | None
    max_points: int
    correct_answer: Any = Field(description="Auto tasks: the key.")
    official_answer: str | None = Field(description="Expert tasks: the answer.")
    solution: str | None
    comment: str | None = Field(description="Expert tasks: the grader's comment.")


class ExamAttemptSummary(OutputSchema):
    id: uuid.UUID
    exam_id: str
    exam_version: int
    attempt_no: int
    status: Literal["open", "sealed"]
    started_at: datetime
    deadline: datetime
    sealed_at: datetime | None
    sealed_by: Literal["submit", "deadline"] | None
    result: ResultPublic | None


class ExamAttemptPublic(ExamAttemptSummary):
    tasks: list[TaskShown]
    answers: dict[str, Any] = Field(description="Your latest answer per task number.")
    sheet_sha256: str | None
    review: list[TaskReview] | None = Field(
        description="Keys, solutions and per-task points, when the review policy allows."
    )


class ExamAnswer(InputSchema):
    task: int = Field(ge=1, le=MAX_TASKS)
    answer: Any = Field(
        description="Auto tasks: as the question type needs (docs/assessment.md); "
        f"expert tasks: the worked answer as text (at most {MAX_EXTENDED_ANSWER} characters).",
    )


class ExamAnswersIn(InputSchema):
    answers: Annotated[list[ExamAnswer], Field(max_length=MAX_TASKS)]


class SheetPublic(OutputSchema):
    attempt_id: uuid.UUID
    sha256: str = Field(description="SHA-256 of the sheet's canonical JSON (docs/exams.md).")
    sheet: dict[str, Any]


class ExpertProblemForGrader(OutputSchema):
    id: str
    prompt: str
    answer: str
    solution: str


class ExpertTaskItem(OutputSchema):
    """One expert-graded task of one sealed attempt, as a grader sees it: the task, the
    answer and their own mark (``status`` ``graded`` once they gave it), never who wrote
    the answer nor another grader's mark."""

    id: uuid.UUID
    exam_id: str
    task: int
    max_points: int
    criteria: list[CriterionPublic]
    problem: ExpertProblemForGrader
    answer: str | None
    status: Literal["pending", "graded"]
    points: int | None
    comment: str
    graded_at: datetime | None


class GradeIn(InputSchema):
    points: int = Field(ge=0, le=100, description="One of the task's criterion points, or 0.")
    comment: Annotated[str, Field(max_length=MAX_COMMENT)] = ""


class ScoreLine(OutputSchema):
    primary_score: float
    test_score: int
    passed: bool | None


class RegradeChange(OutputSchema):
    attempt_id: uuid.UUID
    old: ScoreLine
    new: ScoreLine


class RegradeReport(OutputSchema):
    exam_id: str
    dry_run: bool
    checked: int
    changed: list[RegradeChange]


class TaskPrep(OutputSchema):
    task: int
    topic: str
    max_points: int
    best_share: float = Field(description="Best points / max points in the attempts counted.")


class ExamPrep(OutputSchema):
    """How preparation for one exam is going (docs/exams.md, "Exam-prep progress")."""

    exam_id: str
    title: str
    attempts_counted: int = Field(description="Recent attempts whose review is open (≤ 5).")
    tasks: list[TaskPrep]
    topics_completed: int
    topics_total: int
    predicted_primary: float
    predicted_test_score: int


class ExamPrepList(OutputSchema):
    items: list[ExamPrep]
