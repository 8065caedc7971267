"""The catalog: what can be listed, searched, priced and joined by analysts without
MongoDB. ``courses.content_id`` is the stable id of the course content document."""

import uuid

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field

from syllabus.db.sql import Base
from syllabus.kit.ids import SLUG_PATTERN

LEVELS = ("Beginner", "Elementary", "Intermediate", "Advanced", "Expert")
COURSE_STATUSES = ("draft", "published", "archived")

_SLUG_CHECK = f"slug ~ '^{SLUG_PATTERN}$'"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Category(Base, table=True):
    __tablename__ = "categories"
    __table_args__ = (CheckConstraint(_SLUG_CHECK, name="slug"),)

    name: str
    slug: str = Field(unique=True)


class Track(Base, table=True):
    __tablename__ = "tracks"
    __table_args__ = (CheckConstraint(_SLUG_CHECK, name="slug"),)

    category_id: uuid.UUID = Field(foreign_key="categories.id", index=True)
    name: str
    slug: str = Field(unique=True)
    description: str = Field(default="", sa_column_kwargs={"server_default": ""})


class Course(Base, table=True):
    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint(_SLUG_CHECK, name="slug"),
        CheckConstraint("content_id = 'course:' || slug", name="content_id"),
        CheckConstraint(_in("level", LEVELS), name="level"),
        CheckConstraint(_in("status", COURSE_STATUSES), name="status"),
        CheckConstraint("price_cents IS NULL OR price_cents >= 0", name="price_cents"),
        Index("ix_courses_status_category_id", "status", "category_id"),
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
