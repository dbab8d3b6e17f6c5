"""The `newsroom import wordpress FILE` command: a WordPress export's posts and their comments
into the content table (docs/migration.md).

Streamed one post at a time, so memory stays bounded whatever the file's size. Running it again
changes nothing: ids come from the export's, and only what is not stored yet is written, with
its counts (`newsroom_tools.migration.store`). An interrupted import is resumed by running it
again. Imported comments notify nobody (`StoredComment.imported_from`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from newsroom.secrets import Keyring
from newsroom_tools.migration.importing import (
    Progress,
    Report,
    TargetError,
    add_target_arguments,
    connect,
    finish,
)
from newsroom_tools.migration.store import ImportTable
from newsroom_tools.migration.threads import Problem, ThreadSettings, plan_thread
from newsroom_tools.migration.wordpress import WxrReader, map_post
from newsroom_tools.migration.xmlstream import StreamStats


def import_wordpress(
    path: Path,
    table: ImportTable,
    keys: Keyring,
    *,
    thread_depth: int = 5,
    sender_data_retention: timedelta = timedelta(days=90),
    author_email: str | None = None,
    now: datetime | None = None,
    progress_stream: TextIO | None = None,
    out: TextIO | None = None,
) -> Report:
    """Import (or with ``table.dry_run``, go through) a WXR file; the report.

    Raises
    ------
    ExportFileError
        The file is not a readable, safe WXR file (what came before the fault is written).
    ImportWriteError, BotoCoreError, ClientError
        A write failed for good (run it again to go on).
    """
    stats = StreamStats()
    reader = WxrReader(path, stats=stats)
    report = Report(source=f"WordPress export {path}", dry_run=table.dry_run)
    progress = Progress(stats, progress_stream)
    taken: dict[str, str] = {}
    comments_seen = 0
    try:
        for post in reader.posts():
            report.skipped.update(post.skipped_kinds)
            mapped = map_post(post, reader.channel, taken_slugs=taken, author_email=author_email)
            report.problems += mapped.problems
            article = mapped.article
            if article is None:
                if mapped.skipped_as:
                    report.skipped[mapped.skipped_as] += 1
                continue
            previous = table.article(article.slug)
            if previous is not None and previous.feed_id != article.feed_id:
                report.problems.append(
                    Problem(
                        post.line,
                        f"post {post.post_id}: an article {article.slug!r} exists that is not "
                        "this post's (another source); left as it is, with this post's comments "
                        "not imported",
                    )
                )
                report.skipped["post whose slug is taken"] += 1
                continue
            outcome = table.save_article(article, previous)
            report.articles[outcome] += 1
            settings = ThreadSettings(
                keys=keys,
                source=f"wordpress:{reader.channel.site}",
                thread_depth=thread_depth,
                sender_data_retention=sender_data_retention,
                now=now or datetime.now(UTC),
            )
            planned = plan_thread(
                article.slug, post.comments, settings, passed_over=post.passed_over
            )
            report.problems += planned.problems
            report.skipped["invalid comment"] += len(planned.dropped)
            report.reparented += planned.reparented
            written = table.write_comments(article.slug, planned.comments, planned.senders)
            report.comments.update(c.status for c in written.written)
            report.comments_existing += written.existing
            report.sender_data += sum(c.id in planned.senders for c in written.written)
            comments_seen += len(post.comments)
            line = (
                f"{'would be ' if table.dry_run else ''}{outcome}: {article.slug} "
                f"({_comments(len(written.written))} {'to write' if table.dry_run else 'written'}"
                f", {written.existing} already stored)"
            )
            report.lines.append(line)
            if out is not None:
                print(line, file=out)
            progress.update(reader.items, comments_seen)
    finally:
        progress.update(reader.items, comments_seen, force=True)
        progress.done()
        report.transactions = table.transactions
        if stats.control_characters:
            lines = ", ".join(map(str, stats.control_lines))
            report.problems.append(
                Problem(
                    stats.control_lines[0] if stats.control_lines else 0,
                    f"{stats.control_characters} control characters XML forbids were read as "
                    f"spaces (lines {lines}{'...' if len(stats.control_lines) >= 20 else ''})",
                )
            )
    report.skipped = +report.skipped  # drop the kinds counted zero times
    return report


def _comments(count: int) -> str:
    return f"{count} comment{'' if count == 1 else 's'}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser."""
    add_target_arguments(parser)
    parser.add_argument(
        "--author-email",
        help="the email of authors the export gives none for (else their posts are skipped)",
    )


def run(args: argparse.Namespace) -> int:
    """Import; print a line per article, then the report.

    Returns 0 when the import went through (item-level problems are in the report), 2 when
    the file or the options are at fault, 1 when AWS failed (run it again to go on).
    """
    path: Path = args.file
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    try:
        target = connect(args)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = ImportTable(target.db, target.table, dry_run=args.dry_run)
    written = "" if args.dry_run else " (what came before is imported; nothing is duplicated)"
    return finish(
        lambda: import_wordpress(
            path,
            table,
            target.keys,
            thread_depth=args.thread_depth,
            sender_data_retention=timedelta(days=args.sender_data_retention_days),
            author_email=args.author_email,
            out=sys.stdout,
        ),
        path=path,
        table=target.table,
        file_fault=written,
    )
