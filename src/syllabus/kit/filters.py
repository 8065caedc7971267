"""Query filters shared by list endpoints: a content id of one kind, checked by its
pattern (a malformed one is a 422 problem naming the parameter before any query runs)."""

from typing import Annotated, Any

from fastapi import Query

from syllabus.kit.ids import content_id_pattern


def content_id_filter(prefix: str, description: str) -> Any:
    """A list's optional query filter on one content kind's id (``?course_id=course:x``):
    a malformed id is a 422 problem naming the parameter, before any query runs."""
    return Query(pattern=content_id_pattern(prefix), max_length=200, description=description)


CourseFilter = Annotated[
    str | None, content_id_filter("course", "Only this course's (its id, `course:<slug>`)")
]
PracticeFilter = Annotated[
    str | None, content_id_filter("practice", "Only this practice's (`practice:<slug>`)")
]
ExamFilter = Annotated[str | None, content_id_filter("exam", "Only this exam's (`exam:<slug>`)")]
