"""The ``teacher`` role (DECISIONS 3): an admin makes someone a teacher; a teacher is not
staff, so drafts stay hidden, paid content stays closed without an enrollment and the
admin routes are refused. What teachers may do (the review queues) is tested where the
queues live; the access-control matrix calls every operation as a teacher too."""

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.identity.models import STAFF_ROLES, is_staff
from tests.identity.helpers import Account, set_role, sign_up


@pytest.fixture
async def teacher(client: httpx.AsyncClient, session: AsyncSession) -> Account:
    account = await sign_up(client)
    await set_role(session, account, "teacher")
    return account


async def test_an_admin_makes_someone_a_teacher_and_lists_teachers(
    client: httpx.AsyncClient, admin: Account, learner: Account
) -> None:
    changed = await client.patch(
        f"/api/v1/admin/users/{learner.id}", json={"role": "teacher"}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "teacher"
    listed = await client.get(
        "/api/v1/admin/users", params={"role": "teacher"}, headers=admin.headers
    )
    assert [user["id"] for user in listed.json()["items"]] == [learner.id]
    me = await client.get("/api/v1/users/me", headers=learner.headers)
    assert me.json()["role"] == "teacher"


async def test_a_teacher_is_not_staff(
    client: httpx.AsyncClient, session: AsyncSession, loaded: Path, teacher: Account
) -> None:
    assert "teacher" not in STAFF_ROLES
    courses = await client.get("/api/v1/courses", headers=teacher.headers)
    assert "course:draft-course" not in [item["id"] for item in courses.json()["items"]]
    for draft in ("/api/v1/courses/draft-course", "/api/v1/lessons/lesson:draft-course-intro"):
        assert (await client.get(draft, headers=teacher.headers)).status_code == 404, draft
    paid = await client.get("/api/v1/lessons/lesson:paid-course-more", headers=teacher.headers)
    assert paid.status_code == 403
    assert paid.json()["code"] == "entitlement-required"
    admin_only = await client.get("/api/v1/admin/users", headers=teacher.headers)
    assert admin_only.status_code == 403
    row = (
        await session.execute(text("SELECT role FROM users WHERE id = :id"), {"id": teacher.id})
    ).scalar_one()
    assert row == "teacher"


async def test_the_database_refuses_roles_outside_the_list(
    session: AsyncSession, teacher: Account
) -> None:
    """The CHECK constraint is the list itself (migration 0012 added ``teacher``)."""
    async with session.begin_nested():
        await session.execute(
            text("UPDATE users SET role = 'teacher' WHERE id = :id"), {"id": teacher.id}
        )
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(
                text("UPDATE users SET role = 'grader' WHERE id = :id"), {"id": teacher.id}
            )


def test_is_staff_says_no_to_teachers() -> None:
    from syllabus.identity.models import User

    assert not is_staff(User(email="t@example.org", name="T", role="teacher"))
    assert is_staff(User(email="a@example.org", name="A", role="author"))
