"""The `newsroom articles import` command: validate article files, then write them to the table.

An article file is either Markdown with YAML front matter between two ``---`` lines (the
`ArticleSource` fields; the Markdown after the front matter is the body) or a JSON object with
the same fields including ``body_markdown``. The slug comes from the file, never from its name.

Every file is read and validated before the first write, so a bad file leaves the table as it
was. Importing a file again updates its article in place; the comment count is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from newsroom.data import dynamo
from newsroom.data.articles import (
    ITEM_MAX_BYTES,
    ConcurrentImportError,
    article_item_bytes,
    get_article,
    save_article,
)
from newsroom.errors import NewsroomError
from newsroom.models.articles import StoredArticle, StoredAuthor
from newsroom.rendering import render_article
from newsroom_tools.article_source import ArticleSource

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MARKDOWN_SUFFIXES = frozenset({".md"})
JSON_SUFFIXES = frozenset({".json"})
_FENCE = "---"
_TIMESTAMP_FIELDS = ("published_at", "updated_at")
_HINTS = {
    "string_pattern_mismatch": "must be lowercase letters and digits joined by single hyphens",
    "missing": "is required",
    "extra_forbidden": "is not a field of an article",
}


class ArticleFileError(Exception):
    """An article file cannot be read or does not describe a valid article."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def _utc_now() -> datetime:
    return datetime.now(UTC)


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """The article files named by `paths`, in order, each once.

    A directory stands for its ``*.md`` and ``*.json`` files (not its subdirectories), sorted
    by name.

    Raises
    ------
    ArticleFileError
        When a path does not exist or a directory holds no article file.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                child
                for child in path.iterdir()
                if child.is_file() and child.suffix in MARKDOWN_SUFFIXES | JSON_SUFFIXES
            )
            if not found:
                raise ArticleFileError(path, "the directory holds no *.md or *.json file")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ArticleFileError(path, "no such file or directory")
    return list(dict.fromkeys(files))


def load_article_file(path: Path) -> ArticleSource:
    """Read and validate one article file (Markdown with front matter, or JSON).

    Raises
    ------
    ArticleFileError
        When the file cannot be read or parsed, or a field is missing or invalid; the message
        names the file and every field at fault.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArticleFileError(path, f"cannot be read: {exc}") from exc
    if path.suffix in MARKDOWN_SUFFIXES:
        fields = _parse_markdown(path, text)
    elif path.suffix in JSON_SUFFIXES:
        fields = _parse_json(path, text)
    else:
        raise ArticleFileError(path, "not an article file: the name must end in .md or .json")
    return _validate(path, fields)


def _parse_markdown(path: Path, text: str) -> dict[str, Any]:
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != _FENCE:
        raise ArticleFileError(path, "missing front matter: the first line must be '---'")
    closing = next((i for i, line in enumerate(lines[1:], 1) if line.rstrip() == _FENCE), None)
    if closing is None:
        raise ArticleFileError(path, "the front matter has no closing '---' line")
    try:
        front = yaml.safe_load("".join(lines[1:closing]))
    except yaml.YAMLError as exc:
        raise ArticleFileError(
            path, f"front matter is not valid YAML: {_yaml_problem(exc)}"
        ) from exc
    if not isinstance(front, dict):
        raise ArticleFileError(path, "the front matter must be a mapping of field: value lines")
    if "body_markdown" in front:
        raise ArticleFileError(
            path, "body_markdown: the body is the Markdown after the front matter, not a field"
        )
    return {**front, "body_markdown": "".join(lines[closing + 1 :]).strip("\n")}


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is None:
        return str(problem)
    # +2: marks count from 0, and the front matter starts below the opening '---'.
    return f"{problem} (line {mark.line + 2})"


def _parse_json(path: Path, text: str) -> dict[str, Any]:
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleFileError(
            path, f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(fields, dict):
        raise ArticleFileError(path, "the JSON must be an object of article fields")
    return fields


def _validate(path: Path, fields: Mapping[str, Any]) -> ArticleSource:
    problems: list[str] = []
    values = dict(fields)
    for name in _TIMESTAMP_FIELDS:
        # YAML reads an unquoted 2026-03-04 as a date; midnight in which zone is anyone's guess.
        value = values.get(name)
        if isinstance(value, date) and not isinstance(value, datetime):
            problems.append(
                f"{name}: a date alone is not a timestamp; "
                f"write a time and a time zone, e.g. {value.isoformat()}T09:00:00Z"
            )
            del values[name]
    try:
        source = ArticleSource.model_validate(values)
    except ValidationError as exc:
        problems.extend(_describe(error) for error in exc.errors(include_url=False))
    if problems:
        raise ArticleFileError(path, "; ".join(problems))
    return source


def _describe(error: Mapping[str, Any]) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "(article)"
    if where == "body_markdown" and error["type"] == "string_too_short":
        return "body_markdown: the article has no body"
    message = _HINTS.get(error["type"], str(error["msg"]).removeprefix("Value error, "))
    return f"{where}: {message}"


def to_stored(
    source: ArticleSource, *, previous: StoredArticle | None, now: datetime
) -> StoredArticle:
    """The stored article for `source`, with its Markdown rendered.

    ``updated_at`` is the source's own, else its publication time, else `now`.
    """
    return StoredArticle(
        slug=source.slug,
        title=source.title,
        summary=source.summary,
        body_html=render_article(source.body_markdown),
        body_markdown=source.body_markdown,
        author=StoredAuthor(name=source.author.name, email=str(source.author.email)),
        published_at=source.published_at,
        updated_at=source.updated_at or source.published_at or now,
        tags=source.tags,
        image=source.image,
        comments_open=source.comments_open,
        draft=source.draft,
        comment_count=previous.comment_count if previous else 0,
        # A canonical URL the site registered (docs/cms.md): the file does not say one.
        url=previous.url if previous else None,
    )


def import_paths(
    paths: Iterable[Path],
    *,
    table: str,
    db: DynamoDBClient | None = None,
    clock: Callable[[], datetime] = _utc_now,
    on_saved: Callable[[str, Path], None] | None = None,
) -> list[str]:
    """Validate every article file under `paths`, then create or update each article.

    Parameters
    ----------
    paths
        Files and directories, as for `collect_files`.
    table
        The content table.
    db
        DynamoDB client; the process-wide one by default.
    clock
        Gives ``updated_at`` for an article with neither ``updated_at`` nor ``published_at``.
    on_saved
        Called with the slug and file after each write.

    Returns
    -------
    list[str]
        The slugs written, in file order.

    Raises
    ------
    ArticleFileError
        Before anything is written, when any file is invalid, two files share a slug, or an
        article would not fit one DynamoDB item (its Markdown and its HTML, 400 KB together).
    ConcurrentImportError
        When an article changed between our read and our write (earlier ones are written).
    """
    files = collect_files(paths)
    articles: dict[str, tuple[Path, StoredArticle]] = {}
    for path in files:
        source = load_article_file(path)
        if source.slug in articles:
            first = articles[source.slug][0]
            raise ArticleFileError(path, f"slug: '{source.slug}' is also the slug of {first}")
        article = to_stored(source, previous=None, now=clock())
        size = article_item_bytes(article)
        if size > ITEM_MAX_BYTES:
            raise ArticleFileError(
                path,
                f"body_markdown: the article takes {size // 1024} KB stored (its Markdown and "
                f"its HTML), more than the {ITEM_MAX_BYTES // 1024} KB a DynamoDB item holds",
            )
        articles[source.slug] = (path, article)

    db = db or dynamo.client()
    written: list[str] = []
    for slug, (path, article) in articles.items():
        previous = get_article(slug, table=table, db=db)
        save_article(article, table=table, previous=previous, db=db)
        written.append(slug)
        if on_saved is not None:
            on_saved(slug, path)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser: the files, and the table's options
    as the other table commands take them."""
    from newsroom_tools.export import add_target_arguments

    parser.add_argument(
        "paths", metavar="PATH", nargs="+", type=Path, help="article file or directory"
    )
    add_target_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Import the articles; print one line per article written.

    Returns 0 on success, 2 when the input is at fault or the table cannot be named or
    reached (nothing written), 1 when a write failed part-way.
    """
    from newsroom_tools.export import TargetError, connect

    try:
        table, db = connect(args)
    except TargetError as exc:
        print(f"error: {exc} (nothing was written)", file=sys.stderr)
        return 2
    return _import(args, table=table, db=db)


def _import(args: argparse.Namespace, *, table: str, db: DynamoDBClient) -> int:
    try:
        import_paths(
            args.paths,
            table=table,
            db=db,
            on_saved=lambda slug, path: print(f"imported {slug} from {path}"),
        )
    except ArticleFileError as exc:
        print(f"error: {exc} (nothing was written)", file=sys.stderr)
        return 2
    except ConcurrentImportError as exc:
        print(
            f"error: article {exc} changed while it was being imported; import it again",
            file=sys.stderr,
        )
        return 1
    except (BotoCoreError, ClientError, NewsroomError) as exc:
        print(f"error: writing to table {table} failed: {exc}", file=sys.stderr)
        return 1
    return 0
