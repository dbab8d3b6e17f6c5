"""The comment form's rules for text a reader cannot see, addresses SES cannot deliver to and
websites that name no host."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from newsroom.models.comments import CommentIn

VALID = {"author_name": "Ann", "author_email": "ann@example.org", "body": "Hello."}
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"


def refused_fields(**fields: Any) -> set[str]:
    try:
        CommentIn.model_validate(VALID | fields)
    except ValidationError as exc:
        return {".".join(str(part) for part in error["loc"]) for error in exc.errors()}
    return set()


@pytest.mark.parametrize(
    "invisible",
    [
        pytest.param("\u3164", id="hangul-filler"),
        pytest.param("\u115f\u1160", id="hangul-choseong-jungseong-fillers"),
        pytest.param("\uffa0", id="halfwidth-hangul-filler"),
        pytest.param("\u2800\u2800", id="braille-blank"),
        pytest.param("\u200d\u200c", id="joiners-alone"),
        pytest.param(" \u3000 \u200b ", id="spaces-and-zero-width"),
        pytest.param("\u034f\u17b4", id="grapheme-joiner-and-khmer-inherent-vowel"),
    ],
)
@pytest.mark.parametrize("field", ["author_name", "body"])
def test_name_or_text_that_draws_nothing_is_refused(field: str, invisible: str) -> None:
    assert refused_fields(**{field: invisible}) == {field}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", id="persian-zwnj"),
        pytest.param("\u0915\u094d\u200d\u0937", id="devanagari-zwj"),
        pytest.param("\U0001f468\u200d\U0001f469\u200d\U0001f467", id="family-emoji-zwj"),
        pytest.param(ENGLAND, id="subdivision-flag-tags"),
    ],
)
def test_joiners_and_flag_tags_that_writing_needs_are_kept(text: str) -> None:
    form = CommentIn.model_validate(VALID | {"body": f"Yes {text}!", "author_name": f"A {text}"})

    assert form.body == f"Yes {text}!"
    assert form.author_name == f"A {text}"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("\ue000", id="private-use-an-icon-font-draws"),
        pytest.param("\U00011daa", id="unassigned-here-perhaps-assigned-on-lambda"),
    ],
)
def test_characters_this_python_cannot_name_count_as_visible(text: str) -> None:
    assert CommentIn.model_validate(VALID | {"body": text}).body == text


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        pytest.param("abc\u202edef", "abcdef", id="right-to-left-override"),
        pytest.param("\u2066abc\u2069 \u200fdef\u200e", "abc def", id="isolates-and-marks"),
        pytest.param("a\U000e0041\U000e0042b", "ab", id="tag-characters-outside-a-flag"),
        pytest.param("a\u00adb\u2060c\ufeffd", "abcd", id="soft-hyphen-word-joiner-bom"),
    ],
)
def test_bidi_controls_and_other_format_characters_are_removed(sent: str, kept: str) -> None:
    assert CommentIn.model_validate(VALID | {"body": sent}).body == kept


def test_international_domain_is_kept_in_punycode_for_delivery() -> None:
    form = CommentIn.model_validate(VALID | {"author_email": "jo@b\u00fccher.example"})

    assert str(form.author_email) == "jo@xn--bcher-kva.example"


@pytest.mark.parametrize("email", ["j\u00f6@example.org", "\u7528\u6237@example.org"])
def test_address_whose_local_part_is_not_ascii_is_refused(email: str) -> None:
    assert refused_fields(author_email=email) == {"author_email"}


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("HTTP:`", id="backtick-host"),  # found by Hypothesis on a fresh clone
        pytest.param("http://a_b.example", id="underscore"),
        pytest.param("http://-a.example", id="leading-hyphen"),
        pytest.param("http://a..example", id="empty-label"),
        pytest.param("http://exa$mple.org", id="dollar"),
        pytest.param("http://a'b.example", id="quote"),
        pytest.param("http://a{b}.example", id="braces"),
        pytest.param("http://localhost", id="single-label"),
        pytest.param("https://" + "a" * 64 + ".example", id="label-over-63"),
    ],
)
def test_website_outside_the_host_name_syntax_is_refused(url: str) -> None:
    assert refused_fields(author_url=url) == {"author_url"}


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://ann.example.org/blog", "https://ann.example.org/blog"),
        ("http://\u4f8b\u3048.jp", "http://xn--r8jz45g.jp/"),
        ("http://203.0.113.7/", "http://203.0.113.7/"),
        ("https://[2001:db8::1]/", "https://[2001:db8::1]/"),
        ("https://news.example.", "https://news.example./"),
    ],
)
def test_website_with_a_host_name_or_address_is_kept(url: str, kept: str) -> None:
    assert str(CommentIn.model_validate(VALID | {"author_url": url}).author_url) == kept
