"""The typed blocks of a lesson body: one discriminated union by ``kind``.

The loader parses each lesson once (``content/loader/lesson/``) and stores these blocks
beside the byte-exact ``source``; the API returns them as they are stored. Every block
carries a stable ``id`` that AI notes and the tutor cite (docs/authoring.md#block-ids):

- a heading's id is its anchor: the GitHub slug of its text (or the ``{#id}`` the author
  wrote after it), made unique in the lesson with ``-1``, ``-2`` … as github-slugger does;
- any other block's id is ``<kind>-<n>-<hash>``: ``n`` is the block's position in the
  lesson (1, 2, … counting every block, nested ones included, in reading order) and
  ``hash`` the first 8 hex digits of the SHA-256 of the block's source lines. The same
  text always gives the same ids; an edit above a block changes its ``n`` but not its
  hash, so a citation can still be found by its hash.

No block has a field for an answer key: a lesson is shown as it is written.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class BlockModel(BaseModel):
    """Shapes of a lesson body: unknown fields are refused in storage and in answers."""

    # Built at first use, not at import: see kit.schemas.OutputSchema.
    model_config = ConfigDict(extra="forbid", from_attributes=True, defer_build=True)


class Expression(BlockModel):
    """A JavaScript expression an MDX author wrote in braces, kept as its source; ``value``
    is set when the source is a JSON literal (``{3}``, ``{true}``, ``{["a", "b"]}``)."""

    expression: str
    value: JsonValue = None


PropValue = str | bool | Expression
"""``name="text"`` → the text; a bare ``name`` → ``true``; ``name={…}`` → an Expression."""


class BlockBase(BlockModel):
    id: str = Field(description="Stable within the lesson (see the block id rule).")


class HeadingBlock(BlockBase):
    kind: Literal["heading"] = "heading"
    level: int = Field(ge=1, le=6)
    text: str = Field(description="Plain text, without markup; the id is its anchor.")


class ParagraphBlock(BlockBase):
    kind: Literal["paragraph"] = "paragraph"
    markdown: str = Field(description="Inline Markdown (and inline MDX) as written.")


class CodeBlock(BlockBase):
    kind: Literal["code"] = "code"
    language: str | None = Field(description="The first word of the info string.")
    meta: str | None = Field(
        description='The rest of the info string: `title="app.js"`, `{1,3}`, `showLineNumbers`.'
    )
    text: str = Field(description="The code exactly as written, without the fences.")


class ListItem(BlockModel):
    checked: bool | None = Field(description="A task list item's box; null for other items.")
    children: "list[Block]"


class ListBlock(BlockBase):
    kind: Literal["list"] = "list"
    ordered: bool
    start: int | None = Field(description="The number of the first item of an ordered list.")
    items: list[ListItem]


class TableBlock(BlockBase):
    kind: Literal["table"] = "table"
    align: list[Literal["left", "center", "right"] | None]
    header: list[str] = Field(description="Header cells, inline Markdown.")
    rows: list[list[str]] = Field(description="Body rows of cells, inline Markdown.")


class ImageBlock(BlockBase):
    kind: Literal["image"] = "image"
    src: str
    alt: str
    title: str | None


class BlockquoteBlock(BlockBase):
    kind: Literal["blockquote"] = "blockquote"
    children: "list[Block]"


class AdmonitionBlock(BlockBase):
    kind: Literal["admonition"] = "admonition"
    type: str = Field(description="`note`, `tip`, `info`, `warning`, `danger`, … as written.")
    title: str | None
    children: "list[Block]"


class MathBlock(BlockBase):
    kind: Literal["math"] = "math"
    tex: str


class ComponentBlock(BlockBase):
    kind: Literal["component"] = "component"
    name: str = Field(description="`Callout`, `Tabs.Item`, `details`; empty for a fragment.")
    props: dict[str, PropValue]
    spread: list[str] = Field(description="Sources of `{...props}` attributes.")
    children: "list[Block]"


class ExpressionBlock(BlockBase):
    kind: Literal["expression"] = "expression"
    expression: str = Field(description="A braced JavaScript expression on its own lines.")


class HtmlBlock(BlockBase):
    kind: Literal["html"] = "html"
    html: str = Field(description="Raw HTML of a `.md` lesson (MDX has components instead).")


class ThematicBreakBlock(BlockBase):
    kind: Literal["thematic_break"] = "thematic_break"


class FootnoteBlock(BlockBase):
    kind: Literal["footnote"] = "footnote"
    label: str
    children: "list[Block]"


Block = Annotated[
    HeadingBlock
    | ParagraphBlock
    | CodeBlock
    | ListBlock
    | TableBlock
    | ImageBlock
    | BlockquoteBlock
    | AdmonitionBlock
    | MathBlock
    | ComponentBlock
    | ExpressionBlock
    | HtmlBlock
    | ThematicBreakBlock
    | FootnoteBlock,
    Field(discriminator="kind"),
]

for _model in (ListItem, BlockquoteBlock, AdmonitionBlock, ComponentBlock, FootnoteBlock):
    _model.model_rebuild()
