"""A reply arriving while its parent's author edits or deletes the parent: "no reply exists" is
enforced when the write is made, not only when the comment is read, so a reply never hangs
under a deleted comment and never answers a text that changed under it.

moto applies each request alone (as DynamoDB applies a transaction) but enforces no conflict
between transactions, so the races are made, not hoped for: the request under test runs in this
process and is stopped right before its `TransactWriteItems` leaves (a botocore `before-send`
hook on the layer's client), while the other request runs, whole, in another execution
environment (a worker process: Powertools keeps the request being handled on the resolver
class, so two requests cannot share a process). Then the first goes on with what it read.
DynamoDB's own answer to two transactions on one item at once (`TransactionConflict`, which
moto never gives) is injected with a fault, and must be retried.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.data import dynamo
from newsroom.privacy import email_hash, ip_hash
from newsroom.secrets import project_keys
from tests.apigw import Answer, invoke, rest_event
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    COMMENTS,
    ONE_COMMENT,
    article_comment_count,
    edit_comment,
    edit_when_flood_allows,
    form,
    fresh_ip,
    list_comments,
    own_content_table,
    post_comment,
    stored_comments,
    stored_item,
)
from tests.integration.test_faults import dynamodb_fault

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

_HOOK_ID = "tests-edit-races"
BATCH_GET, TRANSACT = 1, 2  # an edit's calls, in order: the read, then the transaction


def in_another_environment(event: dict[str, Any], environment: dict[str, str]) -> Answer:
    """One invocation of the comments function in the worker, with this test's settings."""
    from functions.comments.app import lambda_handler
    from newsroom.config import comments_settings

    os.environ.update(environment)
    comments_settings.cache_clear()
    return invoke(lambda_handler, event)


@pytest.fixture(scope="module")
def other_environment() -> Iterator[ProcessPoolExecutor]:
    """A second execution environment of the comments function."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, "functions.comments.app"])
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as worker:
        yield worker


@pytest.fixture
def content_table(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    with own_content_table(dynamodb, monkeypatch, stream=False) as table:
        yield table


@pytest.fixture
def slug(content_table: str, unique: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """An article of this test's own; first comments are published at once."""
    from newsroom.config import comments_settings

    monkeypatch.setenv("REQUIRE_PREVIOUS_APPROVAL", "false")
    comments_settings.cache_clear()
    slug = f"race-{unique}"
    seed(content_table, slug)
    return slug


def settings_of_this_test() -> dict[str, str]:
    names = ("CONTENT_TABLE_NAME", "REQUIRE_PREVIOUS_APPROVAL")
    return {name: os.environ[name] for name in names}


def reply_event(slug: str, parent_id: str, unique: str) -> dict[str, Any]:
    return rest_event(
        "POST",
        COMMENTS,
        path_params={"slug": slug},
        headers={"Content-Type": "application/json"},
        body=json.dumps(form(unique, reader="replier", body="I disagree.", parent_id=parent_id)),
        source_ip=fresh_ip(),
    )


def delete_event(slug: str, comment_id: str, token: str) -> dict[str, Any]:
    return rest_event(
        "DELETE",
        ONE_COMMENT,
        path_params={"slug": slug, "comment_id": comment_id},
        headers={"Authorization": f"Bearer {token}"},
    )


def edit_event(slug: str, comment_id: str, token: str, body: str) -> dict[str, Any]:
    return rest_event(
        "PATCH",
        ONE_COMMENT,
        path_params={"slug": slug, "comment_id": comment_id},
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        body=json.dumps({"body": body}),
        source_ip=fresh_ip(),
    )


@contextmanager
def before_the_write(other: Callable[[], Answer]) -> Iterator[list[Answer]]:
    """Run `other` (whole) when this process's next `TransactWriteItems` is about to leave,
    after the request under test read what it decides on; what it answered is yielded."""
    answered: list[Answer] = []
    operations: list[str] = []

    def intercept(request: AWSPreparedRequest, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        operations.append(operation)
        if operation == "TransactWriteItems" and not answered:
            assert "BatchGetItem" in operations, "the request under test wrote before reading"
            answered.append(other())

    events = dynamo.client().meta.events
    events.register("before-send.dynamodb", intercept, unique_id=_HOOK_ID)
    try:
        yield answered
    finally:
        events.unregister("before-send.dynamodb", unique_id=_HOOK_ID)
    assert answered, "the other request never ran"


def posted_long_ago(table: str, slug: str, reader: dict[str, Any]) -> tuple[str, str]:
    """Post `reader`'s comment and let flood control forget it (its guards deleted, as if
    posted a while ago), so its author may edit at once; (id, edit token)."""
    ip = fresh_ip()
    answer = post_comment(slug, reader, ip=ip)
    assert (answer.status, answer.body["status"]) == (201, "approved"), answer.body
    secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
    for pk in (
        f"GUARD#FLOOD#ip#{ip_hash(secret, ip)}",
        f"GUARD#FLOOD#email#{email_hash(secret, reader['author_email'])}",
    ):
        dynamo.client().delete_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": "GUARD"}})
    return str(answer.body["id"]), str(answer.body["edit_token"])


def invoke_here(event: dict[str, Any]) -> Answer:
    """The request under test, in this process."""
    from functions.comments.app import lambda_handler

    return invoke(lambda_handler, event)


def listed_ids(slug: str) -> list[str]:
    return [item["id"] for item in list_comments(slug, limit="100").body["items"]]


def test_reply_stored_after_an_edit_read_its_comment_makes_the_edit_fail(
    other_environment: ProcessPoolExecutor, content_table: str, slug: str, unique: str
) -> None:
    # Given an approved comment, in its window, with no reply yet
    parent, token = posted_long_ago(content_table, slug, form(unique, body="The original."))
    reply = reply_event(slug, parent, unique)

    # When a reply is stored between the edit's read and its write
    with before_the_write(
        lambda: other_environment.submit(
            in_another_environment, reply, settings_of_this_test()
        ).result()
    ) as other:
        answer = edit_comment(slug, parent, "A text the reply never saw.", token=token)

    # Then the reply is stored, and the edit is refused for it: the text stays what was answered
    assert other[0].status == 201, other[0].body
    assert answer.status == 403, answer.body
    assert answer.body["error"]["code"] == "edit_window_closed"
    assert "reply" in answer.body["error"]["message"]
    stored = stored_item(content_table, slug, parent)
    assert (stored["body_markdown"], stored["revision"], stored["replies"]) == (
        "The original.",
        0,
        1,
    )
    assert listed_ids(slug) == [parent, other[0].body["id"]]


def test_reply_stored_after_a_delete_read_its_comment_makes_the_delete_fail(
    other_environment: ProcessPoolExecutor, content_table: str, slug: str, unique: str
) -> None:
    parent, token = posted_long_ago(content_table, slug, form(unique))
    reply = reply_event(slug, parent, unique)

    with before_the_write(
        lambda: other_environment.submit(
            in_another_environment, reply, settings_of_this_test()
        ).result()
    ) as other:
        answer = invoke_here(delete_event(slug, parent, token))

    assert other[0].status == 201, other[0].body
    assert answer.status == 403, answer.body
    assert answer.body["error"]["code"] == "edit_window_closed"
    assert listed_ids(slug) == [parent, other[0].body["id"]]
    assert article_comment_count(slug) == 2


@pytest.mark.parametrize("change", ["deleted", "held-again-by-an-edit"])
def test_parent_deleted_or_held_after_a_reply_read_it_makes_the_reply_fail(
    other_environment: ProcessPoolExecutor,
    content_table: str,
    slug: str,
    unique: str,
    change: str,
) -> None:
    # Given an approved comment its author deletes, or edits so that it is held again
    parent, token = posted_long_ago(content_table, slug, form(unique))
    if change == "deleted":
        event = delete_event(slug, parent, token)
        done = 204
    else:
        links = "[one](https://one.example) [two](https://two.example)"
        event = edit_event(slug, parent, token, f"Now with links: {links}")
        done = 200

    # When that happens between a reply's read (the parent approved) and its write
    with before_the_write(
        lambda: other_environment.submit(
            in_another_environment, event, settings_of_this_test()
        ).result()
    ) as other:
        answer = post_comment(slug, form(unique, reader="replier", parent_id=parent))

    # Then the change is made, and the reply refused: nothing hangs under a missing or held
    # comment, and nothing of the reply is stored
    assert other[0].status == done, other[0].body
    assert answer.status == 422, answer.body
    assert answer.body["error"]["code"] == "invalid_parent"
    assert [c["id"] for c in stored_comments(content_table, slug)] == (
        [] if change == "deleted" else [parent]
    )
    assert listed_ids(slug) == []
    assert article_comment_count(slug) == 0
    if change != "deleted":
        assert stored_item(content_table, slug, parent)["replies"] == 0


def test_edit_cancelled_for_a_conflicting_transaction_is_retried_and_made_once(
    content_table: str, slug: str, unique: str
) -> None:
    # Given DynamoDB cancelling the edit's transaction because another was writing its
    # comment at the time (a reply, say: moto never does)
    parent, token = posted_long_ago(content_table, slug, form(unique))

    with dynamodb_fault(TRANSACT, "conflict") as fault:
        answer = edit_comment(slug, parent, "Made once.", token=token)

    # Then it is tried again, and made once
    assert answer.status == 200, answer.body
    assert fault.failed == [("TransactWriteItems", 1)]
    assert fault.calls().count("TransactWriteItems") == 2
    stored = stored_item(content_table, slug, parent)
    assert (stored["body_markdown"], stored["revision"]) == ("Made once.", 1)


def test_edit_whose_answer_was_lost_is_answered_as_made_once(
    content_table: str, slug: str, unique: str
) -> None:
    # Given an edit DynamoDB applies but whose answer never arrives
    parent, token = posted_long_ago(content_table, slug, form(unique))

    with dynamodb_fault(TRANSACT, "answer-lost", attempts=1):
        answer = edit_comment(slug, parent, "Applied, answer lost.", token=token)

    # Then the resend with its client token is answered as applied: not refused by its own
    # flood guard or revision, and made once
    assert answer.status == 200, answer.body
    stored = stored_item(content_table, slug, parent)
    assert (stored["body_markdown"], stored["revision"]) == ("Applied, answer lost.", 1)


@pytest.mark.usefixtures("quick_flood")
def test_a_moderation_read_before_an_edit_cannot_apply_after_it(slug: str, unique: str) -> None:
    from newsroom.comments import default_rules
    from newsroom.errors import StatusConflictError
    from newsroom.models.comments import Moderation

    # Given a comment (approved here: this module's articles hold nobody), read by a moderation
    # before its author edits it
    posted = post_comment(slug, form(unique, body="A first text."))
    assert (posted.status, posted.body["status"]) == (201, "approved"), posted.body
    comment_id, token = posted.body["id"], posted.body["edit_token"]
    store = default_rules().store
    read = store.get(slug, comment_id)
    assert read is not None
    edited = edit_when_flood_allows(slug, comment_id, "Another text.", token=token)
    assert edited.status == 200, edited.body

    # When the moderation writes what it read
    with pytest.raises(StatusConflictError):
        store.change_status(
            read, "trash", moderation=Moderation(rule="moderator_trash", explanation="x")
        )

    # Then nothing changes: the text the moderator judged is not the one stored
    stored = store.get(slug, comment_id)
    assert stored is not None
    assert (stored.status, stored.body_markdown) == ("approved", "Another text.")
