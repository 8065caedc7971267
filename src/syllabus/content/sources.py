"""Content sources (DECISIONS 11): which folder loaded each piece of content, so that
``content load --prune`` archives only what *this* folder's source loaded before.

A folder names its source in ``source.json`` (``{"id": "my-courses"}``). Every MongoDB
document records it in ``source_id``, and so does every catalog row a load writes
(categories, tracks, course cards, achievements, and the kinds later issues add). The
rules, in one place (:func:`conflict`):

- content that nobody owns (``source_id`` null: loaded before sources existed, or from a
  folder without ``source.json``) may be taken by any load, which then owns it;
- content owned by another source is refused (a problem naming both sources), unless it
  is archived: archived content may be taken over, which is how content moves from one
  folder to another (remove it there and prune, then load it here);
- ``--prune`` archives what this source owns and the folder no longer has;
  ``--prune-all-sources`` archives everything the folder does not have, whoever owns it.

MongoDB collections take part through ``VersionedContent.source_id`` with no more work.
A PostgreSQL table a load writes takes part by registering an :class:`OwnedTable` (its
kind, key column and what keeps a row alive) on :data:`owned_tables`, and by putting
the keys the folder defines in ``Built.owned[kind]``; the loader does the rest: the
conflict check before anything is written, the ``source_id`` of each upserted row is the
caller's, and the prune.
"""

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from syllabus.db.sql import Base

SOURCE_FILE = "source.json"
UNNAMED = "no source"
"""How messages show content that no source owns."""


@dataclass(frozen=True, slots=True)
class Owner:
    """Who loaded a stored piece of content, and whether it is archived now."""

    source: str | None
    archived: bool


def shown(source: str | None) -> str:
    return UNNAMED if source is None else f"source {source!r}"


def conflict(owner: Owner, source: str | None) -> bool:
    """Whether a load of ``source`` must refuse to write content ``owner`` holds."""
    return owner.source is not None and owner.source != source and not owner.archived


def conflict_message(content_id: str, owner: Owner, source: str | None) -> str:
    folder = f"is source {source!r}" if source else f"names no source (no {SOURCE_FILE})"
    return (
        f"{content_id} belongs to {shown(owner.source)}, and this folder {folder}: "
        "two sources cannot load the same id. Rename it here, or remove it from the other "
        "source's folder and load that with --prune first (archived content may be taken over)"
    )


def prunable(owner: Owner, *, source: str | None, every_source: bool) -> bool:
    """Whether a prune archives stored content the folder does not have."""
    return not owner.archived and (every_source or owner.source == source)


@dataclass(frozen=True)
class OwnedTable:
    """A PostgreSQL table a load upserts by a unique ``key`` column, each row recording
    the source that loaded it (a ``source_id`` column) and archived by soft delete.

    ``kept``: given the pruning source, a condition on the table's rows that keeps a row
    even when its source no longer lists it (a category still named by a course card,
    say), so that a prune never leaves a stored row pointing at a hidden one.
    """

    kind: str
    """What the loader's messages call one row: ``category`` → ``category:backend``."""
    table: type[Base]
    key: str
    kept: "Keeper | None" = None

    def label(self, key: str) -> str:
        return f"{self.kind}:{key}"

    async def owners(self, session: AsyncSession, keys: Collection[str]) -> dict[str, Owner]:
        """The stored owner of each of ``keys`` that is stored (archived ones included)."""
        if not keys:
            return {}
        column = getattr(self.table, self.key)
        rows = await session.execute(
            select(column, col(self.table.source_id), col(self.table.deleted_at))  # type: ignore[attr-defined]
            .where(column.in_(list(keys)))
            .execution_options(include_deleted=True)
        )
        return {key: Owner(source, deleted is not None) for key, source, deleted in rows}

    async def prunable(
        self,
        session: AsyncSession,
        *,
        source: str | None,
        every_source: bool,
        keep: Collection[str],
        kept: Sequence["Keeper"] = (),
    ) -> list[tuple[str, str | None]]:
        """(key, owner) of each live row a prune archives: not in ``keep``, owned by
        ``source`` (by anyone with ``every_source``), and neither ``self.kept`` nor any
        of ``kept`` (conditions higher layers added) keeps it."""
        column = getattr(self.table, self.key)
        owner = col(self.table.source_id)  # type: ignore[attr-defined]
        query = select(column, owner).where(column.not_in(list(keep)))
        if not every_source:
            query = query.where(owner == source)
        for keeper in (self.kept, *kept):
            if keeper is not None:
                query = query.where(~keeper(source))
        return [
            (key, row_source) for key, row_source in await session.execute(query.order_by(column))
        ]

    async def archive(self, session: AsyncSession, keys: Collection[str]) -> None:
        if keys:
            column = getattr(self.table, self.key)
            await session.execute(
                update(self.table)
                .where(column.in_(list(keys)), col(self.table.deleted_at).is_(None))
                .values(deleted_at=datetime.now(UTC))
            )


Keeper = Callable[[str | None], ColumnElement[bool]]
"""Given the pruning source, a condition true of the rows a prune must keep."""


class OwnedTables:
    """Every table that takes part in ownership, by kind. Content registers its own
    (categories, tracks); higher layers register theirs in ``main.wire``, and may add
    what keeps a row of a lower kind alive (a plan scoped to a category, say)."""

    def __init__(self) -> None:
        self._tables: dict[str, OwnedTable] = {}
        self._keepers: dict[str, list[Keeper]] = {}

    def register(self, table: OwnedTable) -> None:
        """Idempotent: ``wire()`` may run once per app the tests build."""
        self._tables[table.kind] = table

    def keep_while(self, kind: str, keeper: Keeper) -> None:
        """A prune keeps a row of ``kind`` while ``keeper`` holds of it (idempotent)."""
        keepers = self._keepers.setdefault(kind, [])
        if keeper not in keepers:
            keepers.append(keeper)

    def keepers(self, kind: str) -> tuple[Keeper, ...]:
        return tuple(self._keepers.get(kind, ()))

    def __iter__(self) -> Iterator[OwnedTable]:
        return iter(self._tables.values())

    def get(self, kind: str) -> OwnedTable | None:
        return self._tables.get(kind)


owned_tables = OwnedTables()
