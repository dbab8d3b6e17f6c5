"""The plain-prose path of the comment renderer (newsroom.rendering._plain_comment) says
nothing the Markdown parser would not: every comment it answers, the parser renders to the same
HTML, character for character (before the sanitiser, which both outputs go through)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsroom.rendering import _comment_markdown, _plain_comment, render_comment

# Prose, every character Markdown gives a meaning somewhere, and the whitespace it treats apart.
_CHARACTERS = st.sampled_from(
    list("aZé ж1 .,;:'\"?!()/@%$+-=#*_`~[]<>&\\|\t\r\u00a0\u2028\x00")
) | st.characters(codec="utf-8")
_LINE = st.text(_CHARACTERS, max_size=20)
# Lines of words, mostly prose, so that the plain path answers often enough to be tested.
_WORD = st.text(st.sampled_from(list("aZéж1.,;:'\"?!()/@%$+-=*_&<>\\")), min_size=1, max_size=8)
_PROSE_LINE = st.lists(_WORD, max_size=6).map(" ".join) | st.sampled_from(["", " ", "  "])
CANDIDATES = (
    st.lists(_LINE, max_size=5).map("\n".join)
    | st.text(_CHARACTERS, max_size=40)
    | st.lists(_PROSE_LINE, max_size=6).map("\n".join)
)


@settings(max_examples=1000)  # about one in fourteen takes the plain path
@given(CANDIDATES)
def test_a_comment_the_plain_path_answers_is_one_the_parser_renders_the_same(
    markdown: str,
) -> None:
    answered = _plain_comment(markdown)

    if answered is not None:
        assert answered == _comment_markdown().render(markdown)


@pytest.mark.parametrize(
    "markdown",
    [
        "A thoughtful remark by a (0d6c1e2b9a).",
        "Thank you!\n\nThe steps look better than before the storm.",
        'She said "no" and left: 2 days, 40% off, £5 or $5.',
        "Line one\nline two, same paragraph\n\n\n\nA last one",
        "Привет, мир. Ça va? 日本語も",
    ],
)
def test_prose_skips_the_parser(markdown: str) -> None:
    answered = _plain_comment(markdown)

    assert answered is not None
    assert answered == _comment_markdown().render(markdown)


@pytest.mark.parametrize(
    "markdown",
    [
        "The *harbour steps* look better.",  # emphasis
        "1. first",  # a list
        "- item",
        "> quoted",
        "    indented code",
        "ends in a hard break  \nnext",
        "see [this](https://example.org)",
        "a &amp; b",
        "a <b>tag</b>",
        "C:\\path",
        "tab\there",
        "crlf\r\nline",
        "`code`",
    ],
)
def test_anything_with_markdown_syntax_goes_to_the_parser(markdown: str) -> None:
    assert _plain_comment(markdown) is None


def test_an_empty_comment_renders_as_nothing_on_either_path() -> None:
    assert _plain_comment("") == _comment_markdown().render("") == ""


def test_a_plain_comment_is_rendered_without_importing_the_parser() -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from newsroom.rendering import render_comment\n"
        "html = render_comment('Thank you, everyone.\\n\\nSee you on Saturday!')\n"
        "assert html == '<p>Thank you, everyone.</p>\\n<p>See you on Saturday!</p>\\n', html\n"
        "assert 'markdown_it' not in sys.modules\n"
        "render_comment('*now* it is needed')\n"
        "assert 'markdown_it' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)  # noqa: S603


def test_both_paths_meet_the_same_sanitiser() -> None:
    assert render_comment('A "quoted" word.') == '<p>A "quoted" word.</p>\n'
