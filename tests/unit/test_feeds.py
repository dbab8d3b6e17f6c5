"""The Atom writer (newsroom.feeds) and the comment feed's read past 1 MB, without AWS."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from newsroom import feeds
from newsroom.data import dynamo
from newsroom.data.comments import CommentTable
from newsroom.data.pagination import CursorSigner
from newsroom.feeds import Entry, Feed, Site, render, xml_text

ATOM = "{http://www.w3.org/2005/Atom}"
SITE = Site("https://news.example.org/v1")
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def entry(number: int, *, body: str = "<p>Hi.</p>") -> Entry:
    return Entry(
        id=SITE.tag_uri(f"articles/a{number}"),
        title=f"Article {number}",
        updated=AT - timedelta(hours=number),
        published=AT - timedelta(hours=number),
        author="Ada",
        link=SITE.article_url(f"a{number}"),
        content_html=body,
    )


def feed_of(entries: list[Entry]) -> Feed:
    return Feed(
        id=SITE.tag_uri("feed"), title="T", self_url=SITE.url("/feed"), site=SITE, entries=entries
    )


def test_characters_xml_10_cannot_hold_are_dropped_and_all_others_kept() -> None:
    illegal = "".join(
        map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xD800, 0xFFFE, 0xFFFF])
    )
    kept = "tab\tline\ncr\r é 東京 \u200d 🙂 \U0010fffd \x7f"

    assert xml_text(illegal + kept + illegal) == kept


def test_entries_are_kept_newest_first_while_the_document_stays_within_its_bound(
    monkeypatch: Any,
) -> None:
    # Given entries of some 1.3 KB each, and a bound of about two and a half of them
    monkeypatch.setattr(feeds, "FEED_MAX_BYTES", 3_000)
    entries = [entry(n, body="x" * 1_000) for n in range(5)]

    # When the feed is written
    body, updated = render(feed_of(entries))

    # Then the two newest are in it, and it is dated by them
    ids = [e.findtext(f"{ATOM}id") for e in ET.fromstring(body).iter(f"{ATOM}entry")]  # noqa: S314
    assert ids == [entries[0].id, entries[1].id]
    assert updated == entries[0].updated


def test_an_entry_larger_than_the_bound_is_still_served_alone(monkeypatch: Any) -> None:
    monkeypatch.setattr(feeds, "FEED_MAX_BYTES", 100)

    body, _ = render(feed_of([entry(0, body="y" * 1_000), entry(1)]))

    assert len(feedparser.parse(body).entries) == 1


def test_a_feed_without_entries_is_valid_and_the_same_every_time() -> None:
    first, updated = render(feed_of([]))

    parsed = feedparser.parse(first)
    assert not parsed.bozo
    assert parsed.feed.author == "news.example.org"  # RFC 4287: a feed without entries has one
    assert updated == feeds.NO_ENTRY_UPDATED
    assert render(feed_of([]))[0] == first


def test_an_entry_without_a_body_has_its_summary_and_link_and_no_content() -> None:
    # Given an entry whose body is not known (a tag item that carries none)
    summarised = Entry(**{**entry(0).__dict__, "content_html": None, "summary": "In short."})

    # When the feed is written
    body, _ = render(feed_of([summarised]))

    # Then the entry has no content element, and keeps the summary and its alternate link,
    # which RFC 4287 (4.1.1) asks of an entry without content
    (element,) = ET.fromstring(body).iter(f"{ATOM}entry")  # noqa: S314 - our own document
    assert element.find(f"{ATOM}content") is None
    assert element.findtext(f"{ATOM}summary") == "In short."
    assert [link.get("rel") for link in element.iter(f"{ATOM}link")] == ["alternate"]
    assert not feedparser.parse(body).bozo


def test_ids_are_tag_uris_of_the_host_unless_a_migrated_id_is_kept() -> None:
    assert SITE.article_entry_id("storm", None) == "tag:news.example.org,2026:articles/storm"
    assert SITE.article_entry_id("storm", "https://old.example.org/?p=7") == (
        "https://old.example.org/?p=7"
    )
    assert SITE.comment_entry_id("storm", "c1") == (
        "tag:news.example.org,2026:articles/storm/comments/c1"
    )
    assert SITE.url("/feed") == "https://news.example.org/v1/feed"


# -- an article's comments, past 1 MB -----------------------------------------------------------


def comment_id(number: int) -> str:
    return f"c{number:020x}"


def comment_item(slug: str, number: int) -> dynamo.Item:
    created = (AT + timedelta(minutes=number)).isoformat()
    return dynamo.to_item(
        {
            "sk": f"COMMENT#{comment_id(number)}",
            "id": comment_id(number),
            "slug": slug,
            "depth": 1,
            "author_name": f"Reader {number}",
            "avatar": "a",
            "body_html": "<p>x</p>",
            "created_at": created,
            "moderation": {"rule": "ok", "explanation": "ok", "at": created},
        }
    )


class PagedPartition:
    """Answers a Query of an article's partition newest first, `page` items at a time (as
    DynamoDB cuts at 1 MB), and GetItem of the article."""

    def __init__(self, items: list[dynamo.Item], article: dynamo.Item, page: int) -> None:
        self.items, self.article, self.page = items, article, page
        self.requests: list[str] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append("Query")
        start = request.get("ExclusiveStartKey", {}).get("n", 0)
        chunk = self.items[start : start + self.page]
        answer: dict[str, Any] = {"Items": chunk}
        if start + self.page < len(self.items):
            answer["LastEvaluatedKey"] = {"n": start + self.page}
        return answer

    def get_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append("GetItem")
        return {"Item": self.article}


def test_a_long_thread_is_read_until_the_newest_comments_are_in_then_its_article_by_key() -> None:
    # Given an article whose 9 comments (newest first) come 4 to a page, the article item last
    slug = "long-thread"
    article = dynamo.to_item(
        {
            "sk": "ARTICLE",
            "slug": slug,
            "title": "Long",
            "published_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
        }
    )
    items = [comment_item(slug, n) for n in range(8, -1, -1)] + [article]
    db = PagedPartition(items, article, page=4)
    table = CommentTable("t", cursors=CursorSigner(lambda: None), db=db)  # type: ignore[arg-type]

    # When the feed asks for the 6 newest
    heading, comments = table.thread_feed(slug, limit=6)

    # Then two pages held them, and the article was read by key instead of a third page
    assert db.requests == ["Query", "Query", "GetItem"]
    assert heading is not None
    assert heading.title == "Long"
    assert [c.id for c in comments] == [comment_id(n) for n in (8, 7, 6, 5, 4, 3)]


def test_a_short_thread_is_one_query_that_ends_with_its_article() -> None:
    slug = "short"
    article = dynamo.to_item(
        {
            "sk": "ARTICLE",
            "slug": slug,
            "title": "Short",
            "published_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
        }
    )
    db = PagedPartition([comment_item(slug, 1), comment_item(slug, 0), article], article, page=4)
    table = CommentTable("t", cursors=CursorSigner(lambda: None), db=db)  # type: ignore[arg-type]

    heading, comments = table.thread_feed(slug, limit=30)

    assert db.requests == ["Query"]
    assert heading is not None
    assert [c.id for c in comments] == [comment_id(1), comment_id(0)]
