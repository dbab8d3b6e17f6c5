"""Settings: one Pydantic settings model per function, read from the environment once."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    content_table_name: str = Field(min_length=3, max_length=255)


class ArticlesSettings(_Settings):
    """Environment of the articles function."""

    article_max_age_seconds: int = Field(
        default=60, ge=0, description="Cache-Control max-age of an article."
    )
    list_max_age_seconds: int = Field(
        default=30, ge=0, description="Cache-Control max-age of an article list."
    )


@cache
def articles_settings() -> ArticlesSettings:
    """The articles function's settings, read once per container."""
    return ArticlesSettings()  # fields come from the environment
