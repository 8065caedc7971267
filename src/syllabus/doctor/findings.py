"""What the doctor can find, and the shape of what it reports.

Every kind is declared once here, with the section it belongs to, what it means and what
``--fix`` does about it (``None``: never repaired, a human decides), so the report, the
JSON and the operations guide all speak of the same list.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Table = Literal["courses", "content_index"]


@dataclass(frozen=True)
class Section:
    code: str
    title: str


SECTIONS = (
    Section("content", "MongoDB content against itself"),
    Section("load", "The last load"),
    Section("catalog", "Catalog cards (PostgreSQL) against course documents (MongoDB)"),
    Section("index", "content_index (PostgreSQL) against MongoDB"),
    Section("learner", "Learner data pointing at content (never changed by --fix)"),
)


@dataclass(frozen=True)
class Kind:
    code: str
    section: str
    meaning: str
    fix: str | None = None


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind("document_invalid", "content", "a content document that its schema refuses"),
        Kind("hash_mismatch", "content", "a document whose content no longer hashes to its hash"),
        Kind("outline_missing_item", "content", "a course outline lists an item with no document"),
        Kind("item_missing_course", "content", "a lesson, quiz or practice of no existing course"),
        Kind("item_outside_outline", "content", "a live item its course's outline does not list"),
        Kind("quiz_missing_question", "content", "a quiz lists a question with no document"),
        Kind("version_missing", "content", "a document with versions missing from its history"),
        Kind("version_differs", "content", "a document that differs from its own snapshot"),
        Kind("orphan_versions", "content", "snapshots of content that has no document any more"),
        Kind("fingerprint_mismatch", "load", "the stores hold different loads of the folder"),
        Kind(
            "card_without_content",
            "catalog",
            "a live course card whose course document does not exist",
            "archive the card",
        ),
        Kind("content_without_card", "catalog", "a course document with no course card"),
        Kind(
            "card_out_of_step",
            "catalog",
            "a card whose version, hash, title, description or level is not its document's",
            "copy those fields from the document",
        ),
        Kind(
            "card_not_archived",
            "catalog",
            "a card still live while its course document is archived",
            "archive the card",
        ),
        Kind(
            "card_settings_differ",
            "catalog",
            "a card whose status, price, category or track is not its document's",
        ),
        Kind(
            "achievement_missing_course",
            "catalog",
            "an achievement whose rule names a course with no document",
        ),
        Kind(
            "index_missing_content",
            "index",
            "an active content_index row whose document does not exist",
            "archive the row",
        ),
        Kind(
            "index_out_of_step",
            "index",
            "a content_index row that is not what the loader would write from MongoDB",
            "set the row from MongoDB (when its course has a card)",
        ),
        Kind(
            "content_not_indexed",
            "index",
            "a live item of a course outline with no content_index row",
            "insert the row from MongoDB (when its course has a card)",
        ),
        Kind("progress_missing_lesson", "learner", "lesson_progress rows of a missing lesson"),
        Kind("attempt_missing_quiz", "learner", "quiz_attempts rows of a missing quiz"),
        Kind(
            "attempt_missing_version",
            "learner",
            "quiz attempts that name a quiz or question version with no snapshot",
        ),
        Kind(
            "learner_course_mismatch",
            "learner",
            "progress or attempts recorded under another course than the content's",
        ),
        Kind("activity_missing_content", "learner", "activity_log events about missing content"),
    )
}


@dataclass(frozen=True)
class Repair:
    """One safe change to one catalog row, keyed by content id: an UPDATE of ``values``
    on the live row, or (``insert``) an upsert of the whole row."""

    table: Table
    content_id: str
    values: Mapping[str, Any]
    summary: str
    insert: bool = False


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    detail: str
    repair: Repair | None = None

    @property
    def section(self) -> str:
        return KINDS[self.kind].section


@dataclass
class Report:
    """Findings in the order of :data:`KINDS`, then by subject; ``repaired`` is set by
    ``--fix`` to the findings whose repair was applied."""

    findings: list[Finding]
    checked: dict[str, int] = field(default_factory=dict)
    repaired: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        order = {code: index for index, code in enumerate(KINDS)}
        self.findings.sort(key=lambda f: (order[f.kind], f.subject, f.detail))

    @property
    def left(self) -> list[Finding]:
        """What is still wrong: every finding no repair was applied to."""
        done = {id(finding) for finding in self.repaired}
        return [finding for finding in self.findings if id(finding) not in done]

    @property
    def clean(self) -> bool:
        return not self.left

    @property
    def repairable(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.repair is not None]
