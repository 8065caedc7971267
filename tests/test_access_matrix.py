"""The access-control matrix: every operation of the app's own OpenAPI document, called
against an owner with data in every user-owned table, by everyone who is not that owner:
another student, an author, a teacher, nobody (no token), a garbage token and the owner's
expired one.

No route is listed here. Operations, their parameters, bodies and whether they take a token
come from ``create_app(...).openapi()`` at collection time, so a route added later is in
the matrix on the next run. What the test cannot work out (a path parameter it has not met,
a body field it cannot fill) fails with a message saying what to add; nothing is skipped.

The rules (docs/identity.md, "The access-control matrix"):

- token required (``security`` without ``{}``): no token or a bad one is 401 with
  ``WWW-Authenticate: Bearer``; token optional (``{}`` listed too): a bad one is 401.
- ``/admin/...`` as a student, an author or a teacher: 403.
- a path parameter naming one person's record (``OWNED_PARAMETERS``) filled with the
  owner's ids: 401, 403 or 404, never 2xx.
- every request passes validation (a 422 proves nothing about access) and nothing is a 5xx.
- the response (body and headers) carries none of the owner's identifiers or texts that
  the request did not carry itself, and the owner's export is unchanged afterwards.
- control: the rightful caller (the owner; an admin under ``/admin``) sending the very same
  requests gets none of 401/403/404/422, so the refusals above are about who asks.
"""

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from syllabus.config import Settings
from syllabus.content.loader.run import load_folder
from syllabus.errors import PROBLEM_MEDIA_TYPE
from syllabus.identity.security import create_access_token
from syllabus.kit.ids import uuid7
from syllabus.main import API_PREFIX
from tests.ai.fixtures import Configure
from tests.assessment.test_attempts import FREE, QUIZ, RIGHT, start, submit
from tests.competencies.helpers import name_competencies
from tests.content.folder import make_folder
from tests.exams.conftest import FREE_EXAM, write_exams
from tests.exams.conftest import start as start_exam
from tests.exams.conftest import submit as submit_exam
from tests.identity.helpers import PASSWORD, Account, set_role, sign_up, unique_email
from tests.isolation import (
    bind_documents,
    empty_documents,
    rolled_back,
    savepoint_session,
    savepoint_sessionmaker,
    serving,
)
from tests.learning.helpers import enroll
from tests.openapi import openapi_document
from tests.stores import ServerUrls

SCHEMA = openapi_document()

METHODS = ("get", "put", "post", "delete", "patch")
# Under these, every operation concerns someone's own data, so it must require a token.
USER_OWNED_PREFIXES = (
    "/users",
    "/admin",
    "/progress",
    "/enrollments",
    "/quiz-attempts",
    "/exam-attempts",
    "/review",
)
# Path parameters naming one person's record: only its owner, or an admin under /admin.
OWNED_PARAMETERS = frozenset(
    {
        "attempt_id",
        "exam_attempt_id",
        "enrollment_id",
        "achievement_id",
        "user_id",
        "session_id",
        "message_id",
        "payment_id",
        "subscription_id",
        "entitlement_id",
        "ticket_id",
        "submission_id",
        "study_plan_id",
    }
)
# Path parameters naming shared content: the caller acts on their own data about it.
SHARED_PARAMETERS = frozenset(
    {
        "course_ref",
        "course_id",
        "lesson_id",
        "quiz_id",
        "exam_id",
        "grade_id",
        "code",
        "practice_id",
        # A submission as the review queue knows it (never naming the learner) and its
        # files: a teacher's work item. The learner's own routes take submission_id.
        "review_id",
        "file_id",
    }
)
HOW_TO_CLASSIFY = (
    "add it to OWNED_PARAMETERS (it names one person's record: only they, or an admin "
    "under /admin, may reach it) or SHARED_PARAMETERS (it names shared content) in "
    "tests/test_access_matrix.py, and give the owner's value in the `world` fixture"
)
LESSON = "lesson:rest-basics-intro"
PAID = "course:paid-course"
PLAN = {"code": "monthly", "title": "All", "price_minor": 900, "currency": "USD", "period": "month"}
RETURN_URL = "https://learn.example/syllabus/after-payment"
# The owner's Idempotency-Key: everyone else sends it too, so a key that is not scoped to
# its user would replay the owner's stored answer to them (or refuse them because of it).
# A key names one request, so each URL gets its own (``owner_key``).
OWNER_KEY = "owner-key-0001"


def study_plan_body() -> dict[str, Any]:
    """A study plan of the free course, due in a month (a date the schema cannot know)."""
    target = datetime.now(UTC).date() + timedelta(days=30)
    return {"course_id": FREE, "target_date": target.isoformat(), "minutes_per_day": 60}


def owner_key(url: str) -> str:
    """The owner's key for one request, which every caller of the matrix sends too."""
    return f"{OWNER_KEY}-{uuid.uuid5(uuid.NAMESPACE_URL, url).hex[:12]}"


REFUSED = frozenset({401, 403, 404})

Token = Literal["required", "optional", "none"]
ANONYMOUS, GARBAGE, EXPIRED = "anonymous", "garbage token", "expired token"
STUDENT, AUTHOR, TEACHER = "another student", "author", "teacher"
# Prefixes only some roles may use, and who is refused there (403). The rightful caller
# of both is the admin; teachers work the review queues (DECISIONS 3).
ROLE_GATED_PREFIXES = {"/admin": (STUDENT, AUTHOR, TEACHER), "/review": (STUDENT, AUTHOR)}
NO_VALID_TOKEN = (ANONYMOUS, GARBAGE, EXPIRED)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: Mapping[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def under(self, prefixes: tuple[str, ...]) -> bool:
        local = self.path.removeprefix(API_PREFIX)
        return any(local == prefix or local.startswith(prefix + "/") for prefix in prefixes)

    @property
    def token(self) -> Token:
        security = self.spec.get("security") or []
        if not security:
            return "none"
        return "optional" if {} in security else "required"

    def parameters(self, where: str) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == where]

    @property
    def owned(self) -> list[str]:
        return [p["name"] for p in self.parameters("path") if p["name"] in OWNED_PARAMETERS]

    @property
    def role_gated(self) -> bool:
        return self.under(tuple(ROLE_GATED_PREFIXES))

    @property
    def refused_roles(self) -> tuple[str, ...]:
        return next(
            (roles for prefix, roles in ROLE_GATED_PREFIXES.items() if self.under((prefix,))), ()
        )

    @property
    def user_owned(self) -> bool:
        return self.under(USER_OWNED_PREFIXES) or bool(self.owned)


OPERATIONS = [
    Operation(method, path, spec)
    for path, item in SCHEMA["paths"].items()
    for method, spec in item.items()
    if method in METHODS
]


def callers(operation: Operation) -> tuple[str, ...]:
    """Public operations are called anonymously; anything taking a token by everyone."""
    if operation.token == "none":
        return (ANONYMOUS,)
    return (*NO_VALID_TOKEN, STUDENT, AUTHOR, TEACHER)


CASES = [
    pytest.param(operation, caller, id=f"{operation.name} as {caller}")
    for operation in OPERATIONS
    for caller in callers(operation)
]
GUARDED = [
    pytest.param(operation, id=operation.name)
    for operation in OPERATIONS
    if operation.owned or operation.role_gated
]


@dataclass(frozen=True)
class World:
    """The owner and their data, the other callers, and what must not reach them."""

    owner: Account
    admin: Account
    others: Mapping[str, Account]
    expired_token: str
    values: Mapping[str, tuple[str, ...]]  # parameter or field name -> the owner's values
    secrets: frozenset[str]
    export: dict[str, Any]

    def headers(self, caller: str) -> dict[str, str]:
        if caller == ANONYMOUS:
            return {}
        if caller == GARBAGE:
            return {"Authorization": "Bearer not-a-token"}
        if caller == EXPIRED:
            return {"Authorization": f"Bearer {self.expired_token}"}
        return self.others[caller].headers


async def export_of(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await client.get("/api/v1/users/me/export", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def row_ids(export: dict[str, Any]) -> set[str]:
    """The id of every row of every export section, whatever sections exist."""
    ids: set[str] = set()
    for section in export.values():
        rows = section if isinstance(section, list) else [section]
        ids |= {str(row["id"]) for row in rows if isinstance(row, dict) and row.get("id")}
    return ids


async def build_world(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> World:
    """An owner enrolled, with progress (completed, noted, bookmarked, a position), a
    submitted and an open quiz attempt and an achievement; the other student, the author
    and the teacher enrolled in the same course, so shared-content writes reach their own
    data."""
    owner = await sign_up(client, email=unique_email("owner"))
    student, author, teacher, admin = [await sign_up(client) for _ in range(4)]
    await set_role(session, author, "author")
    await set_role(session, teacher, "teacher")
    await set_role(session, admin, "admin")
    marker = uuid7().hex
    name, note, position = f"Owner {marker[-8:]}", f"owner's note {marker}", f"pos-{marker}"
    renamed = await client.patch("/api/v1/users/me", json={"name": name}, headers=owner.headers)
    assert renamed.status_code == 200, renamed.text
    enrollment = await enroll(client, owner, FREE)
    for account in (student, author, teacher):
        await enroll(client, account, FREE)
    saved = await client.put(
        f"{API_PREFIX}/progress/lessons/{LESSON}",
        json={
            "status": "completed",
            "bookmarked": True,
            "note": note,
            "position": {"at": position},
        },
        headers={**owner.headers, "Idempotency-Key": owner_key(f"/progress/lessons/{LESSON}")},
    )
    assert saved.status_code == 200, saved.text
    submitted = (await start(client, owner)).json()["id"]
    # The body the matrix sends (no answers), so the owner's own replay is a 200.
    graded = await submit(
        client, owner, submitted, [], owner_key(f"/quiz-attempts/{submitted}/submit")
    )
    assert graded.status_code == 200, graded.text
    opened = (await start(client, owner)).json()["id"]
    autosaved = await client.put(
        f"/api/v1/quiz-attempts/{opened}/answers",
        json={"answers": RIGHT[:1]},
        headers=owner.headers,
    )
    assert autosaved.status_code == 200, autosaved.text
    sealed_exam = (await start_exam(client, owner))["id"]
    saved = await client.put(
        f"/api/v1/exam-attempts/{sealed_exam}/answers",
        json={"answers": [{"task": 4, "answer": f"owner's answer {marker}"}]},
        headers=owner.headers,
    )
    assert saved.status_code == 200, saved.text
    # The body the matrix sends (no answers), so the owner's own replay is a 200.
    sealed_ok = await submit_exam(
        client, owner, sealed_exam, [], owner_key(f"/exam-attempts/{sealed_exam}/submit")
    )
    assert sealed_ok.status_code == 200, sealed_ok.text
    open_exam = (await start_exam(client, owner))["id"]
    authors = (await start_exam(client, author))["id"]
    author_sealed = await submit_exam(client, author, authors, [{"task": 4, "answer": "author's"}])
    assert author_sealed.status_code == 200, author_sealed.text
    queue = await client.get("/api/v1/review/exam-tasks", headers=admin.headers)
    [grade] = [item["id"] for item in queue.json()["items"] if item["answer"] == "author's"]
    earned = await client.get("/api/v1/users/me/achievements", headers=owner.headers)
    assert earned.status_code == 200, earned.text
    achievement = earned.json()["items"][0]["achievement"]["id"]
    tickets = await client.get("/api/v1/users/me/feedback-tickets", headers=owner.headers)
    assert tickets.status_code == 200, tickets.text
    ticket = tickets.json()["items"][0]["id"]
    study_plan = await client.post(
        "/api/v1/users/me/study-plans", json=study_plan_body(), headers=owner.headers
    )
    assert study_plan.status_code == 201, study_plan.text
    chat = await client.post(
        f"{API_PREFIX}/chat/sessions",
        json={"course_id": FREE, "lesson_id": LESSON},
        headers=owner.headers,
    )
    assert chat.status_code == 201, chat.text
    # A message as the chat stores it (asking needs a model server, which a function-scoped
    # fixture provides to each test, not to this module's world).
    message = (
        await session.execute(
            text(
                "INSERT INTO chat_messages (session_id, user_id, role, content, citations) "
                "VALUES (:s, :u, 'user', :c, '[]') RETURNING id"
            ),
            {"s": chat.json()["id"], "u": owner.id, "c": f"owner's question {marker}"},
        )
    ).scalar_one()
    # Commerce: a pending payment, an admin grant of the paid course, a subscription.
    plan = await client.post("/api/v1/admin/plans", json=PLAN, headers=admin.headers)
    assert plan.status_code == 201, plan.text
    paying = await client.post(
        "/api/v1/checkout",
        json={"course_id": PAID, "provider": "sandbox", "return_url": RETURN_URL},
        headers=owner.headers,
    )
    assert paying.status_code == 201, paying.text
    granted = await client.post(
        "/api/v1/admin/entitlements",
        json={"user_id": owner.id, "course_id": PAID},
        headers=admin.headers,
    )
    assert granted.status_code == 201, granted.text
    subscription = (
        await session.execute(
            text(
                "INSERT INTO subscriptions (user_id, plan_id, provider, provider_subscription_id, "
                "current_period_end, state_at) SELECT :owner, id, 'sandbox', 'sbx_world', "
                "now() + interval '30 days', now() FROM plans RETURNING id"
            ),
            {"owner": owner.id},
        )
    ).scalar_one()
    # Homework: the owner's submission with a file, reviewed already (so a teacher's
    # review call on it is a 409 that changes nothing).
    handed_in = await client.post(
        f"{API_PREFIX}/practices/practice:rest-basics-task/submissions",
        data={"text": f"owner's homework {marker}"},
        files=[("files", ("owner.txt", f"owner's file {marker}".encode(), "text/plain"))],
        headers=owner.headers,
    )
    assert handed_in.status_code == 201, handed_in.text
    [in_queue] = (await client.get("/api/v1/review/submissions", headers=admin.headers)).json()[
        "items"
    ]
    reviewed = await client.post(
        f"/api/v1/review/submissions/{in_queue['id']}",
        json={"action": "review", "score": 80},
        headers=admin.headers,
    )
    assert reviewed.status_code == 200, reviewed.text
    export = await export_of(client, owner)
    sections = (
        "enrollments",
        "lesson_progress",
        "quiz_attempts",
        "achievements",
        "exam_attempts",
        "payments",
        "entitlements",
        "subscriptions",
    )
    assert [len(export[section]) for section in sections] == [1, 1, 2, 1, 2, 1, 1, 1], export
    assert export["feedback_tickets"], export
    assert [len(export[s]) for s in ("study_plans", "study_plan_versions")] == [1, 1], export
    return World(
        owner=owner,
        admin=admin,
        others={STUDENT: student, AUTHOR: author, TEACHER: teacher},
        expired_token=create_access_token(
            user_id=uuid.UUID(owner.id),
            role="student",
            secret=settings.jwt_secret.get_secret_value(),
            lifetime=timedelta(minutes=-1),
        ),
        values={
            "attempt_id": (opened, submitted),
            "enrollment_id": (str(enrollment["id"]),),
            "achievement_id": (achievement,),
            "ticket_id": (ticket,),
            "study_plan_id": (study_plan.json()["id"],),
            "user_id": (owner.id,),
            "session_id": (chat.json()["id"],),
            "message_id": (str(message),),
            "course_ref": (FREE,),
            "course_id": (FREE,),
            "lesson_id": (LESSON,),
            "quiz_id": (QUIZ,),
            "exam_attempt_id": (open_exam, sealed_exam),
            "exam_id": (FREE_EXAM,),
            "grade_id": (grade,),
            "payment_id": (paying.json()["payment_id"],),
            "entitlement_id": (granted.json()["id"],),
            "subscription_id": (str(subscription),),
            "code": ("monthly",),
            "practice_id": ("practice:rest-basics-task",),
            "submission_id": (handed_in.json()["id"],),
            "review_id": (in_queue["id"],),
            "file_id": (in_queue["files"][0]["id"],),
            "Idempotency-Key": (OWNER_KEY,),
        },
        secrets=frozenset(
            {owner.id, owner.email, name, note, position, owner.access_token}
            | {f"owner's question {marker}"}
            | {owner.refresh_token}
            # A teacher reviewing the owner's submission sees its files: their ids are not
            # the owner's secret (the submission's own id is: teachers use review_id).
            | (row_ids(export) - {str(f["id"]) for f in export["submission_files"]})
        ),
        export=export,
    )


@dataclass(frozen=True)
class Stage:
    world: World
    connection: AsyncConnection


@pytest.fixture(scope="module")
async def stage(
    app: FastAPI,
    engine: AsyncEngine,
    settings: Settings,
    servers: ServerUrls,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stage]:
    """The content and the world, built once for the module inside a transaction that is
    rolled back at its end; each test is rolled back to it (``http``). One world per test
    would cost a second of sign-ups each, for some 200 tests."""
    database = await bind_documents(app)
    await empty_documents()
    try:
        async with rolled_back(engine, role=servers.app) as connection:
            folder = write_exams(make_folder(tmp_path_factory.mktemp("content")))
            name_competencies(folder)  # the owner's failed attempt opens feedback tickets
            sessions = savepoint_sessionmaker(connection)
            loaded = await load_folder(folder, database=database, sessionmaker=sessions)
            assert loaded.ok, loaded.problems
            session = savepoint_session(connection)
            try:
                async with serving(app, session) as client:
                    world = await build_world(client, session, settings)
            finally:
                await session.close()
            yield Stage(world=world, connection=connection)
    finally:
        await empty_documents()


@pytest.fixture
def world(stage: Stage) -> World:
    return stage.world


@pytest.fixture
async def http(app: FastAPI, stage: Stage, tutor: Configure) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the world; whatever the test writes is rolled back after it."""
    nested = await stage.connection.begin_nested()
    session = savepoint_session(stage.connection)
    try:
        async with serving(app, session) as client:
            yield client
    finally:
        await session.close()
        await nested.rollback()


# Bodies the schema cannot fill meaningfully as a whole (a free course is refused where a
# paid one is needed; a plan needs a price and a currency), by operation.
BODIES: dict[str, Any] = {
    f"POST {API_PREFIX}/checkout": lambda world: {
        "course_id": PAID,
        "provider": "sandbox",
        "return_url": RETURN_URL,
    },
    f"POST {API_PREFIX}/admin/entitlements": lambda world: {
        "user_id": world.owner.id,
        "course_id": PAID,
    },
    f"POST {API_PREFIX}/admin/plans": lambda world: {**PLAN, "code": "yearly", "period": "year"},
    f"POST {API_PREFIX}/users/me/study-plans": lambda world: study_plan_body(),
}

# Fields the JSON schema cannot fill meaningfully, by name, for any caller.
FIELD_VALUES: dict[str, Any] = {"current_password": PASSWORD, "username": "someone@example.org"}


def resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def sample(schema: Mapping[str, Any], *, name: str, world: World, where: str) -> Any:
    """A valid value for a parameter or field: the owner's value when the name is one of
    theirs, else the schema's own default, example or first choice, else the smallest
    value of its type (objects get their required properties only)."""
    if name in world.values:
        return world.values[name][0]
    if name in FIELD_VALUES:
        return FIELD_VALUES[name]
    schema = resolve(schema)
    for key in ("default", "const", "example"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    for key in ("anyOf", "oneOf", "allOf"):
        choices = [c for c in schema.get(key, []) if resolve(c).get("type") != "null"]
        if choices:
            return sample(choices[0], name=name, world=world, where=where)
    return smallest(schema, name=name, world=world, where=where)


STRING_FORMATS = (None, "password", "uuid", "email", "date-time")


def smallest(schema: Mapping[str, Any], *, name: str, world: World, where: str) -> Any:
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            field: sample(properties[field], name=field, world=world, where=where)
            for field in schema.get("required", [])
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        return (
            [sample(schema["items"], name=name, world=world, where=where)] * count if count else []
        )
    if kind in ("boolean", "integer", "number"):
        return schema.get("minimum", 0) if kind != "boolean" else False
    if kind == "string" and "pattern" not in schema and schema.get("format") in STRING_FORMATS:
        length = max(schema.get("minLength", 0), 12)
        return {
            "uuid": str(uuid7()),
            "email": unique_email("matrix"),
            "date-time": "2026-01-01T00:00:00Z",
        }.get(str(schema.get("format")), "x" * min(length, schema.get("maxLength", length)))
    pytest.fail(
        f"{where}: cannot make a valid value for {name!r} from {dict(schema)}: give its "
        "schema an example, or add the name to FIELD_VALUES (any caller) or to the "
        "`world` fixture's values (the owner's value) in tests/test_access_matrix.py"
    )


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    params: dict[str, Any]
    headers: dict[str, str]
    json: Any = None
    form: dict[str, Any] | None = None

    @property
    def carried(self) -> str:
        """Everything the caller sent: an answer echoing it reveals nothing."""
        return f"{self.url} {json.dumps([self.params, self.json, self.form], default=str)}"

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.request(
            self.method,
            self.url,
            params=self.params,
            headers=self.headers,
            json=self.json,
            data=self.form,
        )


def calls(operation: Operation, world: World, headers: dict[str, str]) -> Iterator[Call]:
    """The operation's requests: one per combination of the owner's path values."""
    where = operation.name
    names = [p["name"] for p in operation.parameters("path")]
    for name in names:
        if name not in OWNED_PARAMETERS | SHARED_PARAMETERS or name not in world.values:
            pytest.fail(f"{where}: path parameter {name!r} is not classified: {HOW_TO_CLASSIFY}")
    if any(p.get("required") for p in operation.parameters("cookie")):
        pytest.fail(f"{where}: required cookie parameters are not supported by the matrix")

    def sent(kind: str) -> dict[str, Any]:
        """Required parameters, and optional ones naming something of the owner's."""
        return {
            p["name"]: sample(p["schema"], name=p["name"], world=world, where=where)
            for p in operation.parameters(kind)
            if p.get("required") or p["name"] in world.values
        }

    body: dict[str, Any] = {}
    content = operation.spec.get("requestBody", {}).get("content", {})
    if operation.name in BODIES:
        body["json"] = BODIES[operation.name](world)
    elif "application/json" in content:
        body["json"] = sample(
            content["application/json"]["schema"], name="body", world=world, where=where
        )
    elif "multipart/form-data" in content:  # fields only: files are the owner's own test
        form = content["multipart/form-data"]["schema"]
        body["form"] = sample(form, name="body", world=world, where=where)
    elif "application/x-www-form-urlencoded" in content:
        form = content["application/x-www-form-urlencoded"]["schema"]
        body["form"] = sample(form, name="body", world=world, where=where)
    elif content:
        pytest.fail(f"{where}: cannot build a body of type {sorted(content)}")
    for values in itertools.product(*(world.values[name] for name in names)):
        url = operation.path.format(**dict(zip(names, values, strict=True)))
        header = sent("header")
        if "Idempotency-Key" in header:
            header["Idempotency-Key"] = owner_key(url.removeprefix(API_PREFIX))
        yield Call(
            method=operation.method.upper(),
            url=url,
            params=sent("query"),
            headers={**header, **headers},
            **body,
        )


def allowed(operation: Operation, caller: str) -> frozenset[int] | None:
    """The statuses this caller may get, or ``None`` when any non-error answer is fine
    (the caller acts on their own data)."""
    if caller in NO_VALID_TOKEN and operation.token == "required":
        return frozenset({401})
    if caller in (GARBAGE, EXPIRED) and operation.token == "optional":
        return frozenset({401})
    if caller in operation.refused_roles:
        return frozenset({403})
    if operation.role_gated and not operation.owned:
        return None  # a teacher working a review queue: their own work
    if operation.owned or operation.role_gated:
        return REFUSED
    return None


def leaks(response: httpx.Response, call: Call, world: World) -> list[str]:
    answer = response.text + "".join(f"\n{k}: {v}" for k, v in response.headers.items())
    return sorted(s for s in world.secrets if s in answer and s not in call.carried)


@pytest.mark.parametrize("operation", [pytest.param(o, id=o.name) for o in OPERATIONS])
def test_the_openapi_declares_who_may_call(operation: Operation) -> None:
    for name in (p["name"] for p in operation.parameters("path")):
        if name not in OWNED_PARAMETERS | SHARED_PARAMETERS:
            pytest.fail(
                f"{operation.name}: path parameter {name!r} is not classified: {HOW_TO_CLASSIFY}"
            )
    if operation.user_owned:
        assert operation.token == "required", (
            f"{operation.name} concerns someone's own data, so its OpenAPI operation must "
            "require a token (`security` without `{}`): depend on CurrentUser or AdminUser"
        )
    responses = operation.spec["responses"]
    if operation.token != "none":
        assert "401" in responses, f"{operation.name} takes a token but does not document 401"
    if operation.role_gated:
        assert "403" in responses, f"{operation.name} is for admins but does not document 403"


def test_the_matrix_sees_what_it_guards() -> None:
    """A changed prefix or document shape must not leave the matrix with nothing to do."""
    for prefix in USER_OWNED_PREFIXES:
        assert any(o.under((prefix,)) for o in OPERATIONS), prefix
    assert {name for o in OPERATIONS for name in o.owned} == OWNED_PARAMETERS


@pytest.mark.parametrize(("operation", "caller"), CASES)
async def test_nobody_else_reaches_the_owners_data(
    http: httpx.AsyncClient, world: World, operation: Operation, caller: str
) -> None:
    for call in calls(operation, world, world.headers(caller)):
        response = await call.send(http)
        status = response.status_code
        seen = f"{call.method} {call.url} as {caller}: {status} {response.text[:400]}"
        assert status < 500, seen
        assert status != 422, (
            f"{seen}\nthe request must pass validation to test access: if it is invalid, "
            "fix its value in FIELD_VALUES or the world; if it is valid, the API judged it "
            "by someone else's state"
        )
        expected = allowed(operation, caller)
        if expected is not None:
            hint = ""
            if caller == ANONYMOUS and operation.token == "required":
                hint = (
                    "\nif anonymous calls are meant to work, declare it: "
                    "openapi_extra=ANONYMOUS_TOO (identity/deps.py)"
                )
            assert status in expected, f"{seen}\nexpected one of {sorted(expected)}{hint}"
        if status >= 400:
            assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, seen
        if expected == frozenset({401}):
            assert response.headers.get("www-authenticate") == "Bearer", seen
        assert not leaks(response, call, world), f"{seen}\nleaks {leaks(response, call, world)}"
        assert await export_of(http, world.owner) == world.export, (
            f"{seen}\nchanged the owner's data"
        )


@pytest.mark.parametrize("operation", GUARDED)
async def test_the_rightful_caller_gets_through(
    http: httpx.AsyncClient, world: World, operation: Operation
) -> None:
    """The same requests from the owner (an admin under /admin) are not refused, so the
    ids are real and the bodies valid: the refusals above are about who asks."""
    rightful = world.admin if operation.role_gated else world.owner
    for call in calls(operation, world, rightful.headers):
        response = await call.send(http)
        seen = f"{call.method} {call.url}: {response.status_code} {response.text[:400]}"
        assert response.status_code < 500, seen
        assert response.status_code not in {*REFUSED, 422}, seen
