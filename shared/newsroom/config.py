"""Settings: one Pydantic model per function, read from the environment once."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import Self, get_origin

from pydantic import BaseModel, ConfigDict, Field


class FromEnvironment(BaseModel):
    """Fields read from environment variables of the same name, in any case; a list is a JSON
    array. This is pydantic-settings' rule for these fields, without its cold start (it imports
    argparse, dotenv and its CLI machinery on every function's start)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        given = {key.lower(): value for key, value in source.items()}
        values: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            if name not in given:
                continue
            raw = given[name]
            if get_origin(field.annotation) in (list, dict):
                try:
                    values[name] = json.loads(raw)
                except ValueError as exc:
                    raise ValueError(f"{name.upper()} is not JSON: {exc}") from None
            else:
                values[name] = raw
        return cls.model_validate(values)


class _Settings(FromEnvironment):
    content_table_name: str = Field(min_length=3, max_length=255)


class _LinkLifetimes(FromEnvironment):
    """How long the signed links in emails work: the notifications function makes them, the
    comments function follows them; both read the template's Globals."""

    moderation_link_days: int = Field(default=7, ge=1, le=90)
    unsubscribe_link_days: int = Field(default=90, ge=1, le=3650)
    # Also the period in which an address gets at most one confirmation request; at most the
    # sent-email ledger's retention (30 days), which remembers the last one.
    confirmation_link_days: int = Field(default=7, ge=1, le=30)


class CorsSettings(FromEnvironment):
    """Which web pages may read the API's answers: the template parameter `AllowedOrigins`,
    which every HTTP function gets (its pattern is checked at deploy time)."""

    allowed_origins: str = Field(
        default="*",
        description="Comma-separated origins (https://www.example.com) or * for any page.",
    )


@cache
def cors_settings() -> CorsSettings:
    """Read once per container."""
    return CorsSettings.from_environment()


class _PublicUrls(FromEnvironment):
    """Where readers reach the API and read an article: for absolute links (emails, feeds)."""

    public_base_url: str = Field(
        default="",
        description="Base URL of the API for links in emails and feeds, no trailing slash; "
        "empty: where the request reached the API.",
    )
    article_url_template: str = Field(
        default="{base}/articles/{slug}",
        description="Where readers read an article; {base} and {slug} are filled in.",
    )


class ArticlesSettings(_Settings, _PublicUrls):
    """Environment of the articles function."""

    secret_parameter_name: str = Field(
        min_length=1, description="SSM SecureString holding the key that signs listing cursors."
    )

    article_max_age_seconds: int = Field(
        default=60, ge=0, description="Cache-Control max-age of an article."
    )
    list_max_age_seconds: int = Field(
        default=30, ge=0, description="Cache-Control max-age of an article list."
    )
    api_docs: bool = Field(
        default=False, description="Publish Swagger UI at /api-docs (template parameter ApiDocs)."
    )


@cache
def articles_settings() -> ArticlesSettings:
    """The articles function's settings, read once per container."""
    return ArticlesSettings.from_environment()


class CommentsSettings(_Settings, _LinkLifetimes, _PublicUrls):
    """Environment of the comments function. List settings are JSON arrays in the environment.

    The moderation defaults are WordPress's (Settings > Discussion).
    """

    idempotency_table_name: str = Field(min_length=3, max_length=255)
    secret_parameter_name: str = Field(
        min_length=1,
        description="SSM SecureString holding the current key for IP/email hashes, signed "
        "links and listing cursors; NAME-previous holds the key it replaced while rotating "
        "(newsroom.secrets).",
    )
    comment_max_links: int = Field(
        default=2, ge=0, description="Hold a comment with this many links or more (0: off)."
    )
    moderation_keys: list[str] = Field(
        default_factory=list, description="Hold a comment containing any of these."
    )
    disallowed_keys: list[str] = Field(
        default_factory=list, description="Mark a comment containing any of these as spam."
    )
    require_previous_approval: bool = Field(
        default=True, description="Hold comments of authors with no approved comment yet."
    )
    moderate_all: bool = Field(default=False, description="Hold every comment.")
    close_comments_after_days: int | None = Field(
        default=None, ge=1, description="Close comments on articles older than this (off)."
    )
    flood_interval_seconds: int = Field(
        default=15, ge=1, description="Least time between two comments of one IP or email."
    )
    thread_depth: int = Field(default=5, ge=1, le=5, description="Deepest reply level.")
    edit_window_seconds: int = Field(
        default=900,
        ge=1,
        le=86_400,
        description="How long after posting its author may edit or delete a comment (while no "
        "reply exists).",
    )
    sender_data_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="How long what a comment's sender left for moderation (the IP hash) is "
        "kept; then the table's TTL deletes it, and the comment stays.",
    )
    privacy_request_interval_seconds: int = Field(
        default=300,
        ge=1,
        description="Least time between two privacy requests from one IP, or for one address.",
    )
    # The privacy requests' email (its link) goes out from here, as the notifications' do.
    sender_email: str = Field(default="", description="The SES identity emails come from.")
    max_body_bytes: int = Field(default=65_536, ge=1024, description="Largest request body.")
    list_max_age_seconds: int = Field(default=30, ge=0)
    idempotency_expiry_seconds: int = Field(default=3600, ge=60)


@cache
def comments_settings() -> CommentsSettings:
    """The comments function's settings, read once per container."""
    return CommentsSettings.from_environment()


class NotificationsSettings(_Settings, _LinkLifetimes):
    """Environment of the notifications function (the stream consumer; the link pages are the
    comments function's)."""

    secret_parameter_name: str = Field(min_length=1)
    sender_email: str = Field(min_length=3, description="The SES identity emails come from.")
    moderator_emails: list[str] = Field(
        default_factory=list, description="JSON array: who gets moderation requests."
    )
    public_base_url: str = Field(
        min_length=1, description="Base URL of the API for links in emails, no trailing slash."
    )
    article_url_template: str = Field(
        default="{base}/articles/{slug}",
        description="Where readers read an article; {base} and {slug} are filled in.",
    )


@cache
def notifications_settings() -> NotificationsSettings:
    """The notifications function's settings, read once per container."""
    return NotificationsSettings.from_environment()
