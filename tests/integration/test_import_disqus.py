"""`newsroom import disqus` against the emulator's content table: a Disqus export's posts onto
existing articles, threads merged by page, spam and deleted posts handled, re-runs no-ops."""

from __future__ import annotations

import argparse
import gzip
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.data import dynamo
from newsroom.data.articles import save_article
from newsroom.data.comments import all_comment_items
from newsroom.models.articles import StoredArticle, StoredAuthor
from newsroom.secrets import project_keys
from newsroom_tools.migration.import_disqus import add_arguments, import_disqus, run
from newsroom_tools.migration.store import ImportTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from newsroom.secrets import Keyring

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent.parent / "data" / "disqus"


def keys() -> Keyring:
    return project_keys(os.environ["SECRET_PARAMETER_NAME"])


def articles(db: DynamoDBClient, table: str, unique: str) -> tuple[str, str]:
    """Two published articles of this test's own, for the fixture's two pages."""
    slugs = (f"harbour-{unique}", f"deep-{unique}")
    for slug in slugs:
        article = StoredArticle(
            slug=slug, title=slug, summary="s", body_html="<p>b</p>", body_markdown="b",
            author=StoredAuthor(name="Ada", email="ada@example.org"),
            published_at=datetime(2015, 3, 1, tzinfo=UTC),
            updated_at=datetime(2015, 3, 1, tzinfo=UTC), tags=[],
        )  # fmt: skip
        save_article(article, table=table, previous=None, db=db)
    return slugs


def own_copy(tmp_path: Path, unique: str, *, gzipped: bool = False) -> tuple[Path, Path]:
    """The fixture with this test's own forum (so its comment ids are its own), and a map of
    its pages to this test's articles."""
    text = (DATA / "forum.xml").read_text(encoding="utf-8").replace("oldharbour", f"f{unique}")
    export = tmp_path / ("forum.xml.gz" if gzipped else "forum.xml")
    export.write_bytes(gzip.compress(text.encode()) if gzipped else text.encode())
    mapping = tmp_path / "map.txt"
    mapping.write_text(
        f"http://old.example.org/2015/03/harbour-wall-repairs harbour-{unique}\n"
        "# pages by their links; scheme, www., query and trailing slash do not matter\n"
        f"old.example.org/2015/03/deep-talk deep-{unique}\n",
        encoding="utf-8",
    )
    return export, mapping


def by_source(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(i["imported_from"]).rsplit("#", 1)[1]: i for i in items}


def count_of(db: DynamoDBClient, table: str, slug: str) -> int:
    item = db.get_item(
        TableName=table, Key={"pk": {"S": f"ARTICLE#{slug}"}, "sk": {"S": "ARTICLE"}},
        ConsistentRead=True,
    )["Item"]  # fmt: skip
    return int(dynamo.from_item(item)["comment_count"])


@pytest.mark.parametrize("gzipped", [False, True])
def test_posts_become_comments_of_the_articles_their_threads_map_to(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str, gzipped: bool
) -> None:
    # Given two articles and an export (.xml or .xml.gz) of their pages' threads
    harbour, deep = articles(dynamodb, content_table, unique)
    export, mapping = own_copy(tmp_path, unique, gzipped=gzipped)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(export), "--table", content_table, "--map", str(mapping)])

    # When the command runs
    status = run(args)

    # Then both threads of the harbour page are merged onto its article, with every post
    assert status == 0
    comments = by_source(all_comment_items(dynamodb, content_table, harbour))
    assert {key: c["status"] for key, c in comments.items()} == {
        "1001": "approved", "1002": "approved", "1003": "approved", "1004": "spam",
        "1005": "approved", "1006": "approved",
    }  # fmt: skip
    # the reply came before its parent in the file, and still hangs under it
    assert comments["1002"]["parent_id"] == comments["1001"]["id"]
    assert comments["1001"]["body_html"] == "<p>First! Ünïcødé and bold ]]&gt; too.</p>"
    # a deleted post with a reply stays as a placeholder; without one it is skipped
    assert comments["1003"]["body_html"] == "<p>Same page, on https with a trailing slash. </p>"
    assert comments["1005"]["author_name"] == "Deleted"
    assert comments["1005"]["author_email"] == ""
    assert comments["1005"]["body_html"] == "<p>This comment was deleted.</p>"
    assert comments["1006"]["parent_id"] == comments["1005"]["id"]
    assert "author_key" not in comments["1006"]  # a blank email is allowed
    assert count_of(dynamodb, content_table, harbour) == 5
    # the deep page: seven levels stored as five, dates without Z read as UTC
    thread = by_source(all_comment_items(dynamodb, content_table, deep))
    assert [thread[str(1100 + i)]["depth"] for i in range(7)] == [1, 2, 3, 4, 5, 5, 5]
    assert thread["1008"]["created_at"] == "2015-03-07T10:00:00Z"


def test_importing_again_writes_nothing_and_what_cannot_be_imported_is_reported(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an imported export
    harbour, _ = articles(dynamodb, content_table, unique)
    export, mapping = own_copy(tmp_path, unique)
    from newsroom_tools.migration.disqus import read_map

    first = import_disqus(
        export, ImportTable(dynamodb, content_table), keys(), mapping=read_map(mapping)
    )

    # When it is imported again
    table = ImportTable(dynamodb, content_table)
    again = import_disqus(export, table, keys(), mapping=read_map(mapping))

    # Then nothing is written or counted twice, and the report said what was left out
    assert table.transactions == 0
    assert sum(again.comments.values()) == 0
    assert again.comments_existing == sum(first.comments.values()) == 14
    assert count_of(dynamodb, content_table, harbour) == 5
    assert first.skipped == {"deleted": 1, "orphan": 1, "duplicate thread (merged)": 1}
    assert any(
        "post 1009: its thread 999 is not in the export" in p.message for p in first.problems
    )


def test_a_thread_without_its_article_is_reported_and_its_comments_left_out(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an export whose pages have no article here
    export, mapping = own_copy(tmp_path, unique)
    from newsroom_tools.migration.disqus import read_map

    # When it is imported
    report = import_disqus(
        export, ImportTable(dynamodb, content_table), keys(), mapping=read_map(mapping)
    )

    # Then nothing is written, and the report names the articles missing
    assert sum(report.comments.values()) == 0
    assert any(f"no article 'harbour-{unique}'" in p.message for p in report.problems)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (Path(__file__).parent.parent / "data" / "wordpress" / "site.xml",
         "not a Disqus export: the document is <rss>"),
        (DATA / "doctype-bomb.xml", "refused: line 2 declares a DOCTYPE"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_a_safe_disqus_export_is_refused(
    path: Path, message: str, content_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)

    status = run(parser.parse_args([str(path), "--table", content_table]))

    error = capsys.readouterr().err
    assert status == 2
    assert message in error
    assert "Traceback" not in error
