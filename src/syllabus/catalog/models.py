"""The catalog: what can be listed, searched, priced and joined by analysts without
MongoDB. ``courses.content_id`` is the stable id of the course content document."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Computed, DateTime, Index, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN
from syllabus.kit.standards import CURRENCY_PATTERN, LANGUAGE_PATTERN
from syllabus.kit.vocabulary import (
    CourseLevel,
    ExamType,
    ItemType,
    PublicationStatus,
    sql_in,
    values,
)

LEVELS = values(CourseLevel)
EXAM_TYPES = values(ExamType)
ITEM_TYPES = values(ItemType)
ITEM_STATUSES = ("active", "archived")
"""Of a content_index row: archived once the item left its course's outline."""
TEXT_SEARCH_CONFIGS = {
    "ar": "arabic",
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "ne": "nepali",
    "nl": "dutch",
    "nn": "norwegian",
    "no": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
"""The PostgreSQL text-search configuration (a Snowball stemmer) of each course language
that has one; any other language is ``simple`` (lower-cased words, no stems). The SQL
function ``search_config(language)`` of migration 0027 says the same (a test holds them
together)."""
SEARCH_VECTOR = (
    "setweight(to_tsvector(search_config(language), title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector(search_config(language), description), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, description), 'B')"
)
"""Each word twice: stemmed in the course's language (``логарифмов`` finds
``логарифмы``) and as written (type-ahead prefixes: ``analy`` finds ``analytics``, which
the English stemmer cuts to ``analyt``). Title A, description B."""
COURSE_STATUSES = values(PublicationStatus)

_SLUG_CHECK = f"slug ~ '^{SLUG_PATTERN}$'"


class Category(Base, table=True):
    __tablename__ = "categories"
    __table_args__ = (CheckConstraint(_SLUG_CHECK, name="slug"),)

    name: str
    slug: str = Field(unique=True)
    source_id: str | None = None  # the content source that loaded it (content/sources.py)


class Track(Base, table=True):
    __tablename__ = "tracks"
    __table_args__ = (CheckConstraint(_SLUG_CHECK, name="slug"),)

    category_id: uuid.UUID = Field(foreign_key="categories.id", index=True)
    name: str
    slug: str = Field(unique=True)
    description: str = Field(default="", sa_column_kwargs={"server_default": ""})
    source_id: str | None = None


class Course(Base, table=True):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint(_SLUG_CHECK, name="slug"),
        CheckConstraint("content_id = 'course:' || slug", name="content_id"),
        CheckConstraint(sql_in("level", LEVELS), name="level"),
        CheckConstraint(sql_in("status", COURSE_STATUSES), name="status"),
        CheckConstraint("price_cents IS NULL OR price_cents >= 0", name="price_cents"),
        CheckConstraint(f"language ~ '{LANGUAGE_PATTERN}'", name="language"),
        CheckConstraint(f"currency ~ '{CURRENCY_PATTERN}'", name="currency"),
        CheckConstraint("lesson_count >= 0", name="lesson_count"),
        CheckConstraint(sql_in("exam_type", EXAM_TYPES), name="exam_type"),
        CheckConstraint(f"subject ~ '^{SLUG_PATTERN}$'", name="subject"),
        CheckConstraint("grade BETWEEN 1 AND 11", name="grade"),
        Index("ix_courses_exam_type_subject_grade", "exam_type", "subject", "grade"),
        CheckConstraint("duration_minutes >= 0", name="duration_minutes"),
        Index("ix_courses_status_category_id", "status", "category_id"),
        Index("ix_courses_search", "search", postgresql_using="gin"),
    )

    content_id: str = Field(unique=True)  # always 'course:' || slug, so slug is unique too
    slug: str
    title: str
    description: str = Field(default="", sa_column_kwargs={"server_default": ""})
    category_id: uuid.UUID = Field(foreign_key="categories.id", index=True)
    track_id: uuid.UUID | None = Field(default=None, foreign_key="tracks.id", index=True)
    level: str
    status: str = Field(default="draft", sa_column_kwargs={"server_default": "draft"})
    price_cents: int | None = None
    language: str  # a BCP 47 primary language subtag, checked by the loader against ISO 639
    currency: str  # ISO 4217: course.json's, else SYLLABUS_DEFAULT_CURRENCY when loaded
    exam_type: str | None = None  # ЕГЭ, ОГЭ or custom: the exam the course prepares for
    subject: str | None = None  # a slug, e.g. math
    grade: int | None = None  # school grade 1-11
    lesson_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    duration_minutes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Sum of the items' ``duration_minutes`` (lessons' own, quizzes' time limits)."""
    content_updated_at: datetime | None = Field(
        default=None,
        nullable=False,
        sa_type=DateTime(timezone=True),
        sa_column_kwargs={"server_default": text("statement_timestamp()")},
    )
    """When a load last changed the course or one of its items (not a status change)."""
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    content_hash: str | None = None
    source_id: str | None = None
    # Full-text search over title and description in English and Russian, kept by
    # PostgreSQL itself (a generated column) and indexed with GIN.
    search: str | None = Field(
        default=None,
        sa_column=Column(
            TSVECTOR,
            Computed(SEARCH_VECTOR, persisted=True),
        ),
        exclude=True,
    )


class ContentIndex(Base, table=True):
    """Every lesson, quiz and practice of every course, as loaded from content: lets the
    learning API validate ids in SQL and lets analysts join titles without MongoDB."""

    __tablename__ = "content_index"
    __table_args__ = (
        CheckConstraint(sql_in("item_type", ITEM_TYPES), name="item_type"),
        CheckConstraint(
            f"content_id ~ ('^' || item_type || ':{SLUG_PATTERN}$')", name="content_id"
        ),
        CheckConstraint(sql_in("status", ITEM_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("points >= 0", name="points"),
        Index("ix_content_index_course_id_position", "course_id", "position"),
    )

    content_id: str = Field(unique=True)
    course_id: uuid.UUID = Field(foreign_key="courses.id")  # leads the composite index
    item_type: str
    module_id: str
    module_title: str
    module_order: int
    position: int
    title: str
    version: int
    content_hash: str | None = None
    """What a read must serve: a lesson's (practice's) document hash; a quiz's covers its
    questions (``content.documents.quiz_hash``). The hot reads' cache key, with
    ``version``; NULL (loaded before it existed) is never cached."""
    points: int
    required: bool
    duration_minutes: int | None = None
    preview: bool = Field(default=False, sa_column_kwargs={"server_default": "false"})
    status: str = Field(default="active", sa_column_kwargs={"server_default": "active"})
    pass_percent: float | None = None  # quizzes: the bar, and which attempt counts
    scoring_policy: str | None = None


class ContentLoad(Base, table=True):
    """One successful ``syllabus content load``: which folder state (fingerprint of its
    files) the catalog was last synced from. ``created_at`` is when."""

    __tablename__ = "content_loads"

    fingerprint: str
    source: str
    """The folder as given on the command line."""
    source_id: str | None = None
    """The source the folder names (``source.json``); null for a folder that names none."""
    mongo_writes: int
