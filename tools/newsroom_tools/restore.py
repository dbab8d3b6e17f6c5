"""The `newsroom import backup` command: a backup written by `newsroom export` into an empty
content table, exactly as it was read (docs/operations.md, "Backup and restore").

The whole file is checked before the first write; `--dry-run` stops there. An interrupted
restore is completed by running it again with `--resume`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

_PROGRESS_EVERY = 400  # batches (10,000 items) between two progress lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser."""
    from newsroom_tools.export import add_target_arguments

    parser.add_argument("file", metavar="FILE", type=Path, help="a backup (FILE.jsonl.gz)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="complete an interrupted restore of this same file, from its last checkpoint",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check the whole file, print what it holds, write nothing",
    )
    add_target_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Restore the backup; 0 when every item is written, 2 when the file or the table is at
    fault (nothing written), 1 when writing failed part-way (run it again with --resume)."""
    from newsroom_tools.backup import (
        BackupChangedError,
        BackupFileError,
        RestoreRefusedError,
        ThrottledTooLongError,
        check_backup,
        restore_backup,
    )
    from newsroom_tools.export import TargetError, connect, counts

    if args.dry_run:
        try:
            summary = check_backup(args.file)
        except BackupFileError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(
            f"{args.file}: a sound backup of {summary.header.get('source', 'a table')} "
            f"exported at {summary.header.get('exported_at', '(unknown)')}: {summary.items} items "
            f"({counts(summary.by_type)}); nothing written (--dry-run)"
        )
        return 0
    try:
        table, db = connect(args)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    again = "; what was written stays: run the same command again with --resume to complete it"
    try:
        report = restore_backup(
            db,
            table,
            args.file,
            resume=args.resume,
            on_batch=lambda so_far: (
                print(f"... {so_far.items} items written", file=sys.stderr)
                if so_far.batches % _PROGRESS_EVERY == 0
                else None
            ),
        )
    except (BackupFileError, RestoreRefusedError) as exc:
        print(f"error: {exc} (nothing was written)", file=sys.stderr)
        return 2
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            print(f"error: no table {table} (nothing was written)", file=sys.stderr)
            return 2
        print(f"error: writing to table {table} failed: {exc}{again}", file=sys.stderr)
        return 1
    except BackupChangedError as exc:
        print(f"error: {exc}; what was written stays", file=sys.stderr)
        return 1
    except (BotoCoreError, ThrottledTooLongError) as exc:
        print(f"error: writing to table {table} failed: {exc}{again}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted{again}", file=sys.stderr)
        return 130
    resumed = f", after the {report.skipped} the interrupted one wrote" if report.skipped else ""
    print(
        f"restored {report.items} items into table {table} ({counts(report.by_type)}){resumed}; "
        f"{report.retries} batch writes retried"
    )
    return 0
