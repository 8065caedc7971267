"""What the doctor prints, for people and for machines, on a small drift."""

import re
from pathlib import Path
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.doctor import service
from syllabus.doctor.findings import KINDS
from syllabus.doctor.report import as_json, as_text
from tests.doctor.test_doctor import add_card, add_progress, sql
from tests.identity.helpers import Account

Database = AsyncDatabase[dict[str, Any]]
HEADER = (
    "Drift: 4 findings, 2 repairable with --fix.\n"
    "Checked 23 documents, 23 snapshots, 4 cards, 12 index rows, 2 learner rows.\n"
    "\n"
)
LEARNERS = """

Learner data pointing at content (never changed by --fix)
  progress_missing_lesson (2): lesson_progress rows of a missing lesson
    lesson:never-either: 1 row(s) of 1 learner(s) under course:rest-basics, 0 with a note or bookmark
    … and 1 more"""


async def drift(session: AsyncSession, learner: Account) -> None:
    await add_card(session, "course:ghost")
    await sql(session, "UPDATE content_index SET points = 1 WHERE content_id LIKE 'practice:rest%'")
    await add_progress(session, learner.id, "lesson:never-was")
    await add_progress(session, learner.id, "lesson:never-either")


async def test_the_text_report_groups_by_kind_with_counts_and_examples(
    loaded: Path, learner: Account, session: AsyncSession, mongo: Database
) -> None:
    await drift(session, learner)
    report = await service.examine(session=session, database=mongo)
    assert as_text(report, examples=1) == (
        HEADER + "Catalog cards (PostgreSQL) against course documents (MongoDB)\n"
        "  card_without_content (1): a live course card whose course document does not exist\n"
        "    --fix: archive the card (1 of 1)\n"
        "    course:ghost: published, 0 live enrollment(s)\n"
        "\n"
        "content_index (PostgreSQL) against MongoDB\n"
        "  index_out_of_step (1): a content_index row that is not what the loader would write"
        " from MongoDB\n"
        "    --fix: set the row from MongoDB (when its course has a card) (1 of 1)\n"
        "    practice:rest-basics-task: points 1 → 20" + LEARNERS
    )

    fixed = await service.repair(session=session, database=mongo)
    assert as_text(fixed, examples=1) == (
        HEADER + "Repaired (2):\n"
        "  card_without_content course:ghost: archived (was published)\n"
        "  index_out_of_step practice:rest-basics-task: set points from MongoDB\n"
        "\n"
        "Left for a human: 2 findings of 1 kind." + LEARNERS
    )
    assert fixed.left == [f for f in fixed.findings if f.kind == "progress_missing_lesson"]
    assert not fixed.clean


async def test_the_json_report_lists_every_finding(
    loaded: Path, learner: Account, session: AsyncSession, mongo: Database
) -> None:
    await drift(session, learner)
    fixed = as_json(await service.repair(session=session, database=mongo))
    assert fixed["clean"] is False
    assert fixed["counts"] == {
        "card_without_content": 1,
        "index_out_of_step": 1,
        "progress_missing_lesson": 2,
    }
    assert (fixed["repaired"], fixed["left"]) == (2, 2)
    assert fixed["findings"][0] == {
        "kind": "card_without_content",
        "section": "catalog",
        "subject": "course:ghost",
        "detail": "published, 0 live enrollment(s)",
        "fix": "archived (was published)",
        "repaired": True,
    }
    assert [(f["subject"], f["fix"], f["repaired"]) for f in fixed["findings"][2:]] == [
        ("lesson:never-either", None, False),
        ("lesson:never-was", None, False),
    ]
    again = as_json(await service.examine(session=session, database=mongo))
    assert again["counts"] == {"progress_missing_lesson": 2}


def test_every_kind_is_explained_in_the_operations_guide() -> None:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    # Only the doctor's table: other tables of the guide (metrics) have code in column one.
    table = guide.split("#### What each finding means", 1)[1].split("\n#", 1)[0]
    assert set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE)) == set(KINDS)
