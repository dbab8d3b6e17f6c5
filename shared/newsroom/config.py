"""Settings: one Pydantic model per function, read from the environment once."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Self, get_origin

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from newsroom.comment_settings import CommentsSettings as CommentsSettings
    from newsroom.comment_settings import NotificationsSettings as NotificationsSettings

# Defined in newsroom.comment_settings, and loaded only where used: the articles function never
# builds their models (a cold start's few milliseconds). `newsroom.config.CommentsSettings`
# still names them (`__getattr__`).
_ELSEWHERE = frozenset({"CommentsSettings", "NotificationsSettings"})


def __getattr__(name: str) -> object:
    if name in _ELSEWHERE:
        from newsroom import comment_settings

        return getattr(comment_settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class FromEnvironment(BaseModel):
    """Fields read from environment variables of the same name, in any case; a list is a JSON
    array, or its items separated by commas as people type them (``a@example.com,
    b@example.com``). This is pydantic-settings' rule for these fields, without its cold start
    (it imports argparse, dotenv and its CLI machinery on every function's start)."""

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
            origin = get_origin(field.annotation)
            if origin is list and not raw.lstrip().startswith("["):
                values[name] = [item.strip() for item in raw.split(",") if item.strip()]
            elif origin in (list, dict):
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


@cache
def comments_settings() -> CommentsSettings:
    """The comments function's settings, read once per container."""
    from newsroom.comment_settings import CommentsSettings

    return CommentsSettings.from_environment()


@cache
def notifications_settings() -> NotificationsSettings:
    """The notifications function's settings, read once per container."""
    from newsroom.comment_settings import NotificationsSettings

    return NotificationsSettings.from_environment()


class DeliverySettings(_Settings):
    """Environment of the delivery events function."""

    secret_parameter_name: str = Field(min_length=1)


@cache
def delivery_settings() -> DeliverySettings:
    """The delivery events function's settings, read once per container."""
    return DeliverySettings.from_environment()
