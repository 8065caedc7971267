"""Plans: admins define, reprice and retire them; everyone lists them."""

from pathlib import Path

import httpx
import pytest

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.identity.helpers import Account

MONTHLY = {
    "code": "monthly",
    "title": "Everything, monthly",
    "price_minor": 99000,
    "currency": "RUB",
    "period": "month",
}


async def create(client: httpx.AsyncClient, admin: Account, **fields: object) -> httpx.Response:
    return await client.post(
        "/api/v1/admin/plans", json={**MONTHLY, **fields}, headers=admin.headers
    )


async def test_admins_define_reprice_and_retire_plans(
    client: httpx.AsyncClient, loaded: Path, admin: Account
) -> None:
    created = await create(client, admin)
    assert created.status_code == 201, created.text
    scoped = await create(
        client, admin, code="programming-yearly", period="year", category="programming"
    )
    assert scoped.status_code == 201, scoped.text
    listed = (await client.get("/api/v1/plans")).json()["items"]
    assert [(p["code"], p["category"]) for p in listed] == [
        ("monthly", None),
        ("programming-yearly", "programming"),
    ]
    repriced = await client.patch(
        "/api/v1/admin/plans/monthly", json={"price_minor": 120000}, headers=admin.headers
    )
    assert repriced.status_code == 200, repriced.text
    assert (repriced.json()["price_minor"], repriced.json()["title"]) == (120000, MONTHLY["title"])
    retired = await client.delete("/api/v1/admin/plans/monthly", headers=admin.headers)
    assert retired.status_code == 204
    assert [p["code"] for p in (await client.get("/api/v1/plans")).json()["items"]] == [
        "programming-yearly"
    ]
    # A retired plan's code is never given to another plan.
    assert (await create(client, admin)).status_code == 409
    gone = await client.patch(
        "/api/v1/admin/plans/monthly", json={"title": "x"}, headers=admin.headers
    )
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"code": "Monthly Plan"}, 422, "code"),
        ({"price_minor": 0}, 422, "price_minor"),
        ({"price_minor": -5}, 422, "price_minor"),
        ({"currency": "rub"}, 422, "currency"),
        ({"currency": "XYZ"}, 422, "currency"),
        ({"period": "week"}, 422, "period"),
        ({"title": ""}, 422, "title"),
        ({"category": "nope"}, 422, "category"),
        ({"extra": 1}, 422, "extra"),
    ],
)
async def test_bad_plans_are_refused_naming_the_field(
    client: httpx.AsyncClient,
    loaded: Path,
    admin: Account,
    fields: dict[str, object],
    status: int,
    field: str,
) -> None:
    response = await create(client, admin, **fields)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    named = {error["field"] for error in body.get("errors", [])} | {body.get("field")}
    assert field in named, body
    assert (await client.get("/api/v1/plans")).json()["items"] == []


async def test_only_admins_define_plans(
    client: httpx.AsyncClient, loaded: Path, learner: Account
) -> None:
    assert (await create(client, learner)).status_code == 403
    assert (await client.post("/api/v1/admin/plans", json=MONTHLY)).status_code == 401
    for method in ("patch", "delete"):
        response = await client.request(
            method, "/api/v1/admin/plans/monthly", json={}, headers=learner.headers
        )
        assert response.status_code == 403
    bad_code = await client.patch(
        "/api/v1/admin/plans/Not%20A%20Code", json={}, headers=learner.headers
    )
    assert bad_code.status_code in (403, 422)
