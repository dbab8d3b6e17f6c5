"""Reading HTML the renderer made: its text, and the links a reader can follow in it.

Standard library only, so the policy can read a rendered comment without loading the renderer.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser


@dataclass(frozen=True)
class RenderedHtml:
    """What a reader gets from rendered HTML: its text, and the links they can follow."""

    text: str
    text_outside_links: str
    links: int  # link elements


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links = 0
        self.inside_links = 0
        self.text: list[str] = []
        self.outside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += 1
            self.inside_links += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.inside_links:
            self.inside_links -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if not self.inside_links:
            self.outside.append(data)


def read_html(html: str) -> RenderedHtml:
    """The text and the links of HTML this module rendered (character references decoded)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    # Joined as they run, so a word split by markup ("vi<em>agra</em>") reads as one.
    return RenderedHtml(
        text="".join(reader.text), text_outside_links="".join(reader.outside), links=reader.links
    )
