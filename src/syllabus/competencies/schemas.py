"""Competencies, mastery and feedback tickets as the API shows them. A ticket names the
graded item (and its points) only in :class:`TicketItem`, which the service fills only
once the quiz's review is open to the learner (DECISIONS 14)."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from syllabus.competencies.models import MAX_ANSWER_LENGTH, EvidenceSource, TicketStatus
from syllabus.kit.schemas import InputSchema, OutputSchema
from syllabus.learning.schemas import PracticeProgressPublic


class LessonToStudy(OutputSchema):
    id: str
    title: str
    course_id: str


class CompetencyMastery(OutputSchema):
    code: str
    title: str
    parent: str | None
    mastery: float = Field(description="0 to 1, the decaying average of the evidence")
    gap_level: int = Field(ge=1, le=5, description="1 (no gap) to 5 (a large gap)")
    evidence_count: int
    observed_at: datetime
    study: list[LessonToStudy] = Field(description="Lessons that teach it")


GapCounts = dict[Literal["1", "2", "3", "4", "5"], int]


class CompetencyOverview(OutputSchema):
    """A course's live learners on one competency, counted, never named."""

    code: str
    title: str
    learners: int
    not_assessed: int
    gap_levels: GapCounts
    average_mastery: float | None


class CompetencyOverviewList(OutputSchema):
    """Every competency the course names (a bounded list, not a page)."""

    items: list[CompetencyOverview]


class TicketItem(OutputSchema):
    """The graded item the mistake was made on: shown once the review is open."""

    id: str
    version: int
    points: float
    max_points: float


class CompetencyRef(OutputSchema):
    code: str
    title: str


class FeedbackTicketPublic(OutputSchema):
    id: uuid.UUID
    status: TicketStatus
    priority: int = Field(ge=1, le=3, description="1 (fix first) to 3")
    competency: CompetencyRef
    course_id: str | None
    source: EvidenceSource
    container_id: str = Field(description="The quiz, exam or practice of the mistake")
    container_version: int
    item: TicketItem | None = Field(
        description="Which question, and its points: null until the review is open"
    )
    description: str
    revise: list[LessonToStudy]
    created_at: datetime
    closed_at: datetime | None


class TicketUpdate(InputSchema):
    status: TicketStatus


class CheckRequest(InputSchema):
    answer: str = Field(
        min_length=1,
        max_length=MAX_ANSWER_LENGTH,
        description="What the practice asks for: an SQL practice's query (one statement), "
        "an HTTP design's endpoints, as text.",
        examples=["SELECT count(*) AS orders FROM orders"],
    )

    @field_validator("answer")
    @classmethod
    def _encodable(cls, answer: str) -> str:
        """JSON can carry a lone surrogate (``"\\ud800"``); no database can store it."""
        try:
            answer.encode()
        except UnicodeEncodeError as error:
            raise ValueError("must be valid Unicode text (a lone surrogate is not)") from error
        return answer


class CheckResult(OutputSchema):
    description: str = Field(description="What this check looks at, in the learner's words")
    passed: bool
    message: str | None = Field(
        default=None, description="What differs, when it says more than the description"
    )


class CheckOutcome(OutputSchema):
    """An automatic check's outcome, recorded. Never shows the reference solution or
    the expected values; a failure opens (or refreshes) a feedback ticket on the
    practice's competencies, a pass marks the practice done (``progress``)."""

    id: uuid.UUID
    practice_id: str
    practice_version: int
    passed: bool
    message: str = Field(description="The outcome in a sentence or two")
    checks: list[CheckResult]
    progress: PracticeProgressPublic | None = Field(
        description="The practice marked done, what that caused (a pass); null on a failure"
    )
