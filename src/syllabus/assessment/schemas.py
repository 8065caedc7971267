"""Attempts as learners see them. Before submission an attempt carries questions and
the learner's own answers only; the review (correct answers, explanations) is a
separate shape, attached only when the quiz's review policy allows it."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema
from typing_extensions import TypeAliasType

from syllabus.assessment.grading import MAX_TEXT_ANSWER
from syllabus.content.schemas import QuestionPublic
from syllabus.kit.ids import QuestionId
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.progress.schemas import WriteEffects

MAX_ANSWERS = 200

ANSWER_SHAPES: dict[str, Any] = {
    "oneOf": [
        {
            "title": "TextAnswer",
            "type": "string",
            "maxLength": MAX_TEXT_ANSWER,
            "description": "`single_choice`: the option id; `short_text`: the text.",
        },
        {"title": "TrueFalseAnswer", "type": "boolean", "description": "`true_false`."},
        {"title": "NumericAnswer", "type": "number", "description": "`numeric`."},
        {
            "title": "ListAnswer",
            "type": "array",
            "items": {"type": "string"},
            "description": "`multiple_choice`: the option ids picked; `ordering`: every "
            "option id, in order.",
        },
        {
            "title": "MatchingAnswer",
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "`matching`: each left id mapped to a right id.",
        },
    ],
    "description": "The shape depends on the question's `type` (docs/assessment.md); the "
    "shapes differ in JSON type, so exactly one matches.",
}
AnswerValue = TypeAliasType("AnswerValue", Annotated[Any, WithJsonSchema(ANSWER_SHAPES)])
"""An answer as clients send it. Validated against its question by ``grading.check_shape``
(which names the question in a 422), so here it is only documented: one named schema,
a ``oneOf`` by JSON type, that generated clients type as a union."""


class Answer(InputSchema):
    question_id: QuestionId
    answer: AnswerValue


class AnswersIn(InputSchema):
    answers: Annotated[list[Answer], Field(max_length=MAX_ANSWERS)]


class ReviewItem(OutputSchema):
    question_id: str
    your_answer: AnswerValue | None
    correct_answer: Annotated[
        dict[str, Any],
        # The shapes are the stored keys' (content/documents.py AnswerKey, added to the
        # components by main): documented by reference, never imported here.
        WithJsonSchema({"allOf": [{"$ref": "#/components/schemas/AnswerKey"}]}),
    ]
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
    score: float | None = Field(description="Of the current result version.")
    max_score: float | None
    passed: bool | None
    result_version: int | None = Field(
        description="Results are append-only versions: 1 at submission, a regrade adds one "
        "(docs/assessment.md); null while the attempt is open."
    )


class AttemptPublic(AttemptSummary):
    deadline: datetime | None
    questions: list[QuestionPublic]
    answers: dict[str, AnswerValue] = Field(description="Saved answers, by question id.")
    review: list[ReviewItem] | None = Field(
        description="Correct answers and explanations, when the quiz's review policy allows."
    )


class AttemptGraded(AttemptPublic, WriteEffects):
    """The graded attempt, and what submitting it caused."""


class RegradeIn(InputSchema):
    """A regrade: a dry run (the default) reports and writes nothing."""

    dry_run: bool = True


class QuizScore(OutputSchema):
    score: float
    max_score: float
    passed: bool


class QuizRegradeChange(OutputSchema):
    """One attempt whose result changes; never who sat it, nor which question."""

    attempt_id: uuid.UUID
    old: QuizScore
    new: QuizScore
    version: int = Field(description="The result version the change is (or would be).")


class QuizRegradeReport(OutputSchema):
    quiz_id: str
    dry_run: bool
    checked: int = Field(description="Submitted attempts regraded.")
    changed: list[QuizRegradeChange]
    courses_completed: int = Field(description="Enrollments the new results completed.")
    achievements_awarded: int = Field(description="Achievements the new results earned.")
