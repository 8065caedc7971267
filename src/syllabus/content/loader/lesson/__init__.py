"""A lesson body → typed blocks, with markdown-it-py, mdit-py-plugins and our MDX plugin
(``syntax``), converted by ``convert``; JSX and expressions are scanned by ``jsx``."""

from syllabus.content.loader.lesson.convert import Converter, Parsed
from syllabus.content.loader.lesson.syntax import parser


def parse_body(body: str, *, mdx: bool) -> Parsed:
    """``body``: the lesson after its front matter, line endings normalised to ``\\n``.
    Problem lines in the result count from 0, the body's first line."""
    return Converter(parser(mdx=mdx), body, mdx=mdx).convert()


__all__ = ["Parsed", "parse_body"]
