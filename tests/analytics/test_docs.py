"""Every question answered in docs/analytics.md runs against a seeded dataset, and
returns exactly the columns the document says."""

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.identity.helpers import Account

DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"
QUERY = re.compile(r"### (\d+)\. (.+?)\n\n```sql\n-- columns: (.+?)\n(.+?)```", re.S)
QUESTIONS = QUERY.findall(DOC.read_text(encoding="utf-8"))


def test_the_document_answers_at_least_ten_questions() -> None:
    assert len(QUESTIONS) >= 10


@pytest.mark.parametrize(
    ("number", "question", "columns", "sql"), QUESTIONS, ids=[q[0] for q in QUESTIONS]
)
async def test_documented_query_runs_with_its_columns(
    session: AsyncSession,
    dataset: list[Account],
    number: str,
    question: str,
    columns: str,
    sql: str,
) -> None:
    result = await session.execute(text(sql))
    assert list(result.keys()) == [c.strip() for c in columns.split(",")], question
    assert result.all() is not None
