"""Finding executable markup in HTML a person will see: tags, attributes and URLs outside what
a page may hold, read the way a browser reads them (Python's `html.parser`, entities decoded).

`problems` lists what a sanitised fragment or a generated page must never contain; `skeleton`
is a document's elements and attribute names in order, so a test can show that what a reader
wrote added no element or attribute to a page built around it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

PAYLOADS_FILE = Path(__file__).parent / "data" / "xss_payloads.txt"
# Characters a text file cannot show (or keep on one line), written as these tokens there.
_TOKENS = {
    "{NUL}": "\x00",
    "{TAB}": "\t",
    "{LF}": "\n",
    "{CR}": "\r",
    "{RLO}": "\u202e",  # right-to-left override
    "{ZWSP}": "\u200b",  # zero-width space
    "{ZWJ}": "\u200d",  # zero-width joiner
    "{BOM}": "\ufeff",
}

# Attributes whose value a browser follows or loads as a URL.
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "background", "cite", "codebase", "data",
        "dynsrc", "lowsrc", "longdesc", "poster", "profile", "srcset", "usemap", "xlink:href",
        "ping", "manifest", "icon",
    }
)  # fmt: skip
# What a browser ignores around and inside a URL before it reads the scheme (WHATWG URL:
# leading and trailing C0 controls and spaces, and every tab and newline).
_URL_IGNORED_EDGES = "".join(chr(code) for code in range(0x21))
_URL_IGNORED_INSIDE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_STYLE_DANGER = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|behavior\s*:", re.I)


@dataclass(frozen=True)
class Allowed:
    """What a kind of HTML may contain; anything else is a problem."""

    tags: frozenset[str]
    # Attribute names per tag; "*" lists those any tag may carry.
    attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    url_schemes: frozenset[str] = frozenset({"http", "https", "mailto"})
    relative_urls: bool = False
    declarations: frozenset[str] = frozenset()  # e.g. "doctype html"

    def allows(self, tag: str, attribute: str) -> bool:
        return attribute in self.attributes.get(tag, frozenset()) | self.attributes.get(
            "*", frozenset()
        )


# What docs/api.md lets a comment hold: paragraphs, emphasis, links, code, quotes, lists.
COMMENT = Allowed(
    tags=frozenset({"p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote", "code", "pre"}),
    attributes={
        "a": frozenset({"href", "title", "rel"}),
        "ol": frozenset({"start"}),
        "code": frozenset({"class"}),
    },
)
# An author's article: the comment's tags plus headings, tables, images and rules.
ARTICLE = Allowed(
    tags=COMMENT.tags
    | frozenset({"h2", "h3", "h4", "s", "hr", "img", "table", "thead", "tbody", "tr", "th", "td"}),
    attributes={
        "a": frozenset({"href", "title", "rel"}),
        "img": frozenset({"src", "alt", "title"}),
        "ol": frozenset({"start"}),
        "code": frozenset({"class"}),
        "th": frozenset({"style"}),
        "td": frozenset({"style"}),
    },
)
# The emails of `newsroom.emails`: a small page of paragraphs, links and one quote.
EMAIL = Allowed(
    tags=frozenset(
        {"html", "head", "meta", "title", "body", "p", "a", "b", "br", "blockquote", "hr"}
    ),
    attributes={
        "meta": frozenset({"charset"}),
        "a": frozenset({"href"}),
        "body": frozenset({"style"}),
        "p": frozenset({"style"}),
        "blockquote": frozenset({"style"}),
    },
    declarations=frozenset({"doctype html"}),
)
# An email as the outbox page frames it: with the `<base target="_blank">` the page adds.
FRAMED_EMAIL = Allowed(
    tags=EMAIL.tags | {"base"},
    attributes={**EMAIL.attributes, "base": frozenset({"target"})},
    declarations=EMAIL.declarations,
)


def url_scheme(value: str) -> str | None:
    """The scheme a browser reads in an attribute's (already entity-decoded) URL, lower case;
    None for a relative URL."""
    url = _URL_IGNORED_INSIDE.sub("", value.strip(_URL_IGNORED_EDGES))
    found = _SCHEME.match(url)
    return found.group(1).lower() if found else None


def _url_problem(value: str, allowed: Allowed) -> str | None:
    # Decoded once by the parser as a browser does; decoding again (and dropping every control
    # character) only makes the check stricter, never lets a URL through that a browser runs.
    candidates = {value, html.unescape(value), re.sub(r"[\x00-\x20\x7f]", "", value)}
    for candidate in candidates:
        scheme = url_scheme(candidate)
        if scheme is None and not allowed.relative_urls:
            return f"relative URL {value!r}"
        if scheme is not None and scheme not in allowed.url_schemes:
            return f"{scheme}: URL {value!r}"
    return None


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []
        self.declarations: list[str] = []
        self.instructions: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def unknown_decl(self, data: str) -> None:  # CDATA sections and the like
        self.declarations.append(data)

    def handle_pi(self, data: str) -> None:
        self.instructions.append(data)


def parse(document: str) -> _Reader:
    reader = _Reader()
    reader.feed(document)
    reader.close()
    return reader


def problems(document: str, allowed: Allowed) -> list[str]:
    """Everything in `document` that could run code or is outside `allowed`: tags, attributes,
    event handlers, URLs with another scheme, dangerous styles, comments, declarations."""
    reader = parse(document)
    found: list[str] = []
    for tag, attrs in reader.elements:
        if tag not in allowed.tags:
            found.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"event handler {name} on <{tag}>")
            elif not allowed.allows(tag, name):
                found.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                problem = _url_problem(value, allowed)
                if problem:
                    found.append(f"{problem} in {name} on <{tag}>")
            if name == "style" and value and _STYLE_DANGER.search(value):
                found.append(f"style {value!r} on <{tag}>")
    found += [f"comment <!--{text}-->" for text in reader.comments]
    found += [
        f"declaration <!{decl}>"
        for decl in reader.declarations
        if " ".join(decl.lower().split()) not in allowed.declarations
    ]
    found += [f"processing instruction <?{text}>" for text in reader.instructions]
    return found


def skeleton(document: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each element's tag and attribute names, in document order: the structure, no text."""
    return [
        (tag, tuple(sorted(name for name, _ in attrs))) for tag, attrs in parse(document).elements
    ]


def text_of(document: str) -> str:
    """The document's text as a person reads it (entities decoded), without any markup."""
    return "".join(parse(document).text)


def attribute_values(document: str, tag: str, attribute: str) -> list[str | None]:
    """The values of `attribute` on every `tag` element, decoded."""
    return [dict(attrs).get(attribute) for name, attrs in parse(document).elements if name == tag]


@cache
def xss_payloads() -> tuple[str, ...]:
    """The known XSS payloads of tests/data/xss_payloads.txt, one per line, with the tokens
    for invisible characters (``{NUL}``, ``{LF}``, ``{RLO}``, ...) replaced by them."""
    payloads = []
    for line in PAYLOADS_FILE.read_text(encoding="utf-8").splitlines():
        for token, character in _TOKENS.items():
            line = line.replace(token, character)
        payloads.append(line)
    return tuple(payloads)


def email_skeletons() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """The structure of each email `newsroom.emails` composes, built from plain values: an
    email about anything a reader wrote must have one of these, element for element."""
    from newsroom.emails import (
        CommentView,
        comment_live,
        confirm_replies,
        moderation_request,
        new_comment,
        reply_notice,
    )

    view = CommentView(
        article_title="Title",
        article_url="https://news.example/articles/a",
        author_name="Ann",
        author_url="https://ann.example/",
        text="Hello.",
        reason="Held.",
    )
    links = {"approve": "https://a.example/", "spam": "https://s.example/"}
    emails = {
        "moderation": moderation_request(
            "m@example.org", view, **links, trash="https://t.example/", expires_days=7
        ),
        "new_comment": new_comment("a@example.org", view),
        "reply": reply_notice("r@example.org", view, unsubscribe="https://u.example/"),
        "comment_live": comment_live("r@example.org", view),
        "confirm_replies": confirm_replies(
            "r@example.org",
            article_title="Title",
            article_url="https://news.example/articles/a",
            confirm="https://c.example/",
            days=7,
        ),
    }
    return {kind: skeleton(sent.html) for kind, sent in emails.items()}
