"""Heading anchors as github-slugger makes them (the slugs of GitHub, Docusaurus and most
MDX sites): lower-cased, every character that is not a letter, mark, digit, connector,
hyphen or space dropped, spaces turned into hyphens; a repeated slug gets ``-1``, ``-2`` …"""

import unicodedata
from functools import cache

KEPT_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "Pc"})


@cache
def _kept(char: str) -> bool:
    return char in "- " or unicodedata.category(char) in KEPT_CATEGORIES


def slug(text: str) -> str:
    return "".join(char for char in text.lower() if _kept(char)).replace(" ", "-")


class Slugger:
    """Unique slugs within one lesson, in reading order."""

    def __init__(self) -> None:
        self.occurrences: dict[str, int] = {}

    def unique(self, value: str) -> str:
        result = original = value
        while result in self.occurrences:
            self.occurrences[original] += 1
            result = f"{original}-{self.occurrences[original]}"
        self.occurrences[result] = 0
        return result
