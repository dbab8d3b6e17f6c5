"""`newsroom import wordpress` against the emulator's content table: what a WordPress export
becomes, and that importing it again (or after an interruption) changes nothing."""

from __future__ import annotations

import argparse
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.data import dynamo
from newsroom.data.comments import CommentTable, all_comment_items, profile_pk
from newsroom.data.pagination import CursorSigner
from newsroom.models.comments import COMMENT_ID_PATTERN
from newsroom.privacy import commenter_key, email_hash, ip_hash
from newsroom.secrets import project_keys
from newsroom_tools.migration.import_wordpress import add_arguments, import_wordpress, run
from newsroom_tools.migration.store import ImportTable, ImportWriteError
from newsroom_tools.migration.xmlstream import ExportFileError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from newsroom.secrets import Keyring

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent.parent / "data" / "wordpress"
# The fixture's comments are from February 2019: "now" soon after keeps their IP hashes.
SOON_AFTER = datetime(2019, 3, 10, tzinfo=UTC)


def keys() -> Keyring:
    return project_keys(os.environ["SECRET_PARAMETER_NAME"])


def own_copy(tmp_path: Path, name: str, unique: str) -> tuple[Path, str]:
    """The fixture with this test's own slugs, post ids and site (so its comment ids are its
    own too), and the suffix given to the slugs."""
    text = (DATA / name).read_text(encoding="utf-8")
    number = str(int(unique, 16) % 10**7)
    text = re.sub(
        r"<wp:post_name><!\[CDATA\[([a-z0-9-]+)\]\]>",
        lambda m: f"<wp:post_name><![CDATA[{m.group(1)}-{unique}]]>",
        text,
    )
    text = re.sub(
        r"<wp:post_id>(\d+)</wp:post_id>", rf"<wp:post_id>\g<1>{number}</wp:post_id>", text
    )
    text = text.replace("old.example.org", f"old-{unique}.example.org")
    text = re.sub(r"@example\.org", f"@u{unique}.example.org", text, flags=re.IGNORECASE)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, number


def zoe(unique: str) -> str:
    """The address of the fixture's returning reader, in a test's own copy."""
    return f"zoe@u{unique}.example.org"


def article_item(db: DynamoDBClient, table: str, slug: str) -> dict[str, Any] | None:
    item = db.get_item(
        TableName=table, Key={"pk": {"S": f"ARTICLE#{slug}"}, "sk": {"S": "ARTICLE"}},
        ConsistentRead=True,
    ).get("Item")  # fmt: skip
    return None if item is None else dynamo.from_item(item)


def partition(db: DynamoDBClient, table: str, slug: str) -> list[dict[str, Any]]:
    response = db.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ARTICLE#{slug}"}},
        ConsistentRead=True,
    )
    return sorted((dynamo.from_item(i) for i in response["Items"]), key=lambda i: i["sk"])


def approved_count(db: DynamoDBClient, table: str, name: str, email: str) -> int:
    item = db.get_item(
        TableName=table,
        Key={"pk": {"S": profile_pk(commenter_key(keys().current, name, email))},
             "sk": {"S": "PROFILE"}},
        ConsistentRead=True,
    ).get("Item")  # fmt: skip
    return 0 if item is None else int(item["approved_count"]["N"])


def by_source(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Comment items by their WordPress comment id."""
    return {str(i["imported_from"]).rsplit("#", 1)[1]: i for i in items}


def test_posts_become_articles_and_comments_are_stored_as_new_ones_are(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an export with every comment status and type, a page, an attachment, a draft
    path, number = own_copy(tmp_path, "site.xml", unique)
    table = ImportTable(dynamodb, content_table)

    # When it is imported
    report = import_wordpress(path, table, keys(), now=SOON_AFTER)

    # Then its posts are articles, with the post's fields
    slug = f"harbour-wall-repairs-{unique}"
    article = article_item(dynamodb, content_table, slug)
    assert article is not None
    assert article["title"] == "Harbour wall repairs & what\u2019s next"
    assert article["summary"] == "Repairs to the harbour wall start in May."
    assert article["tags"] == ["harbour", "cafe-culture"]
    assert article["author"] == {"name": "Ada Lovelace", "email": f"ada@old-{unique}.example.org"}
    assert article["feed_id"] == f"https://old-{unique}.example.org/?p=1"
    assert article["published_at"] == "2019-02-01T09:00:00Z"
    assert article["body_html"].startswith("<p>The council met on Tuesday.<br>\nRepairs start")
    assert '<img src="https://old-' in article["body_html"]
    assert "[caption" not in article["body_html"]
    assert article["comment_count"] == 4  # 10, 18, 19 and 20; not the page's, nor pingbacks
    assert article["gsi1pk"] == "PUBLISHED"
    deep = article_item(dynamodb, content_table, f"a-deep-conversation-{unique}")
    assert deep is not None
    assert deep["comments_open"] is False
    assert deep["body_html"].strip() == "<p>Block editor content.</p>"  # no wpautop: blocks
    draft = article_item(dynamodb, content_table, f"post-3{number}")
    assert draft is not None
    assert draft["draft"] is True
    assert "published_at" not in draft
    assert "gsi1pk" not in draft
    japanese = article_item(dynamodb, content_table, f"post-6{number}")
    assert japanese is not None
    assert japanese["title"] == "港のニュース"
    assert article_item(dynamodb, content_table, f"about-{unique}") is None

    # And every comment is stored with its status; what is not a reader's comment is skipped
    comments = by_source(all_comment_items(dynamodb, content_table, slug))
    assert {key: c["status"] for key, c in comments.items()} == {
        "10": "approved", "11": "pending", "12": "spam", "13": "trash", "14": "trash",
        "18": "approved", "19": "approved", "20": "approved",
    }  # fmt: skip
    assert report.skipped == {"pingback": 1, "trackback": 1, "note": 1, "page": 1, "attachment": 1}
    assert report.comments == {"approved": 12, "pending": 1, "spam": 1, "trash": 2}

    # And each is stored as a new comment is: ids of the project's form, in time order, the
    # body rendered and sanitised, the email and IP only hashed where a new comment hashes them
    first = comments["10"]
    assert re.match(COMMENT_ID_PATTERN, first["id"])
    assert first["id"] < comments["18"]["id"] < comments["20"]["id"]
    assert first["author_name"] == "Zoë & Łukasz"
    assert first["author_email"] == f"Zoe@u{unique}.example.org"
    assert first["author_url"] == "https://zoe.example.org/"
    assert first["body_html"] == (
        "<p>First line<br>\nsecond line</p>\n<p>A <strong>new</strong> paragraph ]]&gt; kept.</p>\n"
    )
    assert first["created_at"] == "2019-02-02T10:00:00Z"
    assert first["author_key"] == email_hash(keys().current, zoe(unique))
    assert first["gsi4pk"] == f"AUTHOR#{first['author_key']}"
    assert first["gsi2pk"] == f"THREAD#{slug}"
    assert first["gsi3pk"] == "COMMENTS#approved"
    assert first["replies"] == 2  # 11 (held)
    assert 18
    assert "\x07" not in comments["18"]["body_markdown"]
    senders = {
        i["sk"]: i
        for i in partition(dynamodb, content_table, slug)
        if i["sk"].startswith("SENDER#")
    }
    assert senders[f"SENDER#{first['id']}"]["ip_hash"] == ip_hash(keys().current, "203.0.113.7")
    everything = str(partition(dynamodb, content_table, slug))
    assert "203.0.113.7" not in everything
    # 19's parent (spam) is not in the export: it starts a thread; 11 hangs under 10
    assert comments["19"]["depth"] == 1
    assert "parent_id" not in comments["19"]
    assert comments["11"]["parent_id"] == first["id"]
    assert "no-email" not in everything
    assert "author_key" not in comments["20"]

    # And a returning reader is known: approved on two articles, previously approved here
    assert approved_count(dynamodb, content_table, "Zoë & Łukasz", zoe(unique)) == 3
    context = CommentTable(content_table, cursors=CursorSigner(keys), db=dynamodb).load_context(
        slug, commenters=[commenter_key(keys().current, "Zoë & Łukasz", zoe(unique))],
        parent_id=None,
    )  # fmt: skip
    assert context.previously_approved is True


def test_a_thread_deeper_than_the_depth_setting_continues_at_the_deepest_level(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given a post whose seven comments each answer the one before
    path, _ = own_copy(tmp_path, "site.xml", unique)

    # When it is imported with the default depth (5)
    import_wordpress(path, ImportTable(dynamodb, content_table), keys(), now=SOON_AFTER)

    # Then the thread lists them in order, levels 1 to 5, then at level 5 as WordPress shows
    slug = f"a-deep-conversation-{unique}"
    listed = CommentTable(content_table, cursors=CursorSigner(keys), db=dynamodb).list_thread(
        slug, limit=50, cursor=None
    )
    assert [c.body_html for c in listed.items] == [
        f"<p>Level {n} reply.</p>\n" for n in range(1, 8)
    ]
    assert [c.depth for c in listed.items] == [1, 2, 3, 4, 5, 5, 5]
    stored = by_source(all_comment_items(dynamodb, content_table, slug))
    assert stored["106"]["in_reply_to"] == stored["105"]["id"]  # it still answers 105
    assert stored["106"]["parent_id"] == stored["103"]["id"]  # a sibling of 105


def test_importing_again_changes_nothing(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an imported export
    path, _ = own_copy(tmp_path, "site.xml", unique)
    import_wordpress(path, ImportTable(dynamodb, content_table), keys(), now=SOON_AFTER)
    slug = f"harbour-wall-repairs-{unique}"
    before = partition(dynamodb, content_table, slug)
    count_before = approved_count(dynamodb, content_table, "Zoë & Łukasz", zoe(unique))

    # When it is imported again
    table = ImportTable(dynamodb, content_table)
    again = import_wordpress(path, table, keys(), now=SOON_AFTER)

    # Then nothing was written: every item is as it was, counts included
    assert table.transactions == 0
    assert sum(again.comments.values()) == 0
    assert again.comments_existing == 16
    assert again.articles == {"unchanged": 4}
    assert partition(dynamodb, content_table, slug) == before
    assert approved_count(dynamodb, content_table, "Zoë & Łukasz", zoe(unique)) == count_before


class FailingAfter(ImportTable):
    """An import that stops (as a lost connection would) after `limit` transactions."""

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def _transact(self, actions: Any, roles: list[str]) -> str | None:
        if self.transactions >= self.limit:
            raise ImportWriteError("connection lost")
        return super()._transact(actions, roles)


def test_an_interrupted_import_run_again_ends_as_one_run_would(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an import that stopped after its first transaction
    path, _ = own_copy(tmp_path, "site.xml", unique)
    with pytest.raises(ImportWriteError):
        import_wordpress(path, FailingAfter(dynamodb, content_table, limit=1), keys())

    # When it is run again
    report = import_wordpress(path, ImportTable(dynamodb, content_table), keys())

    # Then every comment is there once, and every count is what one run gives
    slug = f"harbour-wall-repairs-{unique}"
    assert report.comments_existing == 8  # the first post's, written before the stop
    assert len(all_comment_items(dynamodb, content_table, slug)) == 8
    article = article_item(dynamodb, content_table, slug)
    assert article is not None
    assert article["comment_count"] == 4
    assert approved_count(dynamodb, content_table, "Zoë & Łukasz", zoe(unique)) == 3
    deep = by_source(all_comment_items(dynamodb, content_table, f"a-deep-conversation-{unique}"))
    # (past level 5, a reply counts on its parent in the thread and on the comment it answers)
    assert [deep[str(100 + i)]["replies"] for i in range(7)] == [1, 1, 1, 3, 1, 1, 0]


def test_a_dry_run_reports_what_would_be_written_and_writes_nothing(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an export never imported
    path, _ = own_copy(tmp_path, "site.xml", unique)

    # When it is gone through with --dry-run
    table = ImportTable(dynamodb, content_table, dry_run=True)
    report = import_wordpress(path, table, keys())

    # Then the report says what an import would write, and nothing is written
    assert report.articles == {"created": 4}
    assert report.comments == {"approved": 12, "pending": 1, "spam": 1, "trash": 2}
    assert "(dry run: nothing was written)" in report.render()
    assert partition(dynamodb, content_table, f"harbour-wall-repairs-{unique}") == []


def test_an_article_of_the_same_slug_from_elsewhere_is_left_alone(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an article (from Markdown) with a post's slug
    from newsroom.data.articles import save_article
    from newsroom.models.articles import StoredArticle, StoredAuthor

    slug = f"harbour-wall-repairs-{unique}"
    mine = StoredArticle(
        slug=slug, title="Ours", summary="s", body_html="<p>b</p>", body_markdown="b",
        author=StoredAuthor(name="N", email="n@example.org"), updated_at=SOON_AFTER, tags=[],
    )  # fmt: skip
    save_article(mine, table=content_table, previous=None, db=dynamodb)
    path, _ = own_copy(tmp_path, "site.xml", unique)

    # When the export is imported
    report = import_wordpress(path, ImportTable(dynamodb, content_table), keys())

    # Then that article and its partition are untouched, and the report says so
    assert [i["sk"] for i in partition(dynamodb, content_table, slug)] == ["ARTICLE"]
    stored = article_item(dynamodb, content_table, slug)
    assert stored is not None
    assert stored["title"] == "Ours"
    assert any(f"an article '{slug}' exists" in p.message for p in report.problems)


def test_item_problems_are_reported_with_their_lines_and_the_rest_is_imported(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given a WXR 1.0 export with a post without id, one with a bad date, a comment without one
    path, _ = own_copy(tmp_path, "bad-items.xml", unique)

    # When it is imported
    report = import_wordpress(path, ImportTable(dynamodb, content_table), keys())

    # Then each problem is reported where it is, and the good post and comment are imported
    lines = {(p.line, p.message) for p in report.problems}
    assert (7, "a post without wp:post_id; skipped") in lines
    assert any(line == 16 and "'yesterday' is not a date" in m for line, m in lines)
    assert any(line == 36 and "comment 31: no valid date" in m for line, m in lines)
    assert report.articles == {"created": 1}
    assert report.comments == {"approved": 1}


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("doctype-bomb.xml", "refused: line 2 declares a DOCTYPE"),
        ("unknown-version.xml", "unknown WXR version 1.3"),
        ("not-xml.xml", "not well-formed XML at line 1, column 1"),
        ("truncated.xml", "not well-formed XML at line"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message_and_exit_2(
    fixture: str, message: str, content_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file that is not a safe, well-formed WXR export
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(DATA / fixture), "--table", content_table])

    # When the command runs
    status = run(args)

    # Then it stops with one line saying why, not a traceback
    error = capsys.readouterr().err
    assert status == 2
    assert message in error
    assert "Traceback" not in error
    with pytest.raises(ExportFileError):
        import_wordpress(DATA / fixture, ImportTable(None, content_table, dry_run=True), keys())  # type: ignore[arg-type]


def test_the_command_prints_each_article_then_the_report_with_problems_by_line(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # Given an export, and the command with --dry-run
    path, _ = own_copy(tmp_path, "site.xml", unique)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(path), "--table", content_table, "--dry-run"])

    # When it runs (stderr is not a terminal here: no progress bar)
    status = run(args)

    # Then it lists what would be written, counts by status and kind, and the problems
    out, err = capsys.readouterr()
    assert status == 0
    assert err == ""
    assert f"would be created: harbour-wall-repairs-{unique} (8 comments to write" in out
    assert "articles: 4 would be created" in out
    assert "comments: 16 would be written (12 approved, 1 pending, 1 spam, 2 trash)" in out
    assert "skipped: 1 attachment, 1 note, 1 page, 1 pingback, 1 trackback" in out
    assert re.search(r"line 179: 1 control characters XML forbids were read as spaces", out)
    assert re.search(r"line \d+: comment 19: its parent 999 is not in the export", out)
    assert re.search(r"line 23: post 1\d+: shortcodes left as text: gallery\n", out)
    assert partition(dynamodb, content_table, f"harbour-wall-repairs-{unique}") == []
