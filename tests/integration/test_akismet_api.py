"""Akismet through the comments function's real API Gateway events, against a fake Akismet on
loopback (tests/integration/fake_akismet.py): nothing reaches rest.akismet.com."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.akismet_check import sync_client
from newsroom.config import notifications_settings
from newsroom.data import dynamo
from newsroom.data.articles import article_pk
from newsroom_tools.streams import lambda_record
from tests.flood import QUICK_FLOOD_SECONDS
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    admin_action,
    article_comment_count,
    delete_own_comment,
    edit_comment,
    edit_when_flood_allows,
    form,
    own_content_table,
    post_comment,
    stored_comment,
    stored_item,
)
from tests.integration.fake_akismet import (
    DISCARD,
    ERROR,
    SLOW,
    SPAM_AUTHOR,
    SUBMIT_ERROR,
    FakeAkismet,
    running_fake_akismet,
)
from tests.integration.notifications_stream import (
    batch,
    comment_item,
    delivered,
    failed,
    handle,
    stream_arn,
    stream_record,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_ssm import SSMClient
    from pytest_localstack.session import RunningSession

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
CHECK = "/1.1/comment-check"
SUBMIT_SPAM = "/1.1/submit-spam"
SUBMIT_HAM = "/1.1/submit-ham"
API_KEY = "f00dfeed1234"  # an Akismet key's shape: 12 hex digits
# What API Gateway saw as the user agent in the sample events (requestContext.identity).
SAMPLE_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) newsroom-sample"


@pytest.fixture(scope="module")
def fake_akismet() -> Iterator[FakeAkismet]:
    with running_fake_akismet() as fake:
        yield fake


@pytest.fixture(scope="module")
def akismet_key(localstack: RunningSession, tables: dict[str, str]) -> Iterator[str]:
    """An SSM SecureString holding the Akismet key, as AkismetKeyParameterName names one."""
    ssm: SSMClient = localstack.boto3.client("ssm")
    name = os.environ["SECRET_PARAMETER_NAME"] + "-akismet"
    ssm.put_parameter(Name=name, Value=API_KEY, Type="SecureString", Overwrite=True)
    try:
        yield name
    finally:
        ssm.delete_parameter(Name=name)
        sync_client.cache_clear()


@pytest.fixture
def content_table(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    with own_content_table(dynamodb, monkeypatch) as table:
        notifications_settings.cache_clear()
        try:
            yield table
        finally:
            notifications_settings.cache_clear()


@pytest.fixture
def slug(
    content_table: str,
    unique: str,
    settings: Settings,
    fake_akismet: FakeAkismet,
    akismet_key: str,
) -> str:
    """A published article; the rules approve every comment; Akismet on, against the fake,
    for the comments and the notifications function."""
    settings(
        require_previous_approval="false",
        akismet_key_parameter_name=akismet_key,
        akismet_api_url=fake_akismet.url,
        akismet_is_test="true",
        public_base_url="https://news.example",
        article_url_template="{base}/stories/{slug}",
        site_language="en, fr_ca",
    )
    notifications_settings.cache_clear()
    slug = f"ak-{unique}"
    seed(content_table, slug)
    return slug


def test_a_comment_akismet_calls_ham_is_approved_and_akismet_got_every_field(
    content_table: str, slug: str, unique: str, fake_akismet: FakeAkismet
) -> None:
    # When a reader posts a comment from the article's page, Akismet answering ham
    answer = post_comment(
        slug,
        form(unique, author_url="https://reader.example/"),
        ip="2001:db8::a1",
        headers={"Referer": "https://news.example/page"},
    )

    # Then it is approved, the pass kept with its moderation
    assert answer.status == 201, answer.body
    stored = stored_item(content_table, slug, str(answer.body["id"]))
    assert (answer.body["status"], stored["status"]) == ("approved", "approved")
    assert stored["moderation"]["checks"] == [{"name": "akismet", "outcome": "ok", "reason": ""}]
    # And Akismet was told everything it asks for
    [sent] = fake_akismet.forms(CHECK, unique)
    assert sent == {
        "api_key": API_KEY,
        "blog": "https://news.example",
        "user_ip": "2001:db8::a1",
        "user_agent": SAMPLE_USER_AGENT,
        "referrer": "https://news.example/page",
        "permalink": f"https://news.example/stories/{slug}",
        "comment_type": "comment",
        "comment_author": "Reader A",
        "comment_author_email": f"reader-a-{unique}@example.org",
        "comment_author_url": "https://reader.example/",
        "comment_content": f"A thoughtful remark by a ({unique}).",
        "comment_date_gmt": sent["comment_date_gmt"],
        "comment_post_modified_gmt": sent["comment_post_modified_gmt"],
        "blog_lang": "en, fr_ca",
        "blog_charset": "UTF-8",
        "honeypot_field_name": "phone",
        "is_test": "1",
    }
    assert sent["comment_date_gmt"] == stored["created_at"][:19] + "Z"


def test_a_reply_is_sent_as_a_reply(
    content_table: str, slug: str, unique: str, fake_akismet: FakeAkismet
) -> None:
    parent = post_comment(slug, form(unique, reader="p"))
    assert parent.body["status"] == "approved", parent.body

    answer = post_comment(slug, form(unique, reader="r", parent_id=parent.body["id"]))

    assert answer.status == 201, answer.body
    [sent] = fake_akismet.forms(CHECK, f"by r ({unique})")
    assert sent["comment_type"] == "reply"


def test_a_comment_akismet_calls_spam_is_stored_as_spam_with_the_reason_and_answered_as_held(
    content_table: str, slug: str, unique: str
) -> None:
    answer = post_comment(slug, form(unique, author_name=SPAM_AUTHOR))

    assert answer.status == 201, answer.body
    assert answer.body["status"] == "pending"
    stored = stored_item(content_table, slug, str(answer.body["id"]))
    assert stored["status"] == "spam"
    assert stored["moderation"]["keyword"] == "akismet"
    assert stored["moderation"]["explanation"] == (
        "The content check 'akismet': Akismet says it is spam."
    )


def article_partition(table: str, slug: str) -> list[dict[str, Any]]:
    """Every item under the article's partition key (comments, sender data, answered
    duplicates, the article), as plain values: a consistent Query."""
    query = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": article_pk(slug)}},
        "ConsistentRead": True,
    }
    return [dynamo.from_item(item) for item in dynamo.query_all(dynamo.client(), query)]


def stream_records(localstack: RunningSession, table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream so far, as Lambda would hand it to a function."""
    streams: DynamoDBStreamsClient = localstack.boto3.client("dynamodbstreams")
    arn = stream_arn(table)
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        read = streams.get_records(ShardIterator=iterator)["Records"]
        records += [lambda_record(record, arn) for record in read]
    return records


def test_a_comment_akismet_says_to_discard_is_answered_as_held_and_nothing_of_it_is_stored(
    localstack: RunningSession,
    content_table: str,
    slug: str,
    unique: str,
    fake_akismet: FakeAkismet,
) -> None:
    # Given an article with the comment count readers see
    count = article_comment_count(slug)
    retry_key = {"Idempotency-Key": secrets.token_hex(8)}
    blatant = form(unique, body=f"Buy now {DISCARD} ({unique})")

    # When a comment comes that Akismet says to discard
    answer = post_comment(slug, blatant, headers=retry_key)

    # Then it is answered exactly as a held comment is
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "pending"
    assert set(answer.body) == {"id", "status", "edit_token", "editable_until"}
    comment_id = str(answer.body["id"])
    assert len(fake_akismet.forms(CHECK, unique)) == 1
    # And nothing of it is stored (no comment, no sender data), only what its edit token needs
    # until its window ends, as for a duplicate answered as held
    kept = [item for item in article_partition(content_table, slug) if comment_id in item["sk"]]
    assert [item["sk"] for item in kept] == [f"DUPLICATE#{comment_id}"]
    assert kept[0]["type"] == "answered_duplicate"
    assert kept[0]["expires_at"] == int(
        datetime.fromisoformat(str(answer.body["editable_until"])).timestamp()
    )
    assert article_comment_count(slug) == count
    # And no record of the table's stream reaches the notifications function: nobody is emailed
    records = stream_records(localstack, content_table)
    assert f"DUPLICATE#{comment_id}" in [r["dynamodb"]["Keys"]["sk"]["S"] for r in records]
    assert [r["dynamodb"]["Keys"] for r in records if delivered(r)] == []
    # And a retry with the same Idempotency-Key gets the first answer, Akismet not asked again
    again = post_comment(slug, blatant, headers=retry_key)
    assert (again.status, again.body) == (201, answer.body)
    assert len(fake_akismet.forms(CHECK, unique)) == 1


@pytest.mark.usefixtures("quick_flood")
def test_a_discarded_comment_is_edited_and_deleted_as_a_held_comment_is(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment Akismet said to discard, answered as held
    answer = post_comment(slug, form(unique, body=f"Buy now {DISCARD} ({unique})"))
    comment_id, token = str(answer.body["id"]), str(answer.body["edit_token"])

    # When its author edits it with its edit token
    edited = edit_when_flood_allows(slug, comment_id, f"Still {DISCARD} ({unique})", token=token)

    # Then the edit is answered as a held comment's, and still nothing is stored
    assert (edited.status, edited.body["id"], edited.body["status"]) == (200, comment_id, "pending")
    assert stored_comment(content_table, slug, comment_id) is None
    # and it is deleted as a held comment is, after which it is gone
    assert delete_own_comment(slug, comment_id, token=token).status == 204
    gone = edit_comment(slug, comment_id, "Back?", token=token)
    assert (gone.status, gone.body["error"]["code"]) == (404, "comment_not_found")


def test_an_edit_akismet_says_to_discard_makes_the_stored_comment_spam(
    content_table: str, slug: str, unique: str, settings: Settings
) -> None:
    # Given a comment Akismet passed
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS)
    answer = post_comment(slug, form(unique))
    assert answer.body["status"] == "approved", answer.body
    comment_id, token = str(answer.body["id"]), str(answer.body["edit_token"])

    # When its author edits it into a text Akismet says to discard
    edited = edit_when_flood_allows(slug, comment_id, f"Buy now {DISCARD} ({unique})", token=token)

    # Then it is kept, as spam, and answered as held
    assert (edited.status, edited.body["status"]) == (200, "pending")
    stored = stored_item(content_table, slug, comment_id)
    assert stored["status"] == "spam"
    assert [c["outcome"] for c in stored["moderation"]["checks"]] == ["discard"]


@pytest.mark.parametrize("marker", [ERROR, SLOW], ids=["error-body", "slow-answer"])
def test_akismet_failing_or_too_slow_holds_the_comment_never_approves_it(
    content_table: str, slug: str, unique: str, marker: str
) -> None:
    # When Akismet answers with an error, or not within the client's 1 s
    started = time.monotonic()
    answer = post_comment(slug, form(unique, body=f"Fine words {marker} ({unique})"))
    took = time.monotonic() - started

    # Then the comment is accepted and held, the failure named, the answer not kept waiting
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "pending"
    assert took < 3.0
    stored = stored_item(content_table, slug, str(answer.body["id"]))
    assert stored["status"] == "pending"
    assert stored["moderation"]["explanation"] == (
        "The content check 'akismet': check akismet failed"
    )


def test_a_comment_the_rules_hold_is_not_sent_to_akismet(
    content_table: str, slug: str, unique: str, settings: Settings, fake_akismet: FakeAkismet
) -> None:
    settings(moderate_all="true")

    answer = post_comment(slug, form(unique))

    assert answer.body["status"] == "pending"
    assert fake_akismet.forms(CHECK, unique) == []


def moderated(table: str, slug: str, comment_id: str, action: str) -> dict[str, Any]:
    """The stream record of a moderator's `action` on a comment, handed to the notifications
    function as Lambda would; its answer."""
    before = comment_item(table, slug, comment_id)
    assert admin_action(slug, comment_id, action).status == 200
    record = stream_record(table, comment_item(table, slug, comment_id), before)
    return handle(batch(record))


def test_a_moderator_marking_as_spam_what_akismet_passed_tells_akismet_from_the_stream(
    content_table: str, slug: str, unique: str, fake_akismet: FakeAkismet
) -> None:
    # Given a comment Akismet called ham
    answer = post_comment(slug, form(unique), ip="2001:db8::b2")
    assert answer.body["status"] == "approved", answer.body
    [checked] = fake_akismet.forms(CHECK, unique)
    # (the post itself reported nothing)
    assert fake_akismet.forms(SUBMIT_SPAM, unique) == []

    # When a moderator marks it as spam and its stream record reaches the notifications
    result = moderated(content_table, slug, str(answer.body["id"]), "spam")

    # Then Akismet is told it was spam, with what comment-check was sent
    assert failed(result) == []
    [reported] = fake_akismet.forms(SUBMIT_SPAM, unique)
    assert reported == checked
    assert fake_akismet.forms(SUBMIT_HAM, unique) == []


def test_a_moderator_approving_what_akismet_called_spam_tells_akismet_it_is_ham(
    content_table: str, slug: str, unique: str, fake_akismet: FakeAkismet
) -> None:
    answer = post_comment(slug, form(unique, author_name=SPAM_AUTHOR))
    comment_id = str(answer.body["id"])
    assert stored_item(content_table, slug, comment_id)["status"] == "spam"

    result = moderated(content_table, slug, comment_id, "approve")

    assert failed(result) == []
    [reported] = fake_akismet.forms(SUBMIT_HAM, unique)
    assert reported["comment_author"] == SPAM_AUTHOR
    assert reported["user_ip"] == fake_akismet.forms(CHECK, unique)[0]["user_ip"]


def test_a_decision_akismet_agrees_with_or_one_it_did_not_judge_is_not_reported(
    content_table: str, slug: str, unique: str, fake_akismet: FakeAkismet
) -> None:
    # Akismet called it spam and the moderator trashes it; a comment Akismet failed on is
    # approved by the moderator: neither is a verdict to correct
    spam = post_comment(slug, form(unique, reader="s", author_name=SPAM_AUTHOR))
    failing = post_comment(slug, form(unique, reader="f", body=f"Words {ERROR} ({unique})"))

    results = [
        moderated(content_table, slug, str(spam.body["id"]), "trash"),
        moderated(content_table, slug, str(failing.body["id"]), "approve"),
    ]

    assert [failed(r) for r in results] == [[], []]
    reports = fake_akismet.forms(SUBMIT_SPAM, unique) + fake_akismet.forms(SUBMIT_HAM, unique)
    assert reports == []


def test_a_report_akismet_refuses_is_logged_and_does_not_fail_the_stream_record(
    content_table: str, slug: str, unique: str, fake_akismet: FakeAkismet
) -> None:
    answer = post_comment(slug, form(unique, body=f"Kind words {SUBMIT_ERROR} ({unique})"))
    assert answer.body["status"] == "approved", answer.body

    result = moderated(content_table, slug, str(answer.body["id"]), "spam")

    # The report was tried, refused, and the record is not retried for it
    assert len(fake_akismet.forms(SUBMIT_SPAM, unique)) == 1
    assert failed(result) == []
