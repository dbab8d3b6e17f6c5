"""The minimum time between loading the comment form and posting it, through the comments
function's real API Gateway events (the emulator), then through the local run over HTTP with
the template parameter set: GET /form-token, and a comment's form_token refused, held or let
through to the usual verdict.

Tokens "issued" seconds ago are signed here with the emulator's project key, as the API would
have signed them then: a test does not wait out the minimum, except the local run's one.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.comments.app import lambda_handler
from newsroom.form_time import issue
from newsroom.secrets import project_keys
from newsroom_tools.runner import LocalSystem, free_port
from tests.apigw import EVENTS_DIR, Answer, invoke, rest_event
from tests.http_client import Reply, request
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    content_table_of_its_own,  # noqa: F401 (the content_table fixture: a table per test)
    edit_when_flood_allows,
    form,
    post_comment,
    stored_comments,
    stored_item,
)
from tests.local_runs import own_table_prefix

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
TOO_SOON = re.compile(r"^It was posted \d+\.\d s after the form was loaded; minimum 30 s\.$")


@pytest.fixture
def slug(content_table: str, unique: str, settings: Settings) -> str:
    """A published article approving every comment (no previous approval needed)."""
    settings(require_previous_approval="false")
    slug = f"ft-{unique}"
    seed(content_table, slug)
    return slug


def get_form_token() -> Answer:
    return invoke(lambda_handler, rest_event("GET", "/form-token"))


def issued_ago(seconds: float) -> str:
    """A form token as the API would have issued it `seconds` ago."""
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    return issue(keys, now=datetime.now(UTC) - timedelta(seconds=seconds))


def refused(answer: Answer) -> str:
    assert answer.status == 403, answer.body
    assert answer.error_fields == {"form_token"}
    assert answer.body["error"]["details"][0]["location"] == "body"
    return str(answer.body["error"]["code"])


def test_a_form_token_is_issued_uncached_when_on_and_unknown_when_off(
    slug: str, settings: Settings
) -> None:
    off = get_form_token()
    settings(minimum_form_seconds="3")
    on = get_form_token()
    from_event_file = invoke(
        lambda_handler, json.loads((EVENTS_DIR / "get_form_token.json").read_text())
    )

    assert off.status == 404
    assert off.body["error"]["code"] == "route_not_found"
    assert on.status == from_event_file.status == 200, (on.body, from_event_file.body)
    assert set(on.body) == {"token", "minimum_seconds"}
    assert on.body["minimum_seconds"] == 3
    assert re.fullmatch(r"\d{13}\.[A-Za-z0-9_-]{43}", on.body["token"])
    assert "no-store" in on.headers["cache-control"]


def test_off_by_default_a_comment_needs_no_token_and_any_is_ignored(slug: str, unique: str) -> None:
    without = post_comment(slug, form(unique))
    foreign = post_comment(slug, form(unique, reader="b", form_token="1" * 13 + "." + "A" * 43))

    assert (without.status, foreign.status) == (201, 201), (without.body, foreign.body)
    assert without.body["status"] == foreign.body["status"] == "approved"


def test_on_a_missing_foreign_or_expired_token_is_refused_and_nothing_is_stored(
    slug: str, unique: str, content_table: str, settings: Settings
) -> None:
    settings(minimum_form_seconds="3")
    token = issued_ago(60)
    issued, signature = token.split(".")
    backdated = f"{int(issued) - 60_000}.{signature}"  # claims the form was open a minute more

    missing = post_comment(slug, form(unique))
    forged = post_comment(slug, form(unique, form_token=backdated))
    foreign = post_comment(slug, form(unique, form_token=f"{issued}.{'A' * 43}"))
    expired = post_comment(slug, form(unique, form_token=issued_ago(24 * 3600 + 5)))

    assert refused(missing) == "form_token_missing"
    assert "GET /form-token" in missing.body["error"]["message"]
    assert refused(forged) == "form_token_invalid"
    assert refused(foreign) == "form_token_invalid"
    assert refused(expired) == "form_token_expired"
    assert stored_comments(content_table, slug) == []


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not a token", id="not-a-token"),
        pytest.param("1" * 13 + "." + "A" * 44, id="too-long"),
        pytest.param(12345, id="not-a-string"),
    ],
)
def test_a_malformed_token_is_422_naming_the_field_whether_on_or_off(
    slug: str, unique: str, content_table: str, settings: Settings, token: Any
) -> None:
    off = post_comment(slug, form(unique, form_token=token))
    settings(minimum_form_seconds="3")
    on = post_comment(slug, form(unique, form_token=token))

    for answer in (off, on):
        assert answer.status == 422, answer.body
        assert answer.body["error"]["code"] == "invalid_request"
        assert answer.error_fields == {"form_token"}
    assert stored_comments(content_table, slug) == []


def test_a_comment_posted_sooner_than_the_minimum_is_held_with_the_reason_stored(
    slug: str, unique: str, content_table: str, settings: Settings
) -> None:
    # Given a minimum of 30 s, and a token the API issues now
    settings(minimum_form_seconds="30")
    token = get_form_token().body["token"]

    # When a comment is posted with it at once
    answer = post_comment(slug, form(unique, form_token=token))

    # Then it is accepted as held, answered as any held comment, and why is kept with it
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "pending"
    assert set(answer.body) == {"id", "status", "edit_token", "editable_until"}
    item = stored_item(content_table, slug, answer.body["id"])
    assert item["status"] == "pending"
    assert item["moderation"]["rule"] == "posted_too_soon"
    assert TOO_SOON.match(item["moderation"]["explanation"]), item["moderation"]


def test_a_comment_posted_after_the_minimum_gets_the_usual_verdict(
    slug: str, unique: str, content_table: str, settings: Settings
) -> None:
    settings(minimum_form_seconds="3")
    token = issued_ago(4)

    approved = post_comment(slug, form(unique, form_token=token))
    settings(require_previous_approval="true")
    first = post_comment(slug, form(unique, reader="b", form_token=token))  # the same page

    assert (approved.status, first.status) == (201, 201), (approved.body, first.body)
    assert approved.body["status"] == "approved"
    assert first.body["status"] == "pending"
    rules = {
        item["id"]: item["moderation"]["rule"] for item in stored_comments(content_table, slug)
    }
    assert rules == {approved.body["id"]: "auto_approved", first.body["id"]: "first_comment"}


@pytest.mark.usefixtures("quick_flood")
def test_an_edit_is_not_timed(slug: str, unique: str, settings: Settings) -> None:
    # Given a minimum form time, and a comment posted in time and approved
    settings(minimum_form_seconds="30")
    posted = post_comment(slug, form(unique, form_token=issued_ago(31)))
    assert (posted.status, posted.body["status"]) == (201, "approved"), posted.body

    # When its author edits it at once (as soon as flood control lets them), with no token
    edited = edit_when_flood_allows(
        slug, posted.body["id"], "Edited at once.", token=posted.body["edit_token"]
    )

    # Then the edit is judged as ever, and stays approved
    assert edited.status == 200, edited.body
    assert edited.body["status"] == "approved"


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(
    slug: str, unique: str, settings: Settings
) -> None:
    settings(minimum_form_seconds="30")
    body = form(unique, form_token=get_form_token().body["token"])
    key = {"Idempotency-Key": str(uuid.uuid4())}

    first = post_comment(slug, body, headers=key)
    retry = post_comment(slug, body, headers=key)

    assert first.status == retry.status == 201, (first.body, retry.body)
    assert (retry.body["id"], retry.body["status"]) == (first.body["id"], "pending")


# The local run, with the template parameter set (real HTTP, the emulator on a port of its own)


@pytest.fixture(scope="module")
def timed_system() -> Iterator[LocalSystem]:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        parameters={"MinimumFormSeconds": "2"},
        table_prefix=own_table_prefix(),
    ) as running:
        yield running


def test_the_local_run_with_the_parameter_set_times_the_form(
    timed_system: LocalSystem, settings: Settings, unique: str
) -> None:
    # Given the local run with MinimumFormSeconds=2, approving every comment, and one article
    settings(require_previous_approval="false")
    api, slug = timed_system.api_url, timed_system.seeded[0]

    def post(reader: str, **fields: Any) -> Reply:
        # Each reader from a loopback address of their own: flood control keeps them apart
        return request(
            f"{api}/articles/{slug}/comments",
            method="POST",
            json_body=form(unique, reader=reader, **fields),
            source_ip=f"127.0.0.{ord(reader) - ord('a') + 11}",
        )

    # When the form's token is fetched, a comment posted without it, one with it at once, and
    # another with it once the minimum has passed
    issued = request(f"{api}/form-token")
    loaded_at = time.monotonic()
    token = issued.json()["token"]
    missing = post("a")
    too_soon = post("b", form_token=token)
    time.sleep(max(2.2 - (time.monotonic() - loaded_at), 0))  # the reader takes their time
    in_time = post("c", form_token=token)

    # Then the token came with the minimum, uncached; the first post is refused, the second
    # held, the third approved
    assert issued.status == 200
    assert issued.json()["minimum_seconds"] == 2
    assert issued.headers["cache-control"] == "no-store"
    assert missing.status == 403
    assert missing.json()["error"]["code"] == "form_token_missing"
    assert (too_soon.status, too_soon.json()["status"]) == (201, "pending")
    assert (in_time.status, in_time.json()["status"]) == (201, "approved")
