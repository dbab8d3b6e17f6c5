"""In-memory stand-ins for storage and content checks, for unit tests of logic only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsroom.content_checks import CheckVerdict
from newsroom.models.articles import ArticleSummary, StoredArticle, to_summary
from newsroom.models.comments import (
    AnsweredDuplicate,
    CommentStatus,
    Moderation,
    SenderData,
    StoredComment,
)
from newsroom.models.common import Page

if TYPE_CHECKING:
    from newsroom.data.comments import FloodGuard, OwnComment, SpentToken, SubmissionContext
    from newsroom.moderation import Submission


class FakeArticleReader:
    """Holds articles in a dict and lists them as the table's index would."""

    def __init__(self, *articles: StoredArticle) -> None:
        self.articles = {article.slug: article for article in articles}

    def get(self, slug: str) -> StoredArticle | None:
        return self.articles.get(slug)

    def list_public(
        self, *, now: datetime, limit: int, cursor: str | None, tag: str | None
    ) -> Page[ArticleSummary]:
        public = [
            a for a in self.articles.values() if a.is_public(now) and (tag is None or tag in a.tags)
        ]
        public.sort(key=lambda a: (a.published_at, a.slug), reverse=True)
        start = int(cursor or 0)
        items = [to_summary(a) for a in public[start : start + limit]]
        more = start + limit < len(public)
        return Page[ArticleSummary](items=items, next_cursor=str(start + limit) if more else None)


class FakeCommentStore:
    """Records what the comment logic asks of storage and answers from dicts; the guards'
    rules themselves are the table's (tested against the emulator), so `insert` refuses only
    what a test tells it to."""

    def __init__(self, *articles: StoredArticle) -> None:
        self.articles = {article.slug: article for article in articles}
        self.profiles: dict[str, int] = {}  # commenter key -> approved comments
        self.comments: dict[tuple[str, str], StoredComment] = {}
        self.duplicates: dict[tuple[str, str], AnsweredDuplicate] = {}
        self.inserts: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []
        self.floods: list[dict[str, Any]] = []  # flood guards taken alone
        self.discards: list[dict[str, Any]] = []  # posts discarded, not stored
        self.changes: list[tuple[str, str]] = []
        self.refuse: Exception | None = None  # raised by the next insert or edit

    def load_context(
        self, slug: str, *, commenters: Sequence[str], parent_id: str | None
    ) -> SubmissionContext:
        from newsroom.data.comments import SubmissionContext

        self.asked_for = list(commenters)
        return SubmissionContext(
            article=self.articles.get(slug),
            previously_approved=any(self.profiles.get(c, 0) > 0 for c in commenters),
            parent=self.comments.get((slug, parent_id)) if parent_id else None,
        )

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
        self.inserts.append(
            {
                "sender_data": sender_data,
                "comment": comment,
                "flood_guards": list(flood_guards),
                "flood_interval": flood_interval,
                "earlier_duplicate_keys": list(earlier_duplicate_keys),
                "duplicate_kept_until": duplicate_kept_until,
            }
        )
        if self.refuse is not None:
            refused, self.refuse = self.refuse, None
            raise refused
        self.comments[(comment.slug, comment.id)] = comment

    def load_own(self, slug: str, comment_id: str) -> OwnComment:
        from newsroom.data.comments import OwnComment

        return OwnComment(
            article=self.articles.get(slug),
            comment=self.comments.get((slug, comment_id)),
            duplicate=self.duplicates.get((slug, comment_id)),
        )

    def edit(
        self,
        comment: StoredComment,
        edited: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        earlier_duplicate_keys: Sequence[str] = (),
    ) -> None:
        self.edits.append(
            {
                "comment": comment,
                "edited": edited,
                "flood_guards": list(flood_guards),
                "earlier_duplicate_keys": list(earlier_duplicate_keys),
            }
        )
        if self.refuse is not None:
            refused, self.refuse = self.refuse, None
            raise refused
        self.comments[(comment.slug, comment.id)] = edited

    def discard(
        self,
        comment: StoredComment,
        *,
        flood_guards: Sequence[FloodGuard],
        flood_interval: timedelta,
        kept_until: datetime,
    ) -> None:
        from newsroom.models.comments import AnsweredDuplicate

        self.discards.append(
            {"comment": comment, "flood_guards": list(flood_guards), "kept_until": kept_until}
        )
        self.duplicates[(comment.slug, comment.id)] = AnsweredDuplicate(
            id=comment.id,
            slug=comment.slug,
            author_email=comment.author_email,
            created_at=comment.created_at,
        )

    def take_flood_guards(
        self, at: datetime, *, flood_guards: Sequence[FloodGuard], flood_interval: timedelta
    ) -> None:
        self.floods.append({"at": at, "flood_guards": list(flood_guards)})

    def delete_answered_duplicate(self, duplicate: AnsweredDuplicate) -> None:
        self.duplicates.pop((duplicate.slug, duplicate.id), None)

    def get(self, slug: str, comment_id: str) -> StoredComment | None:
        return self.comments.get((slug, comment_id))

    def list_thread(self, slug: str, *, limit: int, cursor: str | None) -> Page[StoredComment]:
        approved = [
            c for (s, _), c in self.comments.items() if s == slug and c.status == "approved"
        ]
        return Page[StoredComment](items=sorted(approved, key=lambda c: c.path)[:limit])

    def list_by_status(
        self, status: CommentStatus, *, limit: int, cursor: str | None
    ) -> Page[StoredComment]:
        found = [c for c in self.comments.values() if c.status == status]
        return Page[StoredComment](items=found[:limit])

    def change_status(
        self,
        comment: StoredComment,
        status: CommentStatus,
        *,
        moderation: Moderation,
        spend_token: SpentToken | None = None,
    ) -> StoredComment:
        changed = comment.model_copy(update={"status": status, "moderation": moderation})
        self.comments[(comment.slug, comment.id)] = changed
        self.changes.append((comment.id, status))
        return changed

    def delete(self, comment: StoredComment, *, unanswered: bool = False) -> None:
        del self.comments[(comment.slug, comment.id)]


@dataclass(frozen=True)
class DiscardingCheck:
    """A content check that says every comment is to be discarded (as Akismet's discard)."""

    name: str = "blatant"
    timeout_seconds: float = 0.5

    def check(self, submission: Submission) -> CheckVerdict:
        return CheckVerdict.discard("Blatant spam.")
