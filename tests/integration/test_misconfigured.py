"""A deployment whose project secret is missing or too short (SSM, `SecretParameterName`):
readers are answered 503 with the API's error shape and nothing is stored; the operator gets
an error log naming the parameter and the alarmed `SecretUnavailable` metric."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from functions.articles.app import lambda_handler as articles_handler
from newsroom.secrets import MIN_SECRET_BYTES
from tests.apigw import invoke, rest_event
from tests.integration.articles_data import seed
from tests.integration.comments_api import form, post_comment, stored_comments

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

pytestmark = pytest.mark.integration


def short_secret(unique: str) -> str:
    """A SecureString one byte shorter than a key may be; its name."""
    ssm: SSMClient = boto3.client("ssm")
    name = f"/newsroom-test/short-{unique}"
    ssm.put_parameter(
        Name=name, Value="k" * (MIN_SECRET_BYTES - 1), Type="SecureString", Overwrite=True
    )
    return name


def emitted(printed: str) -> list[dict[str, Any]]:
    """The JSON lines the function printed (its EMF metrics)."""
    return [json.loads(line) for line in printed.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("secret", ["missing", "too-short"])
def test_a_comment_posted_while_the_secret_is_unusable_is_503_stores_nothing_and_alarms(
    content_table: str,
    unique: str,
    settings: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    secret: str,
) -> None:
    # Given an article, and a deployment whose secret parameter is missing or too short
    slug = f"m-{unique}"
    seed(content_table, slug)
    name = f"/newsroom-test/absent-{unique}" if secret == "missing" else short_secret(unique)
    settings(secret_parameter_name=name)
    capsys.readouterr()

    # When a reader posts a comment
    answer = post_comment(slug, form(unique))

    # Then they are told to come back later, in the API's error shape, not a 500
    assert answer.status == 503, answer.body
    assert answer.body["error"]["code"] == "service_misconfigured"
    assert answer.headers["retry-after"] == "300"
    assert name not in json.dumps(answer.body)
    # And nothing is stored
    assert stored_comments(content_table, slug) == []
    # And the operator is told which parameter, and the alarmed metric counts it
    errors = [record for record in caplog.records if record.levelname == "ERROR"]
    assert [getattr(record, "cause", None) for record in errors] == [
        f"the SSM parameter {name} does not exist"
        if secret == "missing"
        else f"{name} must hold at least {MIN_SECRET_BYTES} bytes"
    ]
    printed = emitted(capsys.readouterr().out)
    assert [line["SecretUnavailable"] for line in printed if "SecretUnavailable" in line] == [[1.0]]


def test_the_articles_function_answers_503_too_when_a_listing_needs_the_secret(
    content_table: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployment whose secret parameter is missing (the articles function signs the
    # cursor of a next page with it)
    from newsroom.config import articles_settings

    slug = f"m-{unique}"
    seed(content_table, slug)
    seed(content_table, f"{slug}-2")
    monkeypatch.setenv("SECRET_PARAMETER_NAME", f"/newsroom-test/absent-{unique}")
    articles_settings.cache_clear()
    try:
        # When a reader asks for a page of articles with a next page after it
        answer = invoke(articles_handler, rest_event("GET", "/articles", query={"limit": "1"}))
    finally:
        articles_settings.cache_clear()

    # Then the answer is a 503 in the API's error shape
    assert answer.status == 503, answer.body
    assert answer.body["error"]["code"] == "service_misconfigured"
