"""Erasure by email, through the comments function's POST /privacy/requests and its link, and
the notifications function fed the stream records it causes: a comment with replies keeps its
place without its author's data, the others are deleted, counts stay right, the address is no
longer "previously approved", nothing public and no email after it carries the address, and
its old edit tokens restore nothing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from functions.articles.app import lambda_handler as articles_handler
from newsroom import links
from newsroom.config import notifications_settings
from newsroom.data import dynamo
from newsroom.data.articles import article_pk
from newsroom.data.comments import all_comment_items
from newsroom.models.privacy import ERASED_NAME, ERASED_TEXT
from newsroom.privacy import commenter_key, subscriber_key
from newsroom.secrets import project_keys
from tests.apigw import Answer, invoke, rest_event
from tests.flood import QUICK_FLOOD_SECONDS
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    admin_action,
    admin_delete,
    admin_queue,
    delete_own_comment,
    edit_comment,
    form,
    get_comment,
    list_comments,
    own_content_table,
    post_comment,
    post_when_flood_allows,
)
from tests.integration.notifications_stream import (
    batch,
    comment_item,
    confirm_reply_notices,
    delivered,
    handle,
    removal_record,
    stream_record,
)
from tests.integration.test_notifications import ALL_DONE, JSON, error_code, open_link
from tests.integration.test_privacy_requests import (
    SUBJECTS,
    ask,
    download,
    emails_to,
    link_of,
    outbox,
    the_link,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
Item = dict[str, Any]


@dataclass
class Erased:
    """One person's comments on two articles, and someone else's reply to one of them."""

    table: str
    unique: str
    slugs: tuple[str, str]
    email: str
    name: str
    url: str
    replied: str  # on slugs[0], approved, answered by the other reader: kept, anonymised
    lone: str  # on slugs[1], approved, asked for replies: deleted
    spam: str  # on slugs[1], spam: deleted
    reply: str  # the other reader's reply to `replied`
    tokens: dict[str, str]
    inserts: list[dict[str, Any]]  # the stream's INSERT records of those comments

    def traces(self) -> list[str]:
        """What would tell of the person: address, name, website and each text."""
        return [self.email, self.name, self.url, *(f"{c} ({self.unique})" for c in TEXTS)]

    def item(self, slug: str, comment_id: str) -> Item:
        return comment_item(self.table, slug, comment_id)


TEXTS = ("First approved remark", "Lone remark", "My casino")


def accepted(answer: Answer) -> str:
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


@pytest.fixture
def erased(
    settings: Settings,
    content_table: str,
    dynamodb: DynamoDBClient,
    monkeypatch: pytest.MonkeyPatch,
    unique: str,
) -> Iterator[Erased]:
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS, disallowed_keys='["casino"]')
    with own_content_table(dynamodb, monkeypatch) as table, notifications_on_it():
        slugs = (f"e0-{unique}", f"e1-{unique}")
        for n, slug in enumerate(slugs):
            seed(table, slug, author={"name": "Ada", "email": f"author-{n}-{unique}@example.org"})
        url = f"https://e-{unique}.example.org/"
        person = form(unique, reader="e", author_url=url)
        email, name = person["author_email"], person["author_name"]
        first = post_comment(slugs[0], person | {"body": f"{TEXTS[0]} ({unique})."})
        replied = accepted(first)
        assert admin_action(slugs[0], replied, "approve").status == 200
        lone = post_when_flood_allows(
            slugs[1], person | {"body": f"{TEXTS[1]} ({unique}).", "notify_replies": True}
        )
        spam = post_when_flood_allows(slugs[1], person | {"body": f"{TEXTS[2]} ({unique})."})
        reply = post_comment(slugs[0], form(unique, reader="r", body="A reply.", parent_id=replied))
        reply_id = accepted(reply)
        assert admin_action(slugs[0], reply_id, "approve").status == 200
        confirm_reply_notices(table, email)
        ids = {"replied": replied, "lone": accepted(lone), "spam": accepted(spam)}
        inserts = [
            stream_record(table, comment_item(table, slug, cid))
            for slug, cid in [(slugs[0], replied), (slugs[1], ids["lone"]), (slugs[1], ids["spam"])]
        ]
        assert handle(batch(*inserts)) == ALL_DONE  # the emails about them went out
        yield Erased(
            table=table,
            unique=unique,
            slugs=slugs,
            email=email,
            name=name,
            url=url,
            replied=replied,
            lone=ids["lone"],
            spam=ids["spam"],
            reply=reply_id,
            tokens={
                "replied": first.body["edit_token"],
                "lone": lone.body["edit_token"],
            },
            inserts=inserts,
        )


@contextmanager
def notifications_on_it() -> Iterator[None]:
    """The notifications function reads its settings again (the test's own table), and once
    more when the block ends."""
    notifications_settings.cache_clear()
    try:
        yield
    finally:
        notifications_settings.cache_clear()


def erase(email: str) -> Answer:
    """Ask for an erasure of `email` and press the button of the emailed link."""
    assert ask({"email": email, "kind": "erase"}).status == 202
    return download(the_link(email, "erase"), accept=JSON)


def count_of(slug: str) -> int:
    answer = invoke(
        articles_handler, rest_event("GET", "/articles/{slug}", path_params={"slug": slug})
    )
    assert answer.status == 200, answer.body
    return int(answer.body["comment_count"])


def public_answers(scene: Erased) -> list[Answer]:
    """Every public read a reader can make of those articles and comments, and the admin
    queues."""
    answers = [
        invoke(articles_handler, rest_event("GET", "/articles")),
        invoke(
            comments_handler(),
            rest_event("GET", "/comment-counts", query={"slugs": ",".join(scene.slugs)}),
        ),
    ]
    for slug in scene.slugs:
        answers.append(
            invoke(
                articles_handler, rest_event("GET", "/articles/{slug}", path_params={"slug": slug})
            )
        )
        answers.append(list_comments(slug))
    answers += [get_comment(scene.slugs[0], c) for c in (scene.replied, scene.reply)]
    answers += [admin_queue(status) for status in ("pending", "approved", "spam", "trash")]
    return answers


def comments_handler() -> Any:
    from functions.comments.app import lambda_handler

    return lambda_handler


def stored_items(scene: Erased) -> list[Item]:
    """Every item in both articles' partitions (comments, sender data, duplicates)."""
    found: list[Item] = []
    for slug in scene.slugs:
        query: dict[str, Any] = {
            "TableName": scene.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": article_pk(slug)}},
            "ConsistentRead": True,
        }
        found += dynamo.client().query(**query)["Items"]
    return found


def mentions(text: str, traces: list[str]) -> list[str]:
    lowered = text.lower()
    return [trace for trace in traces if trace.lower() in lowered]


# -- what erasure does ---------------------------------------------------------------------------


def test_erasure_keeps_a_comment_with_replies_without_its_author_and_deletes_the_others(
    erased: Erased,
) -> None:
    # Given two approved comments on one article (one of them the person's, with a reply, and
    # an IP hash kept on it as comments stored before sender data had its own item keep it)
    # and the person's approved and spam comments on another
    assert (count_of(erased.slugs[0]), count_of(erased.slugs[1])) == (2, 1)
    dynamo.client().update_item(
        TableName=erased.table,
        Key={"pk": {"S": article_pk(erased.slugs[0])}, "sk": {"S": f"COMMENT#{erased.replied}"}},
        UpdateExpression="SET ip_hash = :hash",
        ExpressionAttributeValues={":hash": {"S": "an-ip-hash-kept-on-the-comment"}},
    )

    # When the person erases their address
    answer = erase(erased.email)

    # Then the comment with a reply keeps its place, anonymised, the others are gone, and the
    # counts follow
    assert answer.status == 200, answer.body
    assert answer.body["done"] is True
    assert "2 comments deleted, 1 kept" in answer.body["message"]
    listed = list_comments(erased.slugs[0]).body["items"]
    assert [c["id"] for c in listed] == [erased.replied, erased.reply]
    assert listed[0]["author_name"] == ERASED_NAME
    assert listed[0]["author_url"] is None
    assert listed[0]["avatar"] == ""
    assert ERASED_TEXT in listed[0]["body_html"]
    assert listed[1]["parent_id"] == erased.replied
    assert list_comments(erased.slugs[1]).body["items"] == []
    assert (count_of(erased.slugs[0]), count_of(erased.slugs[1])) == (2, 0)
    kept = dynamo.from_item(erased.item(erased.slugs[0], erased.replied))
    assert kept["author_email"] == ""
    assert not {"author_url", "author_key", "gsi4pk", "ip_hash"} & set(kept)
    assert kept["notify_replies"] is False
    assert all_comment_items(dynamo.client(), erased.table, erased.slugs[1]) == []


def test_after_erasure_no_public_answer_stored_item_or_later_email_carries_the_address(
    erased: Erased,
) -> None:
    # Given the person's comments, and the emails that followed them
    before_erasure = {item["pk"]["S"] + item["sk"]["S"] for item in stored_items(erased)}
    kept_before = erased.item(erased.slugs[0], erased.replied)
    gone_before = [erased.item(erased.slugs[1], c) for c in (erased.lone, erased.spam)]
    sent_before = {sent.id for sent in outbox.emails()}

    # When they erase their address, and the stream delivers what that changed, and delivers
    # again what it had delivered before (a replayed batch)
    assert erase(erased.email).status == 200
    kept_after = erased.item(erased.slugs[0], erased.replied)
    records = [
        stream_record(erased.table, kept_after, kept_before),
        *(removal_record(erased.table, old) for old in gone_before),
        *erased.inserts,
    ]
    assert handle(batch(*(r for r in records if delivered(r)))) == ALL_DONE

    # Then no public answer and no stored item names them, and no email went out after the
    # erasure but the one with its link
    traces = erased.traces()
    for answer in public_answers(erased):
        assert answer.status == 200, answer.body
        assert mentions(json.dumps(answer.body), traces) == []
    for item in stored_items(erased):
        assert mentions(json.dumps(item), traces) == [], item["sk"]
    assert len(before_erasure) > len(stored_items(erased))
    after = [sent for sent in outbox.emails() if sent.id not in sent_before]
    assert [sent.subject for sent in after] == ["Your request to erase your comments"]
    keys = project_keys_now()
    for key in keys.all:
        assert stored(erased.table, f"SUBSCRIBER#{subscriber_key(key, erased.email)}") is None
        profile = f"COMMENTER#{commenter_key(key, erased.name, erased.email)}"
        assert stored(erased.table, profile) is None


def test_the_moderation_link_of_a_kept_comment_shows_nothing_of_its_author_after_erasure(
    erased: Erased,
) -> None:
    # Given a comment that is kept after erasure, and a moderation link to it
    from newsroom.secrets import project_keys as keyring
    from newsroom.tokens import sign

    keys = keyring(_parameter())
    token = sign(keys, slug=erased.slugs[0], comment_id=erased.replied, action="trash")
    assert erase(erased.email).status == 200

    # When the link is opened
    opened = open_link(token, accept=JSON)

    # Then its page names no one and quotes nothing they wrote
    assert opened.status == 200, opened.body
    assert mentions(json.dumps(opened.body), erased.traces()) == []
    assert opened.body["comment"]["author_name"] == ERASED_NAME


def test_after_erasure_the_address_is_no_longer_previously_approved_and_has_nothing_to_export(
    settings: Settings, erased: Erased
) -> None:
    # Given an erased address that was "previously approved"
    assert erase(erased.email).status == 200
    settings(privacy_request_interval_seconds="1", flood_interval_seconds=QUICK_FLOOD_SECONDS)

    # When the same person comments again, and asks for an export
    again = post_when_flood_allows(
        erased.slugs[0], form(erased.unique, reader="e", body="Back again.")
    )
    (token,) = distinct_links(erased.email, "export", 1)
    exported = download(token, accept=JSON)

    # Then the comment is held as a first-time commenter's, and the export holds only it
    assert (again.status, again.body["status"]) == (201, "pending")
    assert exported.status == 200, exported.body
    assert [c["id"] for c in exported.body["comments"]] == [again.body["id"]]
    assert [e["kind"] for e in exported.body["emails"]] == ["privacy_link"]


def test_an_old_edit_token_cannot_put_text_back_into_an_erased_comment(erased: Erased) -> None:
    # Given an erased comment that was kept for its reply, and then lost that reply
    assert erase(erased.email).status == 200
    assert admin_delete(erased.slugs[0], erased.reply).status == 204

    # When its author's edit token, still within its window, tries to edit it, and the token
    # of a comment that was deleted tries too
    kept = edit_comment(
        erased.slugs[0], erased.replied, "I am back.", token=erased.tokens["replied"]
    )
    gone = edit_comment(erased.slugs[1], erased.lone, "I am back.", token=erased.tokens["lone"])
    deleted = delete_own_comment(erased.slugs[0], erased.replied, token=erased.tokens["replied"])

    # Then both are refused and the kept comment is unchanged
    assert kept.status == 403, kept.body
    assert error_code(kept) == "edit_window_closed"
    assert gone.status == 404, gone.body
    assert deleted.status == 403, deleted.body
    item = dynamo.from_item(erased.item(erased.slugs[0], erased.replied))
    assert item["body_markdown"] == ERASED_TEXT


def test_an_erase_link_works_once(erased: Erased) -> None:
    # Given an erase link that was followed
    assert erase(erased.email).status == 200
    token = the_link(erased.email, "erase")

    # When it is followed again
    again = download(token, accept=JSON)

    # Then it is used, and the counts did not move again
    assert again.status == 410, again.body
    assert error_code(again) == "link_used"
    assert (count_of(erased.slugs[0]), count_of(erased.slugs[1])) == (2, 0)


def test_two_erase_requests_followed_at_once_erase_once_and_keep_the_counts_right(
    settings: Settings, erased: Erased
) -> None:
    # Given two erase requests for one address, each with its own link
    settings(privacy_request_interval_seconds="1")
    tokens = distinct_links(erased.email, "erase", 2)

    # When both are followed at the same moment
    results: list[Any] = [None, None]
    start = threading.Barrier(2)

    def follow(n: int) -> None:
        start.wait()
        try:
            results[n] = links.follow_link(tokens[n])
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=follow, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # Then both are done, each comment was deleted or kept once, and the counts are right
    assert all(getattr(r, "done", False) for r in results), results
    listed = list_comments(erased.slugs[0]).body["items"]
    assert [c["id"] for c in listed] == [erased.replied, erased.reply]
    assert listed[0]["author_name"] == ERASED_NAME
    assert (count_of(erased.slugs[0]), count_of(erased.slugs[1])) == (2, 0)


# -- helpers -------------------------------------------------------------------------------------


def distinct_links(email: str, kind: str, wanted: int, *, within: float = 10.0) -> list[str]:
    """Ask for `kind` until `wanted` emails of it reached the address (its rate limit drops
    the requests that come too soon; a test shortens it first); their links."""
    deadline = time.monotonic() + within
    while True:
        sent = [e for e in emails_to(email) if e.subject == SUBJECTS[kind]]
        if len(sent) >= wanted or time.monotonic() > deadline:
            return sorted({link_of(e, kind) for e in sent})
        assert ask({"email": email, "kind": kind}).status == 202
        time.sleep(0.2)


def _parameter() -> str:
    import os

    return os.environ["SECRET_PARAMETER_NAME"]


def project_keys_now() -> Any:
    return project_keys(_parameter())


def stored(table: str, pk: str) -> Item | None:
    """The one item of partition `pk` (a profile, a subscriber), or None."""
    found = dynamo.client().query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": pk}},
        ConsistentRead=True,
    )["Items"]
    return found[0] if found else None
