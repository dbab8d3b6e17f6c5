"""Reading article files: front matter, JSON, the errors an author sees, and the demo content."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsroom.models.articles import StoredArticle
from newsroom_tools.importer import (
    ArticleFileError,
    add_arguments,
    collect_files,
    import_paths,
    load_article_file,
    run,
    to_stored,
)

DEMO_CONTENT = Path(__file__).resolve().parents[2] / "content" / "articles"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

FRONT_MATTER = """\
slug: harbour-news
title: Harbour news
summary: What happened at the harbour.
author:
  name: Ada Reporter
  email: ada@example.org
published_at: 2026-03-04T09:30:00+01:00
tags: [harbour, town-council]
"""


def markdown_file(directory: Path, name: str, front: str = FRONT_MATTER, body: str = "") -> Path:
    path = directory / name
    path.write_text(f"---\n{front}---\n{body or 'The *body*.'}\n", encoding="utf-8")
    return path


def json_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "slug": "harbour-news",
        "title": "Harbour news",
        "summary": "What happened at the harbour.",
        "author": {"name": "Ada Reporter", "email": "ada@example.org"},
        "published_at": "2026-03-04T08:30:00Z",
        "body_markdown": "The *body*.",
    }
    return fields | overrides


def json_file(directory: Path, name: str, **overrides: Any) -> Path:
    path = directory / name
    path.write_text(json.dumps(json_fields(**overrides)), encoding="utf-8")
    return path


class RecordingDynamo:
    """A stand-in DynamoDB client: the table is empty and every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def get_item(self, **_: Any) -> dict[str, Any]:
        self.requests.append("GetItem")
        return {}

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        self.requests.append("TransactWriteItems")
        return {}


# --- reading one file -------------------------------------------------------------------------


def test_front_matter_gives_the_fields_and_the_rest_of_the_file_the_body(tmp_path: Path) -> None:
    # Given a Markdown file with front matter
    path = markdown_file(tmp_path, "a.md", body="## Heading\n\n---\n\nMore text.")

    # When it is loaded
    source = load_article_file(path)

    # Then the fields come from the front matter and the body is everything after it
    assert source.slug == "harbour-news"
    assert source.author.email == "ada@example.org"
    assert source.tags == ["harbour", "town-council"]
    assert source.body_markdown == "## Heading\n\n---\n\nMore text."


def test_yaml_timestamp_with_an_offset_is_kept_as_utc(tmp_path: Path) -> None:
    path = markdown_file(tmp_path, "a.md")

    source = load_article_file(path)

    assert source.published_at == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)


def test_json_file_gives_every_field_including_the_body(tmp_path: Path) -> None:
    # Given a JSON article
    path = json_file(tmp_path, "a.json", comments_open=False, tags=["events"])

    # When it is loaded
    source = load_article_file(path)

    # Then every field is read, the body included
    assert source.slug == "harbour-news"
    assert source.body_markdown == "The *body*."
    assert source.comments_open is False
    assert source.tags == ["events"]
    assert source.published_at == datetime(2026, 3, 4, 8, 30, tzinfo=UTC)


def test_a_markdown_and_a_json_file_with_the_same_content_give_the_same_article(
    tmp_path: Path,
) -> None:
    from_markdown = load_article_file(markdown_file(tmp_path, "a.md"))
    from_json = load_article_file(json_file(tmp_path, "a.json", tags=["harbour", "town-council"]))

    assert from_markdown == from_json


BAD_FRONT_MATTER = {
    "missing title": (FRONT_MATTER.replace("title: Harbour news\n", ""), "title: is required"),
    "time without zone": (
        FRONT_MATTER.replace("2026-03-04T09:30:00+01:00", "2026-03-04 09:30:00"),
        "published_at: timestamp must carry a time zone",
    ),
    "bare date": (
        FRONT_MATTER.replace("2026-03-04T09:30:00+01:00", "2026-03-04"),
        "published_at: a date alone is not a timestamp",
    ),
    "unknown field": (FRONT_MATTER + "colour: blue\n", "colour: is not a field of an article"),
    "bad slug": (
        FRONT_MATTER.replace("slug: harbour-news", "slug: Harbour News!"),
        "slug: must be lowercase letters and digits joined by single hyphens",
    ),
    "bad tag": (
        FRONT_MATTER.replace("[harbour, town-council]", "[harbour, Town Council]"),
        "tags.1: must be lowercase letters and digits joined by single hyphens",
    ),
    "bad email": (
        FRONT_MATTER.replace("ada@example.org", "ada-at-example"),
        "author.email: value is not a valid email address",
    ),
    "unknown author field": (
        FRONT_MATTER.replace("  name: Ada Reporter\n", "  name: Ada Reporter\n  age: 40\n"),
        "author.age: is not a field of an article",
    ),
    "body in front matter": (
        FRONT_MATTER + "body_markdown: hello\n",
        "body_markdown: the body is the Markdown after the front matter",
    ),
    "bad yaml": (FRONT_MATTER + "title: [unclosed\n", "front matter is not valid YAML"),
    "front matter not a mapping": ("- just\n- a list\n", "must be a mapping"),
}


@pytest.mark.parametrize(
    ("front", "expected"), list(BAD_FRONT_MATTER.values()), ids=list(BAD_FRONT_MATTER)
)
def test_bad_front_matter_is_refused_naming_the_file_and_the_field(
    tmp_path: Path, front: str, expected: str
) -> None:
    # Given a Markdown file whose front matter is wrong
    path = markdown_file(tmp_path, "bad.md", front=front)

    # When it is loaded
    with pytest.raises(ArticleFileError) as caught:
        load_article_file(path)

    # Then the message starts with the file and says what is wrong with which field
    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)
    assert caught.value.path == path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Just Markdown, no front matter.\n", "missing front matter"),
        (f"---\n{FRONT_MATTER}The body, but no closing line.\n", "no closing '---' line"),
        (f"---\n{FRONT_MATTER}---\n\n", "body_markdown: the article has no body"),
    ],
    ids=["no front matter", "unclosed front matter", "empty body"],
)
def test_badly_shaped_markdown_file_is_refused_naming_the_file(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "shape.md"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ArticleFileError) as caught:
        load_article_file(path)

    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"slug": "x",}', "not valid JSON"),
        ('["a", "list"]', "must be an object"),
        (json.dumps(json_fields(published_at="2026-03-04T09:30:00")), "published_at: timestamp"),
        (json.dumps(json_fields(extra=1)), "extra: is not a field"),
        (json.dumps({k: v for k, v in json_fields().items() if k != "body_markdown"}),
         "body_markdown: is required"),
    ],
    ids=["syntax error", "not an object", "time without zone", "unknown field", "no body"],
)  # fmt: skip
def test_bad_json_file_is_refused_naming_the_file_and_the_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ArticleFileError) as caught:
        load_article_file(path)

    assert str(caught.value).startswith(f"{path}: ")
    assert expected in str(caught.value)


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    # Given a file with three independent mistakes
    front = (
        FRONT_MATTER.replace("slug: harbour-news", "slug: Bad Slug")
        .replace("title: Harbour news\n", "")
        .replace("2026-03-04T09:30:00+01:00", "2026-03-04")
    )
    path = markdown_file(tmp_path, "many.md", front=front)

    # When it is loaded
    with pytest.raises(ArticleFileError) as caught:
        load_article_file(path)

    # Then one message names all three fields
    for field in ("slug:", "title:", "published_at:"):
        assert field in caught.value.problem


def test_file_that_is_neither_markdown_nor_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello", encoding="utf-8")

    with pytest.raises(ArticleFileError, match=r"must end in \.md or \.json"):
        load_article_file(path)


# --- finding files ----------------------------------------------------------------------------


def test_directory_stands_for_its_markdown_and_json_files_sorted(tmp_path: Path) -> None:
    # Given a directory with articles, another kind of file and a subdirectory
    (tmp_path / "b.md").write_text("x")
    (tmp_path / "a.json").write_text("x")
    (tmp_path / "c.md").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "drafts").mkdir()
    (tmp_path / "drafts" / "d.md").write_text("x")

    # When the files are collected
    files = collect_files([tmp_path])

    # Then only its own article files are listed, by name
    assert [f.name for f in files] == ["a.json", "b.md", "c.md"]


def test_files_are_taken_in_the_order_given_and_each_once(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("x")
    (tmp_path / "b.md").write_text("x")

    files = collect_files([tmp_path / "b.md", tmp_path, tmp_path / "a.md"])

    assert files == [tmp_path / "b.md", tmp_path / "a.md"]


def test_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArticleFileError, match="no such file or directory"):
        collect_files([tmp_path / "nowhere"])


def test_directory_without_articles_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArticleFileError, match=r"holds no \*\.md or \*\.json file"):
        collect_files([tmp_path])


# --- from source to stored --------------------------------------------------------------------


def test_stored_article_has_rendered_html_and_keeps_the_comment_count(tmp_path: Path) -> None:
    # Given a source and a stored version with comments
    source = load_article_file(markdown_file(tmp_path, "a.md"))
    previous = to_stored(source, previous=None, now=NOW).model_copy(update={"comment_count": 7})

    # When it is converted again
    stored = to_stored(source, previous=previous, now=NOW)

    # Then the body is rendered and the comment count carried over
    assert stored.body_html == "<p>The <em>body</em>.</p>\n"
    assert stored.body_markdown == "The *body*."
    assert stored.author.email == "ada@example.org"
    assert stored.comment_count == 7


def test_importing_over_a_registered_article_keeps_its_canonical_url(tmp_path: Path) -> None:
    source = load_article_file(markdown_file(tmp_path, "a.md"))
    url = "https://www.example.com/a/"
    registered = to_stored(source, previous=None, now=NOW).model_copy(update={"url": url})

    assert to_stored(source, previous=registered, now=NOW).url == url
    assert to_stored(source, previous=None, now=NOW).url is None


@pytest.mark.parametrize(
    ("extra", "expected_updated_at"),
    [
        ("updated_at: 2026-03-05T10:00:00Z\n", datetime(2026, 3, 5, 10, 0, tzinfo=UTC)),
        ("", datetime(2026, 3, 4, 8, 30, tzinfo=UTC)),
    ],
    ids=["its own", "publication time"],
)
def test_updated_at_is_the_source_s_own_else_its_publication_time(
    tmp_path: Path, extra: str, expected_updated_at: datetime
) -> None:
    source = load_article_file(markdown_file(tmp_path, "a.md", front=FRONT_MATTER + extra))

    assert to_stored(source, previous=None, now=NOW).updated_at == expected_updated_at


def test_unpublished_draft_is_updated_now(tmp_path: Path) -> None:
    front = FRONT_MATTER.replace("published_at: 2026-03-04T09:30:00+01:00\n", "draft: true\n")
    source = load_article_file(markdown_file(tmp_path, "a.md", front=front))

    stored = to_stored(source, previous=None, now=NOW)

    assert stored.updated_at == NOW
    assert stored.published_at is None


# --- importing --------------------------------------------------------------------------------


def test_a_bad_file_among_good_ones_stops_the_import_before_any_request(tmp_path: Path) -> None:
    # Given two good files and, last in order, a bad one
    json_file(tmp_path, "a.json", slug="first")
    markdown_file(tmp_path, "b.md")
    markdown_file(tmp_path, "c.md", front=FRONT_MATTER.replace("slug: harbour-news", "slug: X"))
    db = RecordingDynamo()

    # When the directory is imported
    with pytest.raises(ArticleFileError, match=r"c\.md: slug:"):
        import_paths([tmp_path], table="content", db=db)  # type: ignore[arg-type]

    # Then the table was not even read
    assert db.requests == []


def test_two_files_with_the_same_slug_are_refused_before_any_request(tmp_path: Path) -> None:
    first = markdown_file(tmp_path, "a.md")
    json_file(tmp_path, "b.json")
    db = RecordingDynamo()

    with pytest.raises(ArticleFileError, match=f"b.json: slug: 'harbour-news' is also .*{first}"):
        import_paths([tmp_path], table="content", db=db)  # type: ignore[arg-type]

    assert db.requests == []


def test_each_article_is_read_then_written_and_reported(tmp_path: Path) -> None:
    # Given two good files
    json_file(tmp_path, "a.json", slug="first")
    second = markdown_file(tmp_path, "b.md")
    db = RecordingDynamo()
    saved: list[tuple[str, Path]] = []

    # When they are imported
    slugs = import_paths(
        [tmp_path],
        table="content",
        db=db,  # type: ignore[arg-type]
        on_saved=lambda slug, path: saved.append((slug, path)),
    )

    # Then each is read, then written in one transaction, in file order
    assert slugs == ["first", "harbour-news"]
    assert db.requests == ["GetItem", "TransactWriteItems"] * 2
    assert saved[1] == ("harbour-news", second)


def command_line(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_command_without_a_table_name_exits_2_saying_how_to_give_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CONTENT_TABLE_NAME", raising=False)
    markdown_file(tmp_path, "a.md")

    status = run(command_line(str(tmp_path)))

    assert status == 2
    assert "--table or set CONTENT_TABLE_NAME" in capsys.readouterr().err


def test_command_with_an_unknown_profile_exits_2_with_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown_file(tmp_path, "a.md")

    status = run(command_line(str(tmp_path), "--table", "content", "--profile", "no-such-one"))

    captured = capsys.readouterr()
    assert status == 2
    assert "cannot reach DynamoDB" in captured.err
    assert "no-such-one" in captured.err
    assert "Traceback" not in captured.err


def test_command_with_a_bad_file_exits_2_and_prints_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = markdown_file(tmp_path, "a.md", front=FRONT_MATTER.replace("title: Harbour news\n", ""))

    status = run(command_line(str(path), "--table", "content", "--region", "eu-west-1"))

    captured = capsys.readouterr()
    assert status == 2
    assert f"{path}: title: is required" in captured.err
    assert "nothing was written" in captured.err
    assert captured.out == ""


# --- the demo content -------------------------------------------------------------------------


def demo_files() -> list[Path]:
    return collect_files([DEMO_CONTENT])


@pytest.mark.parametrize("path", demo_files(), ids=lambda path: path.name)
def test_demo_article_is_valid_published_and_renders(path: Path) -> None:
    # Given a demo article file
    # When it is loaded and converted
    source = load_article_file(path)
    stored: StoredArticle = to_stored(source, previous=None, now=NOW)

    # Then it is a public 2026 article by an example.* author, with a rendered body
    assert stored.is_public(NOW)
    assert source.published_at is not None
    assert datetime(2026, 1, 1, tzinfo=UTC) <= source.published_at < NOW
    assert source.author.email.endswith(("@example.com", "@example.org"))
    assert stored.body_html.startswith("<")


def test_demo_content_shows_json_images_and_closed_comments() -> None:
    sources = [load_article_file(path) for path in demo_files()]

    assert len(sources) >= 5
    assert len({source.slug for source in sources}) == len(sources)
    assert any(path.suffix == ".json" for path in demo_files())
    assert any(source.image is not None for source in sources)
    assert any(not source.comments_open for source in sources)


def test_demo_content_shows_the_markdown_an_author_can_use() -> None:
    html = "".join(
        to_stored(load_article_file(path), previous=None, now=NOW).body_html
        for path in demo_files()
    )

    for fragment in ("<h2>", "<ul>", "<ol>", "<a href=", "<em>", "<strong>", "<blockquote>"):
        assert fragment in html
