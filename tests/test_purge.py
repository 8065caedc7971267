"""``syllabus purge``: rows that count for nothing any more go, the rest stay."""

import asyncio

import asyncpg

from syllabus.config import to_libpq_url
from syllabus.db import migrate
from tests.analytics.conftest import syllabus

SEED = """
INSERT INTO users (id, email, name) VALUES ('00000000-0000-7000-8000-000000000001', 'a@example.org', 'A');
INSERT INTO idempotency_keys
    (user_id, key, method, route, request_hash, response_status, response_body, created_at)
SELECT '00000000-0000-7000-8000-000000000001', 'key-' || age, 'PUT', '/x', repeat('a', 64), 200, '{}',
       statement_timestamp() - age::interval
FROM unnest(ARRAY['23 hours', '25 hours', '3 days']) AS age;
INSERT INTO auth_login_attempts (email, client_ip, succeeded, created_at)
SELECT 'nobody@example.org', '203.0.113.1', false, statement_timestamp() - age::interval
FROM unnest(ARRAY['10 minutes', '59 minutes', '61 minutes', '2 days']) AS age;
INSERT INTO auth_signup_attempts (email, client_ip, created, created_at)
SELECT 'someone@example.org', '203.0.113.1', false, statement_timestamp() - age::interval
FROM unnest(ARRAY['30 minutes', '61 minutes']) AS age;
INSERT INTO auth_known_addresses (user_id, client_ip, last_success_at)
SELECT '00000000-0000-7000-8000-000000000001', '203.0.113.' || n,
       statement_timestamp() - age::interval
FROM unnest(ARRAY['89 days', '91 days'], ARRAY[1, 2]) AS seen(age, n);
"""


async def test_purge_deletes_expired_keys_and_stale_throttle_records(
    scratch_database: str,
) -> None:
    await asyncio.to_thread(migrate.upgrade, url=scratch_database)
    connection = await asyncpg.connect(to_libpq_url(scratch_database))
    try:
        await connection.execute(SEED)
        done = await asyncio.to_thread(syllabus, "purge", database=scratch_database)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "idempotency_keys: 2 deleted",
            "auth_login_attempts: 2 deleted",
            "auth_signup_attempts: 1 deleted",  # the sign-up window: an hour by default
            "auth_known_addresses: 1 deleted",  # unused for more than 90 days
        ]
        keys = await connection.fetch("SELECT key FROM idempotency_keys")
        assert [row["key"] for row in keys] == ["key-23 hours"]
        kept = await connection.fetchval("SELECT count(*) FROM auth_login_attempts")
        assert kept == 2  # 10 and 59 minutes old: still inside the hour that throttling reads
        again = await asyncio.to_thread(syllabus, "purge", database=scratch_database)
        assert again.stdout.splitlines() == [
            "idempotency_keys: 0 deleted",
            "auth_login_attempts: 0 deleted",
            "auth_signup_attempts: 0 deleted",
            "auth_known_addresses: 0 deleted",
        ]
    finally:
        await connection.close()
