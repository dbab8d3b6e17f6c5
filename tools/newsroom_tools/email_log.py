"""The `newsroom emails list` command: the email log (`GET /admin/emails`'s entries) from the
content table, newest first, one line each or JSON Lines (docs/operations.md).

It reads the log's index (gsi3) by status, then the entries by key, as the API does; with no
``--status``, every status, merged by time. What it prints is what the API lists: kinds,
articles, comments, statuses and SES's ids, never an address (the ledger holds none).
"""

from __future__ import annotations

import argparse
import heapq
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from newsroom.models.emails import LoggedEmail


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser: the table, the status, the period."""
    from newsroom.data.delivery import EMAIL_STATUSES
    from newsroom_tools.dry_run import since_argument
    from newsroom_tools.export import add_target_arguments

    add_target_arguments(parser)
    parser.add_argument(
        "--status",
        choices=EMAIL_STATUSES,
        help="only the emails with this status (default: every status)",
    )
    parser.add_argument(
        "--since",
        type=since_argument,
        help="only the emails settled in this last period: 7d, 12h (default: all the ledger "
        "keeps, 30 days)",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per line, as the API lists them"
    )


def line(email: LoggedEmail) -> str:
    """One email as a line: when, status, what SES said (or the refusal's code), kind, the
    comment it was about, SES's id and the time of SES's last event; ``-`` for what it lacks."""
    about = f"{email.slug}/{email.comment_id}" if email.slug and email.comment_id else None
    fields = [
        email.settled_at.isoformat().replace("+00:00", "Z"),
        email.status,
        email.delivery or email.error_code,
        email.kind,
        about or email.slug or email.comment_id,
        email.ses_message_id,
        email.delivery_at.isoformat().replace("+00:00", "Z") if email.delivery_at else None,
    ]
    return " ".join(field or "-" for field in fields)


def run(args: argparse.Namespace) -> int:
    """Print the log; 0 when done, 2 when the input is at fault (no table, no such table), 1
    when reading it failed."""
    from newsroom.data.delivery import EMAIL_STATUSES
    from newsroom.data.emails import EmailLogTable
    from newsroom.errors import ServiceUnavailableError
    from newsroom_tools.export import TargetError, connect

    try:
        table, db = connect(args)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    since = datetime.now(UTC) - args.since if args.since else None
    log = EmailLogTable(table, db=db)
    statuses = [args.status] if args.status else list(EMAIL_STATUSES)
    # Each status newest first; merged, newest first too.
    emails = heapq.merge(
        *(log.every(status, since=since) for status in statuses),
        key=lambda email: email.settled_at,
        reverse=True,
    )
    try:
        for email in emails:
            print(email.model_dump_json() if args.json else line(email))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            print(f"error: no table {table}", file=sys.stderr)
            return 2
        print(f"error: reading table {table} failed: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ServiceUnavailableError) as exc:
        print(f"error: reading table {table} failed: {exc}", file=sys.stderr)
        return 1
    return 0
