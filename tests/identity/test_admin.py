"""What admins may do to other accounts, and what nobody else may."""

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import PASSWORD, Account, sign_up, unique_email

USERS = "/api/v1/admin/users"


async def test_students_and_anonymous_callers_cannot_use_admin_routes(
    client: httpx.AsyncClient, learner: Account, admin: Account
) -> None:
    for method, path, body in (
        ("GET", USERS, None),
        ("PATCH", f"{USERS}/{admin.id}", {"role": "student"}),
        ("DELETE", f"{USERS}/{admin.id}", None),
    ):
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, path
        student = await client.request(method, path, json=body, headers=learner.headers)
        assert student.status_code == 403, path
    me = await client.get("/api/v1/users/me", headers=admin.headers)
    assert me.json()["role"] == "admin"


async def test_list_users_pages_with_a_cursor_and_a_link_header(
    client: httpx.AsyncClient, admin: Account
) -> None:
    emails = [(await sign_up(client, email=unique_email("page"))).email for _ in range(5)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2, "email": "page-"}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(USERS, params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen += [user["email"] for user in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            assert "link" not in response.headers
            break
        assert response.headers["link"].endswith('rel="next"')
        assert f"cursor={cursor}" in response.headers["link"]
    assert seen == emails  # creation order, nobody twice, nobody missing
    assert pages == 3


async def test_list_users_filters_by_role_and_email(
    client: httpx.AsyncClient, admin: Account, learner: Account
) -> None:
    admins = (await client.get(USERS, params={"role": "admin"}, headers=admin.headers)).json()
    assert [user["id"] for user in admins["items"]] == [admin.id]
    by_email = await client.get(
        USERS, params={"email": learner.email.upper()}, headers=admin.headers
    )
    assert [user["id"] for user in by_email.json()["items"]] == [learner.id]
    wildcard = await client.get(USERS, params={"email": "%"}, headers=admin.headers)
    assert wildcard.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"role": "owner"}, "role"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyJub3QtYS11dWlkIl0"}, "cursor"),  # ["not-a-uuid"]
    ],
)
async def test_list_users_rejects_bad_parameters(
    client: httpx.AsyncClient, admin: Account, params: dict[str, str | int], field: str
) -> None:
    response = await client.get(USERS, params=params, headers=admin.headers)
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_admin_changes_role_and_is_recorded_as_the_editor(
    client: httpx.AsyncClient, session: AsyncSession, admin: Account, learner: Account
) -> None:
    response = await client.patch(
        f"{USERS}/{learner.id}",
        json={"role": "author", "email_verified": True},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["role"], response.json()["email_verified"]) == ("author", True)
    updated_by = (
        await session.execute(
            text("SELECT updated_by::text FROM users WHERE id = :id"), {"id": learner.id}
        )
    ).scalar_one()
    assert updated_by == admin.id


@pytest.mark.parametrize(
    ("body", "status"),
    [({"role": "root"}, 422), ({"name": "Renamed"}, 422), ({"password_hash": "x"}, 422)],
)
async def test_admin_update_rejects_bad_fields(
    client: httpx.AsyncClient,
    admin: Account,
    learner: Account,
    body: dict[str, object],
    status: int,
) -> None:
    response = await client.patch(f"{USERS}/{learner.id}", json=body, headers=admin.headers)
    assert response.status_code == status


async def test_admin_cannot_change_or_delete_themselves_or_unknown_users(
    client: httpx.AsyncClient, admin: Account
) -> None:
    own = await client.patch(f"{USERS}/{admin.id}", json={"role": "student"}, headers=admin.headers)
    assert own.status_code == 409
    assert (await client.delete(f"{USERS}/{admin.id}", headers=admin.headers)).status_code == 409
    unknown = "01a20000-0000-7000-8000-000000000000"
    missing = await client.patch(
        f"{USERS}/{unknown}", json={"role": "author"}, headers=admin.headers
    )
    assert missing.status_code == 404
    malformed = await client.delete(f"{USERS}/not-a-uuid", headers=admin.headers)
    assert malformed.status_code == 422


async def test_admin_delete_ends_the_account_and_its_sessions(
    client: httpx.AsyncClient, admin: Account, learner: Account
) -> None:
    response = await client.delete(f"{USERS}/{learner.id}", headers=admin.headers)
    assert response.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=learner.headers)).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": learner.refresh_token}
    )
    assert refreshed.status_code == 401
    login = await client.post(
        "/api/v1/auth/login", json={"email": learner.email, "password": PASSWORD}
    )
    assert login.status_code == 401
    listed = (await client.get(USERS, headers=admin.headers)).json()
    assert learner.id not in [user["id"] for user in listed["items"]]
