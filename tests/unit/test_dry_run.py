"""The moderation dry run: its reading of the table (every page of the Scan), and what it
leaves unjudged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from newsroom.data import dynamo
from newsroom.models.comments import StoredComment
from newsroom.moderation import ModerationPolicy
from newsroom_tools.dry_run import dry_run, stored_comments
from tests.unit.fakes import DiscardingCheck


def comment_item(comment_id: str) -> dict[str, Any]:
    return dynamo.to_item(
        {
            "type": "comment",
            "id": comment_id,
            "slug": "an-article",
            "depth": 1,
            "path": comment_id,
            "author_name": "Ann",
            "author_email": "ann@example.org",
            "body_markdown": "Hi",
            "body_html": "<p>Hi</p>",
            "created_at": "2026-11-28T15:04:05.000000Z",
            "status": "approved",
            "moderation": {"rule": "auto_approved", "explanation": "x"},
            "avatar": "a",
            "commenter": "c",
            "duplicate_key": "d",
        }
    )


class PagedScan:
    """A DynamoDB client whose Scan answers in pages, as it does past 1 MB."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.calls: list[dict[str, Any]] = []

    def scan(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        index = len(self.calls) - 1
        answer: dict[str, Any] = {"Items": self.pages[index]}
        if index + 1 < len(self.pages):
            answer["LastEvaluatedKey"] = {"pk": {"S": f"page-{index}"}}
        return answer


def test_dry_run_reads_every_page_of_the_scan_from_where_the_last_one_ended() -> None:
    db = PagedScan(
        [
            [comment_item("c0193a4c2d8e1f2a3b4c1")],
            [],
            [comment_item("c0193a4c2d8e1f2a3b4c2"), comment_item("c0193a4c2d8e1f2a3b4c3")],
        ]
    )

    ids = [c.id for c in stored_comments(db, "table")]  # type: ignore[arg-type]

    assert [i[-2:] for i in ids] == ["c1", "c2", "c3"]
    assert [call.get("ExclusiveStartKey") for call in db.calls] == [
        None,
        {"pk": {"S": "page-0"}},
        {"pk": {"S": "page-1"}},
    ]


def test_a_comment_held_for_being_posted_too_soon_is_not_judged_again() -> None:
    # Given two held comments of a policy that held them: one posted too soon after its form
    # was loaded (a time that is not stored), one by the first-comment rule
    def held(comment_id: str, rule: str) -> StoredComment:
        item = dynamo.from_item(comment_item(comment_id))
        item |= {"status": "pending", "moderation": {"rule": rule, "explanation": "x"}}
        return StoredComment.model_validate(item)

    too_soon = held("c0193a4c2d8e1f2a3b4c1", "posted_too_soon")
    first = held("c0193a4c2d8e1f2a3b4c2", "first_comment")

    # When a policy approving every comment is tried on them
    result = dry_run(
        [too_soon, first],
        ModerationPolicy(require_previous_approval=False),
        since=datetime(2026, 1, 1, tzinfo=UTC),
    )

    # Then only the first-comment one would change; the other is counted as not judged
    assert [c.comment_id for c in result.changes] == [first.id]
    assert (result.judged, result.skipped) == (1, 1)


def test_a_comment_a_check_would_discard_is_reported_as_discarded_even_when_spam_now() -> None:
    # Given an approved comment and one the policy marked as spam
    approved = StoredComment.model_validate(dynamo.from_item(comment_item("c0193a4c2d8e1f2a3b4c1")))
    spam = approved.model_copy(update={"id": "c0193a4c2d8e1f2a3b4c2", "status": "spam"})

    # When a check that says to discard them is tried on them
    result = dry_run(
        [approved, spam],
        ModerationPolicy(require_previous_approval=False),
        checks=[DiscardingCheck()],
        since=datetime(2026, 1, 1, tzinfo=UTC),
    )

    # Then both would change: posted now, neither would be stored
    assert [(c.status, c.proposed, c.rule) for c in result.changes] == [
        ("approved", "discarded", "content_check"),
        ("spam", "discarded", "content_check"),
    ]
