"""The offline note generator: extractive, needs no model, so ``make run`` shows notes on
a laptop. Labelled ``generator: offline`` in every note it writes.

- Key concepts: the lesson's front-matter ``key_concepts``, its emphasised terms
  (``**term**``), and its section headings; each defined by the lesson's own sentence
  (a sentence that reads like a definition of the term when there is one, else the first
  sentence that mentions it, else the first sentence under the heading).
- Summary: the objectives, then the leading sentence of each section.
Every point and concept cites the ids of the blocks it was taken from."""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from syllabus.content.blocks import (
    AdmonitionBlock,
    Block,
    BlockquoteBlock,
    ComponentBlock,
    FootnoteBlock,
    HeadingBlock,
    ListBlock,
    ParagraphBlock,
)

MAX_CONCEPTS = 12
MAX_POINTS = 8
MAX_TERM_LENGTH = 60
MAX_TERM_WORDS = 6
MAX_DEFINITION_LENGTH = 300

_STRONG = re.compile(r"\*\*([^*\n]+?)\*\*|__([^_\n]+?)__")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_JSX = re.compile(r"</?[A-Za-z][\w.:-]*(?:\s[^<>]*)?/?>")
_EXPRESSION = re.compile(r"\{[^{}]*\}")
# Emphasis and code marks; an underscore only at a word's edge (``percentile_cont`` keeps it).
_MARKS = re.compile(r"\*\*|[*`~]|(?<!\w)__?|__?(?!\w)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[\"«(\[]?[A-Z0-9\u0401\u0410-\u042f])")
# A sentence that defines ``term``: "<term> is …", "<term> — это …", "<term> называется …".
_DEFINITION = (
    r"^\s*(?:an?\s+|the\s+)?{term}\s*(?:\(|,)?[^.]{{0,40}}?\s*"
    r"(?:is|are|means|refers to|describes|\u2014|\u2013|-|:|это|называ\w+|означает)\s"
)


@dataclass(frozen=True)
class Point:
    text: str
    block_ids: list[str]


@dataclass(frozen=True)
class Concept:
    term: str
    definition: str
    block_ids: list[str]


@dataclass
class NoteDraft:
    summary_points: list[Point] = field(default_factory=list)
    key_concepts: list[Concept] = field(default_factory=list)

    @property
    def summary_markdown(self) -> str:
        return "\n".join(f"- {point.text}" for point in self.summary_points)

    @property
    def concept_text(self) -> str:
        return "\n".join(f"{c.term}: {c.definition}" for c in self.key_concepts)


def plain(markdown: str) -> str:
    """Inline Markdown/MDX → readable text: links keep their words, tags, braces and
    emphasis marks go."""
    text = _LINK.sub(r"\1", markdown)
    text = _JSX.sub("", text)
    text = _EXPRESSION.sub("", text)
    text = _MARKS.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


@dataclass(frozen=True)
class Section:
    heading: HeadingBlock | None
    paragraphs: list[ParagraphBlock]


def _walk(blocks: Sequence[Block]) -> Iterator[Block]:
    for block in blocks:
        yield block
        if isinstance(block, ListBlock):
            for item in block.items:
                yield from _walk(item.children)
        elif isinstance(block, BlockquoteBlock | AdmonitionBlock | ComponentBlock | FootnoteBlock):
            yield from _walk(block.children)


def _sections(blocks: Sequence[Block]) -> list[Section]:
    sections = [Section(None, [])]
    for block in _walk(blocks):
        if isinstance(block, HeadingBlock) and block.level > 1:
            sections.append(Section(block, []))
        elif isinstance(block, ParagraphBlock) and plain(block.markdown):
            sections[-1].paragraphs.append(block)
    return [s for s in sections if s.heading is not None or s.paragraphs]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DEFINITION_LENGTH else text[: MAX_DEFINITION_LENGTH - 1] + "…"


def _good_term(term: str) -> bool:
    return 0 < len(term) <= MAX_TERM_LENGTH and len(term.split()) <= MAX_TERM_WORDS


def _define(term: str, paragraphs: Sequence[ParagraphBlock]) -> tuple[str, list[str]] | None:
    """The lesson's sentence that defines ``term`` (or else first mentions it)."""
    definition = re.compile(_DEFINITION.format(term=re.escape(term)), re.IGNORECASE)
    mention: tuple[str, list[str]] | None = None
    for paragraph in paragraphs:
        for sentence in sentences(plain(paragraph.markdown)):
            if definition.search(sentence):
                return _clip(sentence), [paragraph.id]
            if mention is None and _mentions(sentence, term):
                mention = (_clip(sentence), [paragraph.id])
    return mention


def generate(
    *, blocks: Sequence[Block], objectives: Sequence[str], key_concepts: Sequence[str]
) -> NoteDraft:
    sections = _sections(blocks)
    paragraphs = [p for s in sections for p in s.paragraphs]
    draft = NoteDraft()
    seen: set[str] = set()

    def add(term: str, found: tuple[str, list[str]] | None, extra: list[str]) -> None:
        term = term.strip()
        if not _good_term(term) or term.lower() in seen or len(draft.key_concepts) >= MAX_CONCEPTS:
            return
        definition, ids = found if found is not None else ("", [])
        if not definition:
            return
        seen.add(term.lower())
        draft.key_concepts.append(Concept(term, definition, [*extra, *ids]))

    for term in key_concepts:
        add(term, _define(term, paragraphs), [])
    for paragraph in paragraphs:
        for match in _STRONG.finditer(paragraph.markdown):
            term = plain(match.group(1) or match.group(2))
            add(term, _define(term, [paragraph, *paragraphs]), [])
    for section in sections:
        if section.heading is not None and section.paragraphs:
            first = sentences(plain(section.paragraphs[0].markdown))
            lead = (_clip(first[0]), [section.paragraphs[0].id]) if first else None
            add(
                section.heading.text,
                _define(section.heading.text, section.paragraphs) or lead,
                [section.heading.id],
            )

    for objective in objectives[:MAX_POINTS]:
        cited = _best_match(objective, sections)
        draft.summary_points.append(Point(plain(objective), cited))
    for section in sections:
        if len(draft.summary_points) >= MAX_POINTS or not section.paragraphs:
            continue
        first = sentences(plain(section.paragraphs[0].markdown))
        if first:
            ids = [section.heading.id] if section.heading else []
            draft.summary_points.append(Point(_clip(first[0]), [*ids, section.paragraphs[0].id]))
    return draft


def _stem(word: str) -> str:
    """A crude stem, enough to find "степени" for "степень" or "indexes" for "index":
    a long word loses up to its last three letters (inflections in both languages)."""
    return word if len(word) < 5 else word[: max(4, len(word) - 3)]


def _mentions(sentence: str, term: str) -> bool:
    """Every word of the term appears in the sentence, in some inflected form."""
    words = re.findall(r"\w+", sentence.lower())
    return all(
        any(word.startswith(_stem(part)) for word in words)
        for part in re.findall(r"\w+", term.lower())
    )


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w{4,}", text.lower()))


def _best_match(text: str, sections: Sequence[Section]) -> list[str]:
    """The blocks of the section that shares most words with ``text`` (an objective names
    what a section teaches), or none when no section shares any."""
    wanted = _words(text)
    best: tuple[int, list[str]] = (0, [])
    for section in sections:
        ids = [section.heading.id] if section.heading else []
        words = _words(section.heading.text) if section.heading else set()
        for paragraph in section.paragraphs:
            words |= _words(plain(paragraph.markdown))
        score = len(wanted & words)
        if score > best[0]:
            best = (score, ids + [p.id for p in section.paragraphs[:1]])
    return best[1]
