"""Articles function: serves published articles through API Gateway."""

from pathlib import Path as FilePath
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from newsroom import apidocs, articles, cors, deadline, embed, snapstart
from newsroom.config import articles_settings
from newsroom.http import cacheable, install_error_handlers, mapped_prefixes
from newsroom.models.articles import Article, ArticleSummary
from newsroom.models.common import (
    CURSOR_MAX_LENGTH,
    SLUG_MAX_LENGTH,
    SLUG_PATTERN,
    TAG_MAX_LENGTH,
    TAG_PATTERN,
    Page,
)
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
install_error_handlers(app)


@app.get(
    "/articles",
    middlewares=[cacheable(lambda: articles_settings().list_max_age_seconds)],
    summary="List published articles, newest first",
)
@tracer.capture_method
def handle_list_articles(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size.")] = 20,
    cursor: Annotated[
        str | None, Query(max_length=CURSOR_MAX_LENGTH, description="From the previous page.")
    ] = None,
    tag: Annotated[
        str | None,
        Query(max_length=TAG_MAX_LENGTH, pattern=TAG_PATTERN, description="Only this tag."),
    ] = None,
) -> Page[ArticleSummary]:
    return articles.list_published(limit=limit, cursor=cursor, tag=tag)


@app.get(
    "/articles/<slug>",
    middlewares=[cacheable(lambda: articles_settings().article_max_age_seconds)],
    summary="Get one published article",
)
@tracer.capture_method
def handle_get_article(
    slug: Annotated[str, Path(max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN)],
) -> Article:
    return articles.get_published(slug)


# Atom feeds (newsroom.feeds, imported by these routes on their first request).
FEED_RESPONSES: dict[int, OpenAPIResponse] = {
    200: {"description": "An Atom 1.0 feed", "content": {"application/atom+xml": {}}}
}


@app.get(
    "/feed",
    middlewares=[cacheable(lambda: articles_settings().list_max_age_seconds)],
    summary="Atom feed of the latest published articles",
    responses=FEED_RESPONSES,
)
@tracer.capture_method
def handle_get_feed() -> Response[str]:
    from newsroom import feeds

    return feeds.articles_feed(feeds.Site.of(app.current_event, articles_settings()))


@app.get(
    "/tags/<tag>/feed",
    middlewares=[cacheable(lambda: articles_settings().list_max_age_seconds)],
    summary="Atom feed of the latest published articles with a tag",
    responses=FEED_RESPONSES,
)
@tracer.capture_method
def handle_get_tag_feed(
    tag: Annotated[str, Path(max_length=TAG_MAX_LENGTH, pattern=TAG_PATTERN)],
) -> Response[str]:
    from newsroom import feeds

    return feeds.articles_feed(feeds.Site.of(app.current_event, articles_settings()), tag=tag)


# The comment widget's script and stylesheet (docs/embed.md), beside this module.
EMBED_DIRECTORY = FilePath(__file__).with_name("embed")


@app.get(
    "/embed/<file>",
    middlewares=[cacheable(lambda: embed.PLAIN_MAX_AGE_SECONDS)],
    summary="The comment widget's script or stylesheet",
    responses={
        200: {"description": "The file", "content": {"text/javascript": {}, "text/css": {}}}
    },
)
@tracer.capture_method
def handle_get_embed_file(
    file: Annotated[
        str,
        Path(description="One of: " + ", ".join(embed.FILE_NAMES) + ".", examples=["comments.js"]),
    ],
    v: Annotated[
        str | None,
        Query(max_length=64, description="The files' version: cached for a year when current."),
    ] = None,
) -> Response[str]:
    return embed.file(file, version=v, directory=EMBED_DIRECTORY)


# Swagger UI, published only when the ApiDocs parameter is on; otherwise these answer as
# routes the function does not have (404 route_not_found, never a 422 that would tell).
API_DOCS_MAX_AGE_SECONDS = 300


@app.get(
    "/api-docs",
    middlewares=[cacheable(lambda: API_DOCS_MAX_AGE_SECONDS)],
    summary="Swagger UI for this API, when the deployment publishes it",
    responses={200: {"description": "The page", "content": {"text/html": {}}}},
)
@tracer.capture_method
def handle_get_api_docs() -> Response[str]:
    return apidocs.page(published=articles_settings().api_docs)


@app.get(
    "/api-docs/<file>",
    middlewares=[cacheable(lambda: API_DOCS_MAX_AGE_SECONDS)],
    summary="A file the Swagger UI page loads, when the deployment publishes it",
    responses={
        200: {
            "description": "The file",
            "content": {"application/json": {}, "text/javascript": {}, "text/css": {}},
        }
    },
)
@tracer.capture_method
def handle_get_api_docs_file(
    file: Annotated[
        str,
        Path(
            description="One of: " + ", ".join(apidocs.FILE_NAMES) + ".",
            examples=list(apidocs.FILE_NAMES),
        ),
    ],
) -> Response[str]:
    return apidocs.file(file, published=articles_settings().api_docs)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with deadline.invocation(context):
        return cors.add_headers(event, app.resolve(event, context))
