"""The Atom feeds through real API Gateway events against the emulator, read back by an
independent reader (feedparser) and checked against RFC 4287's requirements.

Each test has a content table of its own (`own_content_table`), so the site-wide feeds hold
exactly what the test wrote.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import feedparser
import pytest

from functions.articles.app import lambda_handler as articles_handler
from functions.comments.app import lambda_handler as comments_handler
from newsroom.config import articles_settings, comments_settings
from newsroom.data import dynamo
from newsroom.data.articles import (
    ARTICLE_SK,
    ITEM_MAX_BYTES,
    article_item_bytes,
    article_pk,
    get_article,
    save_article,
)
from newsroom.models.articles import MAX_TAGS
from newsroom.rendering import render_article
from newsroom_tools.cli import main as cli_main
from newsroom_tools.template import create_tables, load_template, resources
from tests.apigw import Answer, invoke, rest_event
from tests.integration.articles_data import NOW, seed, stored_article
from tests.integration.comments_api import (
    admin_action,
    form,
    post_comment,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

from tests.integration.comments_api import (
    content_table_of_its_own,  # noqa: F401 (the content_table fixture: a table per test)
)

pytestmark = pytest.mark.integration

ATOM = "{http://www.w3.org/2005/Atom}"
THREAD = "{http://purl.org/syndication/thread/1.0}"
BASE = "http://newsroom.test"  # PUBLIC_BASE_URL in the test session (tests/conftest.py)
Settings = Callable[..., None]


@pytest.fixture
def moderation(settings: Settings) -> None:
    """First comments are published at once, unless they hold "hold-me" (held for moderation)
    or "spam-me" (marked as spam)."""
    settings(
        require_previous_approval="false",
        moderation_keys='["hold-me"]',
        disallowed_keys='["spam-me"]',
    )


# -- reading the feeds --------------------------------------------------------------------------


def site_feed(headers: dict[str, str] | None = None) -> Answer:
    return invoke(articles_handler, rest_event("GET", "/feed", headers=headers))


def tag_feed(tag: str, headers: dict[str, str] | None = None) -> Answer:
    event = rest_event("GET", "/tags/{tag}/feed", path_params={"tag": tag}, headers=headers)
    return invoke(articles_handler, event)


def article_comments_feed(slug: str, headers: dict[str, str] | None = None) -> Answer:
    event = rest_event(
        "GET", "/articles/{slug}/comments/feed", path_params={"slug": slug}, headers=headers
    )
    return invoke(comments_handler, event)


def site_comments_feed(headers: dict[str, str] | None = None) -> Answer:
    return invoke(comments_handler, rest_event("GET", "/comments/feed", headers=headers))


def parsed(answer: Answer) -> Any:
    """The feed as feedparser reads it, after checking it is a well-formed Atom answer that
    meets RFC 4287's requirements."""
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert_rfc4287(answer.body)
    feed = feedparser.parse(answer.body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def assert_rfc4287(body: str) -> None:
    """RFC 4287's must-haves (§4.1.1, §4.1.2): a feed and each entry have exactly one id, title
    and updated (an RFC 3339 date with a zone); the feed has an author unless every entry has
    one; an entry has content or an alternate link, and at most one alternate link per type
    and language; entry ids are unique. And a self link (RFC 4287 §4.2.7.2, "SHOULD")."""
    root = ET.fromstring(body)  # noqa: S314 - our own answer
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    for element in (root, *entries):
        for name in ("id", "title", "updated"):
            assert len(element.findall(f"{ATOM}{name}")) == 1, (element.tag, name)
        updated = element.findtext(f"{ATOM}updated") or ""
        assert datetime.fromisoformat(updated).tzinfo is not None, updated
    if not root.findall(f"{ATOM}author"):
        assert all(entry.findall(f"{ATOM}author") for entry in entries)
    for author in root.iter(f"{ATOM}author"):
        assert (author.findtext(f"{ATOM}name") or "").strip()
    self_links = [link for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert len(self_links) == 1
    for entry in entries:
        links = entry.findall(f"{ATOM}link")
        alternates = Counter(
            (link.get("type"), link.get("hreflang"))
            for link in links
            if link.get("rel", "alternate") == "alternate"
        )
        assert alternates or entry.findall(f"{ATOM}content")
        assert all(count == 1 for count in alternates.values()), alternates
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(ids) == len(set(ids))


def all_links(body: str) -> list[str]:
    root = ET.fromstring(body)  # noqa: S314 - our own answer
    hrefs = [
        e.get("href", "") for e in root.iter() if e.tag in (f"{ATOM}link", f"{THREAD}in-reply-to")
    ]
    return hrefs + [
        e.get("{http://www.w3.org/XML/1998/namespace}base", "") for e in root.iter(f"{ATOM}content")
    ]


def entry_ids(feed: Any) -> list[str]:
    return [entry.id for entry in feed.entries]


def self_link(feed: Any) -> str:
    (href,) = [link.href for link in feed.feed.links if link.rel == "self"]
    return str(href)


def accepted(answer: Answer) -> str:
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


# -- the articles' feeds ------------------------------------------------------------------------


def test_site_feed_is_valid_atom_of_the_public_articles_newest_first(
    content_table: str, unique: str
) -> None:
    # Given three public articles, the newest a migrated WordPress post, a draft and one
    # scheduled for tomorrow
    oldest = seed(content_table, f"old-{unique}", published_at=NOW - timedelta(hours=3))
    middle = seed(content_table, f"mid-{unique}", published_at=NOW - timedelta(hours=2))
    guid = f"https://old-blog.example.org/?p=42&u={unique}"
    newest = seed(
        content_table,
        f"new-{unique}",
        published_at=NOW - timedelta(hours=1),
        updated_at=NOW - timedelta(minutes=5),
        feed_id=guid,
        body_html='<p>Full <a href="/elsewhere">text</a>.</p>',
    )
    seed(content_table, f"draft-{unique}", draft=True)
    seed(content_table, f"later-{unique}", published_at=NOW + timedelta(days=1))

    # When a feed reader fetches the site's feed
    answer = site_feed()
    feed = parsed(answer)

    # Then it lists the public articles newest first, the migrated one under its guid
    assert entry_ids(feed) == [
        guid,
        f"tag:newsroom.test,2026:articles/{middle.slug}",
        f"tag:newsroom.test,2026:articles/{oldest.slug}",
    ]
    assert feed.feed.id == "tag:newsroom.test,2026:feed"
    assert feed.feed.title == "Latest articles on newsroom.test"
    assert self_link(feed) == f"{BASE}/feed"
    # ... the feed's updated is its newest entry's (the migrated post, edited 5 minutes ago)
    assert feed.feed.updated_parsed == feed.entries[0].updated_parsed
    assert feed.feed.updated == (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parsedate_to_datetime(answer.headers["last-modified"]) == (
        NOW - timedelta(minutes=5)
    ).replace(microsecond=0)
    # ... each entry links to its article and its comment feed, and carries the whole body
    first = feed.entries[0]
    assert first.title == newest.title
    assert first.link == f"{BASE}/articles/{newest.slug}"
    assert {(link.rel, link.href) for link in first.links} >= {
        ("replies", f"{BASE}/articles/{newest.slug}/comments/feed")
    }
    assert first.content[0].type == "text/html"
    # ... whose relative links a reader resolves against the article (xml:base)
    assert (
        first.content[0].value == '<p>Full <a href="http://newsroom.test/elsewhere">text</a>.</p>'
    )
    assert first.summary == newest.summary
    assert first.author == "Ada Reporter"
    # ... every link is absolute, and the author's email is nowhere
    assert all(link.startswith(f"{BASE}/") for link in all_links(answer.body))
    assert "@example.org" not in answer.body
    assert answer.headers["cache-control"] == "public, max-age=30"
    assert answer.headers["etag"].startswith('"')


def test_entry_ids_stay_the_same_when_an_article_is_edited(content_table: str, unique: str) -> None:
    # Given an article in the feed
    slug = f"kept-{unique}"
    seed(content_table, slug)
    before = entry_ids(parsed(site_feed()))

    # When its title and body are edited
    seed(content_table, slug, title="A new title", updated_at=NOW, body_html="<p>New.</p>")
    after = parsed(site_feed())

    # Then its entry keeps its id (and shows the edit)
    assert entry_ids(after) == before == [f"tag:newsroom.test,2026:articles/{slug}"]
    assert after.entries[0].title == "A new title"


def test_tag_feed_lists_only_the_articles_with_the_tag(content_table: str, unique: str) -> None:
    # Given two articles with the tag and one without
    tag = f"harbour-{unique}"
    seed(content_table, f"t1-{unique}", tags=[tag], published_at=NOW - timedelta(hours=2))
    seed(content_table, f"t2-{unique}", tags=[tag, "town"], published_at=NOW - timedelta(hours=1))
    seed(content_table, f"other-{unique}", tags=["town"])

    # When a reader fetches the tag's feed
    feed = parsed(tag_feed(tag))

    # Then it holds the tagged ones, newest first, and names the tag
    assert [entry.link for entry in feed.entries] == [
        f"{BASE}/articles/t2-{unique}",
        f"{BASE}/articles/t1-{unique}",
    ]
    assert feed.feed.id == f"tag:newsroom.test,2026:tags/{tag}/feed"
    assert self_link(feed) == f"{BASE}/tags/{tag}/feed"
    assert tag in feed.feed.title
    assert [t.term for t in feed.entries[0].tags] == [tag, "town"]


def test_feed_of_a_tag_no_article_has_is_an_empty_valid_feed(content_table: str) -> None:
    answer = tag_feed("nothing-yet")

    feed = parsed(answer)
    assert feed.entries == []
    assert self_link(feed) == f"{BASE}/tags/nothing-yet/feed"
    # An empty feed keeps its validators until its first entry.
    assert tag_feed("nothing-yet").headers["etag"] == answer.headers["etag"]


def test_characters_xml_cannot_hold_are_left_out_and_all_other_text_is_kept(
    content_table: str, unique: str
) -> None:
    # Given an article whose text holds control characters among non-ASCII text
    seed(
        content_table,
        f"chars-{unique}",
        title="Zürich\x0b und 東京\x00 🙂",
        summary="Größe\x1f — naïve\ufffe café",
        body_html="<p>Ελληνικά\x08 & עברית</p>",
    )

    # When a reader fetches the feed
    feed = parsed(site_feed())

    # Then the control characters are gone and everything else is as written
    (entry,) = feed.entries
    assert entry.title == "Zürich und 東京 🙂"
    assert entry.summary == "Größe — naïve café"
    assert entry.content[0].value == "<p>Ελληνικά & עברית</p>"


# -- the comments' feeds ------------------------------------------------------------------------


def test_article_comment_feed_lists_its_approved_comments_only_newest_first(
    content_table: str, unique: str, moderation: None
) -> None:
    # Given an article with two approved comments (the second a reply, by a non-ASCII name),
    # one held for moderation, one marked as spam, and an approved comment on another article
    slug = f"thread-{unique}"
    seed(content_table, slug, title="Storm “Isolde”")
    seed(content_table, f"elsewhere-{unique}")
    first = accepted(post_comment(slug, form(unique, reader="a")))
    reply = accepted(
        post_comment(slug, form(unique, reader="b", author_name="Zoë Ωmega 李", parent_id=first))
    )
    post_comment(slug, form(unique, reader="c", body="Please hold-me for review."))
    post_comment(slug, form(unique, reader="d", body="Buy now spam-me."))
    accepted(post_comment(f"elsewhere-{unique}", form(unique, reader="e")))

    # When a reader fetches the article's comment feed
    answer = article_comments_feed(slug)
    feed = parsed(answer)

    # Then it holds the two approved comments, newest first, under stable ids
    ids = [
        f"tag:newsroom.test,2026:articles/{slug}/comments/{reply}",
        f"tag:newsroom.test,2026:articles/{slug}/comments/{first}",
    ]
    assert entry_ids(feed) == ids
    assert entry_ids(parsed(article_comments_feed(slug))) == ids
    assert feed.feed.id == f"tag:newsroom.test,2026:articles/{slug}/comments"
    assert feed.feed.title == "Comments on “Storm “Isolde””"
    assert self_link(feed) == f"{BASE}/articles/{slug}/comments/feed"
    assert feed.feed.link == f"{BASE}/articles/{slug}"
    assert feed.feed.updated_parsed == feed.entries[0].updated_parsed
    # ... each links to the article at the comment, by the name its author gave, no more
    newest = feed.entries[0]
    assert newest.link == f"{BASE}/articles/{slug}#comment-{reply}"
    assert newest.author == "Zoë Ωmega 李"
    assert "Zoë Ωmega 李" in newest.title
    assert newest.content[0].value.strip() == f"<p>A thoughtful remark by b ({unique}).</p>"
    assert "hold-me" not in answer.body
    assert "spam-me" not in answer.body
    assert "@" not in answer.body
    assert all(link.startswith(f"{BASE}/") for link in all_links(answer.body))
    # ... and the reply says which comment it answers (RFC 4685)
    in_reply_to = ET.fromstring(answer.body).find(f"{ATOM}entry/{THREAD}in-reply-to")  # noqa: S314
    assert in_reply_to is not None
    assert in_reply_to.attrib == {"ref": ids[1], "href": f"{BASE}/articles/{slug}#comment-{first}"}


def test_site_comment_feed_lists_approved_comments_of_every_article_newest_first(
    content_table: str, unique: str, moderation: None
) -> None:
    # Given approved comments on two articles, and a held and a spam one
    one, two = f"one-{unique}", f"two-{unique}"
    seed(content_table, one)
    seed(content_table, two)
    earliest = accepted(post_comment(one, form(unique, reader="a")))
    post_comment(two, form(unique, reader="b", body="Please hold-me."))
    post_comment(one, form(unique, reader="c", body="Cheap spam-me."))
    latest = accepted(post_comment(two, form(unique, reader="d")))

    # When a reader fetches the site's comment feed
    answer = site_comments_feed()
    feed = parsed(answer)

    # Then it holds the approved ones, newest first, linked to their articles
    assert entry_ids(feed) == [
        f"tag:newsroom.test,2026:articles/{two}/comments/{latest}",
        f"tag:newsroom.test,2026:articles/{one}/comments/{earliest}",
    ]
    assert [entry.link for entry in feed.entries] == [
        f"{BASE}/articles/{two}#comment-{latest}",
        f"{BASE}/articles/{one}#comment-{earliest}",
    ]
    assert feed.feed.id == "tag:newsroom.test,2026:comments"
    assert self_link(feed) == f"{BASE}/comments/feed"
    # ... and never an email (the queue's index carries them), nor what was not approved
    assert "@" not in answer.body
    assert "hold-me" not in answer.body
    assert "spam-me" not in answer.body


def test_comment_approved_by_a_moderator_is_dated_by_its_approval(
    content_table: str, unique: str, moderation: None
) -> None:
    # Given a comment posted an hour ago, held for moderation, and approved now
    slug = f"held-{unique}"
    seed(content_table, slug)
    held = accepted(post_comment(slug, form(unique, body="Please hold-me, kindly.")))
    posted = NOW - timedelta(hours=1)
    dynamo.client().update_item(
        TableName=content_table,
        Key={"pk": {"S": article_pk(slug)}, "sk": {"S": f"COMMENT#{held}"}},
        UpdateExpression="SET created_at = :posted",
        ExpressionAttributeValues={":posted": {"S": posted.isoformat()}},
    )
    assert admin_action(slug, held, "approve").status == 200

    # When a reader fetches the feeds
    feeds = [parsed(article_comments_feed(slug)), parsed(site_comments_feed())]

    # Then the comment is in both, published when posted and updated when approved
    for feed in feeds:
        (entry,) = feed.entries
        assert entry.id.endswith(f"/comments/{held}")
        assert entry.published == posted.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert datetime.fromisoformat(entry.updated) >= NOW.replace(microsecond=0)
        assert feed.feed.updated == entry.updated


def test_comment_feed_of_an_article_without_comments_is_empty_and_dated_by_the_article(
    content_table: str, unique: str
) -> None:
    article = seed(content_table, f"quiet-{unique}", published_at=NOW - timedelta(days=2))

    feed = parsed(article_comments_feed(article.slug))

    assert feed.entries == []
    assert feed.feed.updated == (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- one request each ---------------------------------------------------------------------------


def test_each_comment_feed_is_one_dynamodb_query(
    content_table: str, unique: str, moderation: None, dynamodb_requests: list[str]
) -> None:
    # Given an article with an approved and a held comment
    slug = f"count-{unique}"
    seed(content_table, slug)
    accepted(post_comment(slug, form(unique, reader="a")))
    post_comment(slug, form(unique, reader="b", body="Please hold-me."))

    # When a reader fetches the article's comment feed, the site's, and an unknown article's
    dynamodb_requests.clear()
    assert article_comments_feed(slug).status == 200
    assert dynamodb_requests == ["Query"]
    dynamodb_requests.clear()
    assert site_comments_feed().status == 200
    assert dynamodb_requests == ["Query"]
    dynamodb_requests.clear()
    assert article_comments_feed(f"none-{unique}").status == 404

    # Then each cost one Query, the 404 too
    assert dynamodb_requests == ["Query"]


def test_each_article_feed_is_one_dynamodb_query(
    content_table: str, unique: str, dynamodb_requests: list[str]
) -> None:
    # Given tagged articles, one of them migrated (a feed id of its own)
    tag = f"count-{unique}"
    for age in range(3):
        seed(content_table, f"n{age}-{unique}", tags=[tag], published_at=NOW - timedelta(hours=age))
    seed(content_table, f"wp-{unique}", tags=[tag], feed_id=f"https://wp.example.org/?p={unique}")

    # When a reader fetches the site's feed, the tag's, and an unused tag's
    dynamodb_requests.clear()
    site = parsed(site_feed())
    assert dynamodb_requests == ["Query"]
    dynamodb_requests.clear()
    tagged = parsed(tag_feed(tag))
    assert dynamodb_requests == ["Query"]
    dynamodb_requests.clear()
    assert tag_feed(f"unused-{unique}").status == 200

    # Then each cost one Query of the feed index, which carries the entries' ids and bodies
    assert dynamodb_requests == ["Query"]
    for feed in (site, tagged):
        assert len(feed.entries) == 4
        assert all(entry.content[0].value == "<p>Body.</p>" for entry in feed.entries)
        assert f"https://wp.example.org/?p={unique}" in entry_ids(feed)


def test_article_feed_whose_bodies_pass_the_1_mb_a_query_reads_is_still_one_query(
    content_table: str, unique: str, dynamodb_requests: list[str]
) -> None:
    # Given five articles of some 300 KB each (a Query reads at most 1 MB of them)
    body = "<p>" + "x" * 300_000 + "</p>"
    slugs = [f"long{age}-{unique}" for age in range(5)]
    for age, slug in enumerate(slugs):
        seed(content_table, slug, body_html=body, published_at=NOW - timedelta(hours=age))

    # When a reader fetches the site's feed
    dynamodb_requests.clear()
    feed = parsed(site_feed())

    # Then it is one Query, holding the newest that Query read, whole
    assert dynamodb_requests == ["Query"]
    links = [entry.link for entry in feed.entries]
    assert 2 <= len(links) < 5
    assert links == [f"{BASE}/articles/{slug}" for slug in slugs[: len(links)]]
    assert all(entry.content[0].value == body for entry in feed.entries)


def test_tag_item_written_before_it_carried_the_feed_id_is_left_out_until_reimported(
    content_table: str, unique: str, dynamodb: DynamoDBClient
) -> None:
    # Given a migrated article and one of the site's own, with a tag, whose tag items have the
    # shape tag items had before they carried the body and feed id (imported before this
    # release)
    tag = f"old-{unique}"
    guid = f"https://wp.example.org/?p={unique}"
    migrated, own = f"migrated-{unique}", f"own-{unique}"
    seed(content_table, migrated, tags=[tag], feed_id=guid, published_at=NOW - timedelta(hours=1))
    seed(content_table, own, tags=[tag], published_at=NOW - timedelta(hours=2))
    for slug in (migrated, own):
        dynamodb.update_item(
            TableName=content_table,
            Key={"pk": {"S": article_pk(slug)}, "sk": {"S": f"TAG#{tag}"}},
            UpdateExpression="REMOVE body_html, feed_id",
        )

    # When a reader fetches the tag's feed
    feed = parsed(tag_feed(tag))

    # Then neither is in it (rather than the migrated one under an id its subscribers never
    # saw), and the site's feed has both, whole
    assert feed.entries == []
    site = parsed(site_feed())
    assert entry_ids(site) == [guid, f"tag:newsroom.test,2026:articles/{own}"]
    assert all(entry.content[0].value == "<p>Body.</p>" for entry in site.entries)

    # When they are imported again
    seed(content_table, migrated, tags=[tag], feed_id=guid, published_at=NOW - timedelta(hours=1))
    seed(content_table, own, tags=[tag], published_at=NOW - timedelta(hours=2))

    # Then the tag feed has both, whole, under the ids the site's feed gives them
    again = parsed(tag_feed(tag))
    assert entry_ids(again) == entry_ids(site)
    assert all(entry.content[0].value == "<p>Body.</p>" for entry in again.entries)


def test_retag_command_brings_tag_items_written_before_back_into_their_feeds(
    content_table: str, unique: str, dynamodb: DynamoDBClient, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a migrated article, with comments, and a draft, whose tag items were written
    # before they carried the body and feed id
    tag = f"retag-{unique}"
    guid = f"https://wp.example.org/?p={unique}"
    migrated, draft = f"migrated-{unique}", f"draft-{unique}"
    seed(content_table, migrated, tags=[tag], feed_id=guid)
    seed(content_table, draft, tags=[tag], draft=True)
    key = {"pk": {"S": article_pk(migrated)}, "sk": {"S": ARTICLE_SK}}
    dynamodb.update_item(
        TableName=content_table,
        Key=key,
        UpdateExpression="SET comment_count = :n",
        ExpressionAttributeValues={":n": {"N": "3"}},
    )
    for slug in (migrated, draft):
        dynamodb.update_item(
            TableName=content_table,
            Key={"pk": {"S": article_pk(slug)}, "sk": {"S": f"TAG#{tag}"}},
            UpdateExpression="REMOVE body_html, feed_id",
        )
    assert parsed(tag_feed(tag)).entries == []

    # When the operator runs `newsroom articles retag`
    assert cli_main(["articles", "retag", "--table", content_table]) == 0

    # Then the migrated article is back in its tag's feed, whole, under its guid, and keeps
    # its comment count; the draft is left as it was
    assert f"retagged {migrated}" in capsys.readouterr().out
    (entry,) = parsed(tag_feed(tag)).entries
    assert (entry.id, entry.content[0].value) == (guid, "<p>Body.</p>")
    stored = get_article(migrated, table=content_table)
    assert stored is not None
    assert stored.comment_count == 3
    draft_tag = dynamodb.get_item(
        TableName=content_table, Key={"pk": {"S": article_pk(draft)}, "sk": {"S": f"TAG#{tag}"}}
    )["Item"]
    assert "feed_id" not in draft_tag


def test_article_too_long_to_copy_into_each_of_its_tags_has_summary_only_tag_entries(
    content_table: str, unique: str
) -> None:
    # Given an article of some 390 KB (within DynamoDB's 400 KB an item) with ten tags: with
    # ten copies of its body the transaction writing it would pass 4 MB
    tags = [f"t{n}-{unique}" for n in range(MAX_TAGS)]
    body = "<p>" + "y" * 390_000 + "</p>"
    slug = f"huge-{unique}"

    guid = f"https://wp.example.org/?p={unique}"

    # When it is saved (a migrated post)
    seed(content_table, slug, tags=tags, body_html=body, feed_id=guid)

    # Then it is, whole in the site's feed, and with its summary in its tags' feeds, under the
    # same id
    (whole,) = parsed(site_feed()).entries
    assert whole.content[0].value == body
    for tag in (tags[0], tags[-1]):
        (entry,) = parsed(tag_feed(tag)).entries
        assert entry.link == f"{BASE}/articles/{slug}"
        assert entry.summary == "A short summary."
        assert "content" not in entry
        assert entry.id == whole.id == guid


def test_article_as_large_as_an_item_holds_is_whole_in_each_of_its_ten_tags_feeds(
    content_table: str, unique: str
) -> None:
    # Given an article of prose as long as one item holds (its Markdown and HTML together near
    # DynamoDB's 400 KB) with as many tags as an article may have
    paragraph = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n\n"
    markdown = (paragraph * 2_600)[:190_000]
    article = stored_article(
        f"longest-{unique}",
        tags=[f"p{n}-{unique}" for n in range(MAX_TAGS)],
        body_markdown=markdown,
        body_html=render_article(markdown),
    )
    assert 380 * 1024 < article_item_bytes(article) <= ITEM_MAX_BYTES

    # When it is saved
    save_article(article, table=content_table, previous=None)

    # Then every tag feed holds its whole body (a tag item copies the HTML, not the Markdown)
    for tag in article.tags:
        (entry,) = parsed(tag_feed(tag)).entries
        assert entry.content[0].value == article.body_html.strip()  # feedparser trims it


def test_local_table_made_before_the_feed_index_gets_it_when_provisioned_again(
    dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch, unique: str
) -> None:
    # Given a content table made from the template before gsi5, holding an article (an
    # emulator that outlived the upgrade, reused by `newsroom run`)
    content = resources(load_template(), "AWS::DynamoDB::Table")["ContentTable"]
    before = copy.deepcopy(content)
    indexes = before["Properties"]["GlobalSecondaryIndexes"]
    before["Properties"]["GlobalSecondaryIndexes"] = [
        i for i in indexes if i["IndexName"] != "gsi5"
    ]
    prefix = f"before-gsi5-{unique}-"
    (table,) = create_tables(
        dynamodb, {"Resources": {"ContentTable": before}}, prefix=prefix
    ).values()
    try:
        seed(table, f"kept-{unique}")

        # When the local tables are provisioned again from the current template
        create_tables(dynamodb, {"Resources": {"ContentTable": content}}, prefix=prefix)

        # Then the table has gsi5 as the template defines it, and the article is in the feed
        described = dynamodb.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
        (gsi5,) = [index for index in described if index["IndexName"] == "gsi5"]
        (defined,) = [index for index in indexes if index["IndexName"] == "gsi5"]
        assert (gsi5["KeySchema"], gsi5["Projection"]) == (
            defined["KeySchema"],
            defined["Projection"],
        )
        monkeypatch.setenv("CONTENT_TABLE_NAME", table)
        articles_settings.cache_clear()
        (entry,) = parsed(site_feed()).entries
        assert entry.content[0].value == "<p>Body.</p>"
    finally:
        dynamodb.delete_table(TableName=table)
        articles_settings.cache_clear()


# -- conditional GETs ---------------------------------------------------------------------------


FEEDS: dict[str, Callable[[str, dict[str, str]], Answer]] = {
    "site": lambda slug, headers: site_feed(headers),
    "tag": lambda slug, headers: tag_feed("cond", headers),
    "article comments": lambda slug, headers: article_comments_feed(slug, headers),
    "site comments": lambda slug, headers: site_comments_feed(headers),
}


@pytest.mark.parametrize("which", FEEDS)
def test_feed_revalidates_to_304_by_etag_or_by_date(
    content_table: str, unique: str, moderation: None, which: str
) -> None:
    # Given a feed a reader has fetched
    slug = f"cond-{unique}"
    seed(content_table, slug, tags=["cond"])
    accepted(post_comment(slug, form(unique)))
    fetch = FEEDS[which]
    first = fetch(slug, {})
    assert first.status == 200
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]

    # When the reader asks again with either validator, the feed unchanged
    by_etag = fetch(slug, {"If-None-Match": etag})
    by_date = fetch(slug, {"If-Modified-Since": last_modified})
    earlier = http_date(parsedate_to_datetime(last_modified) - timedelta(seconds=1))
    by_earlier_date = fetch(slug, {"If-Modified-Since": earlier})
    stale_etag = fetch(slug, {"If-None-Match": '"stale"', "If-Modified-Since": last_modified})

    # Then both validators answer 304 without a body, with the validators again
    for answer in (by_etag, by_date):
        assert answer.status == 304
        assert answer.body == ""
        assert answer.headers["etag"] == etag
        assert answer.headers["last-modified"] == last_modified
    # ... a date before the feed's answers the feed, and so does an ETag that does not match,
    # whatever the date (If-None-Match decides when both are sent, RFC 9110 §13.2.2)
    assert by_earlier_date.status == 200
    assert stale_etag.status == 200


@pytest.mark.parametrize(
    "since", ["yesterday", "", "Tue, 01 Dec 2026 25:61:00", "Tue, 01 Dec 2026 10:00:00 -0000"]
)
def test_if_modified_since_that_is_no_http_date_is_ignored(
    content_table: str, unique: str, since: str
) -> None:
    seed(content_table, f"since-{unique}", published_at=NOW - timedelta(days=3))

    answer = site_feed({"If-Modified-Since": since})

    assert answer.status == 200
    assert parsed(answer).entries


def test_new_approved_comment_changes_both_comment_feeds(
    content_table: str, unique: str, moderation: None
) -> None:
    # Given a reader holding both comment feeds of an article with one comment
    slug = f"news-{unique}"
    seed(content_table, slug)
    accepted(post_comment(slug, form(unique, reader="a")))
    held = {"article": article_comments_feed(slug), "site": site_comments_feed()}

    # When a second comment is approved
    accepted(post_comment(slug, form(unique, reader="b")))

    # Then their ETags no longer match: the reader gets the new feed, with the new entry
    again = {
        "article": article_comments_feed(slug, {"If-None-Match": held["article"].headers["etag"]}),
        "site": site_comments_feed({"If-None-Match": held["site"].headers["etag"]}),
    }
    for name, answer in again.items():
        assert answer.status == 200, name
        assert answer.headers["etag"] != held[name].headers["etag"]
        assert len(parsed(answer).entries) == 2


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["Not_A_Tag", "x" * 41, "a--b"])
def test_tag_that_breaks_the_pattern_is_422_in_the_error_shape(
    content_table: str, tag: str
) -> None:
    answer = tag_feed(tag)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "invalid_request"
    assert answer.error_fields == {"tag"}


@pytest.mark.parametrize("slug", ["Bad Slug", "x" * 121, "-lead"])
def test_slug_that_breaks_the_pattern_is_422_in_the_error_shape(
    content_table: str, slug: str
) -> None:
    answer = article_comments_feed(slug)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "invalid_request"
    assert answer.error_fields == {"slug"}


def test_comment_feed_of_an_unknown_draft_or_scheduled_article_is_404(
    content_table: str, unique: str
) -> None:
    # Given a draft and an article scheduled for tomorrow (and no article "missing-...")
    seed(content_table, f"draft-{unique}", draft=True)
    seed(content_table, f"later-{unique}", published_at=NOW + timedelta(days=1))

    for slug in (f"missing-{unique}", f"draft-{unique}", f"later-{unique}"):
        # When a reader asks for its comment feed
        answer = article_comments_feed(slug)

        # Then it is the API's 404, as JSON
        assert answer.status == 404, slug
        assert answer.headers["content-type"] == "application/json"
        assert answer.body["error"]["code"] == "article_not_found"
        assert answer.headers["cache-control"] == "no-store"


# -- where links lead ---------------------------------------------------------------------------


def test_without_public_base_url_links_lead_where_the_request_reached_the_api(
    content_table: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment without PublicBaseUrl, reached at the stage's invoke URL
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    articles_settings.cache_clear()
    comments_settings.cache_clear()
    seed(content_table, f"here-{unique}")
    event = rest_event("GET", "/feed")
    host = event["requestContext"]["domainName"]

    # When a reader fetches the feed
    feed = parsed(invoke(articles_handler, event))

    # Then its links lead there, stage and all, and its ids are that host's
    assert self_link(feed) == f"https://{host}/v1/feed"
    assert feed.entries[0].link == f"https://{host}/v1/articles/here-{unique}"
    assert feed.entries[0].id == f"tag:{host},2026:articles/here-{unique}"
