"""Properties of the model and rendering layer over any text: the form refuses or cleans it,
and whatever is accepted renders, in the page and in email, without markup that could run."""

from __future__ import annotations

import email
import re
import unicodedata
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from pydantic import ValidationError

from newsroom.emails import (
    CommentView,
    Email,
    comment_live,
    moderation_request,
    new_comment,
    reply_notice,
)
from newsroom.models.comments import BODY_MAX, JOINERS, NAME_MAX, CommentIn
from newsroom.rendering import render_article, render_comment
from tests.markup import (
    ARTICLE,
    COMMENT,
    EMAIL,
    attribute_values,
    problems,
    skeleton,
    text_of,
    xss_payloads,
)

# Bounded so the whole module runs in a few seconds; the payload corpus steers the generated
# text towards the places sanitisers get wrong.
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
READER_EMAIL = "reader@example.org"
INVISIBLE = {"Cc", "Cf", "Cs"}
FLAG_TAGS = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")

# Pieces of markup, Markdown and URL syntax that hostile text is made of.
FRAGMENTS = (
    *xss_payloads(),
    *("<", ">", "</", "/>", '"', "'", "`", "&", "&#", "&#x", ";", "=", ":", "(", ")", "[", "]"),
    *("](", "![", "<a href=", "<img src=", " on", "onerror=", "javascript:", "JaVaScRiPt:"),
    *("data:", "vbscript:", "http://", "https://", "mailto:", "//", "\\", "%0A", "&#x6A;"),
    *("\n", "\n\n", "\r\n", "\t", "    ", "> ", "- ", "1. ", "* ", "**", "_", "```", "#"),
    # NUL, RTL override, zero widths, line separators, fullwidth <>, long s, dotted I
    *"\x00\u202e\u200b\ufeff\u2028\x85\uff1c\uff1e\u017f\u0130",
    # joiners (kept), Hangul filler and braille blank (draw nothing), an emoji tag sequence
    *"\u200c\u200d\u3164\u2800",
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
)
hostile_text = st.one_of(
    st.text(max_size=120),
    st.lists(
        st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)), min_size=1, max_size=14
    ).map("".join),
)
SCHEMES = ("http://", "https://", "HTTPS://", " http://", "http:", "http:\\\\", "//", "")
BAD_SCHEMES = ("javascript:", "jav\tascript:", "data:text/html,", "ftp://", "mailto:")
HOSTS = ("example.org", "ex ample.org", "127.0.0.1", "[::1]", "\u4f8b\u3048.jp", "a.b\x00c", "")
url_ish = st.one_of(
    st.text(max_size=60),
    st.tuples(
        st.sampled_from(SCHEMES + BAD_SCHEMES),
        st.sampled_from(HOSTS),
        st.one_of(st.sampled_from(["", "/", ":8080/", "?q=", "#"]), hostile_text),
    ).map("".join),
)


def form(**fields: object) -> CommentIn | None:
    """The form with these fields (the others valid), or None when the model refuses it with
    a ValidationError; any other exception fails the test."""
    values: dict[str, object] = {
        "author_name": "Ann",
        "author_email": READER_EMAIL,
        "body": "Hello.",
    }
    try:
        return CommentIn.model_validate(values | fields)
    except ValidationError:
        return None


def invisible(text: str, *, keep: str = "") -> list[str]:
    """The control and format characters of `text`, but `keep`, the joiners writing needs and
    the tags of subdivision flags (the only format characters the form keeps)."""
    text = FLAG_TAGS.sub("", text)
    keep += JOINERS
    return [ch for ch in text if ch not in keep and unicodedata.category(ch) in INVISIBLE]


# -- the checker itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "found"),
    [
        ("<p>Hi<script>alert(1)</script></p>", "tag <script>"),
        ('<p onclick="alert(1)">Hi</p>', "event handler onclick"),
        ('<a href="&#x6A;avascript:alert(1)">x</a>', "javascript: URL"),
        ('<a href="jav&#x09;ascript:alert(1)">x</a>', "javascript: URL"),
        ('<a href=" \x01javascript:alert(1)">x</a>', "javascript: URL"),
        ('<a href="data:text/html,x">x</a>', "data: URL"),
        ('<a href="//evil.example/">x</a>', "relative URL"),
        ('<a href="https://a.example/" style="background:url(x)">x</a>', "attribute style"),
        ("<svg><a>x</a></svg>", "tag <svg>"),
        ("<p><!-- x --></p>", "comment"),
        ("<p><![CDATA[x]]></p>", "declaration"),
    ],
)
def test_markup_checker_finds_what_could_run(html: str, found: str) -> None:
    # Given HTML with something executable (or outside the comment allow-list) in it
    # When the checker reads it as a comment
    found_problems = problems(html, COMMENT)

    # Then it names the problem
    assert any(found in problem for problem in found_problems), found_problems


class UnsafeMarkdown(MarkdownIt):
    """Markdown as an unsafe site renders it: raw HTML kept, any link followed."""

    def validateLink(self, url: str) -> bool:  # noqa: N802 - markdown-it's name
        return True


def test_markup_checker_flags_most_payloads_when_nothing_sanitises() -> None:
    # Given a renderer that lets raw HTML and any link through, as an unsafe site would
    unsafe = UnsafeMarkdown("commonmark", {"html": True})

    # When the corpus goes through it
    flagged = [p for p in xss_payloads() if problems(unsafe.render(p), COMMENT)]

    # Then the checker sees executable markup in most of it (the rest needs another context,
    # such as an attribute, to do harm)
    assert len(flagged) >= 0.7 * len(xss_payloads())


def test_corpus_holds_at_least_100_distinct_payloads() -> None:
    assert len(set(xss_payloads())) >= 100


# -- the form ------------------------------------------------------------------------------------


@BOUNDED
@given(name=hostile_text)
def test_any_author_name_is_refused_or_kept_clean_and_within_limits(name: str) -> None:
    # Given any text as the name
    # When the form is read
    accepted = form(author_name=name)

    # Then it is refused, or kept without control or format characters, trimmed, in limits
    if accepted is None:
        return
    assert invisible(accepted.author_name) == []
    assert accepted.author_name == accepted.author_name.strip()
    assert 1 <= len(accepted.author_name) <= NAME_MAX


@BOUNDED
@given(url=url_ish)
@example(url="HTTP:`")  # once kept as http://`/ (a backtick as the host)
def test_any_author_url_is_refused_or_kept_as_an_http_address_without_markup(url: str) -> None:
    # Given any URL-like text as the website
    # When the form is read
    accepted = form(author_url=url)

    # Then it is refused, or it is an http(s) address a page can show without breaking out
    if accepted is None or accepted.author_url is None:
        return
    kept = str(accepted.author_url)
    assert accepted.author_url.scheme in {"http", "https"}
    assert kept.startswith(("http://", "https://"))
    assert not set(kept) & set('<>"` \t\r\n\x00'), kept
    assert invisible(kept) == []
    assert re.fullmatch(r"[a-z0-9.-]+|\[[0-9a-f:.]+\]", accepted.author_url.host or ""), kept


@BOUNDED
@given(body=hostile_text)
def test_any_body_is_refused_or_kept_clean_and_renders_without_executable_markup(
    body: str,
) -> None:
    # Given any text as the comment
    # When the form is read and the accepted text rendered
    accepted = form(body=body)
    if accepted is None:
        return
    html = render_comment(accepted.body)

    # Then the text is clean and the HTML holds nothing outside the comment allow-list
    assert invisible(accepted.body, keep="\n\t") == []
    assert 1 <= len(accepted.body) <= BODY_MAX
    assert problems(html, COMMENT) == []


@BOUNDED
@given(markdown=hostile_text)
def test_any_article_markdown_renders_within_the_article_allow_list(markdown: str) -> None:
    # Given any text as an article's Markdown
    # When it is rendered
    html = render_article(markdown)

    # Then only the article's tags and attributes remain, images load over http(s) only (an
    # image whose source is not kept loads nothing), and table cells carry no style but their
    # alignment
    assert problems(html, ARTICLE) == []
    for source in attribute_values(html, "img", "src"):
        assert source is None or source.lower().startswith(("http://", "https://"))
    for cell in ("th", "td"):
        for style in attribute_values(html, cell, "style"):
            assert style in {None, "text-align:left", "text-align:center", "text-align:right"}


# -- email ---------------------------------------------------------------------------------------

LINKS = {
    "approve": "https://news.example/links/a",
    "spam": "https://news.example/links/s",
    "trash": "https://news.example/links/t",
}
UNSUBSCRIBE = "https://news.example/links/u"
SENDER = "newsroom@news.example"


def every_email(view: CommentView) -> list[tuple[Email, list[str]]]:
    """The four emails a comment can cause, about `view`, each with the reader's texts it
    shows (the moderators see all of them; the commenter is not shown their own name)."""
    everything = [view.author_name, view.author_url or "(none)", view.text, view.reason or "-"]
    return [
        (moderation_request("mod@example.org", view, **LINKS, expires_days=7), everything),
        (new_comment("author@example.org", view), [view.author_name, view.text]),
        (reply_notice(READER_EMAIL, view, unsubscribe=UNSUBSCRIBE), [view.author_name, view.text]),
        (comment_live(READER_EMAIL, view), [view.text]),
    ]


PLAIN = CommentView(
    article_title="Title",
    article_url="https://news.example/articles/a",
    author_name="Ann",
    author_url="https://ann.example/",
    text="Hello.",
    reason="Held.",
)
TEMPLATE_SKELETONS = [skeleton(sent.html) for sent, _ in every_email(PLAIN)]
HEADER_NAMES = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}


def mime(sent: Email) -> EmailMessage:
    message: EmailMessage = email.message_from_bytes(sent.to_mime(SENDER), policy=policy.default)
    return message


@settings(BOUNDED, max_examples=60)
@given(
    name=hostile_text,
    url=st.one_of(st.none(), url_ish),
    body=hostile_text,
    title=hostile_text,
    reason=hostile_text,
)
def test_emails_show_what_readers_wrote_only_as_text_and_keep_one_line_subjects(
    name: str, url: str | None, body: str, title: str, reason: str
) -> None:
    # Given a comment whose every field (and its article's title) is any text
    view = CommentView(
        article_title=title,
        article_url=PLAIN.article_url,
        author_name=name,
        author_url=url,
        text=body,
        reason=reason,
    )

    # When each email about it is composed and built as MIME
    for template, (sent, shown) in zip(TEMPLATE_SKELETONS, every_email(view), strict=True):
        message = mime(sent)

        # Then the HTML has exactly the template's elements and attributes: nothing a reader
        # wrote became markup, and what they wrote is there as text
        assert skeleton(sent.html) == template
        assert problems(sent.html, EMAIL) == []
        text = text_of(sent.html)
        assert all(written in text for written in shown)
        # And the subject is one line, and no header was added
        assert not set(sent.subject) & set("\r\n\u2028\u2029\x85\x0b\x0c")
        assert not set(str(message["Subject"])) & set("\r\n")
        assert {key.lower() for key in message} - HEADER_NAMES <= {
            "list-unsubscribe",
            "list-unsubscribe-post",
        }
