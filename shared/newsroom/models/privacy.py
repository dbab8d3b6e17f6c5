"""Privacy request shapes: the self-service form (export or erase by email), the one answer it
always gets, the stored request its emailed link acts on, and the export's file."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from newsroom.models.comments import AuthorEmail, CommentId, CommentStatus
from newsroom.models.common import Slug, UtcDatetime

PrivacyKind = Literal["export", "erase"]

ACCEPTED_MESSAGE = (
    "An email with a link is on its way to this address, unless one was asked for in the "
    "last few minutes. The link works once, for 24 hours."
)


class PrivacyRequestIn(BaseModel):
    """Ask for what is stored about an email address: the link to act goes to that address."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    email: AuthorEmail = Field(description="The address the comments were written with.")
    kind: PrivacyKind = Field(
        description="export: a JSON file of every comment and email of the address; erase: "
        "remove the address, its name, website and text from every comment."
    )


class PrivacyRequestAccepted(BaseModel):
    """The one answer every well-formed request gets, whatever the address (it never tells
    whether that address commented, or whether an email went out)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    message: str = Field(default=ACCEPTED_MESSAGE, examples=[ACCEPTED_MESSAGE])


class StoredPrivacyRequest(BaseModel):
    """A request as kept until its link is used or expires (TTL)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    id: str
    kind: PrivacyKind
    email: str = Field(default="", description="Removed once the link acted.")
    requested_at: UtcDatetime


class ExportedComment(BaseModel):
    """One comment of the address, as stored (its source text, not only as published)."""

    model_config = ConfigDict(defer_build=True)

    id: CommentId
    article: Slug
    article_url: str
    parent_id: CommentId | None
    status: CommentStatus
    author_name: str
    author_email: str
    author_url: str | None
    text: str = Field(description="As written (Markdown).")
    created_at: datetime
    edited_at: datetime | None
    notify_replies: bool = Field(description="Whether replies to it are to be emailed.")
    reply_notices_confirmed: bool = Field(
        description="Whether the address confirmed that it wants reply notices."
    )


class ExportedEmail(BaseModel):
    """One email sent to the address, as the sent-email ledger knows it (kept 30 days; the
    ledger keeps no text)."""

    model_config = ConfigDict(defer_build=True)

    kind: str
    about: str = Field(description="The comment (or request) the email was about.")
    state: str = Field(description="sent, failed (refused for good), or sending.")
    at: datetime


ERASED_NAME = "[removed]"
ERASED_TEXT = "[removed at the author's request]"


class ErasureDone(BaseModel):
    """What an erasure did (the page its link's button leads to)."""

    model_config = ConfigDict(defer_build=True)

    deleted: int = Field(description="Comments deleted (they had no reply).")
    anonymised: int = Field(
        description="Comments with replies, kept in their place without their author's data."
    )


class PrivacyExport(BaseModel):
    """Everything stored about one address."""

    model_config = ConfigDict(defer_build=True)

    email: str
    exported_at: datetime
    comments: list[ExportedComment]
    emails: list[ExportedEmail]
