"""The `newsroom export` command: every item of the content table (but those whose TTL has
passed) to a gzipped JSON Lines backup that `newsroom import backup` restores (docs/operations.md).

It prints counts only: a backup holds commenters' addresses, never shown.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb import DynamoDBClient

TABLE_VARIABLE = "CONTENT_TABLE_NAME"
# A whole-table operation: patient with a slow or throttled answer (botocore retries first).
_CLIENT_CONFIG = Config(
    connect_timeout=5, read_timeout=60, retries={"mode": "standard", "max_attempts": 10}
)


class TargetError(Exception):
    """The table to work on cannot be named or reached (nothing was done)."""


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The options naming the content table: as `newsroom articles import` takes them."""
    parser.add_argument("--table", help=f"content table name (default: ${TABLE_VARIABLE})")
    parser.add_argument("--region", help="AWS region (default: the usual AWS settings)")
    parser.add_argument("--profile", help="AWS profile (default: the usual AWS settings)")
    parser.add_argument(
        "--local",
        action="store_true",
        help="a running `newsroom run` (`make run`): its emulator on --emulator-port, "
        "its content table",
    )
    from newsroom_tools.emulator import add_port_argument

    add_port_argument(parser, when_taken="with --local: the local run's")


def connect(args: argparse.Namespace) -> tuple[str, DynamoDBClient]:
    """The content table the options name, and a client to reach it.

    Raises
    ------
    TargetError
        When no table is named, no region or an unknown profile is, or with --local when no
        local run listens.
    """
    if args.local:
        from newsroom_tools import emulator
        from newsroom_tools.runner import CONTENT_TABLE

        try:
            session = emulator.local_run_session(args.emulator_port)
        except emulator.NoLocalRunError as exc:
            raise TargetError(str(exc)) from exc
        db = session.client(
            "dynamodb",
            endpoint_url=f"http://{emulator.DEFAULT_HOST}:{args.emulator_port}",
            config=_CLIENT_CONFIG,
        )
        return args.table or CONTENT_TABLE, db
    table = args.table or os.environ.get(TABLE_VARIABLE)
    if not table:
        raise TargetError(f"no table name: pass --table or set {TABLE_VARIABLE}")
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        return table, session.client("dynamodb", config=_CLIENT_CONFIG)
    except BotoCoreError as exc:  # no region, an unknown profile
        raise TargetError(f"cannot reach DynamoDB: {exc}") from exc


def counts(by_type: Mapping[str, int]) -> str:
    """``article 3, comment 12, ...``: how many items of each type."""
    return ", ".join(f"{kind} {n}" for kind, n in sorted(by_type.items())) or "none"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser."""
    parser.add_argument(
        "file", metavar="FILE", type=Path, help="the backup to write (FILE.jsonl.gz)"
    )
    parser.add_argument(
        "--consistent-read",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="strongly consistent Scan pages (twice the read cost; default: on)",
    )
    parser.add_argument(
        "--segments",
        type=int,
        default=1,
        help="Scan the table in this many segments side by side (a parallel Scan; default 1)",
    )
    add_target_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Export the table; 0 when the file is written, 2 when the input is at fault, 1 when
    reading the table failed (no file is left then)."""
    from newsroom_tools.backup import export_table

    if args.segments < 1:
        print("error: --segments must be 1 or more", file=sys.stderr)
        return 2
    try:
        table, db = connect(args)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        report = export_table(
            db, table, args.file, consistent=args.consistent_read, segments=args.segments
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            print(f"error: no table {table}", file=sys.stderr)
            return 2
        print(f"error: reading table {table} failed: {exc}", file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        print(f"error: reading table {table} failed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: writing {args.file} failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: {args.file} was not written", file=sys.stderr)
        return 130
    print(
        f"exported {report.items} items of table {table} to {args.file} "
        f"({report.pages} Scan page{'' if report.pages == 1 else 's'}; {counts(report.by_type)}); "
        f"{report.skipped_expired} expired items left out"
    )
    return 0
