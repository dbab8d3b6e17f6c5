"""The `newsroom articles retag` command: rewrite every public article's tag items from its
stored article, so that tag items written before they carried the body and feed id get them
(docs/operations.md, "Upgrading"), whatever the article's source (a file, a WordPress export).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from newsroom.data import dynamo
from newsroom.data.articles import (
    PUBLISHED_PARTITION,
    ConcurrentImportError,
    get_article,
    save_article,
)
from newsroom.errors import NewsroomError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def retag_articles(
    *,
    table: str,
    db: DynamoDBClient | None = None,
    on_saved: Callable[[str], None] | None = None,
) -> list[str]:
    """Write each public or scheduled article with tags again, as it is stored, with its tag
    items (`save_article`: conditional on the revision read, the comment count kept).

    Drafts are left alone: their tag items are in no listing or feed until they are published,
    which writes them again. Returns the slugs written, newest first.

    Raises
    ------
    ConcurrentImportError
        When an article was written between our read and our write (earlier ones are written;
        running the command again finishes the job).
    """
    db = db or dynamo.client()
    listing = {
        "TableName": table,
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p",
        "ExpressionAttributeValues": {":p": {"S": PUBLISHED_PARTITION}},
        "ProjectionExpression": "slug",
        "ScanIndexForward": False,
    }
    written: list[str] = []
    for item in dynamo.query_all(db, listing):
        slug = str(dynamo.from_item(item)["slug"])
        article = get_article(slug, table=table, db=db)
        if article is None or not article.tags:
            continue
        save_article(article, table=table, previous=article, db=db)
        written.append(slug)
        if on_saved is not None:
            on_saved(slug)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser: the table's, as the other table
    commands take them."""
    from newsroom_tools.export import add_target_arguments

    add_target_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Rewrite the tag items; print one line per article. 0 when done, 1 when a write failed
    (run it again), 2 when the table cannot be named or reached."""
    from newsroom_tools.export import TargetError, connect

    try:
        table, db = connect(args)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        retag_articles(table=table, db=db, on_saved=lambda slug: print(f"retagged {slug}"))
    except ConcurrentImportError as exc:
        print(f"error: article {exc} changed meanwhile; run the command again", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError, NewsroomError) as exc:
        print(f"error: writing to table {table} failed: {exc}", file=sys.stderr)
        return 1
    return 0
