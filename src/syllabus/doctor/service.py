"""Reconciling the two stores: one read of MongoDB and one of PostgreSQL, compared into
findings (see :mod:`syllabus.doctor.findings`), and the safe repairs. MongoDB is the
source of truth for content; PostgreSQL's catalog is what the loader derives from it;
learner rows are never changed. Services never commit: the caller's unit of work does.
"""

from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from syllabus.content.loader.load import MongoDatabase
from syllabus.doctor import repository
from syllabus.doctor.findings import Finding, Repair, Report, Table
from syllabus.doctor.mongo import Content, read_content
from syllabus.doctor.repository import Catalog, Reference

CARD_COPIED = ("version", "content_hash", "title", "description", "level", "source_id")
"""Card fields --fix copies from the document: they describe the content (and which
source loaded it) and decide no one's access or price."""
SHOWN = 32
LEARNER_KINDS = {
    "lesson_progress": "progress_missing_lesson",
    "quiz_attempts": "attempt_missing_quiz",
    "activity_log": "activity_missing_content",
}


async def examine(*, session: AsyncSession, database: MongoDatabase) -> Report:
    """Everything that is out of step, with the safe repair of each where there is one."""
    content = await read_content(database)
    catalog = await repository.read_catalog(session)
    findings = [
        *_content_findings(content),
        *_load_findings(content, catalog),
        *_card_findings(content, catalog),
        *_index_findings(content, catalog),
        *_learner_findings(content, catalog),
    ]
    checked = {
        "documents": len(content.documents),
        "snapshots": len(content.versions),
        "cards": len(catalog.cards),
        "index_rows": len(catalog.index),
        "learner_rows": sum(reference.rows for reference in catalog.references),
    }
    return Report(findings, checked=checked)


async def repair(*, session: AsyncSession, database: MongoDatabase) -> Report:
    """Examine with the catalog locked, then apply every safe repair in the caller's
    transaction. Idempotent: a second run finds none of them again."""
    await repository.lock_catalog(session)
    report = await examine(session=session, database=database)
    await repository.apply(
        session, [finding.repair for finding in report.repairable if finding.repair]
    )
    report.repaired = report.repairable
    return report


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= SHOWN else value[: SHOWN - 1] + "…")
    return repr(value)


def _differences(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The wanted values that the row does not hold."""
    return {name: value for name, value in wanted.items() if current[name] != value}


def _describe(current: Mapping[str, Any], changes: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name} {_show(current[name])} → {_show(value)}" for name, value in changes.items()
    )


def _versions(numbers: list[int]) -> str:
    shown = ", ".join(f"v{n}" for n in numbers[:6])
    return shown if len(numbers) <= 6 else f"{shown}, … ({len(numbers)} in all)"


def _content_findings(content: Content) -> Iterator[Finding]:
    """MongoDB against itself: documents, the references between them, and history."""
    yield from _document_findings(content)
    yield from _reference_findings(content)
    yield from _history_findings(content)


def _document_findings(content: Content) -> Iterator[Finding]:
    """Documents changed by something other than the loader."""
    for stored in content.documents.values():
        if stored.problem is not None:
            yield Finding("document_invalid", stored.id, stored.problem)
        elif stored.rehash != stored.content_hash:
            yield Finding(
                "hash_mismatch",
                stored.id,
                f"content_hash {_show(stored.content_hash)}, content hashes to "
                f"{_show(stored.rehash)}",
            )


def _reference_findings(content: Content) -> Iterator[Finding]:
    """Outlines, quizzes and items naming what is not there, or not naming each other."""
    placed: dict[str, str] = {}  # item id -> the course whose outline lists it
    for course in content.courses.values():
        for module in course.modules:
            for item in module.items:
                placed[item.id] = course.id
                if item.id not in content.documents:
                    yield Finding("outline_missing_item", course.id, f"lists {item.id}")
    for quiz in content.quizzes.values():
        for question in quiz.question_ids:
            if question not in content.documents:
                yield Finding("quiz_missing_question", quiz.id, f"lists {question}")
    for stored in content.documents.values():
        if not stored.is_item or stored.course_id is None:
            continue
        home = placed.get(stored.id)
        if stored.course_id not in content.documents:
            yield Finding("item_missing_course", stored.id, f"names {stored.course_id}")
        elif stored.status != "archived" and home != stored.course_id:
            where = f"the outline of {home} does" if home else "still readable by id"
            yield Finding(
                "item_outside_outline",
                stored.id,
                f"{stored.status}, not in the outline of {stored.course_id} ({where})",
            )


def _history_findings(content: Content) -> Iterator[Finding]:
    """Every version of every document has its snapshot, the current one matches, and
    every snapshot belongs to a document."""
    for stored in content.documents.values():
        missing = [
            version
            for version in range(1, stored.version + 1)
            if (stored.id, version) not in content.versions
        ]
        if missing:
            yield Finding(
                "version_missing",
                stored.id,
                f"at v{stored.version}; no snapshot of {_versions(missing)}",
            )
        snapshot = content.versions.get((stored.id, stored.version))
        if snapshot is not None and snapshot != stored.content_hash:
            yield Finding(
                "version_differs",
                stored.id,
                f"v{stored.version}: document {_show(stored.content_hash)}, "
                f"snapshot {_show(snapshot)}",
            )
    orphans: dict[str, list[int]] = {}
    for content_id, version in sorted(content.versions):
        if content_id not in content.documents:
            orphans.setdefault(content_id, []).append(version)
    for content_id, versions in orphans.items():
        yield Finding(
            "orphan_versions", content_id, f"{len(versions)} snapshot(s): {_versions(versions)}"
        )


def _load_findings(content: Content, catalog: Catalog) -> Iterator[Finding]:
    """Per source. A source whose marker MongoDB dropped (another folder's
    ``--prune-all-sources`` archived its content) only loads in full next time: not drift,
    unless MongoDB holds no load at all."""
    for key in sorted(content.fingerprints or catalog.fingerprints):
        in_mongo, in_catalog = content.fingerprints.get(key), catalog.fingerprints.get(key)
        if in_mongo != in_catalog:
            yield Finding(
                "fingerprint_mismatch",
                f"content_loads {key}",
                f"MongoDB {_show(in_mongo)}, PostgreSQL {_show(in_catalog)}",
            )


def _archive(table: Table, content_id: str, status: str) -> Repair:
    return Repair(table, content_id, {"status": "archived"}, f"archived (was {status})")


def _card_findings(content: Content, catalog: Catalog) -> Iterator[Finding]:
    """Each live card against its course document."""
    carded = {card.content_id for card in catalog.cards}
    for card in catalog.cards:
        cid = card.content_id
        if cid not in content.documents:
            if card.status != "archived":
                yield Finding(
                    "card_without_content",
                    cid,
                    f"{card.status}, {card.enrollments} live enrollment(s)",
                    _archive("courses", cid, card.status),
                )
            continue
        course = content.courses.get(cid)
        if course is None:  # the document does not validate: reported as such
            continue
        current = asdict(card)
        copied = _differences(current, {name: getattr(course, name) for name in CARD_COPIED})
        if copied:
            yield Finding(
                "card_out_of_step",
                cid,
                _describe(current, copied),
                Repair("courses", cid, copied, f"set {', '.join(copied)} from MongoDB"),
            )
        if course.status == "archived" and card.status != "archived":
            archive = _archive("courses", cid, card.status)
            yield Finding("card_not_archived", cid, f"card {card.status}", archive)
        wanted: dict[str, Any] = {
            "price_cents": course.price_cents,
            "category": course.category,
            "track": course.track,
        }
        if course.status != "archived":
            wanted["status"] = course.status
        settings = _differences(current, wanted)
        if settings:
            yield Finding("card_settings_differ", cid, _describe(current, settings))
    for stored in content.documents.values():
        if stored.collection == "course_content" and stored.id not in carded:
            yield Finding("content_without_card", stored.id, f"{stored.status}, v{stored.version}")


def _expected_index(content: Content) -> dict[str, dict[str, Any]]:
    """The content_index row the loader writes for each item of each course outline, as
    MongoDB holds them now (``course`` is the course's content id)."""
    rows: dict[str, dict[str, Any]] = {}
    for course in content.courses.values():
        position = 0
        for module in sorted(course.modules, key=lambda m: m.order):
            for item in module.items:
                stored = content.documents.get(item.id)
                quiz = content.quizzes.get(item.id)
                rows[item.id] = {
                    "course": course.id,
                    "item_type": item.type,
                    "module_id": module.id,
                    "module_title": module.title,
                    "module_order": module.order,
                    "position": position,
                    "title": item.title,
                    "version": stored.version if stored else None,
                    "points": item.points,
                    "required": item.required,
                    "duration_minutes": item.duration_minutes,
                    "preview": item.preview,
                    "status": "active" if stored and stored.status != "archived" else "archived",
                    "pass_percent": quiz.pass_percent if quiz else None,
                    "scoring_policy": quiz.scoring_policy if quiz else None,
                }
                position += 1
    return rows


def _index_values(values: Mapping[str, Any], course_ids: Mapping[str, Any]) -> dict[str, Any]:
    """Expected values as columns: the course's content id becomes its card's id."""
    columns = {name: value for name, value in values.items() if name != "course"}
    if "course" in values:
        columns["course_id"] = course_ids[values["course"]]
    return columns


def _index_findings(content: Content, catalog: Catalog) -> Iterator[Finding]:
    """Each content_index row against what the loader would write from MongoDB now.

    An item in no outline (or whose document is archived) is expected archived, and
    nothing else of its row is compared: the loader leaves such rows as history."""
    course_ids = {card.content_id: card.id for card in catalog.cards}
    expected = _expected_index(content)
    for row, course in catalog.index:
        if row.content_id not in content.documents:
            if row.status != "archived":
                yield Finding(
                    "index_missing_content",
                    row.content_id,
                    f"{row.status} row of {course}",
                    _archive("content_index", row.content_id, row.status),
                )
            continue
        current = {**row.model_dump(), "course": course}
        changes = _differences(current, expected.get(row.content_id, {"status": "archived"}))
        if not changes:
            continue
        movable = "course" not in changes or changes["course"] in course_ids
        yield Finding(
            "index_out_of_step",
            row.content_id,
            _describe(current, changes) + ("" if movable else " (that course has no card)"),
            Repair(
                "content_index",
                row.content_id,
                _index_values(changes, course_ids),
                f"set {', '.join(changes)} from MongoDB",
            )
            if movable
            else None,
        )
    indexed = {row.content_id for row, _ in catalog.index}
    for content_id, values in expected.items():
        if content_id in indexed or values["status"] != "active":
            continue
        where = f"{values['item_type']} of {values['course']} at position {values['position']}"
        if values["course"] not in course_ids:
            yield Finding("content_not_indexed", content_id, f"{where} (that course has no card)")
            continue
        yield Finding(
            "content_not_indexed",
            content_id,
            where,
            Repair(
                "content_index",
                content_id,
                _index_values(values, course_ids),
                "inserted from MongoDB",
                insert=True,
            ),
        )


def _who(ref: Reference) -> str:
    under = f" under {ref.course}" if ref.course else ""
    if ref.source == "lesson_progress":
        what = f"{ref.rows} row(s) of {ref.people} learner(s){under}"
        return f"{what}, {ref.kept} with a note or bookmark"
    if ref.source == "quiz_attempts":
        return f"{ref.rows} attempt(s) of {ref.people} learner(s){under}, {ref.kept} submitted"
    return f"{ref.rows} event(s) of {ref.people} learner(s)"


def _learner_findings(content: Content, catalog: Catalog) -> Iterator[Finding]:
    """Learner rows (and achievement rules) naming content MongoDB does not have, or
    filed under another course than the content's. Reported, never changed."""
    for ref in catalog.references:
        stored = content.documents.get(ref.content_id)
        if stored is None:
            yield Finding(LEARNER_KINDS[ref.source], ref.content_id, _who(ref))
        elif ref.course and stored.course_id and ref.course != stored.course_id:
            yield Finding(
                "learner_course_mismatch",
                ref.content_id,
                f"{ref.source}: {_who(ref)}; it belongs to {stored.course_id}",
            )
    for version in catalog.versions:
        if (version.content_id, version.version) not in content.versions:
            yield Finding(
                "attempt_missing_version",
                f"{version.content_id}@{version.version}",
                f"{version.attempts} attempt(s) of {version.people} learner(s): "
                "cannot be graded or reviewed",
            )
    for code, course in catalog.achievements:
        if course not in content.documents:
            yield Finding("achievement_missing_course", code, f"its rule names {course}")
