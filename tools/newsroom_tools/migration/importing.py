"""What `newsroom import wordpress` and `newsroom import disqus` share: the target table and
keyring (AWS, or a running `make run` with --local), the report, the progress bar, exit codes."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from newsroom.data.articles import ConcurrentImportError
from newsroom.errors import NewsroomError
from newsroom.secrets import Keyring, SecretMissingError, SecretTooShortError, read_keyring
from newsroom_tools.migration.store import ImportWriteError
from newsroom_tools.migration.threads import Problem
from newsroom_tools.migration.xmlstream import ExportFileError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ssm import SSMClient

    from newsroom_tools.migration.xmlstream import StreamStats

TABLE_VARIABLE = "CONTENT_TABLE_NAME"
PARAMETER_VARIABLE = "SECRET_PARAMETER_NAME"
DEFAULT_PARAMETER = "/newsroom/secret"
# botocore's own retries first (adaptive: it slows down when throttled), then the import's.
_AWS_CONFIG = Config(retries={"mode": "adaptive", "max_attempts": 10})
MAX_LISTED_PROBLEMS = 200


@dataclass
class Report:
    """What an import did (or, with --dry-run, would do)."""

    source: str
    dry_run: bool = False
    articles: Counter[str] = field(default_factory=Counter)  # created, updated, unchanged...
    comments: Counter[str] = field(default_factory=Counter)  # written, by status
    comments_existing: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # by kind
    problems: list[Problem] = field(default_factory=list)
    reparented: int = 0
    sender_data: int = 0
    transactions: int = 0
    lines: list[str] = field(default_factory=list)  # one per article, printed as it goes

    def render(self) -> str:
        verb = "would be " if self.dry_run else ""
        articles = ", ".join(f"{n} {verb}{kind}" for kind, n in sorted(self.articles.items()))
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(self.comments.items()))
        written = sum(self.comments.values())
        skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(self.skipped.items()))
        out = [
            f"{self.source}{' (dry run: nothing was written)' if self.dry_run else ''}",
            f"articles: {articles or 'none'}",
            f"comments: {written} {verb}written ({statuses or 'none'}), "
            f"{self.comments_existing} already stored",
            f"skipped: {skipped or 'nothing'}",
        ]
        if self.reparented:
            out.append(f"replies attached above an unpublished parent: {self.reparented}")
        out.append(f"problems: {len(self.problems)}")
        ordered = sorted(self.problems, key=lambda p: p.line)
        out += [f"  line {p.line}: {p.message}" for p in ordered[:MAX_LISTED_PROBLEMS]]
        if len(ordered) > MAX_LISTED_PROBLEMS:
            out.append(f"  ... and {len(ordered) - MAX_LISTED_PROBLEMS} more")
        return "\n".join(out)


class Progress:
    """A one-line progress bar on stderr, only when it is a terminal."""

    def __init__(self, stats: StreamStats, stream: TextIO | None = None) -> None:
        self.stats = stats
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self._last = 0.0

    def update(self, items: int, comments: int, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.2:
            return
        self._last = now
        size = max(self.stats.size, 1)
        done = min(self.stats.bytes_read / size, 1.0)
        bar = "#" * int(done * 30)
        self.stream.write(
            f"\r[{bar:<30}] {done:4.0%} {self.stats.bytes_read / 1e6:7.1f}/{size / 1e6:.1f} MB"
            f"  {items} items  {comments} comments"
        )
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every import takes: where to write, and how."""
    parser.add_argument("file", metavar="FILE", type=Path, help="the export file (.xml or .xml.gz)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read the file and the table, print what would be written and every problem; "
        "write nothing",
    )
    parser.add_argument("--table", help=f"content table name (default: ${TABLE_VARIABLE})")
    parser.add_argument(
        "--parameter",
        help=f"the key's SSM parameter (default: ${PARAMETER_VARIABLE} or {DEFAULT_PARAMETER})",
    )
    parser.add_argument("--region", help="AWS region (default: the usual AWS settings)")
    parser.add_argument("--profile", help="AWS profile (default: the usual AWS settings)")
    parser.add_argument(
        "--thread-depth",
        type=int,
        default=5,
        choices=range(1, 6),
        help="the deployed THREAD_DEPTH: deeper replies are stored as siblings (default: 5)",
    )
    parser.add_argument(
        "--sender-data-retention-days",
        type=int,
        default=90,
        help="the deployed SENDER_DATA_RETENTION_DAYS: an IP hash is kept only for comments "
        "younger than this (default: 90)",
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="into a running `newsroom run` (`make run`): its emulator on --emulator-port, "
        "its content table and key",
    )
    from newsroom_tools.emulator import add_port_argument

    add_port_argument(parser, when_taken="with --local: the local run's")


@dataclass(frozen=True)
class Target:
    db: DynamoDBClient
    table: str
    keys: Keyring


class TargetError(Exception):
    """The table or the key cannot be reached (the message says how to fix it)."""


def connect(args: argparse.Namespace) -> Target:
    """The content table and the project's keyring the command writes with.

    Raises
    ------
    TargetError
    """
    if args.local:
        from newsroom_tools import emulator
        from newsroom_tools.runner import CONTENT_TABLE

        try:
            session = emulator.local_run_session(args.emulator_port)
        except emulator.NoLocalRunError as exc:
            raise TargetError(str(exc)) from exc
        endpoint = f"http://{emulator.DEFAULT_HOST}:{args.emulator_port}"
        db = session.client("dynamodb", endpoint_url=endpoint)
        ssm = session.client("ssm", endpoint_url=endpoint)
        table = args.table or CONTENT_TABLE
    else:
        table = args.table or os.environ.get(TABLE_VARIABLE) or ""
        if not table:
            raise TargetError(f"no table name: pass --table or set {TABLE_VARIABLE} (or --local)")
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        db = session.client("dynamodb", config=_AWS_CONFIG)
        ssm = session.client("ssm")
    parameter = args.parameter or os.environ.get(PARAMETER_VARIABLE) or DEFAULT_PARAMETER
    return Target(db=db, table=table, keys=_keys(parameter, ssm))


def _keys(parameter: str, ssm: SSMClient) -> Keyring:
    try:
        return read_keyring(parameter, ssm=ssm)
    except (SecretMissingError, SecretTooShortError) as exc:
        raise TargetError(str(exc)) from exc
    except Exception as exc:  # ServiceUnavailableError, credentials, endpoint...
        raise TargetError(f"reading the key {parameter} failed: {exc}") from exc


# What a write failing for good can raise besides `ImportWriteError`: AWS's errors, the
# layer's (`ServiceUnavailableError`), an article written meanwhile (`ConcurrentImportError`).
AWS_ERRORS = (BotoCoreError, ClientError, NewsroomError, ConcurrentImportError)


def finish(run: Callable[[], Report], *, path: Path, table: str, file_fault: str) -> int:
    """Run an import and answer the command's exit status: 0 with its report printed, 2 for a
    file at fault (`file_fault` says what became of what was read before it), 1 for a write
    that failed (a run again goes on), 130 for Ctrl-C. Never a traceback."""
    try:
        report = run()
    except ExportFileError as exc:
        print(f"error: {path}: {exc}{file_fault}", file=sys.stderr)
        return 2
    except (ImportWriteError, *AWS_ERRORS) as exc:
        print(
            f"error: writing to table {table} failed: {exc}; run the import again to "
            "go on from where it stopped",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(
            "interrupted: what was written is kept; run the import again to go on", file=sys.stderr
        )
        return 130
    print(report.render())
    return 0
