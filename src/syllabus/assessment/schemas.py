"""Attempts as learners see them. Before submission an attempt carries questions and
the learner's own answers only; the review (correct answers, explanations) is a
separate shape, attached only when the quiz's review policy allows it."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from syllabus.content.schemas import QuestionPublic
from syllabus.kit.ids import QuestionId
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.progress.schemas import WriteEffects

MAX_ANSWERS = 200


class Answer(InputSchema):
    question_id: QuestionId
    answer: Any = Field(description="Shape depends on the question type (docs/assessment.md).")


class AnswersIn(InputSchema):
    answers: Annotated[list[Answer], Field(max_length=MAX_ANSWERS)]


class ReviewItem(OutputSchema):
    question_id: str
    your_answer: Any
    correct_answer: Any
    points: float
    max_points: float
    correct: bool
    explanation: str | None


class AttemptSummary(OutputSchema):
    id: uuid.UUID
    quiz_id: str
    attempt_no: int
    status: Literal["open", "submitted"]
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    max_score: float | None
    passed: bool | None


class AttemptPublic(AttemptSummary):
    deadline: datetime | None
    questions: list[QuestionPublic]
    answers: dict[str, Any]
    review: list[ReviewItem] | None = Field(
        description="Correct answers and explanations, when the quiz's review policy allows."
    )


class AttemptSubmitted(AttemptPublic, WriteEffects):
    """The graded attempt, and what submitting it caused."""
