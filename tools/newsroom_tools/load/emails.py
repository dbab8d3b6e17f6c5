"""The emails a load run must find: one per (comment, kind, recipient) that
docs/notifications.md calls for, and the run's emails the outbox holds, in the same terms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["moderation", "new_comment", "reply", "comment_live"]
EmailKey = tuple[str, str, str]  # (comment id, kind, recipient)


@dataclass(frozen=True)
class CommentFacts:
    """What the notification rules need to know about one accepted comment."""

    id: str
    slug: str
    author_email: str
    notify_replies: bool
    parent_id: str | None
    arrived_as: str  # "approved" or "pending", as the 201 said
    final: str  # the status it has at the end (after the run's moderation)


def _same_person(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def expected_emails(
    comments: Mapping[str, CommentFacts],
    *,
    authors: Mapping[str, str],
    moderators: Sequence[str],
    confirmed: Collection[str] = (),
) -> Counter[EmailKey]:
    """One email per (comment, kind, recipient) that docs/notifications.md calls for.

    Written from the table in "Who gets what", not from `newsroom.notifications.plan`, so the
    two can disagree. It assumes what the run guarantees: a parent is approved before any reply
    to it is posted and never changes after, and each comment changes status at most once.
    Reply notices and "is live" go only to `confirmed` addresses; the run confirms none (the
    requests to confirm name no comment, so the reconciliation does not count them).
    """
    confirmed = {address.strip().casefold() for address in confirmed}
    due: Counter[EmailKey] = Counter()
    for comment in comments.values():
        if comment.arrived_as == "pending":
            for moderator in dict.fromkeys(m.lower() for m in moderators):
                due[(comment.id, "moderation", moderator)] += 1
        if comment.final != "approved":
            continue
        author = authors[comment.slug]
        if not _same_person(author, comment.author_email):
            due[(comment.id, "new_comment", author.lower())] += 1
        parent = comments.get(comment.parent_id or "")
        if (
            parent is not None
            and parent.notify_replies
            and parent.final == "approved"
            and not _same_person(parent.author_email, comment.author_email)
            and parent.author_email.strip().casefold() in confirmed
        ):
            due[(comment.id, "reply", parent.author_email.lower())] += 1
        if (
            comment.arrived_as == "pending"
            and comment.notify_replies
            and comment.author_email.strip().casefold() in confirmed
        ):
            due[(comment.id, "comment_live", comment.author_email.lower())] += 1
    return due


def email_kind(subject: str) -> Kind | None:
    if subject.startswith("Please moderate"):
        return "moderation"
    if subject.startswith("New comment on"):
        return "new_comment"
    if subject.startswith("New reply to your comment"):
        return "reply"
    if subject.startswith("Your comment on") and subject.endswith("is live"):
        return "comment_live"
    return None


def sent_emails(
    outbox: Sequence[Mapping[str, Any]], *, marker_tag: str, ids: Mapping[str, str]
) -> tuple[Counter[EmailKey], list[str]]:
    """The run's emails in the outbox as (comment, kind, recipient) keys, and a line for each
    run email that names no known comment or kind. `ids` maps a comment's marker to its id."""
    markers = re.compile(re.escape(marker_tag) + r"\d{5}")
    found: Counter[EmailKey] = Counter()
    unknown: list[str] = []
    for item in outbox:
        text = str(item.get("text") or "")
        if marker_tag not in text:
            continue
        subject = str(item.get("subject") or "")
        about = set(markers.findall(text))
        kind = email_kind(subject)
        comment_id = ids.get(next(iter(about))) if len(about) == 1 else None
        if kind is None or comment_id is None:
            unknown.append(f"#{item.get('number')} {subject!r} about {sorted(about)}")
            continue
        for recipient in item.get("to") or []:
            found[(comment_id, kind, str(recipient).lower())] += 1
    return found, unknown
