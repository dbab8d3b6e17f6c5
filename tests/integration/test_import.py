"""`newsroom articles import` against the emulator's content table."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from newsroom.data.articles import (
    ConcurrentImportError,
    get_article,
    list_public_summaries,
    save_article,
)
from newsroom.data.pagination import CursorSigner
from newsroom.secrets import project_keys
from newsroom_tools.importer import ArticleFileError, add_arguments, import_paths, run

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CURSORS = CursorSigner(lambda: project_keys(os.environ["SECRET_PARAMETER_NAME"]))

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def write_markdown(directory: Path, slug: str, tags: list[str], title: str = "A title") -> Path:
    path = directory / f"{slug}.md"
    path.write_text(
        f"---\n"
        f"slug: {slug}\n"
        f"title: {title}\n"
        f"summary: A summary of {slug}.\n"
        f"author: {{name: Ada Reporter, email: ada@example.org}}\n"
        f"published_at: 2026-05-01T09:00:00Z\n"
        f"tags: [{', '.join(tags)}]\n"
        f"---\n"
        f"Some **news**.\n",
        encoding="utf-8",
    )
    return path


def write_json(directory: Path, slug: str, tags: list[str]) -> Path:
    path = directory / f"{slug}.json"
    article = {
        "slug": slug,
        "title": "A JSON article",
        "summary": "Written as JSON.",
        "author": {"name": "Ada Reporter", "email": "ada@example.org"},
        "published_at": "2026-05-02T09:00:00Z",
        "tags": tags,
        "body_markdown": "Some *news*.",
    }
    path.write_text(json.dumps(article), encoding="utf-8")
    return path


def sort_keys(dynamodb: DynamoDBClient, table: str, slug: str) -> list[str]:
    """The sort keys of every item in the article's partition (one Query, never a Scan)."""
    response = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"ARTICLE#{slug}"}},
        ConsistentRead=True,
    )
    return sorted(item["sk"]["S"] for item in response["Items"])


def test_importing_a_directory_writes_every_article_and_its_tag_items(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given a directory with two Markdown articles and one JSON article
    tag = f"tag-{unique}"
    write_markdown(tmp_path, f"quay-{unique}", [tag, "harbour"])
    write_markdown(tmp_path, f"school-{unique}", [tag])
    write_json(tmp_path, f"storm-{unique}", ["weather"])

    # When the directory is imported
    slugs = import_paths([tmp_path], table=content_table, db=dynamodb)

    # Then every article is stored with one item per tag, and the tag listing finds them
    assert slugs == [f"quay-{unique}", f"school-{unique}", f"storm-{unique}"]
    assert sort_keys(dynamodb, content_table, f"quay-{unique}") == sorted(
        ["ARTICLE", f"TAG#{tag}", "TAG#harbour"]
    )
    assert sort_keys(dynamodb, content_table, f"school-{unique}") == ["ARTICLE", f"TAG#{tag}"]
    assert sort_keys(dynamodb, content_table, f"storm-{unique}") == ["ARTICLE", "TAG#weather"]
    stored = get_article(f"storm-{unique}", table=content_table, db=dynamodb)
    assert stored is not None
    assert stored.body_html == "<p>Some <em>news</em>.</p>\n"
    tagged = list_public_summaries(
        table=content_table, now=NOW, limit=10, tag=tag, cursors=CURSORS, db=dynamodb
    )
    assert {item.slug for item in tagged.items} == {f"quay-{unique}", f"school-{unique}"}


def test_reimporting_updates_in_place_and_keeps_the_comment_count(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an imported article that has since received comments
    slug = f"again-{unique}"
    write_markdown(tmp_path, slug, ["harbour", "council"])
    import_paths([tmp_path], table=content_table, db=dynamodb)
    before = sort_keys(dynamodb, content_table, slug)
    dynamodb.update_item(
        TableName=content_table,
        Key={"pk": {"S": f"ARTICLE#{slug}"}, "sk": {"S": "ARTICLE"}},
        UpdateExpression="SET comment_count = :n",
        ExpressionAttributeValues={":n": {"N": "3"}},
    )

    # When the same file, with a new title, is imported again
    write_markdown(tmp_path, slug, ["harbour", "council"], title="A better title")
    import_paths([tmp_path], table=content_table, db=dynamodb)

    # Then the same items exist, updated, and the comment count is untouched
    assert sort_keys(dynamodb, content_table, slug) == before
    stored = get_article(slug, table=content_table, db=dynamodb)
    assert stored is not None
    assert stored.title == "A better title"
    assert stored.comment_count == 3


def test_dropping_a_tag_on_reimport_removes_its_tag_item(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an article imported with two tags
    slug = f"retag-{unique}"
    old_tag = f"old-{unique}"
    write_markdown(tmp_path, slug, [old_tag, "harbour"])
    import_paths([tmp_path], table=content_table, db=dynamodb)

    # When it is imported again with one tag replaced
    write_markdown(tmp_path, slug, ["harbour", "weather"])
    import_paths([tmp_path], table=content_table, db=dynamodb)

    # Then the old tag's item is gone and the new one is there
    assert sort_keys(dynamodb, content_table, slug) == ["ARTICLE", "TAG#harbour", "TAG#weather"]
    old = list_public_summaries(
        table=content_table, now=NOW, limit=10, tag=old_tag, cursors=CURSORS, db=dynamodb
    )
    assert old.items == []


def test_a_bad_file_among_good_ones_writes_nothing(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given two good articles and, sorted last, one without a time zone
    good = [f"good-a-{unique}", f"good-b-{unique}"]
    for slug in good:
        write_markdown(tmp_path, slug, ["harbour"])
    bad = write_markdown(tmp_path, f"zz-bad-{unique}", ["harbour"])
    bad.write_text(bad.read_text().replace("09:00:00Z", "09:00:00"), encoding="utf-8")

    # When the directory is imported
    with pytest.raises(ArticleFileError, match="published_at: timestamp must carry a time zone"):
        import_paths([tmp_path], table=content_table, db=dynamodb)

    # Then not one item was written, not even for the files before it
    for slug in [*good, f"zz-bad-{unique}"]:
        assert sort_keys(dynamodb, content_table, slug) == []


def test_an_article_too_large_for_one_item_once_rendered_writes_nothing(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given a good article and one within the importer's 200,000 characters of Markdown whose
    # Markdown and HTML together pass DynamoDB's 400 KB an item (each "&" is "&amp;" in HTML)
    good = f"good-{unique}"
    write_markdown(tmp_path, good, ["harbour"])
    large = write_markdown(tmp_path, f"zz-large-{unique}", ["harbour"])
    large.write_text(large.read_text() + "&" * 100_000 + "\n", encoding="utf-8")

    # When the directory is imported
    with pytest.raises(ArticleFileError, match=r"zz-large-.*: body_markdown: the article takes"):
        import_paths([tmp_path], table=content_table, db=dynamodb)

    # Then nothing was written
    for slug in (good, f"zz-large-{unique}"):
        assert sort_keys(dynamodb, content_table, slug) == []


def test_command_prints_one_line_per_article_and_exits_0(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    # Given two article files and the table named on the command line
    first = write_markdown(tmp_path, f"cli-a-{unique}", ["harbour"])
    second = write_json(tmp_path, f"cli-b-{unique}", ["harbour"])
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([str(first), str(second), "--table", content_table])

    # When the command runs
    status = run(args)

    # Then both are written and reported, one line each
    assert status == 0
    assert capsys.readouterr().out.splitlines() == [
        f"imported cli-a-{unique} from {first}",
        f"imported cli-b-{unique} from {second}",
    ]
    assert sort_keys(dynamodb, content_table, f"cli-b-{unique}") == ["ARTICLE", "TAG#harbour"]


def test_an_import_that_read_the_article_before_another_import_wrote_it_is_refused(
    tmp_path: Path, content_table: str, dynamodb: DynamoDBClient, unique: str
) -> None:
    # Given an imported article, read by two imports that mean to change it (keeping its
    # updated_at, as a file without one does)
    slug = f"twice-{unique}"
    write_markdown(tmp_path, slug, ["harbour"])
    import_paths([tmp_path], table=content_table, db=dynamodb)
    read = get_article(slug, table=content_table, db=dynamodb)
    assert read is not None

    # When the first writes its version, then the second writes its own over what it read
    first = read.model_copy(update={"title": "First", "tags": ["harbour", "town"]})
    second = read.model_copy(update={"title": "Second", "tags": ["sea"]})
    save_article(first, table=content_table, previous=read, db=dynamodb)

    # Then the second is refused (it would have mixed the two: its tags over the first's),
    # and the first stands whole
    with pytest.raises(ConcurrentImportError):
        save_article(second, table=content_table, previous=read, db=dynamodb)
    stored = get_article(slug, table=content_table, db=dynamodb)
    assert stored is not None
    assert (stored.title, stored.tags) == ("First", ["harbour", "town"])
    assert sort_keys(dynamodb, content_table, slug) == ["ARTICLE", "TAG#harbour", "TAG#town"]
