"""Domain errors raised by logic and data access; `newsroom.http` maps each to one answer."""

from __future__ import annotations

from typing import ClassVar


class NewsroomError(Exception):
    """Base of every error the API turns into a client-facing answer."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, location: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.location = location

    def headers(self) -> dict[str, str]:
        """Extra response headers this error calls for."""
        return {}


class InvalidCursorError(NewsroomError):
    status_code = 400
    code = "invalid_cursor"

    def __init__(self, message: str = "The cursor is not one this API issued.") -> None:
        super().__init__(message, field="cursor", location="query")


class MalformedRequestError(NewsroomError):
    """The body is not JSON, or not sent as JSON."""

    status_code = 400
    code = "malformed_request"

    def __init__(self, message: str, *, field: str = "body", location: str = "body") -> None:
        super().__init__(message, field=field, location=location)


class PayloadTooLargeError(NewsroomError):
    status_code = 413
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than {limit} bytes.", field="body", location="body"
        )


class CommentTooLongError(NewsroomError):
    """Within the length rules, but too large to store once rendered (escaping can multiply
    the size of a text: '"' becomes '&quot;')."""

    status_code = 413
    code = "comment_too_long"

    def __init__(self) -> None:
        super().__init__(
            "The comment is too long once formatted; shorten it.", field="body", location="body"
        )


class EmptyCommentError(NewsroomError):
    """The comment's Markdown renders as nothing visible (an empty link, only markup)."""

    status_code = 422
    code = "invalid_request"

    def __init__(self) -> None:
        super().__init__(
            "The comment shows no visible text once formatted.", field="body", location="body"
        )


class ArticleNotFoundError(NewsroomError):
    status_code = 404
    code = "article_not_found"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"No published article has the slug '{slug}'.", field="slug", location="path"
        )


class UnknownArticleError(NewsroomError):
    """The admin API's: no article of this slug is stored at all (draft or not)."""

    status_code = 404
    code = "article_not_found"

    def __init__(self, slug: str) -> None:
        super().__init__(f"No article has the slug '{slug}'.", field="slug", location="path")


class ArticleExistsError(NewsroomError):
    """A registration sent with `If-None-Match: *` for a slug that is taken."""

    status_code = 412
    code = "article_exists"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"An article with the slug '{slug}' is registered already; update it instead.",
            field="If-None-Match",
            location="header",
        )


class ArticleNotRegisteredError(NewsroomError):
    """An update sent with `If-Match: *` for a slug no article has."""

    status_code = 412
    code = "article_not_registered"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"No article has the slug '{slug}'; register it first.",
            field="If-Match",
            location="header",
        )


class ArticleChangedError(NewsroomError):
    """Another write of the article came between our read and our write."""

    status_code = 409
    code = "article_changed"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"The article '{slug}' was changed by another request meanwhile; send it again."
        )


class ArticleHasCommentsError(NewsroomError):
    status_code = 409
    code = "article_has_comments"

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"The article '{slug}' has comments; delete them with it "
            "(?comments=delete) or close its comments instead.",
            field="comments",
            location="query",
        )


class ArticleTooLargeError(NewsroomError):
    """Within the field limits, but too large for one DynamoDB item once rendered."""

    status_code = 413
    code = "article_too_large"

    def __init__(self, size_kb: int, limit_kb: int) -> None:
        super().__init__(
            f"The article takes {size_kb} KB stored (its body and its HTML), more than the "
            f"{limit_kb} KB an article holds; shorten its body.",
            field="body_markdown",
            location="body",
        )


class CommentNotFoundError(NewsroomError):
    status_code = 404
    code = "comment_not_found"

    def __init__(self, comment_id: str) -> None:
        super().__init__(
            f"No comment '{comment_id}' on this article.", field="comment_id", location="path"
        )


class CommentsClosedError(NewsroomError):
    status_code = 403
    code = "comments_closed"

    def __init__(self) -> None:
        super().__init__("Comments are closed on this article.")


class ParentCommentNotFoundError(NewsroomError):
    status_code = 422
    code = "invalid_parent"

    def __init__(self) -> None:
        super().__init__(
            "parent_id does not name an approved comment of this article.",
            field="parent_id",
            location="body",
        )


class DuplicateCommentError(NewsroomError):
    """Raised by storage; `newsroom.comments.submit` answers it as a held comment, so that no
    answer tells whether an email wrote a text."""

    status_code = 409
    code = "duplicate_comment"

    def __init__(self) -> None:
        super().__init__("Duplicate comment detected; it looks as though you've already said that!")


class CommentFloodError(NewsroomError):
    status_code = 429
    code = "comment_flood"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("You are posting comments too quickly. Slow down.")
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class PrivacyRequestFloodError(NewsroomError):
    """Privacy requests from one IP too close together (the rate limit per address answers
    nothing different: the answer never tells about an address)."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__("Too many requests from your address; try again later.")
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class StatusConflictError(NewsroomError):
    """The comment changed status since it was read (another moderator, another link)."""

    status_code = 409
    code = "status_conflict"

    def __init__(self) -> None:
        super().__init__("The comment changed in the meantime; reload and try again.")


class ParentNotApprovedError(NewsroomError):
    """Approving a reply whose parent is no longer approved would publish it without the
    comment it answers."""

    status_code = 409
    code = "parent_not_approved"

    def __init__(self, parent_id: str) -> None:
        super().__init__(
            f"This comment replies to comment '{parent_id}', which is not approved (it was "
            "trashed, marked as spam or deleted): approve that one first, or trash this reply."
        )


class EditTokenInvalidError(NewsroomError):
    """No edit token, or not one this API issued for this comment (forged, altered, another
    comment's)."""

    status_code = 401
    code = "edit_token_invalid"

    def __init__(self) -> None:
        super().__init__(
            "Send the edit token this comment was posted with, as "
            "'Authorization: Bearer <edit_token>'.",
            field="Authorization",
            location="header",
        )

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="newsroom"'}


class EditWindowClosedError(NewsroomError):
    """The comment's author may no longer change it: its edit window ended, or it has a
    reply."""

    status_code = 403
    code = "edit_window_closed"

    def __init__(self, *, replied: bool = False, erased: bool = False) -> None:
        if erased:
            message = (
                "This comment was removed at its author's request; it can no longer be changed."
            )
        elif replied:
            message = "This comment has a reply, so it can no longer be changed or deleted."
        else:
            message = "The time to change or delete this comment is over."
        super().__init__(message)


class IdempotencyKeyReusedError(NewsroomError):
    status_code = 422
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request.",
            field="Idempotency-Key",
            location="header",
        )


class RequestInProgressError(NewsroomError):
    status_code = 409
    code = "request_in_progress"

    def __init__(self) -> None:
        super().__init__("A request with this Idempotency-Key is still being processed.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class LinkInvalidError(NewsroomError):
    status_code = 400
    code = "link_invalid"

    def __init__(self) -> None:
        super().__init__(
            "This link is not valid: it was changed or cut short. Use the link from the email.",
            field="token",
            location="path",
        )


class LinkExpiredError(NewsroomError):
    status_code = 410
    code = "link_expired"

    def __init__(self) -> None:
        super().__init__("This link has expired.", field="token", location="path")


class LinkUsedError(NewsroomError):
    status_code = 410
    code = "link_used"

    def __init__(self, why: str = "it was used already") -> None:
        super().__init__(f"This link can no longer be used: {why}.", field="token", location="path")


class LinkOutdatedError(NewsroomError):
    """A moderation link of a comment its author edited after the email was sent: the text the
    moderator read is not the text the link would act on. The newer email has its own links."""

    status_code = 409
    code = "link_outdated"

    def __init__(self) -> None:
        super().__init__(
            "This comment was edited after this email was sent: use the links in the newer "
            "email, which shows its new text.",
            field="token",
            location="path",
        )


class ServiceUnavailableError(NewsroomError):
    """A dependency (DynamoDB) is throttled or down: the client may retry later."""

    status_code = 503
    code = "service_unavailable"
    retry_after_seconds = 2

    def __init__(self, message: str = "The service is busy; retry shortly.") -> None:
        super().__init__(message)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class ServiceMisconfiguredError(ServiceUnavailableError):
    """The deployment lacks what every request of this kind needs (the project's secret in
    SSM is missing or too short): answered 503 rather than 500, logged as an error and counted
    (`SecretUnavailable`, alarmed), until the operator sets it (docs/operations.md)."""

    code = "service_misconfigured"
    retry_after_seconds = 300

    def __init__(self) -> None:
        super().__init__(
            "The service is not fully set up yet; its operator has been alerted. Retry later."
        )


class IndexNotReadyError(ServiceUnavailableError):
    """An index DynamoDB is still building (backfilling, after it was added to a live table)
    cannot be read yet: that takes minutes to hours, so the client retries later than after a
    throttle."""

    retry_after_seconds = 300

    def __init__(self) -> None:
        super().__init__("This listing is being prepared; retry in a few minutes.")


class TooManySlugsError(NewsroomError):
    """More articles asked for at once than one read serves."""

    status_code = 422
    code = "invalid_request"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"At most {limit} different slugs at once.", field="slugs", location="query"
        )


class ApiDocsNotPublishedError(NewsroomError):
    """The API's documentation pages are off (template parameter `ApiDocs`): answered as the
    functions answer a route they do not have, and nothing more is said."""

    status_code = 404
    code = "route_not_found"

    def __init__(self) -> None:
        super().__init__("No such resource.")


class ChallengesOffError(ApiDocsNotPublishedError):
    """GET /challenge while ALTCHA is off (setting `altcha`): a route the function does not
    have."""


class FormTokensOffError(ApiDocsNotPublishedError):
    """GET /form-token while no minimum form time is set (setting `minimum_form_seconds` 0): a
    route the function does not have."""


class NoSuchFileError(NewsroomError):
    """A file the API serves by name (the widget's, the API docs') that it does not have."""

    status_code = 404
    code = "not_found"

    def __init__(self, what: str, name: str, names: tuple[str, ...]) -> None:
        super().__init__(
            f"No {what} file '{name}'; there are: {', '.join(names)}.",
            field="file",
            location="path",
        )


class ChallengeSolutionError(NewsroomError):
    """The comment's proof of work (the `altcha` field) is missing, not a solution of a
    challenge we issued, expired, or used before (newsroom.proof_of_work)."""

    status_code = 403
    code = "altcha_refused"

    _MESSAGES: ClassVar[dict[str, str]] = {
        "missing": "The comment needs a solved challenge (altcha); get one from GET /challenge.",
        "invalid": "The altcha solution does not solve a challenge this API issued.",
        "expired": "The altcha challenge expired; get a new one from GET /challenge.",
        "used": "The altcha solution was used before; get a new one from GET /challenge.",
    }

    def __init__(self, why: str) -> None:
        super().__init__(self._MESSAGES[why], field="altcha", location="body")
        self.why = why
        self.code = f"altcha_{why}"


class FormTokenError(NewsroomError):
    """The comment's form token (the `form_token` field) is missing, not one we issued, or
    older than its lifetime (newsroom.form_time). A token issued too recently is no error:
    that comment is held for moderation."""

    status_code = 403
    code = "form_token_refused"

    _MESSAGES: ClassVar[dict[str, str]] = {
        "missing": "The comment needs the token of the form it was written in (form_token); "
        "get one from GET /form-token.",
        "invalid": "The form_token is not one this API issued.",
        "expired": "The form_token expired; get a new one from GET /form-token.",
    }

    def __init__(self, why: str) -> None:
        super().__init__(self._MESSAGES[why], field="form_token", location="body")
        self.why = why
        self.code = f"form_token_{why}"
