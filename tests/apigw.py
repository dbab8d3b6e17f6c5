"""Drive a Lambda handler with API Gateway REST (v1) events built from the files in events/."""

from __future__ import annotations

import copy
import ipaddress
import json
import random
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
# What each event file asks for, and so the status its function must answer (default 200).
EVENT_STATUS = {
    "post_comment.json": 201,
    "post_privacy_request.json": 202,
    # Its author's edit or delete with a token the emulator's key never signed.
    "edit_comment_forged_token.json": 401,
    "delete_comment_forged_token.json": 401,
    # The template publishes no API docs unless its ApiDocs parameter is "on".
    "get_api_docs.json": 404,
    "get_api_docs_file.json": 404,
    # No minimum form time unless its MinimumFormSeconds parameter is above 0.
    "get_form_token.json": 404,
    # An update (If-Match: *) of an article never registered: the table is left as it was.
    "admin_update_article_not_registered.json": 412,
}


def expected_status(event_file: Path) -> int:
    """The status the function must answer to an unchanged event file, on the demo content.

    "*_not_found" events name an article or comment that does not exist; "*_invalid" events
    carry a link token that was not signed with the emulator's secret.
    """
    if "not_found" in event_file.stem:
        return 404
    if "invalid" in event_file.stem:
        return 400
    return EVENT_STATUS.get(event_file.name, 200)


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "2026/11/28/[$LATEST]0123456789abcdef"
    # What the invocation has left when it starts (the template's function timeout: 10 s).
    remaining_millis: int = 10_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def error_fields(self) -> set[str]:
        return {detail["field"] for detail in self.body["error"]["details"]}


@cache
def _event_file(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return loaded


def rest_event(
    method: str,
    resource: str,
    *,
    path_params: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    source_ip: str | None = None,
    base: str = "list_articles.json",
) -> dict[str, Any]:
    """A v1 proxy event shaped like `base` (a file in events/) for another request.

    Each event comes from its own random source IP unless `source_ip` is given, so flood
    control only links the requests a test means to link.
    """
    event = copy.deepcopy(_event_file(base))
    path = resource
    for name, value in (path_params or {}).items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    all_headers = {**event["headers"], **(headers or {})}
    event.update(
        resource=resource,
        path=path,
        httpMethod=method,
        headers=all_headers,
        multiValueHeaders={k: [v] for k, v in all_headers.items()},
        queryStringParameters=query or None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters=path_params or None,
        body=body,
    )
    event["requestContext"].update(
        resourcePath=resource,
        httpMethod=method,
        path="/v1" + path,
        requestId=str(uuid.uuid4()),
    )
    event["requestContext"]["identity"]["sourceIp"] = source_ip or random_ip()
    return event


def random_ip() -> str:
    """An address from 198.18.0.0/15, the range set aside for tests (RFC 2544)."""
    return str(ipaddress.IPv4Address("198.18.0.0") + random.randrange(2**17))


def invoke(handler: Any, event: dict[str, Any], context: LambdaContext | None = None) -> Answer:
    """Call the handler as Lambda would and decode its proxy result."""
    result = handler(event, context or LambdaContext())
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers.setdefault(key.lower(), ",".join(values))
    raw = result.get("body") or ""
    assert isinstance(raw, str), f"API Gateway needs a string body, got {type(raw).__name__}"
    body = json.loads(raw) if raw and "json" in headers.get("content-type", "") else raw
    return Answer(status=result["statusCode"], headers=headers, body=body)
