"""The outline cache (content/cache.py): bounded, and filled only with what MongoDB holds
for exactly the version PostgreSQL reported."""

import json
from pathlib import Path
from typing import Any

from syllabus.content.cache import VersionCache
from syllabus.content.service import OutlineJson, course_outline, outline_json, outlines


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
    assert len(outlines) == 0  # read without a version: nothing kept
    # PostgreSQL says a newer version than MongoDB holds (a load between the two reads):
    # the document is served for this request and not kept under the newer key.
    newer = (int(version) + 1, content_hash)
    served = await outline_json("course:rest-basics", expected=newer)
    assert json.loads(served.render(fields(served), b"null")) == spliced(outline, None)
    assert len(outlines) == 0
    same = (int(version), content_hash)
    kept = await outline_json("course:rest-basics", expected=same)
    assert outlines.get(("course:rest-basics", *same)) is kept
    assert kept.etag == etag


def fields(outline: OutlineJson) -> list[bytes]:
    """Each item's own field: its place in the outline."""
    return [b',"mine":%d' % place for place in range(len(outline.item_ids))]


def spliced(outline: dict[str, Any], progress: object) -> dict[str, Any]:
    """What :func:`fields` and ``progress`` spliced into ``outline`` must parse to."""
    ids = [item["id"] for module in outline["modules"] for item in module["items"]]
    modules = [
        {**module, "items": [{**item, "mine": ids.index(item["id"])} for item in module["items"]]}
        for module in outline["modules"]
    ]
    return {**outline, "modules": modules, "progress": progress}


async def test_the_encoded_outline_splices_each_items_fields_in_place(loaded: Path) -> None:
    """Each gap closes its own item: the spliced bytes parse to the outline with every
    item's own field added, in order, and the given progress at the end."""
    outline, _ = await course_outline("course:rest-basics")
    encoded = await outline_json("course:rest-basics", expected=(0, None))
    body = json.loads(encoded.render(fields(encoded), b'{"x":1}'))
    assert len(encoded.item_ids) >= 3
    assert body == spliced(outline, {"x": 1})
    assert list(body) == [*outline, "progress"]  # the response model's field order
