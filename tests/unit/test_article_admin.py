"""What a registration of an article the site's CMS hosts stores (newsroom.article_admin), and
the command's pieces that need no API: pure logic, no network."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from newsroom.article_admin import to_stored
from newsroom.models.article_admin import ArticleRegistration
from newsroom.models.articles import Image, StoredArticle, StoredAuthor
from newsroom_tools.articles_api import CommandError, region_of, registration

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def registered(**overrides: Any) -> ArticleRegistration:
    values: dict[str, Any] = {
        "url": "https://www.example.com/harbour/",
        "title": "Harbour wall repaired",
        "published_at": "2026-03-04T09:00:00Z",
    }
    return ArticleRegistration.model_validate(values | overrides)


def stored_before(**overrides: Any) -> StoredArticle:
    values: dict[str, Any] = {
        "slug": "harbour",
        "title": "Old title",
        "summary": "",
        "body_html": "<p>Old.</p>",
        "body_markdown": "Old.",
        "author": StoredAuthor(name="Old", email="old@example.com"),
        "published_at": NOW,
        "updated_at": NOW,
        "tags": ["old"],
        "image": Image(url="https://img.example.com/a.jpg"),
        "comments_open": False,
        "comment_count": 12,
        "revision": 4,
        "feed_id": "https://wp.example.com/?p=1",
    }
    return StoredArticle.model_validate(values | overrides)


def test_update_replaces_what_it_names_and_keeps_what_newsroom_owns() -> None:
    previous = stored_before()

    article = to_stored("harbour", registered(tags=["harbour"]), previous=previous, now=NOW)

    assert (article.title, article.tags, article.body_html) == (
        "Harbour wall repaired",
        ["harbour"],
        "",
    )
    assert article.url == "https://www.example.com/harbour/"
    assert (article.comment_count, article.revision) == (12, 4)
    assert article.feed_id == previous.feed_id
    assert article.image == previous.image
    assert article.comments_open is False  # left out: kept as a moderator left it


def test_new_article_is_open_unless_registered_closed() -> None:
    assert to_stored("a", registered(), previous=None, now=NOW).comments_open is True
    closed = to_stored("a", registered(comments_open=False), previous=None, now=NOW)
    assert closed.comments_open is False


def test_markdown_is_rendered_and_html_sanitised() -> None:
    markdown = to_stored("a", registered(body_markdown="*Hi*"), previous=None, now=NOW)
    html = to_stored(
        "a",
        registered(body_html='<p onclick="x()">Hi<script>x()</script></p>'),
        previous=None,
        now=NOW,
    )

    assert markdown.body_html == "<p><em>Hi</em></p>\n"
    assert "onclick" not in html.body_html
    assert "<script" not in html.body_html


def test_article_without_author_is_by_the_sites_host_and_emails_nobody() -> None:
    article = to_stored("a", registered(), previous=None, now=NOW)

    assert article.author == StoredAuthor(name="www.example.com", email="")
    assert article.updated_at == NOW


@pytest.mark.parametrize(
    "change",
    [
        {"url": "mailto:desk@example.com"},
        {"url": "https://" + "a" * 2050 + ".example.com/"},
        {"body_html": "<p>x</p>", "body_markdown": "x"},
        {"comments_open": 1},
        {"author": {"name": "A", "email": "a@example.com", "twitter": "@a"}},
    ],
)
def test_registration_refuses_what_it_cannot_store(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        registered(**change)


@pytest.mark.parametrize(
    ("url", "given", "default", "region"),
    [
        ("https://abc123.execute-api.eu-west-1.amazonaws.com/v1", None, "us-west-2", "eu-west-1"),
        ("https://comments.example.com/v1", None, "ap-south-1", "ap-south-1"),
        ("https://comments.example.com/v1", "eu-north-1", "ap-south-1", "eu-north-1"),
        ("http://127.0.0.1:3000/v1", None, None, "us-east-1"),
    ],
)
def test_command_signs_for_the_apis_region(
    url: str, given: str | None, default: str | None, region: str
) -> None:
    assert region_of(url, given, default) == region


def test_command_needs_a_region_for_a_custom_domain_without_one() -> None:
    with pytest.raises(CommandError, match="--region"):
        region_of("https://comments.example.com/v1", None, None)


def test_command_reads_the_body_file_as_markdown_or_html(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("*Hi*")
    (tmp_path / "a.txt").write_text("Hi")
    args = argparse.Namespace(
        url="https://x.example/", title="T", published_at="2026-03-04T09:00:00Z", tags=[],
        updated_at=None, summary=None, author_name=None, author_email=None,
        body_file=tmp_path / "a.md", closed=False, open=False,
    )  # fmt: skip

    assert registration(args)["body_markdown"] == "*Hi*"
    args.body_file = tmp_path / "a.txt"
    with pytest.raises(CommandError, match=r"\.md or \.html"):
        registration(args)
