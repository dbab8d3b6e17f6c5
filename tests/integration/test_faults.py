"""Faults: DynamoDB throttled or unreachable while a comment is posted, SES failing while the
stream is delivered, the notifications function crashing in the middle of a batch, and its
process killed in the middle of sending.

DynamoDB faults are injected on the layer's own client (`newsroom.data.dynamo.client()`) with a
`before-send` hook, on the comment data's calls (the Idempotency-Key's records, which share the
client, are left alone), so botocore's retries (standard mode: up to three attempts) see them as
they would see AWS's answers; the invocation's deadline (`newsroom.deadline`) is checked before
them, as it is before a request leaves for AWS. The comments function runs in process on a
content table of the test's own.

SES faults and crashes go through a local run (`LocalSystem`): its stream poller, with the
template's batching, partial batch failures, bisecting, retries and dead-letter queue, delivers
the table's stream to the real notifications handler. The handler is wrapped (`Notifications`)
only to record what it was given, to run a chosen invocation in a child process that is killed
(SIGKILL) mid-send, and to report an invocation that dies as Lambda does, as a function error.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session

from functions.articles.app import lambda_handler as articles_handler
from functions.notifications.app import lambda_handler as notifications_handler
from newsroom import deadline
from newsroom.config import comments_settings
from newsroom.data import dynamo
from newsroom.data.articles import ARTICLE_SK, article_pk, save_article
from newsroom.data.notifications import LEDGER_SK, NotificationTable
from newsroom.deadline import DeadlineExceededError
from newsroom.emails import Email
from newsroom.errors import IndexNotReadyError, ServiceUnavailableError
from newsroom.mail import SesMailer, TransientMailError
from newsroom.privacy import commenter_key, duplicate_key, email_hash, ip_hash
from newsroom.secrets import project_keys
from newsroom_tools.outbox import Outbox
from newsroom_tools.runner import LocalSystem, free_port
from newsroom_tools.template import PROJECT_ROOT
from tests.apigw import Answer, LambdaContext, invoke, rest_event
from tests.http_client import Reply, loopback_address, request
from tests.integration.articles_data import seed, stored_article
from tests.integration.comments_api import (
    article_comment_count,
    form,
    fresh_ip,
    own_content_table,
    post_comment,
    stored_comments,
)
from tests.integration.notifications_stream import (
    maximum_retry_attempts,
    mentioning,
    ses_fault,
)
from tests.local_runs import own_table_prefix

if TYPE_CHECKING:
    from botocore.awsrequest import AWSPreparedRequest
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

pytestmark = pytest.mark.integration

_HOOK_ID = "tests-faults-dynamodb"
_ATTEMPT = re.compile(r"attempt=(\d+)")
BATCH_GET, TRANSACT = 1, 2  # the calls a post makes, in order: the read, then the transaction
# Long enough for the stream to drain what a test left on a busy machine.
STREAM_SECONDS = 30.0


# -- DynamoDB faults -----------------------------------------------------------------------------


class _Body:
    """What botocore reads an answer's body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def dynamodb_error(
    status: int, error_type: str, message: str = "injected by the test"
) -> Callable[[AWSPreparedRequest], AWSResponse]:
    """An answer DynamoDB gives (JSON 1.0 protocol) with this status, error type and message."""

    def answer(request: AWSPreparedRequest) -> AWSResponse:
        headers = HTTPHeaders.from_dict(
            {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": uuid.uuid4().hex}
        )
        body = json.dumps({"__type": error_type, "message": message}).encode()
        return AWSResponse(request.url, status, headers, _Body(body))

    return answer


def unreachable(request: AWSPreparedRequest) -> AWSResponse:
    raise EndpointConnectionError(endpoint_url=request.url)


def answer_lost(request: AWSPreparedRequest) -> AWSResponse:
    """DynamoDB gets the request and acts on it, but its answer never arrives (a read timeout
    on the client's side)."""
    URLLib3Session().send(request)
    raise ReadTimeoutError(endpoint_url=request.url)


def transaction_cancelled(code: str, message: str) -> Callable[[AWSPreparedRequest], AWSResponse]:
    """DynamoDB's answer to a TransactWriteItems it cancelled for one action (the first) with
    reason `code`: one reason per action, in order, "None" for the others."""

    def answer(request: AWSPreparedRequest) -> AWSResponse:
        actions = len(json.loads(request.body or b"{}")["TransactItems"])
        reasons = [{"Code": code, "Message": message}] + [{"Code": "None"}] * (actions - 1)
        codes = ", ".join(reason["Code"] for reason in reasons)
        headers = HTTPHeaders.from_dict(
            {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": uuid.uuid4().hex}
        )
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                "Message": "Transaction cancelled, please refer cancellation reasons for "
                f"specific reasons [{codes}]",
                "CancellationReasons": reasons,
            }
        ).encode()
        return AWSResponse(request.url, 400, headers, _Body(body))

    return answer


FAILURES = {
    "throttled": dynamodb_error(
        400, "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
    ),
    "throttling": dynamodb_error(400, "com.amazon.coral.availability#ThrottlingException"),
    "internal-error": dynamodb_error(500, "com.amazonaws.dynamodb.v20120810#InternalServerError"),
    "unreachable": unreachable,
    # A read of an index DynamoDB is still building (added to a live table, backfilling).
    "backfilling": dynamodb_error(
        400,
        "com.amazon.coral.validate#ValidationException",
        "Cannot read from backfilling global secondary index: gsi5",
    ),
    "answer-lost": answer_lost,
    # A transaction cancelled because another one was writing one of its items.
    "conflict": transaction_cancelled("TransactionConflict", "Transaction is ongoing for the item"),
    # A transaction cancelled because one of its items (an index of it) is over capacity.
    "throttled-in-transaction": transaction_cancelled(
        "ThrottlingError",
        "Throughput exceeds the current capacity for one or more global secondary indexes. "
        "DynamoDB is automatically scaling your index so please try again shortly.",
    ),
}


@dataclass
class DynamoFault:
    """What an armed fault saw: (operation, attempt) of every request sent, and those failed."""

    sent: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, int]] = field(default_factory=list)

    def calls(self) -> list[str]:
        """The operations called, each once however often botocore tried it."""
        return [operation for operation, attempt in self.sent if attempt == 1]


def _names_table(request: AWSPreparedRequest, table: str) -> bool:
    body = request.body or b"{}"
    named = json.loads(body.decode() if isinstance(body, bytes) else body).get("TableName")
    return bool(named == table)


def _header(request: AWSPreparedRequest, name: str) -> str:
    value = request.headers.get(name, "")
    return value.decode() if isinstance(value, bytes) else str(value)


@contextmanager
def dynamodb_fault(
    call: int, failure: str, *, attempts: int | None = None, later_calls: bool = False
) -> Iterator[DynamoFault]:
    """Make the layer's DynamoDB client fail the `call`-th call made while armed (from 1): every
    attempt botocore makes at it, or only its first `attempts`; with `later_calls`, every call
    after it too (DynamoDB still failing when the function calls again).

    A call is one botocore invocation (its `amz-sdk-invocation-id`); its retries are attempts
    of the same call (`amz-sdk-request: attempt=N`).
    """
    seen = DynamoFault()
    calls: dict[str, int] = {}
    fail = FAILURES[failure]

    def intercept(request: AWSPreparedRequest, **_: Any) -> Any:  # an AWSResponse, or None
        if _names_table(request, os.environ["IDEMPOTENCY_TABLE_NAME"]):
            return None  # the Idempotency-Key's record: these faults are the comment data's
        operation = _header(request, "X-Amz-Target").rsplit(".", 1)[-1]
        number = calls.setdefault(_header(request, "amz-sdk-invocation-id"), len(calls) + 1)
        found = _ATTEMPT.search(_header(request, "amz-sdk-request"))
        attempt = int(found.group(1)) if found else 1
        seen.sent.append((operation, attempt))
        failing = number >= call if later_calls else number == call
        if not failing or (attempts is not None and attempt > attempts):
            return None
        seen.failed.append((operation, attempt))
        return fail(request)

    events = dynamo.client().meta.events
    events.register("before-send.dynamodb", intercept, unique_id=_HOOK_ID)
    try:
        yield seen
    finally:
        events.unregister("before-send.dynamodb", unique_id=_HOOK_ID)


def client_attempts() -> int:
    """How often the layer's client tries a call: the first attempt and its retries (botocore
    turns `max_attempts`, the retries, into `total_max_attempts`)."""
    retries = getattr(dynamo.client().meta.config, "retries", None) or {}
    return int(retries["total_max_attempts"])


def attempt_seconds() -> float:
    """The longest one attempt of the layer's client may take: its connect and read timeouts."""
    config = dynamo.client().meta.config
    return float(config.connect_timeout) + float(config.read_timeout)


@dataclass(frozen=True)
class Poster:
    """One reader posting one comment on one article, and the records that post may write."""

    table: str
    slug: str
    form: dict[str, Any]
    ip: str

    def post(
        self, headers: dict[str, str] | None = None, *, seconds_left: float | None = None
    ) -> Answer:
        """Post the comment, in an invocation with `seconds_left` (the function's timeout, when
        None)."""
        context = (
            None
            if seconds_left is None
            else LambdaContext(remaining_millis=int(seconds_left * 1000))
        )
        return post_comment(self.slug, self.form, ip=self.ip, headers=headers, context=context)

    def guard_keys(self) -> dict[str, str]:
        """pk of the duplicate guard, both flood guards and the commenter's profile, keyed as
        the comments function keys them (with the project secret)."""
        secret = project_keys(os.environ["SECRET_PARAMETER_NAME"]).current
        email, name, body = self.form["author_email"], self.form["author_name"], self.form["body"]
        return {
            "duplicate guard": f"GUARD#DUP#{duplicate_key(secret, self.slug, email, body)}",
            "IP flood guard": f"GUARD#FLOOD#ip#{ip_hash(secret, self.ip)}",
            "email flood guard": f"GUARD#FLOOD#email#{email_hash(secret, email)}",
            "commenter profile": f"COMMENTER#{commenter_key(secret, name, email)}",
        }

    def records(self) -> dict[str, dict[str, Any] | None]:
        """Each of those records as stored now (a consistent GetItem), or None."""
        found: dict[str, dict[str, Any] | None] = {}
        for name, pk in self.guard_keys().items():
            sk = "PROFILE" if pk.startswith("COMMENTER#") else "GUARD"
            response = dynamo.client().get_item(
                TableName=self.table,
                Key={"pk": {"S": pk}, "sk": {"S": sk}},
                ConsistentRead=True,
            )
            item = response.get("Item")
            found[name] = None if item is None else dynamo.from_item(item)
        return found


@pytest.fixture
def poster(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch, unique: str
) -> Iterator[Poster]:
    """A table and an article of this test's own, and a reader whose comment is approved at
    once (so the article's count moves with it)."""
    monkeypatch.setenv("REQUIRE_PREVIOUS_APPROVAL", "false")
    comments_settings.cache_clear()
    with own_content_table(dynamodb, monkeypatch, stream=False) as table:
        slug = f"fault-{unique}"
        seed(table, slug)
        yield Poster(table, slug, form(unique), fresh_ip())
    comments_settings.cache_clear()


def assert_service_unavailable(answer: Answer) -> None:
    assert answer.status == 503, answer.body
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["cache-control"] == "no-store"
    assert answer.body == {
        "error": {
            "code": "service_unavailable",
            "message": answer.body["error"]["message"],
            "details": [],
        }
    }


def assert_nothing_stored(poster: Poster) -> None:
    assert stored_comments(poster.table, poster.slug) == []
    assert article_comment_count(poster.slug) == 0
    assert poster.records() == dict.fromkeys(poster.guard_keys())


def assert_stored_once(poster: Poster, comment_id: str) -> None:
    """The comment once, counted once, with its guards and profile pointing at it."""
    (comment,) = stored_comments(poster.table, poster.slug)
    assert (comment["id"], comment["status"]) == (comment_id, "approved")
    assert article_comment_count(poster.slug) == 1
    records = poster.records()
    assert records["duplicate guard"] is not None
    assert records["duplicate guard"]["comment_sk"] == f"COMMENT#{comment_id}"
    assert records["IP flood guard"] is not None
    assert records["email flood guard"] is not None
    assert records["commenter profile"] is not None
    assert records["commenter profile"]["approved_count"] == 1


@pytest.mark.parametrize("failure", ["throttled", "internal-error", "unreachable"])
@pytest.mark.parametrize(
    ("call", "operation", "sends"),
    [
        pytest.param(BATCH_GET, "BatchGetItem", 1, id="the-read"),
        # Sent once more with its client token when botocore gives up: it may have been applied.
        pytest.param(TRANSACT, "TransactWriteItems", 2, id="the-transaction"),
    ],
)
def test_post_is_503_with_retry_after_and_leaves_nothing_when_dynamodb_fails_past_the_retries(
    poster: Poster, call: int, operation: str, sends: int, failure: str
) -> None:
    # Given DynamoDB failing from one call of the post on, on every attempt botocore makes
    with dynamodb_fault(call, failure, later_calls=True) as fault:
        # When the reader posts
        answer = poster.post()

    # Then the API says to come back later, in the one error shape
    assert_service_unavailable(answer)
    # And botocore did retry each call, as often as the client allows, before giving up
    attempts = [(operation, n) for n in range(1, client_attempts() + 1)]
    assert fault.failed == attempts * sends
    assert fault.calls() == ["BatchGetItem", "TransactWriteItems"][:call] + [operation] * (
        sends - 1
    )
    # And nothing is left behind: no comment, no count, no guard, no profile
    assert_nothing_stored(poster)

    # When the fault clears and the reader sends the same post again
    again = poster.post()

    # Then it is accepted, and stored and counted once
    assert again.status == 201, again.body
    assert_stored_once(poster, again.body["id"])


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        pytest.param(BATCH_GET, "BatchGetItem", id="the-read"),
        pytest.param(TRANSACT, "TransactWriteItems", id="the-transaction"),
    ],
)
@pytest.mark.parametrize("failure", ["throttling", "internal-error", "unreachable"])
def test_post_is_accepted_once_when_botocore_retries_absorb_a_passing_fault(
    poster: Poster, call: int, operation: str, failure: str
) -> None:
    # Given DynamoDB failing one call of the post on its first attempt only
    with dynamodb_fault(call, failure, attempts=1) as fault:
        # When the reader posts
        answer = poster.post()

    # Then the retry went through, and the comment is stored and counted once
    assert answer.status == 201, answer.body
    assert fault.failed == [(operation, 1)]
    assert (operation, 2) in fault.sent
    assert_stored_once(poster, answer.body["id"])


def test_post_is_503_with_retry_after_and_leaves_nothing_while_transactions_are_throttled(
    poster: Poster,
) -> None:
    # Given DynamoDB cancelling every transaction of the post: an item is over capacity
    with dynamodb_fault(TRANSACT, "throttled-in-transaction", later_calls=True) as fault:
        # When the reader posts
        answer = poster.post()

    # Then the API says to come back later (botocore does not retry a cancellation; the
    # function tried again itself before giving up)
    assert_service_unavailable(answer)
    assert [op for op, _ in fault.failed].count("TransactWriteItems") > 1
    # And nothing is left behind
    assert_nothing_stored(poster)


def test_post_is_accepted_once_when_a_throttled_transaction_goes_through_on_a_retry(
    poster: Poster,
) -> None:
    # Given DynamoDB cancelling the post's first transaction: an item is over capacity
    with dynamodb_fault(TRANSACT, "throttled-in-transaction") as fault:
        # When the reader posts
        answer = poster.post()

    # Then the function tried again, and the comment is stored and counted once
    assert answer.status == 201, answer.body
    assert fault.failed == [("TransactWriteItems", 1)]
    assert fault.calls().count("TransactWriteItems") == 2
    assert_stored_once(poster, answer.body["id"])


def test_503_under_a_fault_leaves_the_idempotency_key_free_for_the_retry(poster: Poster) -> None:
    # Given a post with an Idempotency-Key, answered 503 while the transaction kept failing
    key = {"Idempotency-Key": f"fault-{uuid.uuid4().hex}"}
    with dynamodb_fault(TRANSACT, "internal-error", later_calls=True):
        failed = poster.post(headers=key)
    assert_service_unavailable(failed)

    # When the client retries with the same key once DynamoDB is back, and once more
    retried = poster.post(headers=key)
    again = poster.post(headers=key)

    # Then the retry is accepted, the next gets the same answer, and one comment is stored
    assert retried.status == 201, retried.body
    assert (again.status, again.body) == (201, retried.body)
    assert_stored_once(poster, retried.body["id"])


# -- the invocation's deadline -----------------------------------------------------------------


def test_post_committed_while_every_answer_to_it_was_lost_is_answered_as_stored_not_503(
    poster: Poster,
) -> None:
    # Given DynamoDB applying the post's transaction, but every answer to it lost, on each
    # attempt botocore makes before it gives up
    with dynamodb_fault(TRANSACT, "answer-lost") as fault:
        # When the reader posts
        answer = poster.post()

    # Then the post is answered as the stored comment it is: the function sent the transaction
    # once more with its client token, which DynamoDB answers as applied (not meeting the
    # comment's own guards, nor a 503 for a comment that is there)
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "approved"
    assert fault.failed == [("TransactWriteItems", n) for n in range(1, client_attempts() + 1)]
    assert_stored_once(poster, answer.body["id"])


def test_post_with_less_time_left_than_an_attempt_takes_is_503_and_sends_nothing(
    poster: Poster, dynamodb_requests: list[str]
) -> None:
    # Given an invocation with less time left than one DynamoDB attempt may take
    seconds_left = attempt_seconds()
    dynamodb_requests.clear()

    # When the reader posts
    answer = poster.post(seconds_left=seconds_left)

    # Then the API says to come back later, before Lambda would stop it, and sent nothing
    assert_service_unavailable(answer)
    assert dynamodb_requests == []
    assert_nothing_stored(poster)


def test_attempts_that_could_not_end_before_the_invocation_does_are_not_started(
    poster: Poster,
) -> None:
    # Given DynamoDB out of reach, and time left for one attempt and the backoff after it,
    # but not for a second attempt
    with dynamodb_fault(BATCH_GET, "unreachable") as fault:
        # When the reader posts
        answer = poster.post(seconds_left=attempt_seconds() + 2)

    # Then one attempt was made, not every one botocore would make, and the answer is a 503
    assert fault.failed == [("BatchGetItem", 1)]
    assert_service_unavailable(answer)
    assert_nothing_stored(poster)


def test_reading_the_keys_with_too_little_time_left_is_503_not_an_error(poster: Poster) -> None:
    # Given a container that has not read the project's keys yet, and little time left
    project_keys.cache_clear()

    # When the reader posts
    answer = poster.post(seconds_left=1.5)

    # Then SSM is not called past the deadline: the API says to come back later
    assert_service_unavailable(answer)
    assert_nothing_stored(poster)


@pytest.mark.parametrize("feed", ["/feed", "/tags/{tag}/feed"])
def test_article_feed_is_503_with_a_longer_retry_after_while_its_index_is_being_built(
    poster: Poster, feed: str
) -> None:
    # Given the feed index just added to the live table: DynamoDB refuses to read it until it
    # has backfilled it from the items already there
    event = rest_event("GET", feed, path_params={"tag": "harbour"} if "{tag}" in feed else None)
    with dynamodb_fault(1, "backfilling", later_calls=True) as fault:
        # When a feed reader fetches the feed
        answer = invoke(articles_handler, event)

    # Then it is told to come back in minutes, not seconds (a backfill takes that long)
    assert_service_unavailable(answer)
    assert int(answer.headers["retry-after"]) == IndexNotReadyError.retry_after_seconds
    assert IndexNotReadyError.retry_after_seconds > ServiceUnavailableError.retry_after_seconds
    # ... after one Query, not retried: the refusal is no passing fault botocore would retry
    assert fault.sent == [("Query", 1)]

    # When the index is ready
    again = invoke(articles_handler, event)

    # Then the feed is served
    assert again.status == 200, again.body


@pytest.mark.parametrize("message_id", ["", "0100-deadline"], ids=["update", "with-pointer"])
def test_an_email_that_went_out_is_recorded_whatever_the_time_left(
    content_table: str, message_id: str
) -> None:
    # Given an email claimed in the sent-email ledger, then sent, with no time left for a
    # DynamoDB attempt's worst case (its SES message id, when it has one, settled with its
    # pointer in one transaction)
    ledger = NotificationTable(content_table)
    key = f"deadline-{uuid.uuid4().hex}"
    assert ledger.claim(key, now=datetime.now(UTC), lease=timedelta(seconds=30))
    with deadline.invocation(LambdaContext(remaining_millis=1_000)):
        with pytest.raises(DeadlineExceededError):
            dynamo.client().get_item(TableName=content_table, Key=ledger_item(key))

        # When the function records that it went out
        ledger.settle(key, "sent", detail="message-1", message_id=message_id)

    # Then it is recorded (refusing would have it sent again by the retry)
    item = dynamo.client().get_item(
        TableName=content_table, Key=ledger_item(key), ConsistentRead=True
    )["Item"]
    assert (item["state"]["S"], item["detail"]["S"]) == ("sent", "message-1")
    assert item.get("ses_message_id", {}).get("S", "") == message_id


def ledger_item(key: str) -> dict[str, Any]:
    return {"pk": {"S": key}, "sk": {"S": LEDGER_SK}}


def test_an_email_that_cannot_be_sent_before_the_deadline_is_left_for_a_retry() -> None:
    # Given an invocation of the notifications function with little time left
    email = Email(
        to=f"deadline-{uuid.uuid4().hex[:8]}@example.org",
        subject="Deadline",
        text="Text.",
        html="<p>Text.</p>",
    )

    # When an email is sent
    with (
        deadline.invocation(LambdaContext(remaining_millis=3_000)),
        pytest.raises(TransientMailError),
    ):
        SesMailer().send(email, sender=os.environ["SENDER_EMAIL"])

    # Then SES was not called (a transient failure: the stream delivers the record again)
    assert Outbox.in_process().emails(to=email.to) == []

    # When there is time enough
    with deadline.invocation(LambdaContext(remaining_millis=60_000)):
        SesMailer().send(email, sender=os.environ["SENDER_EMAIL"])

    # Then it is sent
    assert len(Outbox.in_process().emails(to=email.to)) == 1


# -- SES faults and crashes through the local run -------------------------------------------------


class InvocationDiedError(BaseException):
    """The invocation dies where it stands (a timeout, the runtime killed): no `except
    Exception` in the handler catches it, as nothing catches a killed process."""


@dataclass(frozen=True)
class Death:
    """An invocation to run in a process of its own, killed at its first email."""

    mentioning: str  # the first event holding this text is the one
    die: str  # "before-ses-accepts" or "after-ses-accepts" (see dying_invocation)
    seconds_left: int  # the invocation's remaining time when it starts


class Notifications:
    """The real notifications handler, as the local run's NotificationsFunction, recording each
    event it is given; an invocation that dies is reported as Lambda reports it: a function
    error, the batch not done.

    After `die_next_time`, the invocation it names runs the real handler in a child process
    (tests/integration/dying_invocation.py) that is SIGKILLed in the middle of sending.
    """

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.exit_codes: list[int] = []  # of the child processes, in order
        self._death: Death | None = None
        self._lock = threading.Lock()

    def die_next_time(self, mentioning: str, *, die: str, seconds_left: int) -> None:
        with self._lock:
            self._death = Death(mentioning, die, seconds_left)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self._lock:
            self.events.append(event)
            death = self._death
            if death is not None and death.mentioning in json.dumps(event):
                self._death = None
            else:
                death = None
        if death is not None:
            return self._in_a_process_that_dies(event, death)
        try:
            return notifications_handler(event, context)
        except InvocationDiedError as exc:
            raise RuntimeError("the invocation died") from exc

    def _in_a_process_that_dies(self, event: dict[str, Any], death: Death) -> Any:
        # The local run's environment (emulator endpoint, table names), as Lambda would give it.
        path = os.pathsep.join([str(PROJECT_ROOT / "shared"), str(PROJECT_ROOT)])
        request = {"event": event, "die": death.die, "seconds_left": death.seconds_left}
        child = subprocess.run(
            [sys.executable, "-m", "tests.integration.dying_invocation"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            env=os.environ | {"PYTHONPATH": path},
            timeout=120,
            check=False,
        )
        with self._lock:
            self.exit_codes.append(child.returncode)
        if child.returncode != 0:
            raise RuntimeError(f"the invocation died ({child.returncode}): {child.stderr[-2000:]}")
        return json.loads(child.stdout)

    def batches_with(self, comment_ids: set[str]) -> list[list[str]]:
        """The comment ids of each batch that held any of `comment_ids`, in order."""
        with self._lock:
            events = list(self.events)
        batches = [
            [
                record["dynamodb"]["Keys"]["sk"]["S"].removeprefix("COMMENT#")
                for record in e["Records"]
            ]
            for e in events
        ]
        return [batch for batch in batches if comment_ids & set(batch)]

    def sequence_number(self, comment_id: str) -> str:
        """The stream sequence number of the comment's INSERT record."""
        with self._lock:
            records = [record for event in self.events for record in event["Records"]]
        return next(
            str(r["dynamodb"]["SequenceNumber"])
            for r in records
            if r["eventName"] == "INSERT"
            and r["dynamodb"]["Keys"]["sk"]["S"] == f"COMMENT#{comment_id}"
        )


@pytest.fixture(scope="module")
def notifications() -> Notifications:
    return Notifications()


@pytest.fixture(scope="module")
def system(notifications: Notifications) -> Iterator[LocalSystem]:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        seed=False,
        handlers={"NotificationsFunction": notifications},
    ) as running:
        yield running


@dataclass(frozen=True)
class Site:
    """The local run, an article of the test's own on it, and its moderators."""

    system: LocalSystem
    slug: str
    unique: str

    @property
    def moderators(self) -> list[str]:
        return list(json.loads(os.environ["MODERATOR_EMAILS"]))

    def post(self, reader: str) -> Reply:
        """`reader`'s comment (the same text each time), from an address of its own."""
        return request(
            f"{self.system.api_url}/articles/{self.slug}/comments",
            method="POST",
            json_body=form(self.unique, reader=reader),
            source_ip=loopback_address(),
        )

    def held(self, reader: str) -> str:
        """A first-time commenter's comment (held for moderation); its id."""
        reply = self.post(reader)
        assert (reply.status, reply.json()["status"]) == (201, "pending"), reply.body
        return str(reply.json()["id"])

    def marker(self, reader: str) -> str:
        """Text only `reader`'s comment holds (and so the emails about it)."""
        return f"by {reader} ({self.unique})"

    def emails_about(self, reader: str) -> Counter[str]:
        """How many emails about `reader`'s comment each address received."""
        assert self.system.outbox is not None
        return Counter(
            address.lower()
            for sent in self.system.outbox.emails()
            if self.marker(reader) in (sent.text or "")
            for address in sent.to
        )

    def wait_for_emails_about(
        self, reader: str, timeout: float = 10.0, *, addresses: int = 1
    ) -> Counter[str]:
        """Poll the outbox until emails about `reader`'s comment reached `addresses` addresses;
        then, the stream delivered in full, what arrived."""
        deadline = time.monotonic() + timeout
        while len(self.emails_about(reader)) < addresses and time.monotonic() < deadline:
            time.sleep(0.05)
        self.system.wait_for_streams(max(1.0, deadline - time.monotonic()))
        return self.emails_about(reader)

    def dead_letter_count(self) -> int:
        """Messages in the dead-letter queue, visible or not."""
        attributes = self._sqs().get_queue_attributes(
            QueueUrl=self.system.table_names["NotificationsDeadLetterQueue"],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def dead_letters(self) -> list[dict[str, Any]]:
        """Every message in the dead-letter queue (hidden for a moment while they are read,
        ten at a time)."""
        found: dict[str, dict[str, Any]] = {}
        while True:
            received = (
                self._sqs()
                .receive_message(
                    QueueUrl=self.system.table_names["NotificationsDeadLetterQueue"],
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=2,
                )
                .get("Messages", [])
            )
            new = {m["MessageId"]: json.loads(m["Body"]) for m in received}
            if not new.keys() - found.keys():
                return list(found.values())
            found |= new

    def _sqs(self) -> SQSClient:
        client: SQSClient = boto3.client("sqs", endpoint_url=self.system.emulator_url)
        return client

    def given_up(self) -> int:
        return sum(poller.given_up for poller in self.system.stream_pollers)

    @contextmanager
    def one_batch(self) -> Iterator[None]:
        """Hold the stream's records back while the block runs, so what it writes is delivered
        in one batch (up to the template's BatchSize) once it ends."""
        (poller,) = self.system.stream_pollers
        window = poller.batching_window
        poller.batching_window = 60.0
        try:
            yield
        finally:
            poller.batching_window = window


@pytest.fixture
def site(system: LocalSystem, unique: str) -> Iterator[Site]:
    """An article of the test's own on the local run, deleted afterwards: every local run in
    this process shares moto's tables, and others list the demo articles alone."""
    db: DynamoDBClient = boto3.client("dynamodb", endpoint_url=system.emulator_url)
    table = system.table_names["ContentTable"]
    slug = f"fault-{unique}"
    author = {"name": "Ada Reporter", "email": f"author-{unique}@example.org"}
    save_article(stored_article(slug, author=author), table=table, previous=None, db=db)
    try:
        system.wait_for_streams(STREAM_SECONDS)
        yield Site(system, slug, unique)
    finally:
        db.delete_item(
            TableName=table, Key={"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}}
        )


def test_emails_keep_flowing_and_none_is_sent_for_a_refused_comment_through_the_local_run(
    site: Site,
) -> None:
    # Given a held comment whose moderation email went out
    site.held("a")
    assert site.wait_for_emails_about("a") == Counter(dict.fromkeys(site.moderators, 1))

    # When the same comment is sent again (refused: too soon, and a duplicate) and another
    # reader posts
    again = site.post("a")
    site.held("b")

    # Then the refused comment sent nothing, and the next comment's email arrives
    assert again.status == 429
    assert site.wait_for_emails_about("b") == Counter(dict.fromkeys(site.moderators, 1))
    assert site.emails_about("a") == Counter(dict.fromkeys(site.moderators, 1))


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param((429, "TooManyRequestsException"), id="throttled"),
        pytest.param((503, None), id="unavailable"),
    ],
)
def test_email_arrives_once_when_ses_recovers_after_failing_through_the_local_run(
    site: Site, answer: tuple[int, str | None]
) -> None:
    # Given SES failing the first two attempts at the email about a comment
    dead_before, given_up_before = site.dead_letter_count(), site.given_up()
    with ses_fault(mentioning(site.marker("a")), answer=answer, times=2) as fault:
        # When a held comment is posted and the stream delivers it, retrying as Lambda does
        site.held("a")
        received = site.wait_for_emails_about("a")

    # Then SES did fail twice, and each moderator got the email once
    assert len(fault.failed) == 2
    assert received == Counter(dict.fromkeys(site.moderators, 1))
    # And nothing was given up
    assert site.given_up() == given_up_before
    assert site.dead_letter_count() == dead_before


def test_record_goes_to_the_dead_letter_queue_when_ses_fails_longer_than_the_retries(
    site: Site, notifications: Notifications
) -> None:
    # Given SES failing every attempt at the email about a comment
    given_up_before = site.given_up()
    throttled = (429, "TooManyRequestsException")
    with ses_fault(mentioning(site.marker("a")), answer=throttled) as fault:
        # When a held comment is posted and the stream has delivered it
        comment = site.held("a")
        site.system.wait_for_streams(timeout=20)

    # Then it was tried once and retried as often as the template says, then given up on
    tries = 1 + maximum_retry_attempts()
    assert len(fault.failed) == tries * len(site.moderators)
    assert site.given_up() == given_up_before + 1
    assert site.emails_about("a") == Counter()
    # And the dead-letter queue (which has an alarm) names the record: not sent, not hidden
    sequence = notifications.sequence_number(comment)
    (message,) = [
        m for m in site.dead_letters() if m["DDBStreamBatchInfo"]["startSequenceNumber"] == sequence
    ]
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == tries
    assert message["DDBStreamBatchInfo"]["endSequenceNumber"] == sequence
    assert message["DDBStreamBatchInfo"]["batchSize"] == 1


@pytest.mark.parametrize(
    ("crash", "retried"),
    [
        # The handler raises on one record: Powertools reports it, Lambda resumes from it.
        pytest.param(RuntimeError("injected crash"), [["b", "c"]], id="record-fails"),
        # The invocation dies: Lambda bisects the batch and retries each half.
        pytest.param(InvocationDiedError(), [["a"], ["b", "c"]], id="invocation-dies"),
    ],
)
def test_every_email_is_sent_once_when_the_function_crashes_in_the_middle_of_a_batch(
    site: Site, notifications: Notifications, crash: BaseException, retried: list[list[str]]
) -> None:
    # Given three held comments delivered to the function in one batch
    dead_before = site.dead_letter_count()
    # ses_fault raises whatever it is given, a BaseException too.
    with ses_fault(mentioning(site.marker("b")), crash=cast("Exception", crash), times=1) as fault:
        with site.one_batch():
            ids = {reader: site.held(reader) for reader in "abc"}

        # When the function crashes at the second comment's email, after the first's went out
        site.system.wait_for_streams()

    # Then the poller retried what was not done, and each moderator got each email once
    assert len(fault.failed) == 1
    by_id = {comment_id: reader for reader, comment_id in ids.items()}
    batches = [[by_id[c] for c in batch] for batch in notifications.batches_with(set(by_id))]
    assert batches == [["a", "b", "c"], *retried]
    for reader in "abc":
        assert site.emails_about(reader) == Counter(dict.fromkeys(site.moderators, 1)), reader
    assert site.dead_letter_count() == dead_before


@pytest.mark.parametrize(
    ("die", "first_moderator_gets"),
    [
        # SES never saw the email: the retry sends it, once.
        pytest.param("before-ses-accepts", 1, id="before-ses-accepts"),
        # SES accepted it but the ledger was not told: the retry sends it again (at least once).
        pytest.param("after-ses-accepts", 2, id="after-ses-accepts"),
    ],
)
def test_first_retry_sends_what_a_process_killed_mid_send_left_claimed(
    site: Site, notifications: Notifications, die: str, first_moderator_gets: int
) -> None:
    # Given that the invocation delivering a held comment's record is a process killed at its
    # first email (to the first moderator), with 8 seconds of its time left
    dead_before, given_up_before = site.dead_letter_count(), site.given_up()
    notifications.die_next_time(site.marker("a"), die=die, seconds_left=8)

    # When the comment is posted and the stream delivers it, retrying as Lambda does
    comment = site.held("a")
    received = site.wait_for_emails_about("a", timeout=40, addresses=len(site.moderators))

    # Then the process did die, and the first retry (waiting out the claim the dead invocation
    # held) sent every email that needed sending
    assert notifications.exit_codes[-1] == -signal.SIGKILL
    assert notifications.batches_with({comment}) == [[comment], [comment]]
    first, *others = site.moderators
    assert received == Counter({first: first_moderator_gets} | dict.fromkeys(others, 1))
    # And nothing was given up
    assert site.given_up() == given_up_before
    assert site.dead_letter_count() == dead_before
