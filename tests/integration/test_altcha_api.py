"""ALTCHA proof of work through the comments function's real API Gateway events (the
emulator): the challenge route, and a comment's solution accepted once."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from altcha import Challenge, Payload, solve_challenge

from functions.comments.app import lambda_handler
from tests.apigw import Answer, invoke, rest_event
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    form,
    post_comment,
    stored_comments,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

from tests.integration.comments_api import (
    content_table_of_its_own,  # noqa: F401 (the content_table fixture: a table per test)
)

pytestmark = pytest.mark.integration

Settings = Callable[..., None]


@pytest.fixture
def slug(content_table: str, unique: str, settings: Settings) -> str:
    """A published article taking comments with ALTCHA on, at the lowest cost."""
    settings(altcha="on", altcha_cost="1", require_previous_approval="false")
    slug = f"pow-{unique}"
    seed(content_table, slug)
    return slug


def get_challenge() -> Answer:
    return invoke(lambda_handler, rest_event("GET", "/challenge"))


def solution() -> str:
    """A fresh challenge from the API, solved as the widget would."""
    answer = get_challenge()
    assert answer.status == 200, answer.body
    challenge = Challenge.from_dict(answer.body)
    solved = solve_challenge(challenge)
    assert solved is not None
    return Payload(challenge, solved).to_base64()


def refused(answer: Answer) -> str:
    assert answer.status == 403, answer.body
    assert answer.error_fields == {"altcha"}
    return str(answer.body["error"]["code"])


def spent_item(dynamodb: DynamoDBClient, table: str, payload: str) -> dict[str, Any]:
    signature = json.loads(base64.b64decode(payload))["challenge"]["signature"]
    key = {"pk": {"S": f"ALTCHA#{signature}"}, "sk": {"S": "ALTCHA"}}
    return dict(dynamodb.get_item(TableName=table, Key=key).get("Item", {}))


def test_challenge_is_issued_uncached_when_on_and_unknown_when_off(
    slug: str, settings: Settings
) -> None:
    on = get_challenge()
    settings(altcha="off")
    off = get_challenge()

    assert on.status == 200, on.body
    assert on.body["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    assert on.body["parameters"]["cost"] == 1
    assert on.body["signature"]
    assert "no-store" in on.headers["cache-control"]
    assert off.status == 404
    assert off.body["error"]["code"] == "route_not_found"


def test_a_solution_is_accepted_once_and_its_replay_stores_nothing(
    slug: str, unique: str, content_table: str, dynamodb: DynamoDBClient
) -> None:
    payload = solution()

    first = post_comment(slug, form(unique, altcha=payload))
    replay = post_comment(slug, form(unique, reader="b", altcha=payload))

    assert first.status == 201, first.body
    assert refused(replay) == "altcha_used"
    assert [c["id"] for c in stored_comments(content_table, slug)] == [first.body["id"]]
    assert int(spent_item(dynamodb, content_table, payload)["expires_at"]["N"]) > 0


def test_missing_and_tampered_solutions_are_refused_and_nothing_is_stored(
    slug: str, unique: str, content_table: str
) -> None:
    payload = json.loads(base64.b64decode(solution()))
    payload["solution"]["derivedKey"] = "00" * 32
    tampered = base64.b64encode(json.dumps(payload).encode()).decode()

    missing = post_comment(slug, form(unique))
    forged = post_comment(slug, form(unique, altcha=tampered))
    garbage = post_comment(slug, form(unique, altcha="not base64 at all"))

    assert refused(missing) == "altcha_missing"
    assert refused(forged) == "altcha_invalid"
    assert refused(garbage) == "altcha_invalid"
    assert stored_comments(content_table, slug) == []


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    slug: str, unique: str
) -> None:
    body, key = form(unique, altcha=solution()), {"Idempotency-Key": str(uuid.uuid4())}

    first = post_comment(slug, body, headers=key)
    retry = post_comment(slug, body, headers=key)

    assert first.status == retry.status == 201, (first.body, retry.body)
    assert retry.body["id"] == first.body["id"]


def test_the_altcha_field_is_ignored_while_off(slug: str, unique: str, settings: Settings) -> None:
    settings(altcha="off")

    answer = post_comment(slug, form(unique, altcha="anything"))

    assert answer.status == 201, answer.body
