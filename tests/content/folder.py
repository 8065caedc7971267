"""A small, valid author folder written to disk, to be broken one way per test."""

import json
from pathlib import Path
from typing import Any

LESSON = """---
id: {id}
title: {title}
duration_minutes: 7
objectives:
  - Explain the idea
key_concepts: [resource]
preview: {preview}
---

# {title}

Plain Markdown text about {title}.

<Callout type="tip">
Name resources with nouns.
</Callout>

```http
GET /courses HTTP/1.1
```
"""


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def course_json(
    slug: str,
    *,
    status: str = "published",
    price: int | None = None,
    lessons: int = 2,
    category: str = "programming",
    track: str | None = "backend",
) -> dict[str, Any]:
    lesson_ids = [f"lesson:{slug}-intro", f"lesson:{slug}-more"]
    lesson_ids += [f"lesson:{slug}-extra-{n}" for n in range(lessons - 2)]
    return {
        "id": f"course:{slug}",
        "title": f"Course {slug}",
        "description": "Designing HTTP APIs with pagination and caching",
        "level": "Beginner",
        "language": "en",
        "category": category,
        "track": track,
        "status": status,
        "price_cents": price,
        "modules": [
            {
                "id": f"module:{slug}-one",
                "title": "One",
                "order": 1,
                "items": [*lesson_ids, f"quiz:{slug}-check"],
            },
            {
                "id": f"module:{slug}-two",
                "title": "Two",
                "order": 2,
                "items": [f"practice:{slug}-task"],
            },
        ],
        "completion": {"lessons": "all", "quizzes": [f"quiz:{slug}-check"]},
        "points": {"lesson": 10, "quiz": 30, "practice": 20, "items": {f"quiz:{slug}-check": 50}},
    }


def write_course(
    root: Path,
    slug: str,
    *,
    status: str = "published",
    price: int | None = None,
    lessons: int = 2,
    category: str = "programming",
    track: str | None = "backend",
    bank: bool = True,
) -> None:
    """A course with ``lessons`` lessons (at least two), a quiz and a practice; the quiz
    also asks two questions of ``make_folder``'s banks unless not ``bank``."""
    folder = root / "courses" / slug
    write_json(
        folder / "course.json",
        course_json(
            slug, status=status, price=price, lessons=lessons, category=category, track=track
        ),
    )
    lesson_dir = folder / "lessons"
    lesson_dir.mkdir(parents=True, exist_ok=True)
    (lesson_dir / "01-intro.mdx").write_text(
        LESSON.format(id=f"lesson:{slug}-intro", title="Introduction", preview="true"),
        encoding="utf-8",
    )
    (lesson_dir / "02-more.mdx").write_text(
        LESSON.format(id=f"lesson:{slug}-more", title="Going further", preview="false"),
        encoding="utf-8",
    )
    for n in range(lessons - 2):
        (lesson_dir / f"x{n:03}.mdx").write_text(
            LESSON.format(id=f"lesson:{slug}-extra-{n}", title=f"Extra {n}", preview="false"),
            encoding="utf-8",
        )
    write_json(
        folder / "quizzes" / "check.json",
        {
            "id": f"quiz:{slug}-check",
            "title": "Check",
            "pass_percent": 60,
            "max_attempts": 3,
            "questions": [
                *(["question:bank-safe-method", "question:legacy-1"] if bank else []),
                {
                    "id": f"question:{slug}-nouns",
                    "type": "true_false",
                    "prompt": "Resources are nouns.",
                    "correct": True,
                    "explanation": "Methods are the verbs.",
                },
            ],
        },
    )
    write_json(
        folder / "practices" / "task.json",
        {
            "id": f"practice:{slug}-task",
            "title": "Design endpoints",
            "language": "http",
            "checks": [{"kind": "contains", "expected": "GET /books"}],
        },
    )


FRAMEWORK: list[dict[str, Any]] = [
    {"code": "http", "title": "HTTP", "description": "The protocol"},
    {"code": "http.methods", "title": "HTTP methods", "parent": "http"},
    {"code": "http.status", "title": "Status codes", "parent": "http"},
    {"code": "rest.resources", "title": "Resources"},
]
"""A competency framework for the test folder (:func:`add_framework`)."""


def add_framework(root: Path) -> None:
    """competencies.json, and the free course's inline quiz question naming one of its
    codes: graded quizzes then move mastery and open tickets. Not part of
    :func:`make_folder`, whose line numbers the loader's error tests pin."""
    write_json(root / "competencies.json", FRAMEWORK)
    path = root / "courses" / "rest-basics" / "quizzes" / "check.json"
    quiz = json.loads(path.read_text(encoding="utf-8"))
    quiz["questions"][2]["competencies"] = ["rest.resources"]
    write_json(path, quiz)


def make_folder(root: Path, *, source: str | None = "test-content") -> Path:
    """Two published courses (one free, one paid), a draft, banks in both formats; the
    folder names ``source`` (``source.json``), or none."""
    if source is not None:
        write_json(root / "source.json", {"id": source})
    write_json(root / "categories.json", [{"slug": "programming", "name": "Programming"}])
    write_json(
        root / "tracks.json",
        [{"slug": "backend", "name": "Backend", "category": "programming"}],
    )
    write_json(
        root / "achievements.json",
        [
            {
                "code": "first-lesson",
                "title": "First steps",
                "rule": {"type": "lessons_completed", "count": 1},
            }
        ],
    )
    write_json(
        root / "questions" / "bank.json",
        [
            {
                "id": "question:bank-safe-method",
                "type": "single_choice",
                "prompt": "Which method is safe?",
                "options": [{"id": "a", "text": "POST"}, {"id": "b", "text": "GET"}],
                "correct": "b",
                "explanation": "GET does not change state.",
            },
            {
                "id": "question:bank-order",
                "type": "ordering",
                "prompt": "Order the steps.",
                "options": [
                    {"id": "x", "text": "Send"},
                    {"id": "y", "text": "Receive"},
                    {"id": "z", "text": "Parse"},
                ],
                "order": ["x", "y", "z"],
            },
            {
                "id": "question:bank-match",
                "type": "matching",
                "prompt": "Match codes.",
                "left": [{"id": "l1", "text": "200"}, {"id": "l2", "text": "404"}],
                "right": [{"id": "r1", "text": "OK"}, {"id": "r2", "text": "Not Found"}],
                "pairs": {"l1": "r1", "l2": "r2"},
            },
        ],
    )
    write_json(
        root / "questions" / "legacy.json",
        [
            {
                "id": 1,
                "category": "HTTP",
                "type": "number",
                "question": "Status code for Too Many Requests?",
                "answer": 429,
            },
            {
                "id": 2,
                "type": "text",
                "question": "Header for conditional GET?",
                "answer": ["If-None-Match"],
            },
        ],
    )
    write_course(root, "rest-basics")
    write_course(root, "paid-course", price=1900)
    write_course(root, "draft-course", status="draft")
    return root


def make_author_folder(root: Path, *, source: str, slug: str) -> Path:
    """An author's own folder: one course in a category and track of its own."""
    write_json(root / "source.json", {"id": source})
    write_json(root / "categories.json", [{"slug": f"{slug}-topics", "name": "Topics"}])
    write_json(
        root / "tracks.json",
        [{"slug": f"{slug}-track", "name": "Track", "category": f"{slug}-topics"}],
    )
    write_course(root, slug, category=f"{slug}-topics", track=f"{slug}-track", bank=False)
    return root
