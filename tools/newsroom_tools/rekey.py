"""The `newsroom secret rekey` command: after a key rotation, re-derive the avatars, commenter
keys, duplicate guards and author keys (the author index's) stored with comments, and the keys
of confirmed reply-notice subscribers and of suppressed addresses, under the current key
(docs/operations.md).

Without it nothing breaks while the previous key is kept (lookups try both keys); with it, a
commenter's avatar stays the same across the rotation and "previously approved" survives the
previous key's removal, and so does a commenter's suppression (else, once the previous key is
dropped, a bounced or complaining address would be written to again).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from newsroom.privacy import avatar_key, commenter_key, duplicate_key, email_hash, subscriber_key
from newsroom.secrets import Keyring, SecretMissingError, SecretTooShortError, read_keyring

TABLE_VARIABLE = "CONTENT_TABLE_NAME"
PARAMETER_VARIABLE = "SECRET_PARAMETER_NAME"
DEFAULT_PARAMETER = "/newsroom/secret"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser."""
    parser.add_argument("--table", help=f"content table name (default: ${TABLE_VARIABLE})")
    parser.add_argument(
        "--parameter",
        help=f"the key's SSM parameter (default: ${PARAMETER_VARIABLE} or {DEFAULT_PARAMETER})",
    )
    parser.add_argument("--region", help="AWS region (default: the usual AWS settings)")
    parser.add_argument("--profile", help="AWS profile (default: the usual AWS settings)")


def run(args: argparse.Namespace) -> int:
    """Rekey every comment; 0 when all are done, 1 when some changed meanwhile (run it again)
    or AWS failed, 2 when the input is at fault."""
    from newsroom_tools.rekeying import move_subscriber, move_suppression, rekey_comments

    table = args.table or os.environ.get(TABLE_VARIABLE)
    if not table:
        print(f"error: no table name: pass --table or set {TABLE_VARIABLE}", file=sys.stderr)
        return 2
    parameter = args.parameter or os.environ.get(PARAMETER_VARIABLE) or DEFAULT_PARAMETER
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    try:
        keys = read_keyring(parameter, ssm=session.client("ssm"))
    except (SecretMissingError, SecretTooShortError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        print(f"error: reading {parameter} failed: {exc}", file=sys.stderr)
        return 1
    current = keys.current

    def derive(comment: dict[str, Any]) -> Any:
        from newsroom_tools.rekeying import Derived

        name, email = str(comment["author_name"]), str(comment["author_email"])
        return Derived(
            avatar=avatar_key(current, email),
            commenter=commenter_key(current, name, email),
            duplicate_key=duplicate_key(
                current, str(comment["slug"]), email, str(comment["body_markdown"])
            ),
            # A blank address (an imported comment's) has no author index entry to make.
            author_key=email_hash(current, email) if email else None,
        )

    db = session.client("dynamodb")
    try:
        report = rekey_comments(db, table, derive)
        for email in report.emails:
            report.subscribers_moved += _carry(
                db, table, keys, email, subscriber_key, move_subscriber
            )
            report.suppressions_moved += _carry(
                db, table, keys, email, email_hash, move_suppression
            )
    except (BotoCoreError, ClientError) as exc:
        print(f"error: rekeying table {table} failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"{report.comments_seen} comments read, {report.comments_rekeyed} rekeyed, "
        f"{report.profiles_moved} commenter profiles moved, "
        f"{report.subscribers_moved} confirmed subscribers moved, "
        f"{report.suppressions_moved} suppressed addresses moved"
    )
    if report.changed_meanwhile:
        print(
            f"{len(report.changed_meanwhile)} comments changed while being rekeyed "
            f"({', '.join(report.changed_meanwhile[:5])}...): run the command again",
            file=sys.stderr,
        )
        return 1
    return 0


def _carry(
    db: Any,
    table: str,
    keys: Keyring,
    email: str,
    key_of: Callable[[bytes, str], str],
    move: Callable[[Any, str, str, str], bool],
) -> int:
    """Move what `key_of` keys an address by from each previous key to the current one; how
    many were moved."""
    new = key_of(keys.current, email)
    olds = dict.fromkeys(key_of(previous, email) for previous in keys.previous)
    return sum(move(db, table, old, new) for old in olds if old != new)
