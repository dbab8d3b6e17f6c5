"""Domain errors raised by logic and data access; the HTTP layer maps each to one answer."""

from __future__ import annotations


class NewsroomError(Exception):
    """Base of every error the API turns into a client-facing answer."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, location: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.location = location


class InvalidCursorError(NewsroomError):
    status_code = 400
    code = "invalid_cursor"

    def __init__(self, message: str = "The cursor is not one this API issued.") -> None:
        super().__init__(message, field="cursor", location="query")


class ArticleNotFoundError(NewsroomError):
    status_code = 404
    code = "article_not_found"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"No published article has the slug '{slug}'.", field="slug", location="path"
        )


class ServiceUnavailableError(NewsroomError):
    """A dependency (DynamoDB) is throttled or down: the client may retry later."""

    status_code = 503
    code = "service_unavailable"
    retry_after_seconds = 2

    def __init__(self, message: str = "The service is busy; retry shortly.") -> None:
        super().__init__(message)
