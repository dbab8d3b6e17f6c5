"""The moderation policy: approve, hold or mark as spam, with WordPress's rules and order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from newsroom.rendered import read_html

Status = Literal["approved", "pending", "spam"]

# Outside a link element, a link is text a reader could follow: a scheme URL, a bare www.
# address.
_LINK = re.compile(r"(?i)(?:\b(?:https?|ftp)://|\bmailto:|\bwww\.)")


@dataclass(frozen=True)
class ModerationPolicy:
    """The moderator's settings (defaults are WordPress's).

    Attributes
    ----------
    max_links
        Hold a comment with this many links or more; 0 turns the rule off.
    moderation_keys
        Hold a comment when one of these appears in its name, email, URL, text, IP or user agent.
    disallowed_keys
        Mark a comment as spam when one of these appears in the same places.
    require_previous_approval
        Hold a comment unless its author (same name and email) had one approved before.
    moderate_all
        Hold every comment.
    minimum_form_seconds
        Hold a comment posted sooner than this after its form was loaded (its form token was
        issued); 0 turns the rule off.
    """

    max_links: int = 2
    moderation_keys: tuple[str, ...] = ()
    disallowed_keys: tuple[str, ...] = ()
    require_previous_approval: bool = True
    moderate_all: bool = False
    minimum_form_seconds: int = 0


@dataclass(frozen=True)
class Submission:
    """What the policy reads of a comment and its sender."""

    author_name: str
    author_email: str
    author_url: str | None
    body: str
    ip: str
    user_agent: str = ""
    honeypot: str | None = None
    body_html: str = ""  # the body as rendered: what readers see and follow
    # What a content check that asks a service (newsroom.akismet_check) sends along; the
    # rules never read these.
    referrer: str = ""
    permalink: str = ""  # the article's public URL
    comment_type: Literal["comment", "reply"] = "comment"
    posted_at: datetime | None = None
    article_modified_at: datetime | None = None
    recheck_reason: str = ""  # why a comment is checked again ("edit")
    # How long its form was open before it was posted (newsroom.form_time); None when not
    # measured (the setting is off, an edit, a past comment judged again).
    form_seconds: float | None = None


@dataclass(frozen=True)
class Verdict:
    """The decision and why, kept with the comment for the moderator."""

    status: Status
    rule: str
    keyword: str | None = None
    # A content check's own words (rule "content_check"; keyword is the check's name).
    reason: str | None = None

    @property
    def explanation(self) -> str:
        return _EXPLANATIONS[self.rule].format(keyword=self.keyword, reason=self.reason)


_EXPLANATIONS = {
    "honeypot": "A form field that people never see was filled in.",
    "disallowed_keyword": "It contains the disallowed word '{keyword}'.",
    "posted_too_soon": "It was {reason}.",
    "moderate_all": "Every comment is held for moderation.",
    "too_many_links": "It contains too many links.",
    "moderation_keyword": "It contains the moderation word '{keyword}'.",
    "first_comment": "The author has no previously approved comment.",
    "previously_approved": "The author has a previously approved comment.",
    "auto_approved": "Comments are approved without moderation.",
    "content_check": "The content check '{keyword}': {reason}",
}


def count_links(html: str) -> int:
    """The links in a comment as rendered: every link element (however its source spelled
    the address: character references, autolinks, email autolinks), plus link-looking text
    outside them. Counting the source instead misses ``[x](&#104;ttps://...)``."""
    rendered = read_html(html)
    return rendered.links + len(_LINK.findall(rendered.text_outside_links))


def matching_key(keys: Iterable[str], submission: Submission) -> str | None:
    """The first key found (case-insensitively, anywhere, even inside a word) in the fields
    WordPress checks: name, email, URL, text, IP and user agent."""
    haystacks = [
        submission.author_name,
        submission.author_email,
        submission.author_url or "",
        submission.body,
        # What readers see: a word spelled with character references in the source.
        read_html(submission.body_html).text,
        submission.ip,
        submission.user_agent,
    ]
    lowered = [h.casefold() for h in haystacks]
    for key in keys:
        needle = key.strip().casefold()
        if needle and any(needle in h for h in lowered):
            return key.strip()
    return None


def posted_too_soon(submission: Submission, policy: ModerationPolicy) -> str | None:
    """Why a comment was posted too soon after its form was loaded, in a moderator's words
    ("posted 1.2 s after the form was loaded; minimum 3 s"), or None if it was not (or its
    form time was not measured)."""
    seconds, minimum = submission.form_seconds, policy.minimum_form_seconds
    if not minimum or seconds is None or seconds >= minimum:
        return None
    # Rounded down, so that 2.96 s of a 3 s minimum never reads as "3.0 s ...; minimum 3 s".
    shown = int(seconds * 10) / 10
    return f"posted {shown:.1f} s after the form was loaded; minimum {minimum} s"


def judge(
    submission: Submission, policy: ModerationPolicy, *, previously_approved: bool
) -> Verdict:
    """Decide a new comment's status, in WordPress's order: spam checks, then the hold rules
    (the form time first: it says the most about a comment held by several)."""
    if submission.honeypot:
        return Verdict("spam", "honeypot")
    if (key := matching_key(policy.disallowed_keys, submission)) is not None:
        return Verdict("spam", "disallowed_keyword", key)
    if (too_soon := posted_too_soon(submission, policy)) is not None:
        return Verdict("pending", "posted_too_soon", reason=too_soon)
    if policy.moderate_all:
        return Verdict("pending", "moderate_all")
    if policy.max_links and count_links(submission.body_html) >= policy.max_links:
        return Verdict("pending", "too_many_links")
    if (key := matching_key(policy.moderation_keys, submission)) is not None:
        return Verdict("pending", "moderation_keyword", key)
    if policy.require_previous_approval:
        if not previously_approved:
            return Verdict("pending", "first_comment")
        return Verdict("approved", "previously_approved")
    return Verdict("approved", "auto_approved")
