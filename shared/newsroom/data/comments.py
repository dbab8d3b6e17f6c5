"""Comment items and their guards in the content table.

- comment: ``pk=ARTICLE#<slug>``, ``sk=COMMENT#<id>``; ``gsi3pk=COMMENTS#<status>``,
  ``gsi3sk=<created_at>#<slug>#<id>`` (moderation queues); when approved also
  ``gsi2pk=THREAD#<slug>``, ``gsi2sk=<path>`` (the public, threaded listing). Each index
  carries what its listing shows (template.yaml), never the source text.
- duplicate guard: ``pk=GUARD#DUP#<key>``; flood guards: ``pk=GUARD#FLOOD#<kind>#<hash>``
  with ``expires_at`` (TTL); commenter: ``pk=COMMENTER#<key>`` with ``approved_count``.
- answered duplicate: ``pk=ARTICLE#<slug>``, ``sk=DUPLICATE#<id>``, with ``expires_at`` (TTL):
  a post answered as held and not stored (a duplicate, or one a content check said to
  discard), kept while its edit token works.
- every item holding an address (comments, answered duplicates) carries ``gsi4pk=AUTHOR#<keyed
  hash of the email>``, ``gsi4sk=<created_at>#<slug>#<id>``: the author index (keys only), by
  which an address's export or erasure finds them with a Query.
- sender data: ``pk=ARTICLE#<slug>``, ``sk=SENDER#<id>``, with ``ip_hash``, ``expires_at``
  (TTL) and, when Akismet judged the comment, ``akismet`` (what it was sent): what the
  comment's sender left for moderation, written with the comment and deleted with it, or by
  TTL once its retention ends, without touching the comment.

Accepting a comment is one `BatchGetItem` (article, commenter, parent) and one
`TransactWriteItems` that re-checks the article and parent, takes the guards, writes the
comment, counts it and counts it as a reply of the comments it answers, all or nothing. Its
author's edit or delete is one `BatchGetItem` and one `TransactWriteItems` conditional on the
comment being as read and having no reply, so a reply and an edit (or a delete) cannot both
succeed.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import ClientError

from newsroom import deadline
from newsroom.data import dynamo
from newsroom.data.articles import ARTICLE_SK, article_pk
from newsroom.data.pagination import CursorSigner
from newsroom.deadline import DeadlineExceededError
from newsroom.errors import (
    CommentFloodError,
    CommentNotFoundError,
    CommentsClosedError,
    DuplicateCommentError,
    EditWindowClosedError,
    LinkUsedError,
    ParentCommentNotFoundError,
    ParentNotApprovedError,
    ServiceUnavailableError,
    StatusConflictError,
)
from newsroom.models.articles import ArticleHeading, StoredArticle, StoredCommentState
from newsroom.models.comments import (
    AdminComment,
    AnsweredDuplicate,
    CommentStatus,
    FeedComment,
    Moderation,
    PublicComment,
    SenderData,
    StoredComment,
)
from newsroom.models.common import Page

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

Listed = TypeVar("Listed", PublicComment, AdminComment, FeedComment)
COMMENT_PREFIX = "COMMENT#"
DUPLICATE_PREFIX = "DUPLICATE#"
SENDER_PREFIX = "SENDER#"
AUTHOR_INDEX = "gsi4"
PROFILE_SK = "PROFILE"
GUARD_SK = "GUARD"
_THREAD_INDEX_FREE = frozenset({"pk", "sk", "gsi2sk"})
_STATUS_INDEX_FREE = frozenset({"pk", "sk", "gsi3sk"})
_CONFLICT_ATTEMPTS = 5
# Roles of the counts a status change or a delete lowers (`_transact_keeping_counts`).
_ARTICLE_COUNT = "article_count"
_APPROVED_COUNT = "approved_count"
_REPLY_COUNT = "reply_count"  # of a comment a deleted reply answered
_LOWERED_COUNTS = (_ARTICLE_COUNT, _APPROVED_COUNT, _REPLY_COUNT)
# A comment its author may still change: as read, and no reply stored under it.
_UNANSWERED = "(attribute_not_exists(#replies) OR #replies <= :zero)"
# ... and not erased at its author's request since (its edit token no longer works).
_OWN = f"{_UNANSWERED} AND attribute_not_exists(erased_at)"
# An article accepts comments while it exists, is published (indexed) and is open.
_COMMENT_STATE_ATTRIBUTES = tuple(StoredCommentState.model_fields)
_ARTICLE_OPEN = "attribute_exists(pk) AND attribute_exists(gsi1pk) AND comments_open = :true"


def comment_key(slug: str, comment_id: str) -> dict[str, Any]:
    return {"pk": {"S": article_pk(slug)}, "sk": {"S": COMMENT_PREFIX + comment_id}}


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def profile_pk(commenter: str) -> str:
    """The partition of a commenter's profile (their count of approved comments)."""
    return f"COMMENTER#{commenter}"


def duplicate_pk(duplicate_key: str) -> str:
    return f"GUARD#DUP#{duplicate_key}"


def duplicate_guard(duplicate_key: str, slug: str, comment_id: str) -> dynamo.Item:
    """The duplicate guard item of a comment: its duplicate key, pointing at the comment."""
    return dynamo.to_item(
        {
            "pk": duplicate_pk(duplicate_key),
            "sk": GUARD_SK,
            "type": "duplicate_guard",
            "comment_pk": article_pk(slug),
            "comment_sk": COMMENT_PREFIX + comment_id,
        }
    )


def answered_duplicate_key(slug: str, comment_id: str) -> dict[str, Any]:
    return {"pk": {"S": article_pk(slug)}, "sk": {"S": DUPLICATE_PREFIX + comment_id}}


def sender_data_key(slug: str, comment_id: str) -> dict[str, Any]:
    return {"pk": {"S": article_pk(slug)}, "sk": {"S": SENDER_PREFIX + comment_id}}


def sender_data_item(comment: StoredComment, sender: SenderData) -> dynamo.Item:
    """The sender data item of a comment: in no index, and not a comment to the stream's
    filter (its `type`), so neither its writing nor its expiry reaches the notifications."""
    return sender_data_key(comment.slug, comment.id) | dynamo.to_item(
        {
            "type": "sender_data",
            "comment_id": comment.id,
            "ip_hash": sender.ip_hash,
            "expires_at": int(sender.expires_at.timestamp()),
            "akismet": sender.akismet,
        }
    )


def author_partition(author_key: str) -> str:
    """The author index's partition of an address (its keyed hash, `privacy.email_hash`)."""
    return f"AUTHOR#{author_key}"


def author_index_values(
    author_key: str | None, slug: str, comment_id: str, created_at: datetime
) -> dict[str, str]:
    """The author index's keys of an item holding an address (none without its hash)."""
    if author_key is None:
        return {}
    return {
        "gsi4pk": author_partition(author_key),
        "gsi4sk": f"{dynamo.sort_timestamp(created_at)}#{slug}#{comment_id}",
    }


@dataclass(frozen=True)
class AuthorItems:
    """Everything stored under an address's name: its comments (every status, oldest first) and
    the duplicates answered as held in its name that are still kept."""

    comments: list[StoredComment]
    duplicates: list[AnsweredDuplicate]
    # The sent-email ledger's entries of emails to the address (as plain values, with their
    # key), oldest first.
    emails: list[dict[str, Any]] = field(default_factory=list)


def thread_partition(slug: str) -> str:
    return f"THREAD#{slug}"


def status_partition(status: str) -> str:
    return f"COMMENTS#{status}"


@dataclass(frozen=True)
class SubmissionContext:
    """What deciding on a new comment needs to know, read in one request."""

    article: StoredArticle | None
    previously_approved: bool
    parent: StoredComment | None


@dataclass(frozen=True)
class OwnComment:
    """What its author's edit or delete of a comment needs to know, read in one request: the
    article, and the comment, or the duplicate answered in its place."""

    article: StoredArticle | None
    comment: StoredComment | None
    duplicate: AnsweredDuplicate | None


@dataclass(frozen=True)
class SpentToken:
    """A signed link's one-time id, kept until the link would have expired anyway."""

    jti: str
    expires_at: int  # epoch seconds (TTL)

    def put(self, table: str) -> TransactWriteItemTypeDef:
        """The transaction action that spends the token: refused if it was spent before."""
        return {
            "Put": {
                "TableName": table,
                "Item": dynamo.to_item(
                    {
                        "pk": f"TOKEN#{self.jti}",
                        "sk": GUARD_SK,
                        "type": "spent_token",
                        "expires_at": self.expires_at,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }


@dataclass(frozen=True)
class FloodGuard:
    """One "not again within N seconds" record (per IP, per email)."""

    kind: str
    key: str


def _index_values(comment: StoredComment) -> dict[str, Any]:
    values: dict[str, Any] = {
        "gsi3pk": status_partition(comment.status),
        "gsi3sk": f"{dynamo.sort_timestamp(comment.created_at)}#{comment.slug}#{comment.id}",
    }
    if comment.status == "approved":
        values |= {"gsi2pk": thread_partition(comment.slug), "gsi2sk": comment.path}
    return values


def answered_ids(comment: StoredComment) -> list[str]:
    """The comments a reply counts as a reply of: its parent in the thread and, at the deepest
    level, where it is stored as its sibling, the comment it answers."""
    return list(dict.fromkeys(c for c in (comment.parent_id, comment.in_reply_to) if c))


def comment_item(comment: StoredComment) -> dict[str, Any]:
    """A comment's item as plain values: its keys, its indexes' keys and its fields (what
    `insert` writes; an import writes the same)."""
    return {
        "pk": article_pk(comment.slug),
        "sk": COMMENT_PREFIX + comment.id,
        "type": "comment",
        **comment.model_dump(mode="json"),
        **_index_values(comment),
        **author_index_values(comment.author_key, comment.slug, comment.id, comment.created_at),
    }


def all_comment_items(db: DynamoDBClient, table: str, slug: str) -> list[dict[str, Any]]:
    """Every comment item of an article whatever its status, as plain values: consistent
    Queries over its partition, every page. For reconciling (the load run) and tests; no
    request reads pending or spam comments this way.
    """
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :comment)",
        "ExpressionAttributeValues": {
            ":pk": {"S": article_pk(slug)},
            ":comment": {"S": COMMENT_PREFIX},
        },
        "ConsistentRead": True,
    }
    while True:
        response = db.query(**query)
        items += [dynamo.from_item(item) for item in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return items
        query["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _listed(shape: type[Listed], values: dict[str, Any]) -> Listed:
    """A listing's item from an index entry's values; attributes that were None are not
    stored (`dynamo.to_item`), so they read back as None."""
    return shape.model_validate(dict.fromkeys(shape.model_fields) | values)


# What a comment feed shows of a comment, and of its article (the comments' own index has no
# article; the approved queue's has no title). Never the author's email.
_QUEUE_FEED_ATTRIBUTES = (
    "id",
    "slug",
    "parent_id",
    "depth",
    "author_name",
    "author_url",
    "avatar",
    "body_html",
    "created_at",
    "moderation",
)
_THREAD_FEED_ATTRIBUTES = tuple(
    dict.fromkeys(("sk", *_QUEUE_FEED_ATTRIBUTES, *ArticleHeading.model_fields))
)


def _feed_comment(values: dict[str, Any]) -> FeedComment:
    """A feed's comment from its item's values: last changed when its verdict was given (a
    moderator's approval, an edit), or when it was posted."""
    created_at = datetime.fromisoformat(str(values["created_at"]))
    verdict_at = (values.get("moderation") or {}).get("at")
    updated_at = max(created_at, datetime.fromisoformat(verdict_at)) if verdict_at else created_at
    return _listed(FeedComment, values | {"updated_at": updated_at})


def _stored_comment(item: dict[str, Any]) -> StoredComment:
    return StoredComment.model_validate(dynamo.from_item(item))


def _refuse_post(failed: str | None, flood_interval: timedelta) -> None:
    """The error of a post's transaction that failed on the condition of this role.

    Raises
    ------
    CommentsClosedError, ParentCommentNotFoundError, CommentFloodError, ServiceUnavailableError
    """
    if failed == "article":
        raise CommentsClosedError()  # the caller checked existence just before
    if failed == "parent":
        raise ParentCommentNotFoundError()
    if failed == "flood":
        raise CommentFloodError(math.ceil(flood_interval.total_seconds()))
    if failed is not None:  # an id collision: vanishingly rare, safe to report as busy
        raise ServiceUnavailableError()


class CommentTable(dynamo.TableAccess):
    """Comment reads and writes on one content table; listing cursors are signed and checked
    by `cursors`."""

    def __init__(
        self, table: str, *, cursors: CursorSigner, db: DynamoDBClient | None = None
    ) -> None:
        super().__init__(table, db)
        self.cursors = cursors

    # -- reads -------------------------------------------------------------------------------

    def load_context(
        self, slug: str, *, commenters: Sequence[str], parent_id: str | None
    ) -> SubmissionContext:
        """The article, whether the commenter had a comment approved, and the parent comment.

        `commenters` are the commenter's keys, one per key of the keyring (during a rotation,
        a returning commenter is known by the previous key's). One `BatchGetItem` (repeated
        only for keys DynamoDB leaves unprocessed under load).
        """
        keys = [_key(article_pk(slug), ARTICLE_SK)]
        keys += [_key(profile_pk(c), PROFILE_SK) for c in dict.fromkeys(commenters)]
        if parent_id is not None:
            keys.append(comment_key(slug, parent_id))
        found = {
            (item["pk"]["S"], item["sk"]["S"]): item
            for item in dynamo.batch_get(self.db, self.table, keys)
        }
        article = found.get((article_pk(slug), ARTICLE_SK))
        profiles = [found.get((profile_pk(c), PROFILE_SK)) for c in commenters]
        parent = found.get((article_pk(slug), COMMENT_PREFIX + parent_id)) if parent_id else None
        return SubmissionContext(
            article=None
            if article is None
            else StoredArticle.model_validate(dynamo.from_item(article)),
            previously_approved=any(
                profile and int(profile.get("approved_count", {}).get("N", "0")) > 0
                for profile in profiles
            ),
            parent=None if parent is None else _stored_comment(parent),
        )

    def comment_states(self, slugs: Sequence[str]) -> list[StoredCommentState]:
        """The comment state of each of the (at most 100) articles that exist: one eventually
        consistent `BatchGetItem` of the few attributes it needs."""
        items = dynamo.batch_get(
            self.db,
            self.table,
            [_key(article_pk(slug), ARTICLE_SK) for slug in dict.fromkeys(slugs)],
            consistent=False,
            attributes=_COMMENT_STATE_ATTRIBUTES,
        )
        return [StoredCommentState.model_validate(dynamo.from_item(item)) for item in items]

    def get(self, slug: str, comment_id: str) -> StoredComment | None:
        with dynamo.unavailable_as_domain_error():
            response = self.db.get_item(
                TableName=self.table, Key=comment_key(slug, comment_id), ConsistentRead=True
            )
        item = response.get("Item")
        return None if item is None else _stored_comment(dict(item))

    def load_own(self, slug: str, comment_id: str) -> OwnComment:
        """The article, and the comment or the duplicate answered in its place: one consistent
        `BatchGetItem`."""
        article_key = _key(article_pk(slug), ARTICLE_SK)
        keys = [
            article_key,
            comment_key(slug, comment_id),
            answered_duplicate_key(slug, comment_id),
        ]
        found = {item["sk"]["S"]: item for item in dynamo.batch_get(self.db, self.table, keys)}
        article = found.get(ARTICLE_SK)
        comment = found.get(COMMENT_PREFIX + comment_id)
        duplicate = found.get(DUPLICATE_PREFIX + comment_id)
        return OwnComment(
            article=None
            if article is None
            else StoredArticle.model_validate(dynamo.from_item(article)),
            comment=None if comment is None else _stored_comment(comment),
            duplicate=None
            if duplicate is None
            else AnsweredDuplicate.model_validate(dynamo.from_item(duplicate)),
        )

    def author_items(self, author_keys: Sequence[str]) -> AuthorItems:
        """Every comment, answered duplicate and sent-email ledger entry stored with an
        address, whatever its status or article, from its keyed hashes (one per key of the
        keyring, since a rotation leaves older items under the previous key until `newsroom
        secret rekey` moves them).

        A Query of the author index per hash, page after page (it stops at every 1 MB), then
        the items themselves, as they are now, by consistent `BatchGetItem`s of 100 keys: the
        index only has their keys, and lags the table a little (an item written a moment ago
        may be missing; one gone since is left out).
        """
        keys: dict[tuple[str, str], dynamo.Item] = {}
        for author_key in dict.fromkeys(author_keys):
            query = {
                "TableName": self.table,
                "IndexName": AUTHOR_INDEX,
                "KeyConditionExpression": "gsi4pk = :p",
                "ExpressionAttributeValues": {":p": {"S": author_partition(author_key)}},
            }
            for entry in dynamo.query_all(self.db, query):
                keys[(entry["pk"]["S"], entry["sk"]["S"])] = {"pk": entry["pk"], "sk": entry["sk"]}
        wanted = list(keys.values())
        found: list[dynamo.Item] = []
        for start in range(0, len(wanted), 100):
            found += dynamo.batch_get(self.db, self.table, wanted[start : start + 100])
        comments = [
            _stored_comment(item) for item in found if item["sk"]["S"].startswith(COMMENT_PREFIX)
        ]
        duplicates = [
            AnsweredDuplicate.model_validate(dynamo.from_item(item))
            for item in found
            if item["sk"]["S"].startswith(DUPLICATE_PREFIX)
        ]
        emails = [dynamo.from_item(item) for item in found if item["pk"]["S"].startswith("SENT#")]
        return AuthorItems(
            comments=sorted(comments, key=lambda c: (c.created_at, c.slug, c.id)),
            duplicates=sorted(duplicates, key=lambda d: (d.created_at, d.slug, d.id)),
            emails=sorted(emails, key=lambda e: str(e.get("gsi4sk", ""))),
        )

    def list_thread(self, slug: str, *, limit: int, cursor: str | None) -> Page[PublicComment]:
        """Approved comments of an article in thread order (each reply after its parent,
        siblings oldest first), as readers see them: what the thread index carries. One Query
        per page, unless its comments add up past 1 MB."""
        items, next_cursor = self._page(
            index="gsi2",
            partition_attribute="gsi2pk",
            partition=thread_partition(slug),
            free=_THREAD_INDEX_FREE,
            limit=limit,
            cursor=cursor,
        )
        return Page[PublicComment](
            items=[_listed(PublicComment, item) for item in items], next_cursor=next_cursor
        )

    def list_by_status(
        self, status: CommentStatus, *, limit: int, cursor: str | None
    ) -> Page[AdminComment]:
        """Comments of every article with one status, oldest first (a moderation queue), as
        moderators see them: what the queue index carries."""
        items, next_cursor = self._page(
            index="gsi3",
            partition_attribute="gsi3pk",
            partition=status_partition(status),
            free=_STATUS_INDEX_FREE,
            limit=limit,
            cursor=cursor,
        )
        return Page[AdminComment](
            items=[_listed(AdminComment, item) for item in items], next_cursor=next_cursor
        )

    def thread_feed(
        self, slug: str, *, limit: int
    ) -> tuple[ArticleHeading | None, list[FeedComment]]:
        """The article (None when there is none) and its `limit` newest approved comments,
        newest first, for its comment feed.

        One Query of the article's partition, newest comment first and the article item last
        (comment ids sort by time, and "ARTICLE" before "COMMENT#"), keeping the article and the
        comments in the thread index: the thread index alone cannot tell an article without
        comments from none. It reads the article's other comments too (held, spam, trash) but
        returns only those attributes a feed shows. Past 1 MB read, it goes on until it has
        reached the article or holds `limit` comments; then, short of the article, one GetItem
        reads it.
        """
        names = {f"#f{i}": name for i, name in enumerate(_THREAD_FEED_ATTRIBUTES)}
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :article AND :comments_end",
            "FilterExpression": "sk = :article OR attribute_exists(gsi2pk)",
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                ":pk": {"S": article_pk(slug)},
                ":article": {"S": ARTICLE_SK},
                # '$' sorts right after '#': every COMMENT#<id>, and no other kind of item.
                ":comments_end": {"S": COMMENT_PREFIX.rstrip("#") + "$"},
            },
            "ScanIndexForward": False,
        }
        article: ArticleHeading | None = None
        comments: list[FeedComment] = []
        while True:
            with dynamo.unavailable_as_domain_error():
                response = self.db.query(**request)
            for item in response.get("Items", []):
                values = dynamo.from_item(item)
                if values["sk"] == ARTICLE_SK:
                    article = ArticleHeading.model_validate(values)
                else:
                    comments.append(_feed_comment(values))
            if article is not None or "LastEvaluatedKey" not in response:
                break
            if len(comments) >= limit:
                article = self._heading(slug)
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        comments.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return article, comments[:limit]

    def _heading(self, slug: str) -> ArticleHeading | None:
        names = {f"#f{i}": name for i, name in enumerate(ArticleHeading.model_fields)}
        with dynamo.unavailable_as_domain_error():
            response = self.db.get_item(
                TableName=self.table,
                Key=_key(article_pk(slug), ARTICLE_SK),
                ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names,
            )
        item = response.get("Item")
        return None if item is None else ArticleHeading.model_validate(dynamo.from_item(item))

    def latest_approved(self, *, limit: int) -> list[FeedComment]:
        """The `limit` newest approved comments of every article, newest first: one Query of
        the approved queue's partition (unless its entries add up past 1 MB), descending, of the
        attributes a feed shows (the queue's index also carries the author's email: never read
        here)."""
        names = {f"#f{i}": name for i, name in enumerate(_QUEUE_FEED_ATTRIBUTES)}
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": "gsi3",
            "KeyConditionExpression": "gsi3pk = :p",
            "ProjectionExpression": ", ".join(names),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":p": {"S": status_partition("approved")}},
            "ScanIndexForward": False,
        }
        page, _ = dynamo.query_page(self.db, query, limit=limit)
        return [_feed_comment(dynamo.from_item(item)) for item in page]

    def _page(
        self,
        *,
        index: str,
        partition_attribute: str,
        partition: str,
        free: frozenset[str],
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of an index partition, oldest first, as plain values, and the cursor of
        the next page (None on the last)."""
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": f"{partition_attribute} = :p",
            "ExpressionAttributeValues": {":p": {"S": partition}},
        }
        if cursor is not None:
            start = self.cursors.decode(cursor, fixed={partition_attribute: partition}, free=free)
            query["ExclusiveStartKey"] = {k: {"S": v} for k, v in start.items()}
        page, more = dynamo.query_page(self.db, query, limit=limit)
        next_cursor = None
        if more:
            last = page[-1]
            names = (*free, partition_attribute)
            next_cursor = self.cursors.encode({name: last[name]["S"] for name in names})
        return [dynamo.from_item(item) for item in page], next_cursor

    # -- writes ------------------------------------------------------------------------------

    def insert(
        self,
        comment: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        earlier_duplicate_keys: Sequence[str] = (),
        duplicate_kept_until: datetime | None = None,
        sender_data: SenderData | None = None,
    ) -> None:
        """Write a new comment with its guards (and its `sender_data`, an item of its own), in
        one transaction; a reply counts as a reply of the comments it answers (`answered_ids`),
        which must still be approved.

        `flood_guards` are taken (each the current key's hash; a guard whose kind repeats is
        a previous key's, only checked); `earlier_duplicate_keys` are the duplicate keys the
        previous keys give, only checked. A duplicate still takes the flood guards, so that
        what follows a duplicate is what follows any comment (no answer tells them apart), and
        with `duplicate_kept_until` is kept as an `AnsweredDuplicate` until then (TTL).

        Raises
        ------
        CommentsClosedError
            The article was unpublished or closed since it was read.
        ParentCommentNotFoundError
            The parent is no longer approved.
        CommentFloodError
            A flood guard is taken (checked before duplicates).
        DuplicateCommentError
            The same comment was stored before.
        """
        actions: list[TransactWriteItemTypeDef] = []
        roles: list[str] = []
        article_key = _key(article_pk(comment.slug), ARTICLE_SK)
        if comment.status == "approved":
            actions.append(self._count(article_key, +1, condition=_ARTICLE_OPEN))
        else:
            actions.append(self._article_open(article_key))
        roles.append("article")
        for answered in answered_ids(comment):
            actions.append(self._count_reply(comment.slug, answered))
            roles.append("parent")
        floods = self._flood_actions(comment.created_at, flood_guards, flood_interval)
        actions += floods
        roles += ["flood"] * len(floods)
        for key in dict.fromkeys((comment.duplicate_key, *earlier_duplicate_keys)):
            if key == comment.duplicate_key:
                actions.append(
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": duplicate_guard(key, comment.slug, comment.id),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                )
            else:
                actions.append(self._absent(_key(duplicate_pk(key), GUARD_SK)))
            roles.append("duplicate")
        actions.append(
            {
                "Put": {
                    "TableName": self.table,
                    "Item": dynamo.to_item(comment_item(comment)),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        roles.append("comment")
        if sender_data is not None:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": sender_data_item(comment, sender_data),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            roles.append("comment")
        if comment.status == "approved":
            actions.append(self._profile(comment.commenter, +1))
            roles.append("profile")
        failed = self._transact(actions, roles)
        if failed == "duplicate":
            # Nothing was written; take the flood guards as a stored comment would have.
            echo = []
            if duplicate_kept_until is not None:
                echo.append(self._answered_duplicate(comment, duplicate_kept_until))
            failed = self._transact(
                [*floods, *echo], ["flood"] * len(floods) + ["comment"] * len(echo)
            )
            if failed is None:
                raise DuplicateCommentError()
        _refuse_post(failed, flood_interval)

    def discard(
        self,
        comment: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        kept_until: datetime,
    ) -> None:
        """Store nothing of a new comment a content check said to discard but what its edit
        token needs to work as a held comment's (an `AnsweredDuplicate`, kept until
        `kept_until`), in one transaction that checks the article and the comments it answers
        and takes the flood guards as its `insert` would have: no comment, sender data, count
        or duplicate guard is written, so nothing reaches the notifications.

        Raises
        ------
        CommentsClosedError, ParentCommentNotFoundError, CommentFloodError
            As `insert`.
        """
        actions = [self._article_open(_key(article_pk(comment.slug), ARTICLE_SK))]
        roles = ["article"]
        for answered in answered_ids(comment):
            actions.append(self._parent_approved(comment.slug, answered))
            roles.append("parent")
        floods = self._flood_actions(comment.created_at, flood_guards, flood_interval)
        actions += floods
        roles += ["flood"] * len(floods)
        actions.append(self._answered_duplicate(comment, kept_until))
        roles.append("comment")
        _refuse_post(self._transact(actions, roles), flood_interval)

    def _article_open(self, article_key: dict[str, Any]) -> TransactWriteItemTypeDef:
        """The check that an article still takes comments (`_ARTICLE_OPEN`)."""
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": article_key,
                "ConditionExpression": _ARTICLE_OPEN,
                "ExpressionAttributeValues": {":true": {"BOOL": True}},
            }
        }

    def _answered_duplicate(
        self, comment: StoredComment, until: datetime
    ) -> TransactWriteItemTypeDef:
        duplicate = AnsweredDuplicate(
            id=comment.id,
            slug=comment.slug,
            author_email=comment.author_email,
            created_at=comment.created_at,
        )
        return {
            "Put": {
                "TableName": self.table,
                "Item": answered_duplicate_key(comment.slug, comment.id)
                | dynamo.to_item(
                    {
                        "type": "answered_duplicate",
                        **duplicate.model_dump(mode="json"),
                        **author_index_values(
                            comment.author_key, comment.slug, comment.id, comment.created_at
                        ),
                        "expires_at": int(until.timestamp()),
                    }
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _flood_actions(
        self, at: datetime, guards: Sequence[FloodGuard], interval: timedelta
    ) -> list[TransactWriteItemTypeDef]:
        """Take each kind's first guard (its last comment or edit at `at`); check the others
        (previous keys' hashes of the same IP or email) are not within the interval."""
        now_ms = int(at.timestamp() * 1000)
        cutoff_ms = now_ms - int(interval.total_seconds() * 1000)
        condition = "attribute_not_exists(pk) OR last_at_ms <= :cutoff"
        actions: list[TransactWriteItemTypeDef] = []
        taken: set[str] = set()
        for guard in guards:
            key = _key(f"GUARD#FLOOD#{guard.kind}#{guard.key}", GUARD_SK)
            if guard.kind in taken:
                actions.append(
                    {
                        "ConditionCheck": {
                            "TableName": self.table,
                            "Key": key,
                            "ConditionExpression": condition,
                            "ExpressionAttributeValues": {":cutoff": {"N": str(cutoff_ms)}},
                        }
                    }
                )
                continue
            taken.add(guard.kind)
            actions.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": key,
                        "UpdateExpression": "SET last_at_ms = :now, expires_at = :expires, "
                        "#type = :type",
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": {"#type": "type"},
                        "ExpressionAttributeValues": dynamo.to_item(
                            {
                                ":now": now_ms,
                                ":cutoff": cutoff_ms,
                                ":expires": int((at + 2 * interval).timestamp()) + 60,
                                ":type": "flood_guard",
                            }
                        ),
                    }
                }
            )
        return actions

    def _absent(self, key: dict[str, Any]) -> TransactWriteItemTypeDef:
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": key,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def change_status(
        self,
        comment: StoredComment,
        status: CommentStatus,
        *,
        moderation: Moderation,
        spend_token: SpentToken | None = None,
    ) -> StoredComment:
        """Move a comment from the status it was read with to `status`, keeping the article's
        count and the commenter's approval record right. Conditional on the status read, so
        two moderators (or a link clicked twice) cannot both apply.

        `spend_token` records a signed link's one-time id in the same transaction, so a link
        acts once at most.

        Raises
        ------
        StatusConflictError
            When the comment's status changed since it was read, or it was deleted.
        LinkUsedError
            When the link's token was spent already.
        ParentNotApprovedError
            When approving a reply whose parent is not approved (any more).
        """
        changed = comment.model_copy(update={"status": status, "moderation": moderation})
        values = _index_values(changed)
        sets = {"#status": status, "moderation": moderation.model_dump(mode="json"), **values}
        names = {"#status": "status", "#revision": "revision"}
        placeholders: dict[str, Any] = {":old": comment.status, ":revision": comment.revision}
        assignments = []
        for i, (name, value) in enumerate(sets.items()):
            attribute = name if name.startswith("#") else f"#s{i}"
            if not name.startswith("#"):
                names[attribute] = name
            placeholders[f":s{i}"] = value
            assignments.append(f"{attribute} = :s{i}")
        expression = "SET " + ", ".join(assignments)
        if "gsi2pk" not in values:
            expression += " REMOVE gsi2pk, gsi2sk"
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": comment_key(comment.slug, comment.id),
                    "UpdateExpression": expression,
                    # Nor edited since it was read: a moderator acts on the text they saw.
                    "ConditionExpression": "#status = :old AND (attribute_not_exists(#revision) "
                    "OR #revision = :revision)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": dynamo.to_item(placeholders),
                }
            }
        ]
        roles = ["comment"]
        if spend_token is not None:
            actions.append(spend_token.put(self.table))
            roles.append("token")
        if status == "approved" and comment.parent_id is not None:
            # Published replies hang under a published parent: it must still be approved.
            actions.append(self._parent_approved(comment.slug, comment.parent_id))
            roles.append("parent")
        failed = self._transact_keeping_counts(
            actions, roles, self._approval_effects(comment, was=comment.status, becomes=status)
        )
        if failed == "token":
            raise LinkUsedError()
        if failed == "parent" and comment.parent_id is not None:
            raise ParentNotApprovedError(comment.parent_id)
        if failed is not None:
            raise StatusConflictError()
        return changed

    def _parent_approved(self, slug: str, parent_id: str) -> TransactWriteItemTypeDef:
        return {
            "ConditionCheck": {
                "TableName": self.table,
                "Key": comment_key(slug, parent_id),
                "ConditionExpression": "#status = :approved",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {":approved": {"S": "approved"}},
            }
        }

    def _count_reply(self, slug: str, answered_id: str) -> TransactWriteItemTypeDef:
        """One reply more under an approved comment (refused if it is not approved, or gone)."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": comment_key(slug, answered_id),
                "UpdateExpression": "ADD #replies :one",
                "ConditionExpression": "#status = :approved",
                "ExpressionAttributeNames": {"#status": "status", "#replies": "replies"},
                "ExpressionAttributeValues": {
                    ":approved": {"S": "approved"},
                    ":one": {"N": "1"},
                },
            }
        }

    def _lower_reply_count(self, slug: str, answered_id: str) -> TransactWriteItemTypeDef:
        """One reply fewer under a comment that is still stored, never below zero."""
        return {
            "Update": {
                "TableName": self.table,
                "Key": comment_key(slug, answered_id),
                "UpdateExpression": "ADD #replies :minus_one",
                "ConditionExpression": "attribute_exists(pk) AND #replies > :zero",
                "ExpressionAttributeNames": {"#replies": "replies"},
                "ExpressionAttributeValues": {":minus_one": {"N": "-1"}, ":zero": {"N": "0"}},
            }
        }

    def edit(
        self,
        comment: StoredComment,
        edited: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        earlier_duplicate_keys: Sequence[str] = (),
    ) -> None:
        """Replace a comment as read (`comment`) by its author's edit of it (`edited`: its new
        text, judgement, status and revision), with the new text's duplicate guard and the
        edit's flood guards, keeping the counts right, in one transaction.

        Conditional on the comment being as read (status and revision) and having no reply:
        a reply stored meanwhile, which counts itself on this comment in its own transaction,
        makes this one fail (and the other way round), whatever order DynamoDB applies them in.

        Raises
        ------
        CommentFloodError
            A flood guard is taken (checked before duplicates).
        DuplicateCommentError
            Its author stored the new text on this article before (nothing is written but the
            flood guards).
        EditWindowClosedError
            A reply was stored since it was read.
        CommentNotFoundError
            It was deleted since it was read.
        StatusConflictError
            It changed otherwise since it was read (a moderator, another edit).
        """
        sets: dict[str, Any] = {
            "body_markdown": edited.body_markdown,
            "body_html": edited.body_html,
            "status": edited.status,
            "moderation": edited.moderation.model_dump(mode="json"),
            "revision": edited.revision,
            "edited_at": edited.model_dump(mode="json")["edited_at"],
            "duplicate_key": edited.duplicate_key,
            **_index_values(edited),
        }
        names = {f"#s{i}": name for i, name in enumerate(sets)}
        values: dict[str, Any] = {f":s{i}": value for i, value in enumerate(sets.values())}
        expression = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets)))
        if "gsi2pk" not in sets:
            names |= {"#gsi2pk": "gsi2pk", "#gsi2sk": "gsi2sk"}
            expression += " REMOVE #gsi2pk, #gsi2sk"
        names |= {"#status": "status", "#revision": "revision", "#replies": "replies"}
        values |= {":old": comment.status, ":revision": comment.revision, ":zero": 0}
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self.table,
                    "Key": comment_key(comment.slug, comment.id),
                    "UpdateExpression": expression,
                    "ConditionExpression": "#status = :old AND (attribute_not_exists(#revision) "
                    f"OR #revision = :revision) AND {_OWN}",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": dynamo.to_item(values),
                }
            }
        ]
        roles = ["comment"]
        floods = self._flood_actions(
            edited.edited_at or edited.created_at, flood_guards, flood_interval
        )
        actions += floods
        roles += ["flood"] * len(floods)
        own, new = comment.duplicate_key, edited.duplicate_key
        if new != own:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": duplicate_guard(new, comment.slug, comment.id),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
            actions.append(
                {"Delete": {"TableName": self.table, "Key": _key(duplicate_pk(own), GUARD_SK)}}
            )
            roles += ["duplicate", "guard"]
        # A previous key's guard that is this comment's own (posted before a rotation) is
        # deleted above, not checked: one action per item in a transaction.
        for key in dict.fromkeys(earlier_duplicate_keys):
            if key not in (own, new):
                actions.append(self._absent(_key(duplicate_pk(key), GUARD_SK)))
                roles.append("duplicate")
        failed = self._transact_keeping_counts(
            actions,
            roles,
            self._approval_effects(comment, was=comment.status, becomes=edited.status),
        )
        if failed == "duplicate":
            # Nothing was written; take the flood guards as a stored edit would have.
            failed = self._transact(floods, ["flood"] * len(floods)) if floods else None
            if failed is None:
                raise DuplicateCommentError()
        if failed == "flood":
            raise CommentFloodError(math.ceil(flood_interval.total_seconds()))
        if failed is not None:
            self._why_changed(comment)

    def _why_changed(self, comment: StoredComment) -> None:
        """Raise what made a write conditional on `comment` as read fail, as it is now."""
        now = self.get(comment.slug, comment.id)
        if now is None:
            raise CommentNotFoundError(comment.id)
        if now.replies > 0:
            raise EditWindowClosedError(replied=True)
        raise StatusConflictError()

    def delete(self, comment: StoredComment, *, unanswered: bool = False) -> None:
        """Delete a comment for good, with its duplicate guard and its share of the counts
        (and, for a reply, of the reply counts of the comments it answers, those still stored).

        With `unanswered` (its author deleting it), only while no reply is stored under it: a
        reply stored meanwhile makes this fail, and the other way round.

        Raises
        ------
        StatusConflictError
            When the comment's status changed since it was read, or it is already gone
            (`unanswered`: when it changed otherwise).
        EditWindowClosedError
            `unanswered`, and a reply was stored since it was read.
        CommentNotFoundError
            `unanswered`, and it was deleted since it was read.
        """
        names = {"#status": "status"}
        values: dict[str, Any] = {":old": {"S": comment.status}}
        condition = "#status = :old"
        if unanswered:
            names["#replies"] = "replies"
            values[":zero"] = {"N": "0"}
            condition += f" AND {_OWN}"
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": comment_key(comment.slug, comment.id),
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": values,
                }
            },
            {
                "Delete": {
                    "TableName": self.table,
                    "Key": _key(duplicate_pk(comment.duplicate_key), GUARD_SK),
                }
            },
            {"Delete": {"TableName": self.table, "Key": sender_data_key(comment.slug, comment.id)}},
        ]
        counts = self._approval_effects(comment, was=comment.status, becomes="trash")

        def effects(at_zero: frozenset[str]) -> list[tuple[str, TransactWriteItemTypeDef]]:
            lowered = [
                (f"{_REPLY_COUNT}:{answered}", self._lower_reply_count(comment.slug, answered))
                for answered in answered_ids(comment)
                if f"{_REPLY_COUNT}:{answered}" not in at_zero
            ]
            return counts(at_zero) + lowered

        if self._transact_keeping_counts(actions, ["comment", "effect", "effect"], effects):
            if unanswered:
                self._why_changed(comment)
            raise StatusConflictError()

    def delete_answered_duplicate(self, duplicate: AnsweredDuplicate) -> None:
        """Forget a duplicate answered as held (its author deleted "it"); gone already is done."""
        with dynamo.unavailable_as_domain_error():
            self.db.delete_item(
                TableName=self.table, Key=answered_duplicate_key(duplicate.slug, duplicate.id)
            )

    def take_flood_guards(
        self, at: datetime, *, flood_guards: Sequence[FloodGuard], flood_interval: timedelta
    ) -> None:
        """Take the flood guards alone (an edit of a duplicate answered as held).

        Raises
        ------
        CommentFloodError
        """
        floods = self._flood_actions(at, flood_guards, flood_interval)
        if floods and self._transact(floods, ["flood"] * len(floods)) is not None:
            raise CommentFloodError(math.ceil(flood_interval.total_seconds()))

    def _approval_effects(
        self, comment: StoredComment, *, was: CommentStatus, becomes: CommentStatus
    ) -> Callable[[frozenset[str]], list[tuple[str, TransactWriteItemTypeDef]]]:
        """The count updates when a comment enters or leaves the approved state, with their
        roles, given which lowered counts to set to zero instead (`_transact_keeping_counts`).
        """
        article_key = _key(article_pk(comment.slug), ARTICLE_SK)

        def effects(at_zero: frozenset[str]) -> list[tuple[str, TransactWriteItemTypeDef]]:
            if (was == "approved") == (becomes == "approved"):
                return []
            # An erased comment counts for no commenter any more (its commenter key is gone).
            counted = bool(comment.commenter)
            if becomes == "approved":
                raised = [
                    ("effect", self._count(article_key, +1, condition="attribute_exists(pk)"))
                ]
                if counted:
                    raised.append(("effect", self._profile(comment.commenter, +1)))
                return raised
            lowered = [
                (_ARTICLE_COUNT, self._lower_comment_count(article_key, _ARTICLE_COUNT in at_zero))
            ]
            if counted:
                lowered.append(
                    (
                        _APPROVED_COUNT,
                        self._lower_approved_count(comment.commenter, _APPROVED_COUNT in at_zero),
                    )
                )
            return lowered

        return effects

    def _transact_keeping_counts(
        self,
        actions: list[TransactWriteItemTypeDef],
        roles: list[str],
        effects: Callable[[frozenset[str]], list[tuple[str, TransactWriteItemTypeDef]]],
    ) -> str | None:
        """`_transact` the actions with their count updates; the role of the first failed
        condition, or None.

        A count is lowered only while above zero. One found at zero or below (it drifted, as
        when an article is deleted and imported again while its approved comments stay) fails
        its condition; the transaction is then run again with that count set to zero instead,
        conditional on it still being at zero or below (`effects` is told which, by role). A
        reply count (role ``reply_count:<id>``) whose comment is gone, or was counted before
        replies were, is left out instead.
        """
        at_zero: frozenset[str] = frozenset()
        while True:
            updates = effects(at_zero)
            failed = self._transact(
                [*actions, *(action for _, action in updates)],
                [*roles, *(role for role, _ in updates)],
            )
            if failed is None or failed.split(":")[0] not in _LOWERED_COUNTS:
                return failed
            if failed in at_zero:
                return failed
            at_zero |= {failed}

    def _lower_comment_count(
        self, article_key: dict[str, Any], to_zero: bool
    ) -> TransactWriteItemTypeDef:
        """One approved comment fewer on an existing article, never below zero."""
        if to_zero:
            update, condition = "SET comment_count = :zero", "NOT comment_count > :zero"
        else:
            update, condition = "ADD comment_count :minus_one", "comment_count > :zero"
        values = {":zero": {"N": "0"}} | ({} if to_zero else {":minus_one": {"N": "-1"}})
        return {
            "Update": {
                "TableName": self.table,
                "Key": article_key,
                "UpdateExpression": update,
                "ConditionExpression": f"attribute_exists(pk) AND {condition}",
                "ExpressionAttributeValues": values,
            }
        }

    def _lower_approved_count(self, commenter: str, to_zero: bool) -> TransactWriteItemTypeDef:
        """One approved comment fewer for a commenter, never below zero."""
        if to_zero:
            update = "SET approved_count = :zero, #type = :type"
            condition = "NOT approved_count > :zero"
        else:
            update = "ADD approved_count :minus_one SET #type = :type"
            condition = "approved_count > :zero"
        values = {":zero": {"N": "0"}, ":type": {"S": "commenter"}}
        if not to_zero:
            values[":minus_one"] = {"N": "-1"}
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(profile_pk(commenter), PROFILE_SK),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {"#type": "type"},
                "ExpressionAttributeValues": values,
            }
        }

    def _count(
        self, key: dict[str, Any], delta: int, *, condition: str
    ) -> TransactWriteItemTypeDef:
        values: dict[str, Any] = {":delta": {"N": str(delta)}}
        if ":true" in condition:
            values[":true"] = {"BOOL": True}
        return {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": "ADD comment_count :delta",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
            }
        }

    def _profile(self, commenter: str, delta: int) -> TransactWriteItemTypeDef:
        return {
            "Update": {
                "TableName": self.table,
                "Key": _key(profile_pk(commenter), PROFILE_SK),
                "UpdateExpression": "ADD approved_count :delta SET #type = :type",
                "ExpressionAttributeNames": {"#type": "type"},
                "ExpressionAttributeValues": {
                    ":delta": {"N": str(delta)},
                    ":type": {"S": "commenter"},
                },
            }
        }

    def _transact(self, actions: list[TransactWriteItemTypeDef], roles: list[str]) -> str | None:
        """Run the transaction; the role of the first failed condition, or None on success.

        Every call of one transaction carries the same client token, so DynamoDB applies it
        at most once however often it is sent (and answers a repeat of an applied one, within
        10 minutes, with success). botocore resends an attempt whose answer was lost; when
        botocore gives up (timeouts, AWS-side errors), the transaction may have been applied
        all the same, so it is sent once more with that token, if the invocation has time left
        (`newsroom.deadline`): a comment that was stored is then answered as stored, not 503,
        and never met by its own guards. Only then is it 503.

        A transaction cancelled for its moment rather than its content (`dynamo.CANCELLED_FOR_NOW`:
        another transaction on one of its items, such as the article's counter, or an item
        over capacity) was applied by nobody: it is tried again with a new token and jittered
        backoff, then reported as 503 (botocore does not retry a cancellation). Any other
        reason (`ValidationError`, ...) is a bug of ours and is raised as it is.
        """
        token = str(uuid.uuid4())
        sent_again = False
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                with dynamo.unavailable_as_domain_error():
                    self.db.transact_write_items(TransactItems=actions, ClientRequestToken=token)
            except ServiceUnavailableError as exc:
                if sent_again or isinstance(exc.__cause__, DeadlineExceededError):
                    raise
                sent_again = True
            except ClientError as exc:
                if dynamo.error_code(exc) != "TransactionCanceledException":
                    raise
                codes = [
                    str(reason.get("Code") or "None")
                    for reason in exc.response.get("CancellationReasons", [])
                ]
                for role, code in zip(roles, codes, strict=False):
                    if code == "ConditionalCheckFailed":
                        return role
                if not set(codes) - {"None"} <= dynamo.CANCELLED_FOR_NOW:
                    raise
                pause = random.uniform(0, 0.05 * 2**attempt)  # noqa: S311 - jitter
                if not deadline.allows(pause):
                    raise ServiceUnavailableError() from exc
                time.sleep(pause)
                token = str(uuid.uuid4())
            else:
                return None
        raise ServiceUnavailableError()
