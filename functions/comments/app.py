"""Comments function: accepts reader comments, lists approved ones, and the moderation API."""

from dataclasses import replace
from http import HTTPStatus
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import (
    comments,
    cors,
    deadline,
    email_log,
    links,
    privacy_requests,
    snapstart,
)
from newsroom.config import comments_settings
from newsroom.errors import ChallengesOffError, FormTokensOffError, MalformedRequestError
from newsroom.http import (
    api_base_url,
    bearer_token,
    cacheable,
    install_error_handlers,
    location_of,
    mapped_prefixes,
    never_cached,
    page_or_json,
    pages_for_people,
    precheck_json_body,
    public_base_url,
    request_sender,
)
from newsroom.idempotency import IDEMPOTENCY_KEY_PATTERN, run_once
from newsroom.models.article_admin import (
    REGISTRATION_MAX_BYTES,
    AdminArticle,
    ArticleAction,
    ArticleRegistration,
    to_admin,
)
from newsroom.models.articles import CommentCounts
from newsroom.models.comments import (
    COMMENT_ID_PATTERN,
    AdminComment,
    CommentAccepted,
    CommentEdit,
    CommentEdited,
    CommentIn,
    CommentStatus,
    FormToken,
    ModerationAction,
    PublicComment,
    StatusChange,
)
from newsroom.models.common import (
    CURSOR_MAX_LENGTH,
    SLUG_LIST_MAX_LENGTH,
    SLUG_LIST_PATTERN,
    SLUG_MAX_LENGTH,
    SLUG_PATTERN,
    Page,
)
from newsroom.models.emails import EmailStatus, LoggedEmail
from newsroom.models.privacy import PrivacyExport, PrivacyRequestAccepted, PrivacyRequestIn
from newsroom.observability import logger, metrics, tracer

# After a SnapStart restore, the keys' cache is dropped and random reseeded (newsroom.snapstart).
snapstart.register_restore_hooks()

# A response that breaks its own model is our bug: 500, never a 422 blaming the client.
# Under a custom domain's base path the routes are matched without it (newsroom.http).
app = APIGatewayRestResolver(
    enable_validation=True,
    response_validation_error_http_code=500,
    strip_prefixes=mapped_prefixes(),
)
# Routes whose body is JSON; the link pages take form posts (RFC 8058 one-click unsubscribe).
JSON_BODY_RESOURCES = frozenset(
    {"/articles/{slug}/comments", "/articles/{slug}/comments/{comment_id}", "/privacy/requests"}
)
# The admin API's article registrations, whose bodies hold an article's (DynamoDB's 400 KB).
ARTICLE_BODY_RESOURCES = frozenset({"/admin/articles/{slug}"})
# The comment's own author, by the edit token its post was answered with (docs/api.md).
EDIT_TOKEN: list[dict[str, list[str]]] = [{"editToken": []}]
install_error_handlers(app)

SlugParam = Annotated[str, Path(max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN)]
CommentIdParam = Annotated[str, Path(pattern=COMMENT_ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
LinkToken = Annotated[str, Path(min_length=10, max_length=2048, description="From the email.")]
Cursor = Annotated[
    str | None, Query(max_length=CURSOR_MAX_LENGTH, description="From the previous page.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Retries with the same key return the first answer.",
    ),
]


def comment_sender() -> comments.Sender:
    """Who sent this comment or edit, and from which page (for the content checks)."""
    ip, user_agent = request_sender(
        app, trusted_edge_secret=comments_settings().trusted_edge_secret
    )
    return comments.Sender(
        ip=ip,
        user_agent=user_agent,
        referrer=app.current_event.headers.get("Referer") or "",
        api_base_url=api_base_url(app.current_event),
    )


@app.post("/articles/<slug>/comments", summary="Post a comment", responses={201: {}})
@tracer.capture_method
def handle_post_comment(
    slug: SlugParam,
    comment: Annotated[CommentIn, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[CommentAccepted]:
    sender = comment_sender()

    settings = comments_settings()

    def accept() -> CommentAccepted:
        # Inside run_once: a retry with the same Idempotency-Key gets the first answer, not
        # altcha_used.
        if settings.altcha:
            _spend_solution(comment.altcha)
        return comments.submit(slug, comment, sender)

    if idempotency_key is None:
        accepted = accept()
    else:
        accepted = run_once(
            idempotency_key,
            {"slug": slug, "comment": comment.model_dump(mode="json")},
            accept,
            output=CommentAccepted,
            table_name=settings.idempotency_table_name,
            expiry_seconds=settings.idempotency_expiry_seconds,
            lambda_context=app.lambda_context,
        )
    metrics.add_metric(name=f"Comments{accepted.status.title()}", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=accepted,
        headers={"Location": location_of(app, f"/articles/{slug}/comments/{accepted.id}")},
    )


def _spend_solution(payload: str | None) -> None:
    """Check the comment's ALTCHA solution and spend it (newsroom.proof_of_work, imported with
    the `altcha` package only when the setting is on)."""
    from newsroom import proof_of_work
    from newsroom.data.challenges import SpentChallenges
    from newsroom.secrets import project_keys

    settings = comments_settings()
    proof_of_work.accept(
        project_keys(settings.secret_parameter_name),
        payload,
        now=comments.utc_now(),
        spend=SpentChallenges(settings.content_table_name).spend,
    )


@app.get(
    "/challenge",
    middlewares=[never_cached],
    summary="An ALTCHA proof-of-work challenge for the next comment, when the API requires one",
    responses={200: {"description": "ALTCHA's challenge JSON (parameters and signature)"}},
)
@tracer.capture_method
def handle_get_challenge() -> dict[str, Any]:
    settings = comments_settings()
    if not settings.altcha:
        raise ChallengesOffError()
    from newsroom import proof_of_work
    from newsroom.secrets import project_keys

    return proof_of_work.issue(
        project_keys(settings.secret_parameter_name),
        cost=settings.altcha_cost,
        now=comments.utc_now(),
    )


@app.get(
    "/form-token",
    middlewares=[never_cached],
    summary="A token of when the comment form was loaded, when the API asks for a minimum "
    "time before posting",
)
@tracer.capture_method
def handle_get_form_token() -> FormToken:
    settings = comments_settings()
    if not settings.minimum_form_seconds:
        raise FormTokensOffError()
    from newsroom import form_time
    from newsroom.secrets import project_keys

    return FormToken(
        token=form_time.issue(project_keys(settings.secret_parameter_name), now=comments.utc_now()),
        minimum_seconds=settings.minimum_form_seconds,
    )


@app.get(
    "/articles/<slug>/comments",
    middlewares=[cacheable(lambda: comments_settings().list_max_age_seconds)],
    summary="List approved comments, threaded, oldest first",
)
@tracer.capture_method
def handle_list_comments(
    slug: SlugParam, limit: Limit = 50, cursor: Cursor = None
) -> Page[PublicComment]:
    return comments.list_public(slug, limit=limit, cursor=cursor)


# Atom feeds (newsroom.feeds, imported by these routes on their first request).
FEED_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "An Atom 1.0 feed", "content": {"application/atom+xml": {}}}
}


# Before /articles/<slug>/comments/<comment_id>, which would take "feed" for a comment id.
@app.get(
    "/articles/<slug>/comments/feed",
    middlewares=[cacheable(lambda: comments_settings().list_max_age_seconds)],
    summary="Atom feed of an article's latest approved comments",
    responses=FEED_RESPONSES,
)
@tracer.capture_method
def handle_get_comment_feed(slug: SlugParam) -> Response[str]:
    from newsroom import feeds

    return feeds.article_comments_feed(feeds.Site.of(app.current_event, comments_settings()), slug)


@app.get(
    "/comments/feed",
    middlewares=[cacheable(lambda: comments_settings().list_max_age_seconds)],
    summary="Atom feed of the latest approved comments on every article",
    responses=FEED_RESPONSES,
)
@tracer.capture_method
def handle_get_site_comment_feed() -> Response[str]:
    from newsroom import feeds

    return feeds.site_comments_feed(feeds.Site.of(app.current_event, comments_settings()))


@app.get(
    "/comment-counts",
    middlewares=[cacheable(lambda: comments_settings().list_max_age_seconds)],
    summary="Comment counts of up to 100 articles (listing pages, the widget)",
)
@tracer.capture_method
def handle_get_comment_counts(
    slugs: Annotated[
        str,
        Query(
            max_length=SLUG_LIST_MAX_LENGTH,
            pattern=SLUG_LIST_PATTERN,
            description="Comma-separated slugs, at most 100 different ones.",
            examples=["storm-isolde-clean-up,lifeboat-open-day"],
        ),
    ],
) -> CommentCounts:
    return comments.count(slugs.split(","))


@app.get(
    "/articles/<slug>/comments/<comment_id>",
    middlewares=[cacheable(lambda: comments_settings().list_max_age_seconds)],
    summary="Get one approved comment",
)
@tracer.capture_method
def handle_get_comment(slug: SlugParam, comment_id: CommentIdParam) -> PublicComment:
    return comments.get_public(slug, comment_id)


@app.patch(
    "/articles/<slug>/comments/<comment_id>",
    middlewares=[never_cached],
    summary="Edit your comment, while its edit window is open and it has no reply",
    security=EDIT_TOKEN,
)
@tracer.capture_method
def handle_patch_comment(
    slug: SlugParam,
    comment_id: CommentIdParam,
    change: Annotated[CommentEdit, Body()],
    idempotency_key: IdempotencyKey = None,
) -> CommentEdited:
    sender = comment_sender()
    token = bearer_token(app)

    def edit() -> CommentEdited:
        return comments.edit(slug, comment_id, change, sender, token=token)

    if idempotency_key is None:
        return edit()
    comments.check_edit_token(slug, comment_id, token)  # a retry proves itself too
    settings = comments_settings()
    return run_once(
        idempotency_key,
        {"slug": slug, "comment_id": comment_id, "change": change.model_dump(mode="json")},
        edit,
        output=CommentEdited,
        table_name=settings.idempotency_table_name,
        expiry_seconds=settings.idempotency_expiry_seconds,
        lambda_context=app.lambda_context,
    )


@app.delete(
    "/articles/<slug>/comments/<comment_id>",
    middlewares=[never_cached],
    summary="Delete your comment, while its edit window is open and it has no reply",
    security=EDIT_TOKEN,
)
@tracer.capture_method
def handle_delete_own_comment(slug: SlugParam, comment_id: CommentIdParam) -> Response[None]:
    comments.delete_own(slug, comment_id, token=bearer_token(app))
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@app.get(
    "/admin/comments",
    middlewares=[never_cached],
    summary="Moderation queue: comments with one status",
)
@tracer.capture_method
def handle_list_moderation_queue(
    status: Annotated[CommentStatus, Query()] = "pending",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[AdminComment]:
    return comments.list_for_moderation(status, limit=limit, cursor=cursor)


@app.post(
    "/admin/comments/<slug>/<comment_id>/<action>",
    middlewares=[never_cached],
    summary="Approve, spam or trash",
)
@tracer.capture_method
def handle_post_moderation(
    slug: SlugParam,
    comment_id: CommentIdParam,
    action: Annotated[ModerationAction, Path()],
) -> StatusChange:
    moderator = app.current_event.request_context.identity.user_arn or "admin"
    return comments.moderate(slug, comment_id, action, by=moderator)


@app.delete(
    "/admin/comments/<slug>/<comment_id>",
    middlewares=[never_cached],
    summary="Delete a comment for good",
)
@tracer.capture_method
def handle_delete_comment(slug: SlugParam, comment_id: CommentIdParam) -> Response[None]:
    comments.delete(slug, comment_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@app.get(
    "/admin/emails",
    middlewares=[never_cached],
    summary="Email log: the notifications' emails with one status, newest first",
)
@tracer.capture_method
def handle_list_emails(
    status: Annotated[EmailStatus, Query()] = "sent",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[LoggedEmail]:
    return email_log.list_emails(status, limit=limit, cursor=cursor)


# Articles the site's CMS hosts (docs/cms.md): registered, closed or opened, deleted.
AnyEntity = Annotated[
    str | None,
    Header(alias="If-None-Match", pattern=r"^\*$", description="*: only a new article."),
]
ExistingEntity = Annotated[
    str | None,
    Header(alias="If-Match", pattern=r"^\*$", description="*: only an article registered before."),
]


@app.put(
    "/admin/articles/<slug>",
    middlewares=[never_cached],
    summary="Register or update an article the site hosts, by its slug and canonical URL",
    responses={200: {"description": "Updated"}, 201: {"description": "Registered"}},
)
@tracer.capture_method
def handle_put_article(
    slug: SlugParam,
    registration: Annotated[ArticleRegistration, Body()],
    if_none_match: AnyEntity = None,
    if_match: ExistingEntity = None,
) -> Response[AdminArticle]:
    if if_none_match and if_match:
        raise MalformedRequestError(
            "Send If-None-Match: * (a new article) or If-Match: * (an existing one), not both.",
            field="If-Match",
            location="header",
        )
    # newsroom.article_admin (its table writes load boto3) only on the admin routes' requests.
    from newsroom import article_admin

    expect: article_admin.Expectation = (
        "new" if if_none_match else "existing" if if_match else "any"
    )
    stored, created = article_admin.register(slug, registration, expect=expect)
    return Response(
        status_code=HTTPStatus.CREATED if created else HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=to_admin(stored),
        headers={"Location": location_of(app, f"/articles/{slug}")} if created else None,
    )


@app.post(
    "/admin/articles/<slug>/<action>",
    middlewares=[never_cached],
    summary="Close or open an article's comments",
)
@tracer.capture_method
def handle_post_article_action(
    slug: SlugParam, action: Annotated[ArticleAction, Path()]
) -> AdminArticle:
    from newsroom import article_admin

    return to_admin(article_admin.act(slug, action))


@app.delete(
    "/admin/articles/<slug>",
    middlewares=[never_cached],
    summary="Delete an article (with its comments, when asked)",
)
@tracer.capture_method
def handle_delete_article(
    slug: SlugParam,
    comments_: Annotated[
        Literal["refuse", "delete"],
        Query(
            alias="comments",
            description="refuse (default): 409 while the article has comments; delete: "
            "delete them with it.",
        ),
    ] = "refuse",
) -> Response[None]:
    from newsroom import article_admin

    article_admin.delete(slug, comments=comments_)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@app.post(
    "/privacy/requests",
    middlewares=[never_cached],
    summary="Ask, by email, for a copy of everything stored about an address",
    responses={202: {}},
)
@tracer.capture_method
def handle_post_privacy_request(
    privacy_request: Annotated[PrivacyRequestIn, Body()],
) -> Response[PrivacyRequestAccepted]:
    ip, _ = request_sender(app, trusted_edge_secret=comments_settings().trusted_edge_secret)
    # Links lead to PublicBaseUrl, or else to where this request reached the API: the function
    # cannot be given the API's own URL, which would make the API and it depend on each other.
    rules = privacy_requests.PrivacyRules.from_settings()
    rules = replace(rules, base_url=public_base_url(app.current_event, rules.base_url))
    accepted = privacy_requests.request(privacy_request, ip, rules=rules)
    return Response(
        status_code=HTTPStatus.ACCEPTED, content_type=content_types.APPLICATION_JSON, body=accepted
    )


LINK_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {
        "description": "A page for a person, or the same as JSON with Accept: application/json",
        "content": {"application/json": {"model": links.LinkPage}, "text/html": {}},
    }
}


@app.get(
    "/links/<token>",
    middlewares=[pages_for_people],
    summary="What an email link would do",
    responses=LINK_RESPONSES,
)
@tracer.capture_method
def handle_get_link(token: LinkToken) -> Response[str]:
    page = links.open_link(token)
    return page_or_json(
        app, page, title=page.title, message=page.message, button=page.button, quote=page.quote()
    )


@app.post(
    "/links/<token>",
    middlewares=[pages_for_people],
    summary="Do what an email link says",
    responses=LINK_RESPONSES,
)
@tracer.capture_method
def handle_post_link(token: LinkToken) -> Response[str]:
    page = links.follow_link(token)
    if isinstance(page, PrivacyExport):
        # A download, whoever asks: the JSON file of everything stored about the address.
        return Response(
            status_code=HTTPStatus.OK,
            content_type=content_types.APPLICATION_JSON,
            body=page.model_dump_json(indent=2),
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": 'attachment; filename="comments-export.json"',
            },
        )
    return page_or_json(app, page, title=page.title, message=page.message)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = precheck_json_body(
        event, max_bytes=comments_settings().max_body_bytes, resources=JSON_BODY_RESOURCES
    ) or precheck_json_body(
        event, max_bytes=REGISTRATION_MAX_BYTES, resources=ARTICLE_BODY_RESOURCES
    )
    if refused:
        return cors.add_headers(event, refused)
    with deadline.invocation(context):
        return cors.add_headers(event, app.resolve(event, context))
