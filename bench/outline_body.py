"""The outline's body alone, no I/O: the encoded outline with the viewer's fields spliced
in (today's ``learning.service.outline_body``) against building it as dicts around the
shared outline and encoding the whole answer per request (the service until 7 Dec 2026,
kept here as the baseline: :func:`dicts_then_encode`).

A learner enrolled in a course of N items (modules of 10) with a quarter completed, one
lesson started with a saved position and one bookmarked. Both sides must produce the same
bytes; then R rounds alternate A B, each timing many calls, and the median per call is
reported with A/B. Timed in the process's CPU time (``time.process_time``), so the time
spent waiting for a core on a shared machine is not counted: the same process, no network,
where a wrk peak on that machine moves more than the difference. The baseline is slightly
favoured: its resume pointer and activity time are computed more cheaply than the old
service did (no ``Resume`` model, no time formatting).

Run: .venv/bin/python -m bench.outline_body [--items 12 40 200] [--rounds 7]
"""

import argparse
import statistics
import time
import timeit
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_json

from syllabus.content.service import encode_outline
from syllabus.learning.repository import OutlineState
from syllabus.learning.service import outline_body


def course(items: int) -> dict[str, Any]:
    """An outline shaped as MongoDB returns it, ``items`` lessons in modules of 10."""
    modules = []
    for m in range(0, items, 10):
        entries = [
            {
                "id": f"lesson:bench-{n}",
                "type": "lesson",
                "title": f"Lesson {n}: Ресурсы и методы",
                "duration_minutes": 10,
                "points": 1,
                "required": True,
                "preview": n < 2,
            }
            for n in range(m, min(m + 10, items))
        ]
        modules.append(
            {"id": f"module:bench-{m}", "title": f"Module {m}", "order": m, "items": entries}
        )
    return {
        "course_id": "course:bench",
        "title": "Bench",
        "level": "beginner",
        "version": 3,
        "modules": modules,
    }


def learner(items: int) -> OutlineState:
    at = "2026-12-07T10:00:00+00:00"
    ids = [f"lesson:bench-{n}" for n in range(items)]
    done = ids[: items // 4]
    lessons: dict[str, dict[str, Any]] = {
        i: {"status": "completed", "bookmarked": False, "position": None, "updated_at": at}
        for i in done
    }
    lessons[ids[items // 4]] = {
        "status": "started",
        "bookmarked": True,
        "position": {"seconds": 95},
        "updated_at": at,
    }
    lessons[ids[-1]] = {"status": None, "bookmarked": True, "position": None, "updated_at": at}
    return OutlineState(
        course_id=uuid.uuid4(),
        status="published",
        content_version=(3, "hash"),
        viewer_role="student",
        enrollment_status="active",
        lessons=lessons,
        done=set(done),
        passed_quizzes=set(),
        completed_required=len(done),
        total_required=items,
        percent_complete=25.0,
        last_activity_at=datetime(2026, 12, 7, 10, tzinfo=UTC),
    )


def dicts_then_encode(shared: dict[str, Any], state: OutlineState) -> bytes:
    """The replaced way: new dicts for every module and item, then one encoding of all."""
    modules = []
    for module in shared["modules"]:
        items = []
        for item in module["items"]:
            row = state.lessons.get(item["id"], {})
            passed = item["id"] in state.passed_quizzes
            status = "passed" if passed else row.get("status") or "not_started"
            mine = {"status": status, "bookmarked": bool(row.get("bookmarked", False))}
            items.append({**item, **mine, "position": row.get("position")})
        modules.append({**module, "items": items})
    order = [item["id"] for module in modules for item in module["items"]]
    started = [
        (v["updated_at"], k)
        for k, v in state.lessons.items()
        if v["status"] == "started" and k in order
    ]
    resume = {"item_id": max(started)[1], "position": state.lessons[max(started)[1]]["position"]}
    progress = {
        "percent_complete": state.percent_complete,
        "completed_required": state.completed_required,
        "total_required": state.total_required,
        "resume": resume,
        "last_activity_at": "2026-12-07T10:00:00Z",
        "enrollment_status": state.enrollment_status,
    }
    return to_json({**shared, "modules": modules, "progress": progress})


def per_call(call: Callable[[], bytes], number: int = 2000) -> float:
    """CPU seconds per call: the best of 5 batches."""
    batches = timeit.repeat(call, number=number, repeat=5, timer=time.process_time)
    return min(batches) / number


def run(items: int, rounds: int) -> dict[str, float]:
    shared, state = course(items), learner(items)
    encoded = encode_outline(shared, "3.hash")
    a = outline_body(outline=encoded, state=state)
    assert a == dicts_then_encode(shared, state), "the two ways must give the same bytes"
    times: dict[str, list[float]] = {"splice": [], "dicts": []}
    for _ in range(rounds):
        times["splice"].append(per_call(lambda: outline_body(outline=encoded, state=state)))
        times["dicts"].append(per_call(lambda: dicts_then_encode(shared, state)))
    splice, dicts = (statistics.median(times[side]) * 1e6 for side in ("splice", "dicts"))
    return {
        "items": items,
        "splice_us": splice,
        "dicts_us": dicts,
        "ratio": splice / dicts,
        "bytes": len(a),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, nargs="+", default=[12, 40, 200])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    for items in args.items:
        r = run(items, args.rounds)
        print(
            f"{r['items']:>4} items ({r['bytes']:,} bytes): spliced {r['splice_us']:.1f} µs, "
            f"dicts + encode {r['dicts_us']:.1f} µs, A/B {r['ratio']:.2f}"
        )


if __name__ == "__main__":
    main()
