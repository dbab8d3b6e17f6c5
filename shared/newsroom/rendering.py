"""Markdown to sanitized HTML, with one allow-list for authors and a narrower one for readers."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.rules_core import StateCore

_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_IMAGE_SOURCE = re.compile(r"^https?://", re.IGNORECASE)
_CODE_LANGUAGE = re.compile(r"^language-[a-z0-9_+-]{1,30}$")
# A line of plain prose, which CommonMark renders as its own text: it starts with a letter (not
# a list's digit or marker, an indent, a quote's ">"), holds no character any Markdown syntax,
# entity or escape begins with ("!" only opens an image before "["), no control character, and
# does not end in spaces (a hard break); of what is left, CommonMark escapes only '"'.
_PLAIN_LINE = re.compile(
    r"[^\W\d_][^\s\x00-\x1f\x7f`*_~\[\]<>&\\#|]*(?: [^\s\x00-\x1f\x7f`*_~\[\]<>&\\#|]+)*"
)

_ARTICLE_TAGS = frozenset(
    {
        "p", "br", "h2", "h3", "h4", "em", "strong", "s", "a", "ul", "ol", "li", "blockquote",
        "code", "pre", "hr", "img", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
_ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
    "th": {"style"},
    "td": {"style"},
}
_COMMENT_TAGS = frozenset(
    {"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code", "pre"}
)
_COMMENT_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "code": {"class"}}

# Authors write `#` for a section; the page's own title is the only h1.
_ARTICLE_HEADING_LEVELS = (2, 4)


def render_article(markdown: str) -> str:
    """Render an author's Markdown as HTML safe to serve.

    Headings are kept within h2-h4, links must be absolute (http, https or mailto) and get
    ``rel="noopener"``, images need an http(s) source; raw HTML in the source is shown as text.

    Parameters
    ----------
    markdown
        The article body as written.

    Returns
    -------
    str
        Sanitized HTML.
    """
    return sanitise_article_html(_article_markdown().render(markdown))


def sanitise_article_html(html: str) -> str:
    """HTML made safe to serve as an article body: what `render_article` keeps of its
    Markdown's HTML (for a body that is HTML already, such as an imported WordPress post)."""
    return nh3.clean(
        html,
        tags=set(_ARTICLE_TAGS),
        attributes=_ARTICLE_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        link_rel="noopener",
        url_schemes=set(_LINK_SCHEMES),
        filter_style_properties={"text-align"},
        url_relative="deny",
    )


def render_comment(markdown: str) -> str:
    """Render a reader's Markdown as HTML safe to serve.

    Only paragraphs, emphasis, links, code, quotes and lists survive; links must be absolute
    and get ``rel="nofollow ugc noopener"``. Images, headings, tables and raw HTML do not.

    Parameters
    ----------
    markdown
        The comment as written.

    Returns
    -------
    str
        Sanitized HTML.
    """
    html = _plain_comment(markdown)
    if html is None:
        html = _comment_markdown().render(markdown)
    return sanitise_comment_html(html)


def sanitise_comment_html(html: str) -> str:
    """HTML made safe to serve as a comment: what `render_comment` keeps of its Markdown's
    HTML (for a comment that is HTML already, such as an imported WordPress comment)."""
    return nh3.clean(
        html,
        tags=set(_COMMENT_TAGS),
        attributes=_COMMENT_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        link_rel="nofollow ugc noopener",
        url_schemes=set(_LINK_SCHEMES),
        url_relative="deny",
    )


def _plain_comment(markdown: str) -> str | None:
    """The HTML CommonMark makes of a comment that is plain prose (every line `_PLAIN_LINE` or
    blank): its paragraphs, escaped; None for anything else. Most comments are prose, and
    this spares their request the Markdown parser's import (about 14 ms of a cold start); a
    property test holds it equal to the parser's output."""
    paragraphs: list[list[str]] = [[]]
    for line in markdown.split("\n"):
        if not line:
            paragraphs.append([])
        elif _PLAIN_LINE.fullmatch(line):
            paragraphs[-1].append(line)
        else:
            return None
    texts = ("\n".join(lines).replace('"', "&quot;") for lines in paragraphs if lines)
    return "".join(f"<p>{text}</p>\n" for text in texts)


@cache
def _article_markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.core.ruler.push("clamp_headings", _clamp_headings)
    return md


@cache
def _comment_markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # Disabled rules leave their syntax as plain text, so "# 1" stays what the reader typed.
    return MarkdownIt("commonmark", {"html": False}).disable(["heading", "lheading", "hr", "image"])


def _clamp_headings(state: StateCore) -> None:
    low, high = _ARTICLE_HEADING_LEVELS
    for token in state.tokens:
        if token.type in {"heading_open", "heading_close"}:
            level = min(max(int(token.tag[1:]), low), high)
            token.tag = f"h{level}"


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _IMAGE_SOURCE.match(value) else None
    if tag == "code" and attribute == "class":
        kept = [name for name in value.split() if _CODE_LANGUAGE.match(name)]
        return " ".join(kept) or None
    return value
