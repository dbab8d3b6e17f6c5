"""The `newsroom moderation dry-run` command: judge past comments with a proposed policy, by the
same function as live comments (`newsroom.content_checks.moderate`), and report the verdicts
that would change and why, writing nothing (docs/api.md, "Moderation dry run").

It reads every comment item with a paginated `Scan` (type = comment): an operator's tool, never
on a request path. The moderation index (gsi3) holds the queue's statuses only by partition and
not every comment's text, so the Scan is the one read that sees each comment once, whatever its
status. Comments from before ``--since`` are read too, but only for "previously approved": a
comment counts as previously approved when an earlier comment with the same commenter key
(name and email) is approved now.

Not judged again (counted in the summary): comments a moderator decided (their status is no
policy's to change), erased ones, those the honeypot caught (the field is not stored) and those
held for being posted too soon after their form was loaded (nor is the form time).
The IP and user agent are not stored either, so keys that would match only them match nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from newsroom.content_checks import ContentCheck
    from newsroom.models.comments import StoredComment
    from newsroom.moderation import ModerationPolicy

# The rules whose evidence is not stored: what the honeypot held, how long the form was open.
NOT_JUDGED_AGAIN = frozenset({"honeypot", "posted_too_soon"})
_SINCE = re.compile(r"^(\d{1,5})([dh])$")


@dataclass(frozen=True)
class Change:
    """A comment whose verdict the proposed policy would change."""

    slug: str
    comment_id: str
    status: str
    proposed: str  # a status, or "discarded" (a content check's discard: not stored)
    rule: str
    explanation: str


@dataclass(frozen=True)
class DryRun:
    judged: int
    changes: tuple[Change, ...]
    skipped: int


def since_argument(text: str) -> timedelta:
    """``30d`` or ``12h``: how far back to judge."""
    found = _SINCE.match(text)
    if found is None or int(found.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"--since {text!r}: give days or hours, like 30d or 12h")
    amount = int(found.group(1))
    return timedelta(days=amount) if found.group(2) == "d" else timedelta(hours=amount)


def check_argument(name: str) -> str:
    from newsroom.content_checks import REGISTRY

    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise argparse.ArgumentTypeError(f"--check {name!r}: unknown check; known: {known}")
    return name


def stored_comments(db: DynamoDBClient, table: str) -> Iterator[StoredComment]:
    """Every comment of the table, page after page of a Scan."""
    from newsroom.data import dynamo
    from newsroom.models.comments import StoredComment

    scan: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "#type = :comment",
        "ExpressionAttributeNames": {"#type": "type"},
        "ExpressionAttributeValues": {":comment": {"S": "comment"}},
    }
    while True:
        response = db.scan(**scan)
        for item in response.get("Items", []):
            yield StoredComment.model_validate(dynamo.from_item(item))
        if "LastEvaluatedKey" not in response:
            return
        scan["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def dry_run(
    comments: Sequence[StoredComment],
    policy: ModerationPolicy,
    *,
    checks: Sequence[ContentCheck] = (),
    since: datetime,
) -> DryRun:
    """Judge each comment posted at or after `since` as if it were posted now under `policy`
    and `checks`; the ones whose status would differ, oldest first."""
    from newsroom.content_checks import moderate
    from newsroom.moderation import Submission

    approved_at: dict[str, list[datetime]] = {}
    for comment in comments:
        if comment.status == "approved":
            approved_at.setdefault(comment.commenter, []).append(comment.created_at)
    judged, skipped = 0, 0
    changes: list[Change] = []
    for comment in sorted(comments, key=lambda c: c.created_at):
        if comment.created_at < since:
            continue
        if (
            comment.moderation.by != "policy"
            or comment.erased_at is not None
            or comment.moderation.rule in NOT_JUDGED_AGAIN
        ):
            skipped += 1
            continue
        judged += 1
        moderated = moderate(
            Submission(
                author_name=comment.author_name,
                author_email=comment.author_email,
                author_url=comment.author_url,
                body=comment.body_markdown,
                ip="",
                body_html=comment.body_html,
            ),
            policy,
            previously_approved=any(
                at < comment.created_at for at in approved_at.get(comment.commenter, [])
            ),
            checks=checks,
        )
        verdict = moderated.verdict
        # A check's discard is not a status: posted now, the comment would not be stored.
        proposed = "discarded" if moderated.discard else verdict.status
        if proposed != comment.status:
            changes.append(
                Change(
                    slug=comment.slug,
                    comment_id=comment.id,
                    status=comment.status,
                    proposed=proposed,
                    rule=verdict.rule,
                    explanation=verdict.explanation,
                )
            )
    return DryRun(judged=judged, changes=tuple(changes), skipped=skipped)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser: the table, the period, the policy."""
    from newsroom_tools.export import add_target_arguments

    add_target_arguments(parser)
    parser.add_argument(
        "--since",
        type=since_argument,
        default=timedelta(days=30),
        help="judge comments posted in this last period: 30d (default), 12h",
    )
    policy = parser.add_argument_group(
        "proposed policy", "options not given take the defaults (WordPress's), not the live ones"
    )
    policy.add_argument(
        "--max-links", type=int, default=2, help="hold with this many links or more (0: off)"
    )
    policy.add_argument(
        "--moderation-key", action="append", default=[], help="hold on this key (repeatable)"
    )
    policy.add_argument(
        "--disallowed-key", action="append", default=[], help="spam on this key (repeatable)"
    )
    policy.add_argument(
        "--require-previous-approval",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="hold a first-time commenter (default: on)",
    )
    policy.add_argument("--moderate-all", action="store_true", help="hold every comment")
    policy.add_argument(
        "--check",
        action="append",
        default=[],
        type=check_argument,
        help="a content check to run after the rules (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    """Print one line per comment whose verdict would change, then a summary; 0 when done,
    2 when the input is at fault, 1 when reading the table failed. Writes nothing."""
    from newsroom.content_checks import checks_named
    from newsroom.moderation import ModerationPolicy
    from newsroom_tools.export import TargetError, connect

    if args.max_links < 0:
        print("error: --max-links must be 0 or more", file=sys.stderr)
        return 2
    try:
        table, db = connect(args)
    except TargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    policy = ModerationPolicy(
        max_links=args.max_links,
        moderation_keys=tuple(args.moderation_key),
        disallowed_keys=tuple(args.disallowed_key),
        require_previous_approval=args.require_previous_approval,
        moderate_all=args.moderate_all,
    )
    try:
        comments = list(stored_comments(db, table))
    except (BotoCoreError, ClientError) as exc:
        print(f"error: reading table {table} failed: {exc}", file=sys.stderr)
        return 1
    result = dry_run(
        comments, policy, checks=checks_named(args.check), since=datetime.now(UTC) - args.since
    )
    # Slugs, ids and rules only: never an address or a text.
    for change in result.changes:
        print(
            f"{change.slug} {change.comment_id}: {change.status} -> {change.proposed} "
            f"({change.rule}: {change.explanation})"
        )
    print(
        f"{result.judged} comment(s) judged, {len(result.changes)} would change, "
        f"{result.skipped} not judged (decided by a moderator, erased, caught by the "
        "honeypot or posted too soon); nothing written"
    )
    return 0
