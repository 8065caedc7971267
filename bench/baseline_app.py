"""Baselines for the outline and progress benchmarks: bare Starlette + asyncpg + PyMongo,
with none of the framework (FastAPI, SQLAlchemy, Beanie, pydantic models) in between.

- ``GET /outline/{slug}``: the same two queries as the service, the same JSON bytes.
- ``GET /lessons/{lesson_id}``: the service's one lesson query (visibility, access facts,
  module and neighbours, my progress) and the lesson read from MongoDB every time, the
  same JSON (the service answers from its content cache when warm).
- ``GET /quizzes/{quiz_id}``: the service's one quiz query (the catalog's key, visibility,
  the viewer's role and access facts) and the quiz and its questions read from MongoDB
  every time (two finds), the same JSON (the service answers from its content cache when
  warm).
- ``PUT /progress/{lesson_id}``: one raw asyncpg upsert of the lesson_progress row (the
  course found from content_index in the same statement) — none of the service's checks
  (enrollment, published lesson), activity log or completion rule.

Run by bench/outline.py and bench/progress.py with the same environment as the service.
"""

import hashlib
import json
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import jwt
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syllabus.content.repository import QUIZ_STATE
from syllabus.learning.repository import LESSON_STATE, OUTLINE_STATE

SQL = re.sub(
    r":(course|viewer)\b", lambda m: {"course": "$1", "viewer": "$2"}[m[1]], str(OUTLINE_STATE)
)
LESSON_SQL = re.sub(
    r":(lesson|user)\b", lambda m: {"lesson": "$1", "user": "$2"}[m[1]], str(LESSON_STATE)
)
QUIZ_SQL = re.sub(r":(item|user)\b", lambda m: {"item": "$1", "user": "$2"}[m[1]], str(QUIZ_STATE))
LESSON_FIELDS = (
    "course_id",
    "title",
    "duration_minutes",
    "objectives",
    "key_concepts",
    "preview",
    "version",
    "description",
    "meta",
    "format",
    "source",
    "imports",
    "blocks",
)
"""LessonPublic's fields after ``id``, in its order."""
STATE: dict[str, Any] = {}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _claims(request: Request) -> dict[str, Any]:
    return dict(
        jwt.decode(
            request.headers["authorization"].removeprefix("Bearer "),
            os.environ["SYLLABUS_JWT_SECRET"],
            algorithms=["HS256"],
            issuer="syllabus",
        )
    )


async def outline(request: Request) -> Response:
    claims = _claims(request)
    course_id = "course:" + request.path_params["slug"]
    async with STATE["pool"].acquire() as connection:
        row = await connection.fetchrow(SQL, course_id, claims["sub"])
    course = await STATE["mongo"]["course_content"].find_one({"_id": course_id})
    # By column name: the statement is the service's own (learning/repository.py), and its
    # columns grow; the rollup comes from it, as the service's does.
    lessons = row["lessons"]
    lessons = json.loads(lessons) if isinstance(lessons, str) else dict(lessons or {})
    passed = set(row["passed_quizzes"] or [])
    done = set(row["done"] or [])
    modules = []
    for module in course["modules"]:
        items = []
        for item in module["items"]:
            state = lessons.get(item["id"], {})
            status = "passed" if item["id"] in passed else state.get("status", "not_started")
            items.append(
                {
                    **item,
                    "status": status,
                    "bookmarked": bool(state.get("bookmarked", False)),
                    "position": state.get("position"),
                }
            )
        modules.append(
            {"id": module["id"], "title": module["title"], "order": module["order"], "items": items}
        )
    order = [item["id"] for module in course["modules"] for item in module["items"]]
    started = sorted(
        (
            (v["updated_at"], k)
            for k, v in lessons.items()
            if v["status"] == "started" and k in order
        ),
        reverse=True,
    )
    resume: dict[str, Any] | None
    if started:
        resume = {"item_id": started[0][1], "position": lessons[started[0][1]]["position"]}
    else:
        positions = [i for i, item_id in enumerate(order) if item_id in done]
        next_item = (
            order[positions[-1] + 1] if positions and positions[-1] + 1 < len(order) else order[0]
        )
        resume = {"item_id": next_item, "position": None}
    progress = None
    if row["enrollment_status"] is not None:
        progress = {
            "percent_complete": float(row["percent_complete"]),
            "completed_required": int(row["completed_required"]),
            "total_required": int(row["total_required"]),
            "resume": resume,
            "last_activity_at": _iso(row["last_activity_at"]),
            "enrollment_status": row["enrollment_status"],
        }
    body = {
        "course_id": course["_id"],
        "title": course["title"],
        "level": course["level"],
        "version": course["version"],
        "modules": modules,
        "progress": progress,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def lesson(request: Request) -> Response:
    """No access decision beyond the query's facts (the bench's learners are entitled):
    the cost of the query, the MongoDB read and the JSON."""
    claims = _claims(request)
    lesson_id = request.path_params["lesson_id"]
    async with STATE["pool"].acquire() as connection:
        row = await connection.fetchrow(LESSON_SQL, lesson_id, claims["sub"])
    document = await STATE["mongo"]["lesson_content"].find_one(
        {"_id": lesson_id}, dict.fromkeys(LESSON_FIELDS, 1)
    )
    mine = _json(row["progress"]) or {}
    # PostgreSQL's JSON drops a timestamp's trailing zeros (".12345"), the service's
    # pydantic writes six digits (".123450"): parsed and written as the service does
    updated_at = mine.get("updated_at")
    body = {
        "id": document["_id"],
        **{field: document[field] for field in LESSON_FIELDS},
        "module": _json(row["module"]),
        "previous": _json(row["previous"]),
        "next": _json(row["next"]),
        "progress": {
            "status": mine.get("status") or "not_started",
            "bookmarked": bool(mine.get("bookmarked", False)),
            "note": mine.get("note"),
            "position": mine.get("position"),
            "updated_at": _iso(datetime.fromisoformat(updated_at)) if updated_at else None,
        },
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )


def _options(items: list[dict[str, Any]], *, shuffled_for: str | None = None) -> list[Any]:
    """Id and text only; in the service's presentation order when ``shuffled_for`` names
    the question (content/service.py's ``_presentation_order``)."""
    options = [{"id": item["id"], "text": item["text"]} for item in items]
    if shuffled_for is None:
        return options
    return sorted(
        options, key=lambda o: hashlib.sha256(f"{shuffled_for}/{o['id']}".encode()).hexdigest()
    )


def _question(document: dict[str, Any]) -> dict[str, Any]:
    kind, question_id = document["type"], document["_id"]
    options = left = right = None
    if kind in ("single_choice", "multiple_choice"):
        options = _options(document["options"])
    elif kind == "ordering":
        options = _options(document["options"], shuffled_for=question_id)
    elif kind == "matching":
        left = _options(document["left"])
        right = _options(document["right"], shuffled_for=question_id)
    return {
        "id": question_id,
        "type": kind,
        "prompt": document["prompt"],
        "points": float(document["points"]),
        "options": options,
        "left": left,
        "right": right,
    }


async def quiz(request: Request) -> Response:
    """Like :func:`lesson`: the query's facts, no access decision, the quiz and its
    questions from MongoDB, the JSON."""
    claims = _claims(request)
    quiz_id = request.path_params["quiz_id"]
    async with STATE["pool"].acquire() as connection:
        await connection.fetchrow(QUIZ_SQL, quiz_id, claims["sub"])
    database = STATE["mongo"]
    document = await database["quiz_content"].find_one({"_id": quiz_id})
    ids = document.get("question_ids") or []
    found = {q["_id"]: q async for q in database["questions"].find({"_id": {"$in": ids}})}
    questions = [found[question_id] for question_id in ids if question_id in found]
    body = {
        "id": document["_id"],
        "course_id": document["course_id"],
        "title": document["title"],
        "version": document["version"],
        "pass_percent": float(document.get("pass_percent", 70.0)),
        "max_attempts": document.get("max_attempts"),
        "time_limit_seconds": document.get("time_limit_seconds"),
        "shuffle": bool(document.get("shuffle", False)),
        "review_policy": document.get("review_policy", "after_submit"),
        "scoring_policy": document.get("scoring_policy", "highest"),
        "max_score": float(sum(q["points"] for q in questions)),
        "questions": [_question(q) for q in questions],
    }
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(),
        media_type="application/json",
    )


UPSERT = """
INSERT INTO lesson_progress (user_id, course_id, lesson_content_id, status, started_at)
SELECT $1, i.course_id, i.content_id, $3, statement_timestamp() FROM content_index i
WHERE i.content_id = $2 AND i.item_type = 'lesson'
ON CONFLICT (user_id, lesson_content_id) DO UPDATE
SET status = CASE WHEN lesson_progress.status = 'completed' THEN 'completed'
                  ELSE excluded.status END
RETURNING lesson_content_id, status, updated_at
"""


async def progress(request: Request) -> Response:
    claims = _claims(request)
    body = json.loads(await request.body())
    async with STATE["pool"].acquire() as connection:
        row = await connection.fetchrow(
            UPSERT, claims["sub"], request.path_params["lesson_id"], body["status"]
        )
    data = {"lesson_id": row[0], "status": row[1], "updated_at": _iso(row[2])}
    return Response(json.dumps(data).encode(), media_type="application/json")


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    STATE["pool"] = await asyncpg.create_pool(
        os.environ["SYLLABUS_POSTGRES_URL"], min_size=2, max_size=10
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(os.environ["SYLLABUS_MONGO_URL"])
    STATE["mongo"] = client[os.environ["SYLLABUS_MONGO_DB"]]
    yield
    await STATE["pool"].close()
    await client.close()


async def live(_request: Request) -> Response:
    """The readiness probe's target, so probing never touches the measured route."""
    return Response(b"", status_code=204)


app = Starlette(
    routes=[
        Route("/outline/{slug}", outline),
        Route("/lessons/{lesson_id}", lesson),
        Route("/quizzes/{quiz_id}", quiz),
        Route("/progress/{lesson_id}", progress, methods=["PUT"]),
        Route("/live", live),
    ],
    lifespan=lifespan,
)
