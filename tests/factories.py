"""Rows for tests, inserted through the ORM inside the test's rolled-back transaction."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.catalog.models import Category, Course
from syllabus.identity.models import User
from syllabus.kit.ids import uuid7


async def create_user(session: AsyncSession, **fields: Any) -> User:
    suffix = uuid7().hex[-12:]
    user = User(
        email=fields.pop("email", f"learner-{suffix}@example.org"),
        name=fields.pop("name", "Test Learner"),
        **fields,
    )
    session.add(user)
    await session.flush()
    return user


async def create_category(session: AsyncSession, **fields: Any) -> Category:
    suffix = uuid7().hex[-12:]
    category = Category(
        name=fields.pop("name", "Programming"), slug=fields.pop("slug", f"cat-{suffix}"), **fields
    )
    session.add(category)
    await session.flush()
    return category


async def create_course(session: AsyncSession, **fields: Any) -> Course:
    category_id = fields.pop("category_id", None)
    if category_id is None:
        category_id = (await create_category(session)).id
    slug = fields.pop("slug", f"course-{uuid7().hex[-12:]}")
    course = Course(
        content_id=f"course:{slug}",
        slug=slug,
        title=fields.pop("title", "REST API Design"),
        category_id=category_id,
        level=fields.pop("level", "Beginner"),
        language=fields.pop("language", "en"),
        currency=fields.pop("currency", "USD"),
        status=fields.pop("status", "published"),
        **fields,
    )
    session.add(course)
    await session.flush()
    return course
