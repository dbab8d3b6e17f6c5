"""Small HTML pages for people who follow a link from an email (everything escaped)."""

from __future__ import annotations

import html
from dataclasses import dataclass

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em}"
    "button{font-size:1.1em;padding:.5em 1.5em}"
    "blockquote{margin:1em 0;padding:.25em 1em;border-left:.25em solid #8888}"
    "figcaption{color:#666}"
)


@dataclass(frozen=True)
class Quote:
    """A passage the page is about (a comment), and who wrote it where."""

    text: str
    caption: str


def page(title: str, message: str, *, button: str | None = None, quote: Quote | None = None) -> str:
    """A page with a message, the `quote` it is about, and, when given, one button.

    The button's form has no action, so it POSTs to the page's own URL, whatever stage,
    base path or domain that URL has.
    """
    e = html.escape
    quoted = ""
    if quote is not None:
        quoted = (
            f"<figure><blockquote><p>{e(quote.text)}</p></blockquote>"
            f"<figcaption>{e(quote.caption)}</figcaption></figure>"
        )
    form = ""
    if button:
        form = f'<form method="post"><button type="submit">{e(button)}</button></form>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{e(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{e(title)}</h1>{quoted}<p>{e(message)}</p>{form}</body></html>"
    )
