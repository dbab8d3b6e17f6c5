"""The `newsroom import disqus FILE` command: a Disqus export's comments onto the articles their
threads' pages are (docs/migration.md).

Articles are not created: a thread whose article does not exist is reported and its comments
skipped. The comments are stored, counted, re-run and kept from emailing exactly as a WordPress
import's are (`newsroom_tools.migration.store`, `imported_from` = ``disqus:<forum>#<dsq:id>``).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from newsroom.secrets import Keyring
from newsroom_tools.migration.disqus import read_export, read_map
from newsroom_tools.migration.importing import (
    Report,
    TargetError,
    add_target_arguments,
    connect,
    finish,
)
from newsroom_tools.migration.store import ImportTable
from newsroom_tools.migration.threads import Problem, ThreadSettings, plan_thread
from newsroom_tools.migration.xmlstream import ExportFileError


def import_disqus(
    path: Path,
    table: ImportTable,
    keys: Keyring,
    *,
    mapping: dict[str, str] | None = None,
    thread_depth: int = 5,
    sender_data_retention: timedelta = timedelta(days=90),
    now: datetime | None = None,
    out: TextIO | None = None,
) -> Report:
    """Import (or with ``table.dry_run``, go through) a Disqus export; the report.

    Raises
    ------
    ExportFileError
        The file is not a readable, safe Disqus export (nothing is written).
    ImportWriteError, BotoCoreError, ClientError
        A write failed for good (run it again to go on).
    """
    export = read_export(path, mapping or {})
    report = Report(source=f"Disqus export {path}", dry_run=table.dry_run)
    report.problems += export.problems
    report.skipped.update(export.skipped)
    settings = ThreadSettings(
        keys=keys,
        source=f"disqus:{export.forum}",
        thread_depth=thread_depth,
        sender_data_retention=sender_data_retention,
        now=now or datetime.now(UTC),
    )
    for slug, comments in export.comments.items():
        if table.article(slug) is None:
            report.problems.append(
                Problem(
                    min(c.line for c in comments),
                    f"no article {slug!r} for the thread of {export.links.get(slug, slug)}: "
                    f"its {len(comments)} comments are not imported (import the article, or "
                    "name it in --map)",
                )
            )
            report.skipped["comment of a missing article"] += len(comments)
            continue
        planned = plan_thread(slug, comments, settings)
        report.problems += planned.problems
        report.skipped["invalid comment"] += len(planned.dropped)
        report.reparented += planned.reparented
        written = table.write_comments(slug, planned.comments, planned.senders)
        report.comments.update(c.status for c in written.written)
        report.comments_existing += written.existing
        report.articles["with comments"] += 1
        line = (
            f"{slug}: {len(written.written)} comments "
            f"{'to write' if table.dry_run else 'written'}, {written.existing} already stored"
        )
        report.lines.append(line)
        if out is not None:
            print(line, file=out)
    if export.merged_threads:
        report.skipped["duplicate thread (merged)"] += export.merged_threads
    report.transactions = table.transactions
    report.skipped = +report.skipped
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser."""
    add_target_arguments(parser)
    parser.add_argument(
        "--map",
        type=Path,
        help="a file of '<link> <slug>' lines naming the article of a thread's page (default: "
        "the link's last path segment)",
    )


def run(args: argparse.Namespace) -> int:
    """Import; print a line per article, then the report (exit codes as `import wordpress`)."""
    path: Path = args.file
    if not path.is_file():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    try:
        mapping = read_map(args.map) if args.map else {}
        target = connect(args)
    except (TargetError, ExportFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = ImportTable(target.db, target.table, dry_run=args.dry_run)
    return finish(
        lambda: import_disqus(
            path,
            table,
            target.keys,
            mapping=mapping,
            thread_depth=args.thread_depth,
            sender_data_retention=timedelta(days=args.sender_data_retention_days),
            out=sys.stdout,
        ),
        path=path,
        table=target.table,
        file_fault=" (nothing was written)",
    )
