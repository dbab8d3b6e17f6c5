"""The pure parts of the WordPress and Disqus imports: WordPress's paragraph rules, the
mapping of a post, the ids and places of comments, Disqus links, and that an imported
comment's arrival notifies no one."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsroom.models.comments import COMMENT_ID_PATTERN
from newsroom.secrets import Keyring
from newsroom_tools.event_filter import matches_any, parse_filter_criteria
from newsroom_tools.migration.disqus import normalise_link, parse_time, read_map, slug_of
from newsroom_tools.migration.importing import Progress
from newsroom_tools.migration.store import ImportTable, ImportWriteError
from newsroom_tools.migration.threads import SourceComment, ThreadSettings, comment_id, plan_thread
from newsroom_tools.migration.wordpress import Channel, Post, map_post, parse_gmt, slugify
from newsroom_tools.migration.wpautop import post_html, shortcodes, wpautop
from newsroom_tools.migration.xmlstream import ExportFileError, StreamStats
from newsroom_tools.template import load_template

KEYS = Keyring(current=b"k" * 32)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("Hello\nWorld\n\nSecond", "<p>Hello<br />\nWorld</p>\n<p>Second</p>\n"),
        (
            "<blockquote>quote</blockquote>\nafter",
            "<blockquote><p>quote</p></blockquote>\n<p>after</p>\n",
        ),
        ("<pre>a\n\nb</pre>", "<pre>a\n\nb</pre>\n"),
        ("one<br><br>two", "<p>one</p>\n<p>two</p>\n"),
        ("<ul>\n<li>a</li>\n</ul>", "<ul>\n<li>a</li>\n</ul>\n"),
        ('<a href="x"\ntitle="t">link</a>', '<p><a href="x"\ntitle="t">link</a></p>\n'),
        ("   ", ""),
    ],
)
def test_wpautop_makes_paragraphs_and_breaks_as_wordpress_does(raw: str, shown: str) -> None:
    assert wpautop(raw) == shown


def test_block_editor_content_is_not_given_paragraphs_and_captions_are_unwrapped() -> None:
    blocks = "<!-- wp:paragraph -->\n<p>One</p>\n<!-- /wp:paragraph -->"
    assert post_html(blocks) == blocks
    assert (
        post_html('[caption id="1"]<img src="a"> Text[/caption]') == '<p><img src="a"> Text</p>\n'
    )
    assert post_html("<h1>Costs</h1>\n<h6>x</h6>") == "<h2>Costs</h2>\n<h4>x</h4>\n"
    assert shortcodes('[gallery ids="1"] [embed]x[/embed] [gallery]') == ["gallery", "embed"]


def test_slugs_are_decoded_and_made_ascii() -> None:
    assert slugify("caf%c3%a9-culture") == "cafe-culture"
    assert slugify("Hello_World  2") == "hello-world-2"
    assert slugify("%e6%b8%af") == ""


def test_the_zero_date_is_no_date_and_dates_are_utc() -> None:
    assert parse_gmt("0000-00-00 00:00:00") is None
    assert parse_gmt("2019-02-01 09:00:00") == datetime(2019, 2, 1, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not match"):
        parse_gmt("yesterday")


def post(**changes: object) -> Post:
    values: dict[str, object] = dict(  # noqa: C408 - the fields, as a call would name them
        line=3, post_id="7", post_type="post", title="A &amp; B", slug_source="a-b",
        guid="http://x/?p=7", link="http://x/a-b/", content="Para one.\n\nPara two.",
        excerpt="", creator="ada", status="publish", date_gmt="2019-02-01 09:00:00",
        modified_gmt="", comment_status="open", password="", categories=[], comments=[],
        passed_over={}, skipped_kinds=[], problems=[],
    )  # fmt: skip
    values.update(changes)
    return Post(**values)  # type: ignore[arg-type]


def test_a_post_maps_to_an_article_with_the_first_paragraph_as_summary() -> None:
    channel = Channel()
    mapped = map_post(post(), channel, taken_slugs={}, author_email="ada@example.org")
    article = mapped.article
    assert article is not None
    assert (article.slug, article.title, article.summary) == ("a-b", "A & B", "Para one.")
    assert article.published_at == datetime(2019, 2, 1, 9, tzinfo=UTC)
    assert article.feed_id == "http://x/?p=7"
    assert not article.draft


@pytest.mark.parametrize(
    "changes",
    [{"status": "draft"}, {"status": "future"}, {"status": "private"}, {"password": "secret"},
     {"date_gmt": "0000-00-00 00:00:00"}],
)  # fmt: skip
def test_anything_but_a_published_dated_open_post_is_a_draft(changes: dict[str, str]) -> None:
    mapped = map_post(post(**changes), Channel(), taken_slugs={}, author_email="a@example.org")
    assert mapped.article is not None
    assert mapped.article.draft


def test_a_post_too_large_for_one_item_is_skipped_with_its_line() -> None:
    huge = post(content="word " * 50_000)  # 250 KB of source, as much again of HTML

    mapped = map_post(huge, Channel(), taken_slugs={}, author_email="a@example.org")

    assert mapped.article is None
    assert [(p.line, p.message) for p in mapped.problems] == [
        (3, "post 7: too large to store as one item; skipped")
    ]


def test_a_post_without_an_author_email_is_skipped_with_its_line() -> None:
    mapped = map_post(post(), Channel(), taken_slugs={})
    assert mapped.article is None
    assert [p.line for p in mapped.problems] == [3]


def source(key: str, parent: str | None, minute: int, status: str = "approved") -> SourceComment:
    return SourceComment(
        key=key, parent_key=parent, line=1, status=status,  # type: ignore[arg-type]
        created_at=datetime(2019, 2, 1, 9, minute, tzinfo=UTC), author_name="R",
        author_email="r@example.org", author_url=None, ip=None, text=f"t{key}",
        html=f"<p>t{key}</p>",
    )  # fmt: skip


def test_comment_ids_are_the_projects_sort_by_time_and_come_from_the_source() -> None:
    early, late = datetime(2019, 1, 1, tzinfo=UTC), datetime(2019, 1, 2, tzinfo=UTC)
    assert re.match(COMMENT_ID_PATTERN, comment_id("wordpress:x#1", early))
    assert comment_id("wordpress:x#9", early) < comment_id("wordpress:x#1", late)
    assert comment_id("wordpress:x#1", early) == comment_id("wordpress:x#1", early)
    assert comment_id("wordpress:x#1", early) != comment_id("wordpress:y#1", early)


def test_an_approved_reply_under_a_held_comment_hangs_under_the_nearest_approved_one() -> None:
    comments = [source("1", None, 0), source("2", "1", 1, "pending"), source("3", "2", 2)]
    planned = plan_thread("s", comments, ThreadSettings(keys=KEYS, source="wordpress:x"))
    first, held, reply = planned.comments
    assert (held.parent_id, reply.parent_id, reply.in_reply_to) == (first.id, first.id, held.id)
    assert planned.reparented == 1
    assert (first.replies, held.replies) == (2, 1)


def test_a_reply_to_a_skipped_pingback_climbs_to_its_parent_and_a_loop_is_broken() -> None:
    comments = [source("1", None, 0), source("3", "2", 2), source("4", "5", 3), source("5", "4", 4)]
    planned = plan_thread(
        "s", comments, ThreadSettings(keys=KEYS, source="wordpress:x"), passed_over={"2": "1"}
    )
    by_key = {c.imported_from.rsplit("#", 1)[1]: c for c in planned.comments if c.imported_from}
    assert by_key["3"].parent_id == by_key["1"].id
    assert by_key["4"].depth + by_key["5"].depth == 3  # one of the loop starts a thread
    assert any("loop" in p.message for p in planned.problems)


def test_the_stream_filter_lets_through_new_comments_and_changes_but_not_imports() -> None:
    resource = load_template()["Resources"]["NotificationsFunction"]
    (event,) = [e for e in resource["Properties"]["Events"].values() if e["Type"] == "DynamoDB"]
    patterns = parse_filter_criteria(event["Properties"]["FilterCriteria"])

    def record(name: str, **extra: object) -> dict[str, object]:
        image = {"type": {"S": "comment"}} | extra
        return json.loads(json.dumps({"eventName": name, "dynamodb": {"NewImage": image}}))

    imported = {"imported_from": {"S": "wordpress:x#1"}}
    assert matches_any(patterns, record("INSERT"))
    assert not matches_any(patterns, record("INSERT", **imported))
    assert matches_any(patterns, record("MODIFY", **imported))
    assert not matches_any(patterns, {"eventName": "REMOVE", "dynamodb": {}})


class Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty", [True, False])
def test_the_progress_bar_is_drawn_on_a_terminal_only(tty: bool) -> None:
    stream = Terminal(tty)
    progress = Progress(StreamStats(bytes_read=50, size=100), stream)

    progress.update(3, 12, force=True)
    progress.done()

    expected = "\r[###############               ]  50%     0.0/0.0 MB  3 items  12 comments\n"
    assert stream.getvalue() == (expected if tty else "")


def test_disqus_threads_of_one_page_share_a_normalised_link_and_a_slug(tmp_path: Path) -> None:
    links = [
        "http://old.example.org/2015/03/harbour/",
        "https://www.old.example.org/2015/03/harbour?utm=1#c",
        "https://OLD.example.org/2015/03/harbour",
    ]
    assert {normalise_link(link) for link in links} == {"old.example.org/2015/03/harbour"}
    assert {slug_of(link, {}) for link in links} == {"harbour"}
    assert slug_of(links[0], {"old.example.org/2015/03/harbour": "harbour-wall"}) == "harbour-wall"
    assert parse_time("2012-12-12T12:12:12") == datetime(2012, 12, 12, 12, 12, 12, tzinfo=UTC)
    bad = tmp_path / "map.txt"
    bad.write_text("https://x.example.org/a\n", encoding="utf-8")
    with pytest.raises(ExportFileError, match="line 1: expected '<link> <slug>'"):
        read_map(bad)


class ThrottledDb:
    """A DynamoDB client whose transactions fail as `failures` say, then succeed."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        self.tokens: list[str] = []

    def transact_write_items(self, *, TransactItems: object, ClientRequestToken: str) -> None:  # noqa: N803
        from botocore.exceptions import ClientError

        self.tokens.append(ClientRequestToken)
        if self.failures:
            code = self.failures.pop(0)
            response: dict[str, Any] = {"Error": {"Code": code, "Message": code}}
            if code == "TransactionCanceledException":
                response["CancellationReasons"] = [{"Code": "TransactionConflict"}]
            raise ClientError(response, "TransactWriteItems")  # type: ignore[arg-type]


def test_throttled_writes_are_retried_with_backoff_and_the_same_token() -> None:
    db = ThrottledDb(["ProvisionedThroughputExceededException", "ThrottlingException"])
    pauses: list[float] = []
    table = ImportTable(db, "t", sleep=pauses.append)  # type: ignore[arg-type]

    assert table._transact([], []) is None

    assert len(pauses) == 2
    assert len(set(db.tokens)) == 1  # a retry of a write that may have applied: same token


def test_a_transaction_cancelled_for_a_conflict_is_sent_again_as_a_new_one() -> None:
    db = ThrottledDb(["TransactionCanceledException"])
    table = ImportTable(db, "t", sleep=lambda _: None)  # type: ignore[arg-type]

    assert table._transact([], []) is None

    assert len(db.tokens) == 2
    assert db.tokens[0] != db.tokens[1]  # applied by nobody: a new transaction


def test_writes_still_throttled_after_every_attempt_stop_the_import() -> None:
    db = ThrottledDb(["ThrottlingException"] * 20)
    table = ImportTable(db, "t", sleep=lambda _: None)  # type: ignore[arg-type]

    with pytest.raises(ImportWriteError, match="still throttled"):
        table._transact([], [])
