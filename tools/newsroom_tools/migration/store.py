"""Writing imported articles and comments to the content table, so that importing again
changes nothing.

An article is created once, or rewritten only when it came from the same source post (its
`feed_id`) and the export now says something else; an article of the same slug from elsewhere
is never touched (the caller reports it). The comments of an article are read first (one
consistent `BatchGetItem` per 100 ids, derived from the source's), and only those not stored
are written, in transactions of up to 100 actions: each holds its comments (conditional on
their absence), their duplicate guards and sender data, and what they add to the counts (the
article's `comment_count`, each commenter's approved count, the reply counts of the comments
they answer), so a count moves exactly when its comment is written, once, whatever stopped an
earlier run. Throttling and transaction conflicts are retried with jittered backoff, in AWS
and in the emulator alike.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from newsroom.data import dynamo
from newsroom.data.articles import ARTICLE_SK, article_pk, save_article
from newsroom.data.comments import (
    GUARD_SK,
    PROFILE_SK,
    answered_ids,
    comment_item,
    comment_key,
    duplicate_guard,
    profile_pk,
    sender_data_item,
)
from newsroom.models.articles import StoredArticle

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from newsroom.models.comments import SenderData, StoredComment

MAX_ACTIONS = 100  # what one TransactWriteItems holds
MAX_TRANSACTION_BYTES = 3_500_000  # of its 4 MB
MAX_ATTEMPTS = 10
_THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)


class ImportWriteError(Exception):
    """A write failed for good (what was written before it stays; importing again goes on)."""


@dataclass
class Written:
    """What one article's comments came to."""

    written: list[StoredComment] = field(default_factory=list)
    existing: int = 0
    guards_left_out: int = 0


def _same_article(a: StoredArticle, b: StoredArticle) -> bool:
    ignored = {"comment_count": 0, "revision": 0}
    return a.model_copy(update=ignored) == b.model_copy(update=ignored)


class ImportTable:
    """The content table as an import writes it; with `dry_run`, it reads as usual and
    writes nothing (what would be written is counted the same way)."""

    def __init__(
        self,
        db: DynamoDBClient,
        table: str,
        *,
        dry_run: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.table = table
        self.dry_run = dry_run
        self._sleep = sleep
        self.transactions = 0

    # -- articles ----------------------------------------------------------------------------

    def article(self, slug: str) -> StoredArticle | None:
        response = self._call(
            lambda: self.db.get_item(
                TableName=self.table,
                Key={"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}},
                ConsistentRead=True,
            )
        )
        item = response.get("Item")
        return None if item is None else StoredArticle.model_validate(dynamo.from_item(item))

    def save_article(self, article: StoredArticle, previous: StoredArticle | None) -> str:
        """Create the article, or update it if it is the same source's and changed;
        "created", "updated" or "unchanged"."""
        if previous is not None and _same_article(article, previous):
            return "unchanged"
        if not self.dry_run:
            kept = article.model_copy(
                update={"comment_count": previous.comment_count if previous else 0}
            )
            self._call(lambda: save_article(kept, table=self.table, previous=previous, db=self.db))
        return "created" if previous is None else "updated"

    # -- comments ----------------------------------------------------------------------------

    def stored_ids(self, slug: str, ids: Sequence[str]) -> set[str]:
        """Which of these comments of the article are stored (consistent reads)."""
        found: set[str] = set()
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), 100):
            keys = [comment_key(slug, cid) for cid in unique[start : start + 100]]

            def read(keys: list[dynamo.Item] = keys) -> list[dynamo.Item]:
                return dynamo.batch_get(self.db, self.table, keys, attributes=("pk", "sk"))

            items = self._call(read)
            found |= {item["sk"]["S"].removeprefix("COMMENT#") for item in items}
        return found

    def write_comments(
        self,
        slug: str,
        comments: Sequence[StoredComment],
        senders: dict[str, SenderData],
    ) -> Written:
        """Write those of `comments` (parents before replies, `replies` counting every reply
        in `comments`) that are not stored yet, with what they add to the counts."""
        result = Written()
        stored = self.stored_ids(slug, [c.id for c in comments])
        new = [c for c in comments if c.id not in stored]
        result.existing = len(comments) - len(new)
        for chunk in _chunks(new, senders):
            self._write_chunk(slug, chunk, senders, result)
        return result

    def _write_chunk(
        self,
        slug: str,
        chunk: list[StoredComment],
        senders: dict[str, SenderData],
        result: Written,
    ) -> None:
        without_guard: set[str] = set()
        present: set[str] = set()
        missing_answered: set[str] = set()
        for _ in range(MAX_ATTEMPTS):
            todo = [c for c in chunk if c.id not in present]
            if not todo:
                break
            actions, roles = _actions(
                self.table, slug, todo, senders, without_guard, missing_answered
            )
            if self.dry_run:
                result.written += todo
                return
            failed = self._transact(actions, roles)
            if not failed:
                result.written += todo
                result.guards_left_out += len(without_guard)
                return
            kind, _, name = failed.partition(":")
            if kind == "comment":
                present.add(name)  # stored meanwhile (another import): it counts already
                result.existing += 1
            elif kind == "guard":
                without_guard.add(name)  # the same text by the same person, stored before
            elif kind == "reply":
                missing_answered.add(name)  # gone since (deleted): nothing to count on
            else:
                raise ImportWriteError(f"article {slug} is gone: its comments were not written")
        else:
            raise ImportWriteError(f"the comments of {slug} kept failing their conditions")

    def _transact(self, actions: list[TransactWriteItemTypeDef], roles: list[str]) -> str | None:
        """Run the transaction, retrying throttling and conflicts; the role of the first
        failed condition, or None when it was applied."""
        token = str(uuid.uuid4())
        for attempt in range(MAX_ATTEMPTS):
            try:
                self.db.transact_write_items(TransactItems=actions, ClientRequestToken=token)
            except ClientError as exc:
                code = dynamo.error_code(exc)
                if code == "TransactionCanceledException":
                    reasons = [
                        str(reason.get("Code") or "None")
                        for reason in exc.response.get("CancellationReasons", [])
                    ]
                    for role, reason in zip(roles, reasons, strict=False):
                        if reason == "ConditionalCheckFailed":
                            return role
                    if not set(reasons) - {"None"} <= dynamo.CANCELLED_FOR_NOW:
                        raise ImportWriteError(f"a transaction was refused: {reasons}") from exc
                    token = str(uuid.uuid4())  # applied by nobody: a new one
                elif code not in _THROTTLED:
                    raise ImportWriteError(f"a write was refused: {exc}") from exc
            except BotoCoreError:
                pass  # timeouts, connection resets: sent again with the same token
            else:
                self.transactions += 1
                return None
            self._sleep(random.uniform(0, min(20.0, 0.1 * 2**attempt)))  # noqa: S311 - jitter
        raise ImportWriteError(f"still throttled after {MAX_ATTEMPTS} attempts")

    def _call(self, call: Callable[[], Any]) -> Any:
        """A read or single write, retried with backoff while throttled."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                return call()
            except ClientError as exc:
                if dynamo.error_code(exc) not in _THROTTLED:
                    raise
            except Exception as exc:
                from newsroom.errors import ServiceUnavailableError

                if not isinstance(exc, (ServiceUnavailableError, BotoCoreError)):
                    raise
            self._sleep(random.uniform(0, min(20.0, 0.1 * 2**attempt)))  # noqa: S311 - jitter
        raise ImportWriteError(f"still throttled after {MAX_ATTEMPTS} attempts")


def _chunks(
    comments: Sequence[StoredComment], senders: dict[str, SenderData]
) -> list[list[StoredComment]]:
    """The comments in groups that each fit a transaction with their count updates."""
    chunks: list[list[StoredComment]] = []
    chunk: list[StoredComment] = []
    ids: set[str] = set()
    outside: set[str] = set()
    commenters: set[str] = set()
    actions = size = 0
    for comment in comments:
        own = 2 + (comment.id in senders)
        extra_commenter = comment.status == "approved" and comment.commenter not in commenters
        extra_answered = {a for a in answered_ids(comment) if a not in ids} - outside
        needed = own + extra_commenter + len(extra_answered) + (0 if chunk else 1)
        item_size = dynamo.item_bytes(dynamo.to_item(comment_item(comment)))
        if chunk and (actions + needed > MAX_ACTIONS or size + item_size > MAX_TRANSACTION_BYTES):
            chunks.append(chunk)
            chunk, ids, outside, commenters = [], set(), set(), set()
            actions = size = 0
            extra_answered = set(answered_ids(comment))
            extra_commenter = comment.status == "approved"
            needed = own + extra_commenter + len(extra_answered) + 1
        chunk.append(comment)
        ids.add(comment.id)
        outside |= extra_answered
        if comment.status == "approved":
            commenters.add(comment.commenter)
        actions += needed
        size += item_size
    if chunk:
        chunks.append(chunk)
    return chunks


def _actions(
    table: str,
    slug: str,
    chunk: list[StoredComment],
    senders: dict[str, SenderData],
    without_guard: set[str],
    missing_answered: set[str],
) -> tuple[list[TransactWriteItemTypeDef], list[str]]:
    """The transaction writing `chunk` and counting it, with each action's role."""
    ids = {c.id for c in chunk}
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for comment in chunk:
        for answered in answered_ids(comment):
            (inside if answered in ids else outside)[answered] += 1
    actions: list[TransactWriteItemTypeDef] = []
    roles: list[str] = []
    for comment in chunk:
        item = comment_item(comment.model_copy(update={"replies": inside[comment.id]}))
        actions.append(
            {
                "Put": {
                    "TableName": table,
                    "Item": dynamo.to_item(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        roles.append(f"comment:{comment.id}")
        if comment.id not in without_guard:
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": duplicate_guard(comment.duplicate_key, slug, comment.id),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            roles.append(f"guard:{comment.id}")
        if comment.id in senders:
            actions.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": sender_data_item(comment, senders[comment.id]),
                    }
                }
            )
            roles.append("sender")
    approved = [c for c in chunk if c.status == "approved"]
    if approved:
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}},
                    "UpdateExpression": "ADD comment_count :n",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeValues": {":n": {"N": str(len(approved))}},
                }
            }
        )
        roles.append("article")
        for commenter, count in Counter(c.commenter for c in approved).items():
            actions.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": profile_pk(commenter)}, "sk": {"S": PROFILE_SK}},
                        "UpdateExpression": "ADD approved_count :n SET #type = :type",
                        "ExpressionAttributeNames": {"#type": "type"},
                        "ExpressionAttributeValues": {
                            ":n": {"N": str(count)},
                            ":type": {"S": "commenter"},
                        },
                    }
                }
            )
            roles.append("profile")
    for answered, count in outside.items():
        if answered in missing_answered:
            continue
        actions.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": comment_key(slug, answered),
                    "UpdateExpression": "ADD #replies :n",
                    "ConditionExpression": "attribute_exists(pk)",
                    "ExpressionAttributeNames": {"#replies": "replies"},
                    "ExpressionAttributeValues": {":n": {"N": str(count)}},
                }
            }
        )
        roles.append(f"reply:{answered}")
    return actions, roles


__all__ = ["GUARD_SK", "ImportTable", "ImportWriteError", "Written"]
