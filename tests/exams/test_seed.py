"""The seeded ЕГЭ exam: its structure (19 tasks, 32 primary points, 3 h 55 min, the
official scale and minimum score) and every answer recomputed here from its prompt, so a
wrong key cannot ship. The free custom exam sits end to end."""

import json
import math
import uuid
from datetime import datetime, timedelta
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from syllabus.content.loader.run import load_folder
from syllabus.content.service import snapshots
from syllabus.exams import scoring
from tests.exams.conftest import start, submit
from tests.identity.helpers import Account, sign_up
from tests.learning.helpers import enroll

SEED = Path(__file__).resolve().parents[2] / "content_seed"
EGE = SEED / "courses/ege-math-profile/exams/ege-math-profile-2025.json"
# FIPI's recommended primary → test scale for profile mathematics (2024 and 2025 alike):
# primary 0..32; the minimum test score is 27 (primary 5).
OFFICIAL_SCALE = [0, 6, 11, 17, 22, 27, 34, 40, 46, 52, 58, 64, 70, 72, 74, 76, 78, 80]
OFFICIAL_SCALE += [82, 84, 86, 88, 90, 92, 94, 95, 96, 97, 98, 99, 100, 100, 100]


def exam() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EGE.read_text(encoding="utf-8"))
    return data


def digit_sum(n: int) -> int:
    return sum(map(int, str(n)))


def roots(f: Any, lo: float, hi: float, steps: int = 200_000) -> list[float]:
    """Sign changes and touching zeros of ``f`` on [lo, hi], to 1e-6."""
    found: list[float] = []
    xs = [lo + (hi - lo) * i / steps for i in range(steps + 1)]
    values = [f(x) for x in xs]
    for x, y in zip(xs, values, strict=True):
        if abs(y) < 1e-9 and not any(abs(x - r) < 1e-4 for r in found):
            found.append(x)
    for (x0, y0), (x1, y1) in zip(
        zip(xs, values, strict=False), zip(xs[1:], values[1:], strict=False), strict=False
    ):
        if y0 * y1 < 0 and not any(abs(x0 - r) < 1e-4 for r in found):
            a, b = x0, x1
            for _ in range(60):
                m = (a + b) / 2
                a, b = (a, m) if f(a) * f(m) <= 0 else (m, b)
            found.append((a + b) / 2)
    return sorted(found)


def mean_outcome(event: Any) -> float:
    return float(sum(map(event, product(range(1, 7), repeat=2)))) / 36


BALL = roots(lambda t: 1.6 + 8 * t - 5 * t * t - 3, 0, 2)
"""When the ball of task 9a is at 3 m: going up and coming down."""
# Every auto answer, computed from the prompt (not copied from the file).
PART_ONE: dict[str, float] = {
    "1a": math.hypot(9, 12) / 2,
    "1b": 124 / 2,
    "2a": 3 * 5 + (-4) * 12,
    "2b": math.hypot(6 + 2 * -3, 8 + 2 * 2),
    "3a": 6 * round(343 ** (1 / 3)) ** 2,
    "3b": 3**2 * 5,
    "4a": (25 - 7) / 25,
    "4b": round(mean_outcome(lambda o: o[0] + o[1] == 9), 2),
    "5a": 3 * 0.8**2 * 0.2,
    "5b": 1 - (0.3 + 0.3 - 0.12),
    "6a": math.log2(16) + 3,
    "6b": (5**2 - 1) / 4,
    "7a": math.log(54 / 2, 3),
    "7b": 5 * 7,
    "8a": 3 * 3**2 - 8 * 3 + 5,
    "8b": (7 - 6) / 2,
    "9a": BALL[1] - BALL[0],
    "9b": 220 / 4,
    "10a": 420 / (60 + 80),
    "10b": 100 * (0.15 * 4 + 0.25 * 6) / 10,
    "11a": (4 * 1.5) / -2,
    "11b": 1 * 25 - 2 * 5 + 3,
    "12a": next(x for x in roots(lambda x: 3 * x * x - 12, -5, 5) if 6 * x > 0),
    "12b": max(3 * x - x**3 for x in (-2, 0.5, *roots(lambda x: 3 - 3 * x * x, -2, 0.5))),
}


def test_the_structure_is_the_current_ege_profile_math() -> None:
    data = exam()
    tasks = data["tasks"]
    assert (data["exam_type"], data["subject"], data["duration_seconds"]) == ("ЕГЭ", "math", 14100)
    assert [t["number"] for t in tasks] == list(range(1, 20))
    assert all(
        t["part"] == 1 and t["grading"] == "auto" and t["max_points"] == 1 for t in tasks[:12]
    )
    assert [t["max_points"] for t in tasks[12:]] == [2, 3, 2, 2, 3, 4, 4]
    assert all(t["part"] == 2 and t["grading"] == "expert" for t in tasks[12:])
    assert scoring.max_primary(data) == 32
    assert data["scale"] == OFFICIAL_SCALE
    assert data["passing_score"] == 27
    assert data["grading"] == {"double_check": True, "threshold": 2}
    assert scoring.test_score(data, 5) == 27
    assert scoring.test_score(data, 4) < 27
    for task in tasks:
        items = task.get("pool") or task.get("problems")
        assert len(items) >= 2, task["number"]
    for task in tasks[12:]:
        assert max(c["points"] for c in task["criteria"]) == task["max_points"]


def test_every_part_one_key_is_the_computed_answer() -> None:
    keys = {
        q["id"].removeprefix("question:ege-exam-"): q["value"]
        for task in exam()["tasks"][:12]
        for q in task["pool"]
    }
    assert set(keys) == set(PART_ONE)
    for name, computed in PART_ONE.items():
        assert keys[name] == pytest.approx(computed, abs=1e-6), name


def test_every_part_two_answer_is_the_computed_one() -> None:
    answers = {
        (task["number"], p["id"]): p["answer"]
        for task in exam()["tasks"][12:]
        for p in task["problems"]
    }
    pi = math.pi
    # 13a: 2cos²x + 3sin x - 3 = 0 on [2π; 7π/2]
    found = roots(lambda x: 2 * math.cos(x) ** 2 + 3 * math.sin(x) - 3, 2 * pi, 3.5 * pi)
    assert [round(x / pi * 6) for x in found] == [13, 15, 17]  # 13π/6, 5π/2, 17π/6
    assert "13π/6; 5π/2; 17π/6" in answers[(13, "a")]
    # 13b: 4^x - 5·2^(x+1) + 16 = 0
    found = roots(lambda x: 4**x - 5 * 2 ** (x + 1) + 16, -5, 6)
    assert [round(x, 6) for x in found] == [1, 3]
    assert [x for x in found if math.log2(5) <= x <= 4] == pytest.approx([3])
    # 14a: regular pyramid, every edge 6: distance from A to plane SBC
    s, a, b, c = (0, 0, 3 * math.sqrt(2)), (3, -3, 0), (3, 3, 0), (-3, 3, 0)
    assert distance_to_plane(a, (s, b, c)) == pytest.approx(2 * math.sqrt(6))
    assert dot(sub(a, s), sub(c, s)) == pytest.approx(0)  # ∠ASC = 90°
    # 14b: cube with edge 4: BD₁ ⟂ (A₁C₁D), distance from B
    b, d1, a1, c1, d = (4, 0, 0), (0, 4, 4), (0, 0, 4), (4, 4, 4), (0, 4, 0)
    assert dot(sub(d1, b), sub(c1, a1)) == dot(sub(d1, b), sub(d, a1)) == 0
    assert distance_to_plane(b, (a1, c1, d)) == pytest.approx(8 * math.sqrt(3) / 3)
    # 15a: log₂(x² - 3x) ≤ 2  → [-1; 0) or (3; 4]
    sample = [x / 100 for x in range(-500, 800)]
    holds = [x for x in sample if x * x - 3 * x > 0 and math.log2(x * x - 3 * x) <= 2 + 1e-12]
    assert min(holds) == -1
    assert max(h for h in holds if h < 1) < 0
    assert max(holds) == 4
    assert min(h for h in holds if h > 1) > 3
    # 15b: (9^x - 4·3^x + 3)/(3^x - 9) ≥ 0 → [0; 1] or (2; +∞)
    holds = [x for x in sample if 3**x != 9 and (9**x - 4 * 3**x + 3) / (3**x - 9) >= -1e-12]
    assert min(holds) == 0
    assert max(h for h in holds if h < 2) == 1
    assert min(h for h in holds if h > 1.5) == pytest.approx(2.01)
    # 16a: two equal payments, 10%
    payment = Fraction(2_100_000) * Fraction(121, 100) / Fraction(21, 10)
    debt = (Fraction(2_100_000) * Fraction(11, 10) - payment) * Fraction(11, 10) - payment
    assert payment == 1_210_000
    assert debt == 0
    # 16b: differentiated payments over 10 months at 2%
    principal = Fraction(1_000_000)
    paid = sum(principal * (10 - m) / 10 * Fraction(2, 100) + principal / 10 for m in range(10))
    assert paid == 1_110_000
    # 17a: 13-14-15 triangle: area 84, distance between the centres √65/8
    p = Fraction(13 + 14 + 15, 2)
    area = math.sqrt(p * (p - 13) * (p - 14) * (p - 15))
    r, big_r = area / p, 13 * 14 * 15 / (4 * area)
    assert area == 84
    assert math.sqrt(big_r * (big_r - 2 * r)) == pytest.approx(math.sqrt(65) / 8)
    # 17b: CH² = AH·BH, area
    assert (4 + 9) * math.sqrt(4 * 9) / 2 == 39
    # 18a: |x² - 4x| = a has exactly three roots only for a = 4
    three = [
        level
        for level in (n / 4 for n in range(0, 41))
        if len(roots(lambda x, level=level: abs(x * x - 4 * x) - level, -3, 7, 20_000)) == 3
    ]
    assert three == [4]

    # 18b: y = x + a in x² + y² = 4 gives 2x² + 2ax + a² - 4 = 0: one solution iff D = 0
    def discriminant(shift: float) -> float:
        return (2 * shift) ** 2 - 8 * (shift * shift - 4)

    edge = 2 * math.sqrt(2)
    assert discriminant(edge) == pytest.approx(0, abs=1e-9)
    assert discriminant(-edge) == pytest.approx(0, abs=1e-9)
    assert all(discriminant(n / 100) > 0 for n in range(-282, 283))
    assert all(discriminant(n / 100) < 0 for n in (*range(-600, -283), *range(283, 600)))
    # 19a: n distinct naturals summing to 60
    assert max(n for n in range(1, 60) if n * (n + 1) // 2 <= 60) == 10
    assert sum([*range(1, 10), 15]) == 60
    # 19b: "good" numbers (digit sum divisible by 7)
    assert digit_sum(69_999) % 7 == digit_sum(70_000) % 7 == 0
    assert next(n for n in range(100, 1000) if digit_sum(n) % 7 == 0) == 106
    good = sum(digit_sum(n) % 7 == 0 for n in range(1, 101))
    assert f"в) {good}." in answers[(19, "b")]
    for key, wanted in {
        (13, "b"): "а) 1; 3. б) 3.",
        (14, "a"): "б) 2√6.",
        (14, "b"): "б) 8√3/3.",
        (15, "a"): "[−1; 0) ∪ (3; 4].",
        (15, "b"): "[0; 1] ∪ (2; +∞).",
        (16, "a"): "1 210 000 рублей.",
        (16, "b"): "1 000 000 рублей.",
        (17, "a"): "б) √65/8.",
        (17, "b"): "б) 39.",
        (18, "a"): "a = 4.",
        (18, "b"): "a = −2√2; a = 2√2.",
        (19, "a"): "а) да; б) нет; в) 10.",
    }.items():
        assert answers[key] == wanted, key


Vector = tuple[float, float, float]


def sub(u: Vector, v: Vector) -> Vector:
    return (u[0] - v[0], u[1] - v[1], u[2] - v[2])


def dot(u: Vector, v: Vector) -> float:
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def cross(u: Vector, v: Vector) -> Vector:
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def distance_to_plane(point: Vector, plane: tuple[Vector, Vector, Vector]) -> float:
    p0, p1, p2 = plane
    normal = cross(sub(p1, p0), sub(p2, p0))
    return abs(dot(sub(point, p0), normal)) / math.sqrt(dot(normal, normal))


async def test_the_seed_loads_with_both_exams(
    client: httpx.AsyncClient,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
) -> None:
    result = await load_folder(SEED, database=mongo, sessionmaker=catalog_sessions)
    assert result.ok, result.problems
    listed = await client.get("/api/v1/exams")
    exams = {e["id"]: e for e in listed.json()["items"]}
    assert set(exams) == {"exam:ege-math-profile-2025", "exam:rest-api-checkpoint"}
    ege = exams["exam:ege-math-profile-2025"]
    assert (ege["course_id"], ege["max_primary"], ege["passing_score"]) == (
        "course:ege-math-profile",
        32,
        27,
    )
    card = (await client.get("/api/v1/courses/ege-math-profile")).json()
    assert (card["exam_type"], card["subject"], card["grade"]) == ("ЕГЭ", "math", 11)
    free = (await client.get("/api/v1/courses/rest-api-design")).json()
    assert free["is_free"]


async def test_a_learner_sits_the_free_exam_and_two_get_their_own_ege_variants(
    client: httpx.AsyncClient,
    session: AsyncSession,
    mongo: AsyncDatabase[dict[str, object]],
    catalog_sessions: async_sessionmaker[AsyncSession],
    admin: Account,
) -> None:
    assert (await load_folder(SEED, database=mongo, sessionmaker=catalog_sessions)).ok
    learner = await sign_up(client)
    await enroll(client, learner, "course:rest-api-design")
    attempt = await start(client, learner, "exam:rest-api-checkpoint")
    assert [t["max_points"] for t in attempt["tasks"]] == [1, 1, 2, 1, 2]
    answers = [{"task": 5, "answer": "POST /loans → 201 …"}]
    saved = await client.put(
        f"/api/v1/exam-attempts/{attempt['id']}/answers",
        json={"answers": answers},
        headers=learner.headers,
    )
    assert saved.status_code == 200, saved.text
    sealed = await submit(client, learner, attempt["id"], [])
    assert sealed.status_code == 200, sealed.text
    result = sealed.json()["result"]
    assert (result["max_primary"], result["final"], result["test_score"]) == (7, False, 0)
    # The ЕГЭ course is paid: an admin enrolls two learners (no purchase needed).
    drawn = []
    for _ in range(2):
        account = await sign_up(client)
        enrolled = await client.post(
            "/api/v1/admin/enrollments",
            json={"user_id": account.id, "course_id": "course:ege-math-profile"},
            headers=admin.headers,
        )
        assert enrolled.status_code == 201, enrolled.text
        ege = await start(client, account, "exam:ege-math-profile-2025")
        assert len(ege["tasks"]) == 19
        assert datetime.fromisoformat(ege["deadline"]) - datetime.fromisoformat(
            ege["started_at"]
        ) == timedelta(seconds=14100)
        drawn.append(ege["id"])
    rows = (
        await session.execute(
            text("SELECT seed, variant FROM exam_attempts WHERE id = ANY(:ids) ORDER BY id"),
            {"ids": [uuid.UUID(a) for a in drawn]},
        )
    ).all()
    document = (await snapshots({("exam:ege-math-profile-2025", 1)}))[
        ("exam:ege-math-profile-2025", 1)
    ]
    for row in rows:  # each recorded variant is what its recorded seed draws
        assert scoring.draw(document, row.seed) == [
            {k: v for k, v in d.items() if k != "version"} for d in row.variant
        ]
    assert rows[0].seed != rows[1].seed
    assert scoring.draw(document, 1) != scoring.draw(document, 2)
