"""A per-process cache of content as the hot reads serve it, keyed by the content's
version as PostgreSQL knows it.

A read asks PostgreSQL first anyway (who may see what, the learner's progress); that same
query returns the course's current ``(version, content_hash)``. The cache answers for
exactly that key, and a miss reads MongoDB and keeps the document only when MongoDB holds
that very version. So it is never staler than PostgreSQL's catalog (the loader writes
MongoDB first and the catalog after, in one transaction each): a new load changes the key,
and the next read misses. There is nothing to invalidate and nothing shared between
processes; memory is bounded by an LRU of ``SYLLABUS_CONTENT_CACHE_ENTRIES`` entries."""

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class VersionCache(Generic[K, V]):
    """A small LRU: ``get`` refreshes an entry, ``put`` evicts the least recent one."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._items: OrderedDict[K, V] = OrderedDict()

    def resize(self, entries: int) -> None:
        self.entries = entries
        while len(self._items) > entries:
            self._items.popitem(last=False)

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        if self.entries <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.entries:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
