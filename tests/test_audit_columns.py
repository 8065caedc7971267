"""[1/8] item 22: every write made through the API or the CLI by a known actor records that
actor in ``created_by``/``updated_by``. Reported: NULL on every enrollment and
lesson_progress row, admin enrollments included.

The test runs a full learner + admin journey (tests/journey.py; the admin made by
``syllabus users create-admin``), then walks EVERY table of the metadata that has the
audit columns. A table no known actor writes is declared below, with the rows it may
hold without one; any other table must have rows after the journey (so a new table the
journey does not reach fails here until it does) and no NULL actor."""

import asyncio
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from syllabus.config import Settings
from syllabus.tables import metadata
from tests.ai.fixtures import Configure
from tests.identity.helpers import PASSWORD, Account
from tests.identity.test_cli_admin import create_admin
from tests.journey import learner_and_admin, sign_in

WITHOUT_A_KNOWN_ACTOR: dict[str, tuple[str, str]] = {
    "categories": ("true", "written only by `content load`, an operator's command"),
    "tracks": ("true", "written only by `content load`"),
    "courses": ("true", "written only by `content load`"),
    "content_index": ("true", "written only by `content load`"),
    "content_loads": ("true", "written only by `content load`"),
    "achievements": ("true", "written only by `content load`"),
    "competencies": ("true", "written only by `content load`"),
    "competency_links": ("true", "written only by `content load`"),
    "ai_notes": ("true", "written only by `syllabus notes generate` (and `syllabus dev`)"),
    "auth_login_attempts": ("NOT succeeded", "a failed sign-in: who typed it is unknown"),
    "auth_signup_attempts": ("NOT created", "a sign-up for a taken email: who is unknown"),
    "payment_events": ("true", "a payment provider's notification: no user sends it"),
}
"""Table → (the rows that may lack an actor, as SQL; why)."""


def audited_tables() -> list[str]:
    return sorted(
        name
        for name, table in metadata.tables.items()
        if {"created_by", "updated_by"} <= set(table.c.keys())
    )


async def create_admin_id(settings: Settings, tmp_path: Path, email: str) -> str:
    """``syllabus users create-admin``, as an operator runs it; the new account's id."""
    assert settings.postgres_url is not None
    done = await asyncio.to_thread(
        create_admin, settings.postgres_url, email, PASSWORD + "\n", tmp_path
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rsplit("id ", 1)[1].strip()


async def test_every_write_by_a_known_actor_records_it(
    live_client: httpx.AsyncClient,
    journey_loaded: Path,
    app: FastAPI,
    settings: Settings,
    tmp_path: Path,
    tutor: Configure,
) -> None:
    assert set(WITHOUT_A_KNOWN_ACTOR) <= set(audited_tables()), "a declared table is gone"
    email = "root-journey@example.org"
    admin_id = await create_admin_id(settings, tmp_path, email)
    admin = await sign_in(live_client, Account(admin_id, email, PASSWORD, "", ""))
    journey = await learner_and_admin(live_client, admin)

    async with app.state.engine.connect() as connection:

        async def scalar(sql: str, **params: object) -> object:
            return (await connection.execute(text(sql), params)).scalar_one()

        unattributed, untouched = {}, []
        for table in audited_tables():
            exempt, _why = WITHOUT_A_KNOWN_ACTOR.get(table, ("false", ""))
            if table not in WITHOUT_A_KNOWN_ACTOR and not await scalar(
                f"SELECT count(*) FROM {table}"
            ):
                untouched.append(table)
            missing = await scalar(
                f"SELECT count(*) FROM {table} "
                f"WHERE (created_by IS NULL OR updated_by IS NULL) AND NOT ({exempt})"
            )
            if missing:
                unattributed[table] = missing
        assert unattributed == {}, "rows written by a known actor without their actor"
        assert untouched == [], "extend tests/journey.py to write these tables (or declare them)"

        # And the right actor: who made each write.
        assert (
            await scalar("SELECT created_by::text FROM users WHERE id = :id", id=admin_id)
            == admin_id
        )  # the CLI's account is its own creator, like a sign-up
        learner = journey.learner.id
        assert (
            await scalar("SELECT updated_by::text FROM users WHERE id = :id", id=learner)
            == admin_id
        )  # the admin verified the email last
        paid = (
            await connection.execute(
                text("SELECT created_by::text, updated_by::text FROM enrollments WHERE id = :id"),
                {"id": journey.paid_enrollment},
            )
        ).one()
        assert tuple(paid) == (admin_id, learner)  # enrolled by the admin, cancelled by them
        completed = (
            await connection.execute(
                text(
                    "SELECT created_by::text, updated_by::text FROM enrollments "
                    "WHERE user_id = :u AND status = 'completed'"
                ),
                {"u": learner},
            )
        ).one()
        assert tuple(completed) == (learner, learner)
        assert (
            await scalar(
                "SELECT updated_by::text FROM users WHERE id = :id", id=journey.deactivated.id
            )
            == admin_id
        )
        assert (
            await scalar("SELECT updated_by::text FROM users WHERE id = :id", id=journey.erased.id)
            == journey.erased.id
        )
        assert (
            await scalar(
                "SELECT count(*) FROM lesson_progress WHERE user_id::text = :u "
                "AND created_by::text = :u AND updated_by::text = :u",
                u=learner,
            )
            == 2
        )
