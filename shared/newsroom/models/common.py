"""Shapes shared by every API: reusable constraints, the page envelope and the error body."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

T = TypeVar("T")

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MAX_LENGTH = 120
# Comma-separated slugs (GET /comment-counts): at most 100, so this many characters.
SLUG_LIST_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:,[a-z0-9]+(?:-[a-z0-9]+)*)*$"
SLUG_LIST_MAX_LENGTH = 100 * (SLUG_MAX_LENGTH + 1)
TAG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG_MAX_LENGTH = 40
CURSOR_MAX_LENGTH = 1024

Slug = Annotated[
    str, Field(min_length=1, max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN, examples=["hello"])
]
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX_LENGTH, pattern=TAG_PATTERN)]


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class Page(BaseModel, Generic[T]):
    """One page of a listing; `next_cursor` is null on the last page."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    items: list[T]
    next_cursor: str | None = None


class ErrorDetail(BaseModel):
    """One problem with one part of the request."""

    model_config = ConfigDict(defer_build=True)

    location: str = Field(description="Where the problem is: path, query, header or body.")
    field: str = Field(description="The parameter or body field at fault, dotted for nesting.")
    message: str


class ErrorInfo(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str = Field(description="Stable machine-readable error code, snake_case.")
    message: str = Field(description="Human-readable sentence.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorBody(BaseModel):
    """The one error shape every endpoint answers with."""

    model_config = ConfigDict(defer_build=True)

    error: ErrorInfo
