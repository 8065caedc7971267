"""The outline cache (content/cache.py): bounded, and filled only with what MongoDB holds
for exactly the version PostgreSQL reported."""

from pathlib import Path

from syllabus.content.cache import VersionCache
from syllabus.content.service import course_outline, outlines


def test_the_cache_is_a_bounded_lru() -> None:
    cache: VersionCache[str, int] = VersionCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    cache.resize(1)
    assert len(cache) == 1
    assert cache.get("c") == 3
    off: VersionCache[str, int] = VersionCache(0)
    off.put("a", 1)
    assert off.get("a") is None


async def test_only_the_version_postgresql_reported_is_kept(loaded: Path) -> None:
    outlines.clear()
    outline, etag = await course_outline("course:rest-basics")
    version, content_hash = etag.split(".", 1)
    assert len(outlines) == 0  # no version asked for: nothing kept
    # PostgreSQL says a newer version than MongoDB holds (a load between the two reads):
    # the document is served for this request and not kept under the newer key.
    newer = (int(version) + 1, content_hash)
    assert (await course_outline("course:rest-basics", expected=newer))[0] == outline
    assert len(outlines) == 0
    same = (int(version), content_hash)
    await course_outline("course:rest-basics", expected=same)
    assert outlines.get(("course:rest-basics", *same)) == (outline, etag)
