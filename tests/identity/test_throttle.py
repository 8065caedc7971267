"""Password guessing is throttled per account and per client address, in PostgreSQL."""

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.errors import PROBLEM_MEDIA_TYPE
from tests.identity.helpers import PASSWORD, Account, unique_email


async def attempt(
    client: httpx.AsyncClient, email: str, password: str = "wrong password"
) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def count_attempts(session: AsyncSession, email: str) -> int:
    result = await session.execute(
        text("SELECT count(*) FROM auth_login_attempts WHERE email = :e"), {"e": email}
    )
    return int(result.scalar_one())


async def test_five_failures_lock_the_account_with_retry_after(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    for _ in range(5):
        assert (await attempt(client, learner.email)).status_code == 401
    recorded = await count_attempts(session, learner.email)

    locked = await attempt(client, learner.email, PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert locked.headers["content-type"] == PROBLEM_MEDIA_TYPE
    retry_after = int(locked.headers["retry-after"])
    assert 1 <= retry_after <= 15 * 60
    assert locked.json()["retry_after"] == retry_after
    # Refused attempts are not recorded, so hammering does not extend the lock.
    assert await count_attempts(session, learner.email) == recorded


async def test_a_success_restarts_the_short_window(
    client: httpx.AsyncClient, learner: Account
) -> None:
    for _ in range(4):
        assert (await attempt(client, learner.email)).status_code == 401
    assert (await attempt(client, learner.email, PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await attempt(client, learner.email)).status_code == 401
    assert (await attempt(client, learner.email, PASSWORD)).status_code == 200


async def test_failures_older_than_the_window_do_not_count(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    for _ in range(5):
        await attempt(client, learner.email)
    await session.execute(
        text(
            "UPDATE auth_login_attempts SET created_at = created_at - interval '16 minutes' "
            "WHERE NOT succeeded"
        )
    )
    assert (await attempt(client, learner.email, PASSWORD)).status_code == 200


async def test_never_more_than_100_failures_an_hour_per_account(
    client: httpx.AsyncClient, session: AsyncSession, learner: Account
) -> None:
    """Successes restart the short window, but not the hourly cap (ASVS V6.3.1)."""
    await session.execute(
        text(
            "INSERT INTO auth_login_attempts (email, client_ip, succeeded, created_at) "
            "SELECT :e, '203.0.113.' || (n % 200), false, "
            "       statement_timestamp() - interval '50 minutes' + n * interval '1 second' "
            "FROM generate_series(1, 100) AS n"
        ),
        {"e": learner.email},
    )
    await session.execute(
        text(
            "INSERT INTO auth_login_attempts (email, client_ip, succeeded, created_at) "
            "VALUES (:e, '203.0.113.9', true, statement_timestamp() - interval '20 minutes')"
        ),
        {"e": learner.email},
    )
    locked = await attempt(client, learner.email, PASSWORD)
    assert locked.status_code == 429
    # The oldest counted failure is 50 minutes old: it leaves the hour in about 10 minutes.
    assert 8 * 60 <= int(locked.headers["retry-after"]) <= 11 * 60


async def test_one_address_guessing_many_accounts_is_throttled(
    client: httpx.AsyncClient, learner: Account
) -> None:
    for _ in range(30):
        assert (await attempt(client, unique_email("victim"))).status_code == 401
    response = await attempt(client, learner.email, PASSWORD)
    assert response.status_code == 429
