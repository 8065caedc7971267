"""Submissions as the learner sees them, review items as teachers see them (no field
for the learner: the item's id is the submission's ``review_id``), and the review
actions. The multipart form of a new submission is declared by the route itself."""

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import UploadFile
from pydantic import ConfigDict, Field, RootModel, StringConstraints

from syllabus.homework.models import MAX_SCORE, SubmissionStatus
from syllabus.kit.schemas import WHITE_SPACE, InputSchema, OutputSchema

MAX_TEXT = 100_000
MAX_LINKS = 20
LINK_PATTERN = rf"^https?://[^\x00-\x1f\x7f-\x9f{WHITE_SPACE}\ufeff]+$"
"""A URL: no control character, no white space (nor a byte-order mark)."""
NO_NUL = r"^[^\x00]*$"
CONTENT_PATTERN = r"[^\t\n\v\f\r ]"
"""Text that says something: a character other than ASCII white space (the same in
JSON Schema's regex dialect and Python's)."""


Link = Annotated[str, StringConstraints(pattern=LINK_PATTERN, max_length=2000)]


class SubmissionForm(InputSchema):
    """A new submission, as ``multipart/form-data``: text or code, links and files, or
    a draft to finish later. At least one of text, links and files."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"text": "GET /books -> 200"},
            # The rule of ``service.has_content``, stated for clients (and the fuzzer).
            "anyOf": [
                {"required": ["text"], "properties": {"text": {"pattern": CONTENT_PATTERN}}},
                {"required": ["links"], "properties": {"links": {"minItems": 1}}},
                {"required": ["files"], "properties": {"files": {"minItems": 1}}},
            ],
        }
    )

    text: str = Field(default="", max_length=MAX_TEXT, pattern=NO_NUL, description="Text or code")
    links: list[Link] = Field(default_factory=list, max_length=MAX_LINKS, description="URLs")
    files: list[UploadFile] = Field(
        default_factory=list,
        description="Files (SYLLABUS_SUBMISSION_MAX_FILES at most, each at most "
        "SYLLABUS_SUBMISSION_MAX_FILE_BYTES, of SYLLABUS_SUBMISSION_MEDIA_TYPES)",
    )
    draft: bool = Field(default=False, description="Keep it as a draft to submit later")


class SubmissionFilePublic(OutputSchema):
    id: uuid.UUID
    filename: str
    media_type: str
    size_bytes: int
    sha256: str = Field(description="SHA-256 of the content, hex: what the download carries")


class RubricLine(InputSchema):
    """One criterion of a review and the points given on it."""

    criterion: str = Field(min_length=1, max_length=200, pattern=NO_NUL)
    points: float = Field(ge=0, le=1000)
    max_points: float = Field(gt=0, le=1000)
    comment: str = Field(default="", max_length=10_000, pattern=NO_NUL)


class RubricLinePublic(OutputSchema):
    criterion: str
    points: float
    max_points: float
    comment: str


class SubmissionReview(OutputSchema):
    """The teacher's judgement: a score and a rubric (reviewed) or what to fix (returned)."""

    score: float | None = Field(description=f"0 to {MAX_SCORE}; null when returned")
    rubric: list[RubricLinePublic]
    comment: str
    what_to_fix: str | None
    reviewed_at: datetime


class SubmissionPublic(OutputSchema):
    """One version of my work on a practice."""

    id: uuid.UUID
    practice_id: str
    practice_version: int
    course_id: str
    version: int = Field(description="1 for the first submission, then one more each time")
    previous_id: uuid.UUID | None = Field(description="The version this one follows")
    status: SubmissionStatus
    text: str
    links: list[str]
    files: list[SubmissionFilePublic]
    created_at: datetime
    submitted_at: datetime | None
    review: SubmissionReview | None


class SubmissionToReview(OutputSchema):
    """A submission in the review queue: the work and the practice, never who did it."""

    id: uuid.UUID = Field(description="The review id (not the learner's submission id)")
    practice_id: str
    practice_version: int
    practice_title: str
    course_id: str
    version: int
    status: SubmissionStatus
    text: str
    links: list[str]
    files: list[SubmissionFilePublic]
    submitted_at: datetime
    review: SubmissionReview | None


class StartReview(InputSchema):
    """Take a submitted piece of work into review (``in_review``)."""

    action: Literal["start"]


class GradeSubmission(InputSchema):
    """Review it: a score (or the rubric's share of points), the rubric and comments."""

    action: Literal["review"]
    score: float | None = Field(
        default=None,
        ge=0,
        le=MAX_SCORE,
        description="0 to 100; left out: the rubric's points as a percentage",
    )
    rubric: list[RubricLine] = Field(default_factory=list, max_length=50)
    comment: str = Field(default="", max_length=10_000, pattern=NO_NUL)


class ReturnSubmission(InputSchema):
    """Send it back with what to fix: the learner gets a feedback ticket and resubmits."""

    action: Literal["return"]
    what_to_fix: str = Field(min_length=1, max_length=10_000, pattern=NO_NUL)
    comment: str = Field(default="", max_length=10_000, pattern=NO_NUL)


Action = Annotated[StartReview | GradeSubmission | ReturnSubmission, Field(discriminator="action")]


class ReviewAction(RootModel[Action]):
    """Start the review, review, or return: one of the three, by ``action``."""
