"""Markdown rendering: what authors and readers may put on the page, and what never gets there."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from newsroom.rendering import render_article, render_comment

Render = Callable[[str], str]
RENDERERS: list[Render] = [render_article, render_comment]
# An attribute whose value is a script or data URL; as escaped text such URLs are harmless.
DANGEROUS_ATTRIBUTE = re.compile(
    r"""\b(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):""", re.I
)
EVENT_ATTRIBUTE = re.compile(r"""<[^>]*\son[a-z]+\s*=\s*["']""", re.I)


@pytest.mark.parametrize("render", RENDERERS)
def test_raw_html_is_shown_as_text_never_as_tags(render: Render) -> None:
    # Given Markdown with raw HTML in it
    markdown = '<script>alert(1)</script>\n\nHi <img src=x onerror="alert(1)"> <b>there</b>'

    # When it is rendered
    html = render(markdown)

    # Then the HTML is escaped text, not markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not EVENT_ATTRIBUTE.search(html)
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html


@pytest.mark.parametrize("render", RENDERERS)
@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "jav&#x09;ascript:alert(1)",
    ],
)
def test_links_to_script_or_data_urls_lose_their_target(render: Render, url: str) -> None:
    # Given a link to a dangerous URL
    markdown = f"[click me]({url})"

    # When it is rendered
    html = render(markdown)

    # Then no href survives that could run code
    assert "href=" not in html
    assert not DANGEROUS_ATTRIBUTE.search(html)


def test_article_links_get_noopener() -> None:
    html = render_article("Read [the minutes](https://council.example.org/minutes).")

    assert '<a href="https://council.example.org/minutes" rel="noopener">the minutes</a>' in html


def test_comment_links_get_nofollow_ugc_noopener() -> None:
    html = render_comment("See [my site](http://reader.example.com/).")

    assert '<a href="http://reader.example.com/" rel="nofollow ugc noopener">my site</a>' in html


@pytest.mark.parametrize("render", RENDERERS)
def test_mailto_links_are_kept(render: Render) -> None:
    html = render("Write to [the desk](mailto:desk@example.org).")

    assert 'href="mailto:desk@example.org"' in html


@pytest.mark.parametrize("render", RENDERERS)
def test_links_with_other_schemes_or_relative_targets_lose_their_target(render: Render) -> None:
    html = render("[ftp](ftp://files.example.org/x) and [rel](/articles/other)")

    assert "href=" not in html
    assert "ftp" in html  # the link text stays


@pytest.mark.parametrize("render", RENDERERS)
def test_a_supplied_rel_or_event_attribute_cannot_be_smuggled_in(render: Render) -> None:
    # Given a link title that tries to close the attribute and add its own
    markdown = '[x](https://a.example.org "t\\" onclick=\\"alert(1)")'

    # When it is rendered
    html = render(markdown)

    # Then the quote stays inside the title; no attribute starts with "on"
    assert not EVENT_ATTRIBUTE.search(html)
    assert 'title="t&quot; onclick=&quot;alert(1)"' in html


def test_article_keeps_https_images() -> None:
    html = render_article("![The quay](https://images.example.org/quay.jpg)")

    assert '<img src="https://images.example.org/quay.jpg" alt="The quay">' in html


@pytest.mark.parametrize(
    "src",
    [
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "mailto:someone@example.org",
        "/relative/picture.png",
    ],
)
def test_article_images_without_an_http_source_lose_it(src: str) -> None:
    html = render_article(f"![pic]({src})")

    assert "src=" not in html
    assert not DANGEROUS_ATTRIBUTE.search(html)


def test_article_headings_are_kept_between_h2_and_h4() -> None:
    # Given headings from level 1 to 6
    markdown = "\n\n".join(f"{'#' * level} Level {level}" for level in range(1, 7))

    # When rendered as an article
    html = render_article(markdown)

    # Then the page title stays the only h1 and nothing is deeper than h4
    assert "<h1>" not in html
    assert "<h5>" not in html
    assert "<h6>" not in html
    assert "<h2>Level 1</h2>" in html
    assert "<h3>Level 3</h3>" in html
    assert "<h4>Level 6</h4>" in html


def test_article_keeps_the_usual_author_markdown() -> None:
    markdown = (
        "*em* **strong** `code`\n\n"
        "> quoted\n\n"
        "- one\n- two\n\n"
        "1. first\n\n"
        "```python\nx = 1\n```\n\n"
        "---\n\n"
        "| a | b |\n|---|--:|\n| 1 | 2 |\n"
    )

    html = render_article(markdown)

    for fragment in [
        "<em>em</em>",
        "<strong>strong</strong>",
        "<code>code</code>",
        "<blockquote>",
        "<ul>",
        "<ol>",
        '<pre><code class="language-python">',
        "<hr>",
        "<table>",
        '<td style="text-align:right">2</td>',
    ]:
        assert fragment in html


def test_code_block_classes_other_than_a_language_are_dropped() -> None:
    html = render_article("```python onclick=alert(1) x\nx = 1\n```")

    assert '<code class="language-python">' in html
    assert not EVENT_ATTRIBUTE.search(html)


def test_comment_drops_images_and_headings_but_keeps_the_words() -> None:
    # Given a comment with a heading and an image
    markdown = "# Shouting\n\n![cat](https://images.example.org/cat.jpg)"

    # When it is rendered
    html = render_comment(markdown)

    # Then neither is rendered as such, and what the reader typed is still readable
    assert "<h" not in html.replace("<hr", "")
    assert "<img" not in html
    assert "# Shouting" in html
    assert "cat" in html


def test_comment_drops_tables_and_rules() -> None:
    html = render_comment("| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n\ntext")

    assert "<table" not in html
    assert "<hr" not in html


def test_comment_keeps_the_usual_reader_markdown() -> None:
    markdown = "*em* **strong** `code`\n\n> quoted\n\n- one\n- two\n\n```\nx = 1\n```"

    html = render_comment(markdown)

    for fragment in [
        "<em>em</em>",
        "<strong>strong</strong>",
        "<code>code</code>",
        "<blockquote>",
        "<ul>",
        "<pre><code>",
    ]:
        assert fragment in html
