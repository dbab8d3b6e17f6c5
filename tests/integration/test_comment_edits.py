"""A comment's author edits or deletes it through the comments function, with the edit token its
post was answered with, against the emulator: within the window and while no reply exists, by
every rule of a new comment, and refused clearly otherwise (nothing changed)."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from newsroom.data import dynamo
from newsroom.data.comments import comment_key
from newsroom.secrets import project_keys
from newsroom.tokens import sign, sign_edit
from tests.apigw import Answer
from tests.flood import STEADY_FLOOD_SECONDS
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    admin_action,
    article_comment_count,
    delete_own_comment,
    edit_comment,
    edit_when_flood_allows,
    find_in_queue,
    form,
    fresh_ip,
    list_comments,
    own_content_table,
    post_comment,
    post_when_flood_allows,
    stored_comment,
    stored_comments,
    stored_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
WINDOW = timedelta(minutes=15)  # the setting's default


@pytest.fixture
def content_table(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """This test's own content table, in place of the session's (see `own_content_table`)."""
    with own_content_table(dynamodb, monkeypatch, stream=False) as table:
        yield table


@pytest.fixture
def auto_approve(settings: Settings) -> None:
    """First comments are published at once, so an edit meets an approved comment."""
    settings(require_previous_approval="false")


@pytest.fixture
def slug(content_table: str, unique: str) -> str:
    slug = f"e-{unique}"
    seed(content_table, slug)
    return slug


def posted(answer: Answer) -> tuple[str, str]:
    """(id, edit token) of a 201."""
    assert answer.status == 201, answer.body
    return str(answer.body["id"]), str(answer.body["edit_token"])


def listed(slug: str) -> dict[str, str]:
    """id → body_html of what readers see."""
    answer = list_comments(slug, limit="100")
    assert answer.status == 200, answer.body
    return {item["id"]: item["body_html"] for item in answer.body["items"]}


def error(answer: Answer) -> tuple[int, str]:
    return answer.status, answer.body["error"]["code"]


def set_created_at(table: str, slug: str, comment_id: str, moment: datetime) -> None:
    """Make a stored comment look posted at `moment` (its window counts from then)."""
    dynamo.client().update_item(
        TableName=table,
        Key=comment_key(slug, comment_id),
        UpdateExpression="SET created_at = :at",
        ExpressionAttributeValues={":at": {"S": moment.isoformat().replace("+00:00", "Z")}},
    )


# -- the post's answer -------------------------------------------------------------------------


def test_post_answers_an_edit_token_and_when_editing_ends(slug: str, unique: str) -> None:
    # Given the edit window's default of 15 minutes
    before = datetime.now(UTC)

    # When a reader posts
    answer = post_comment(slug, form(unique))

    # Then the answer carries an opaque token and the end of the window, 15 minutes on
    assert answer.status == 201, answer.body
    assert len(answer.body["edit_token"]) > 40
    until = datetime.fromisoformat(answer.body["editable_until"])
    assert until.tzinfo is not None
    assert before + WINDOW <= until <= datetime.now(UTC) + WINDOW


def test_the_window_is_a_setting(settings: Settings, slug: str, unique: str) -> None:
    settings(edit_window_seconds="120")
    before = datetime.now(UTC)

    answer = post_comment(slug, form(unique))

    until = datetime.fromisoformat(answer.body["editable_until"])
    assert before + timedelta(seconds=120) <= until <= datetime.now(UTC) + timedelta(seconds=120)


# -- editing -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_author_edits_an_approved_comment_and_readers_see_the_new_text(
    content_table: str, slug: str, unique: str
) -> None:
    # Given an approved comment
    comment_id, token = posted(post_comment(slug, form(unique, body="Teh harbour wall.")))
    assert article_comment_count(slug) == 1

    # When its author corrects it with its edit token
    answer = edit_when_flood_allows(slug, comment_id, "The *harbour* wall.", token=token)

    # Then it is still public, with the new text, counted once, and known to be edited
    assert answer.status == 200, answer.body
    assert answer.body["id"] == comment_id
    assert answer.body["status"] == "approved"
    assert answer.headers["cache-control"] == "no-store"
    assert listed(slug) == {comment_id: "<p>The <em>harbour</em> wall.</p>\n"}
    assert article_comment_count(slug) == 1
    stored = stored_item(content_table, slug, comment_id)
    assert stored["body_markdown"] == "The *harbour* wall."
    assert stored["revision"] == 1
    assert stored["edited_at"]


@pytest.mark.usefixtures("auto_approve", "quick_flood")
@pytest.mark.parametrize(
    ("new_text", "rule"),
    [
        pytest.param(
            "Cheap deals [here](https://spam.example) and [there](https://more.example).",
            "too_many_links",
            id="two-links",
        ),
        pytest.param("Now with a word to hold: hold-me.", "moderation_keyword", id="key"),
    ],
)
def test_edit_that_trips_the_policy_holds_an_approved_comment_again_with_the_reason(
    settings: Settings, content_table: str, slug: str, unique: str, new_text: str, rule: str
) -> None:
    # Given an approved, harmless comment (the spammer's way in) and a moderation word
    settings(moderation_keys=json.dumps(["hold-me"]))
    comment_id, token = posted(post_comment(slug, form(unique, body="Nice article.")))
    assert comment_id in listed(slug)

    # When its author edits in what a new comment would be held for
    answer = edit_when_flood_allows(slug, comment_id, new_text, token=token)

    # Then it is held again: off the listing, out of the count, the reason stored
    assert answer.status == 200, answer.body
    assert answer.body["status"] == "pending"
    assert listed(slug) == {}
    assert article_comment_count(slug) == 0
    stored = stored_item(content_table, slug, comment_id)
    assert stored["status"] == "pending"
    assert stored["moderation"]["rule"] == rule
    # and the moderators' queue shows it, saying it was edited
    queued = find_in_queue("pending", comment_id)
    assert queued is not None
    assert queued["moderation"]["rule"] == rule
    assert queued["moderation"]["edited_at"]
    assert queued["body_html"].count("<a ") == (2 if rule == "too_many_links" else 0)


@pytest.mark.usefixtures("quick_flood")
def test_edit_of_a_held_comment_stays_held_even_when_its_new_text_would_pass(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given a comment held for its links (its author's first was approved)
    settings(require_previous_approval="false")
    comment_id, token = posted(
        post_comment(slug, form(unique, body="See https://a.example and https://b.example"))
    )
    assert stored_item(content_table, slug, comment_id)["status"] == "pending"

    # When its author removes the links
    answer = edit_when_flood_allows(slug, comment_id, "No links any more.", token=token)

    # Then it waits for its moderator still: an edit never publishes a held comment
    assert (answer.status, answer.body["status"]) == (200, "pending")
    assert listed(slug) == {}
    stored = stored_item(content_table, slug, comment_id)
    assert (stored["status"], stored["body_markdown"]) == ("pending", "No links any more.")
    assert stored["moderation"]["rule"] == "too_many_links"
    assert stored["moderation"]["edited_at"]


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_edit_with_a_disallowed_word_is_spam_answered_as_held(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    settings(disallowed_keys=json.dumps(["casino"]))
    comment_id, token = posted(post_comment(slug, form(unique)))

    answer = edit_when_flood_allows(slug, comment_id, "Visit my casino.", token=token)

    assert (answer.status, answer.body["status"]) == (200, "pending")
    assert stored_item(content_table, slug, comment_id)["status"] == "spam"
    assert listed(slug) == {}
    assert article_comment_count(slug) == 0


@pytest.mark.usefixtures("auto_approve")
def test_edit_too_soon_after_the_post_is_refused_by_flood_control(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment just posted (flood control: 15 s by IP and by email)
    comment_id, token = posted(post_comment(slug, form(unique, body="First words.")))

    # When its author edits it at once, from another address
    answer = edit_comment(slug, comment_id, "Second thoughts.", token=token)

    # Then it is refused as a second post would be, and nothing changed
    assert error(answer) == (429, "comment_flood")
    assert int(answer.headers["retry-after"]) > 0
    assert stored_item(content_table, slug, comment_id)["body_markdown"] == "First words."


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_edit_to_a_text_its_author_posted_before_is_answered_as_held_and_changes_nothing(
    content_table: str, slug: str, unique: str
) -> None:
    # Given two comments by one reader
    first, _ = posted(post_comment(slug, form(unique, body="My first point.")))
    second, token = posted(post_when_flood_allows(slug, form(unique, body="My second point.")))

    # When they edit the second to say what the first says
    answer = edit_when_flood_allows(slug, second, "my FIRST   point.", token=token)

    # Then it is answered as a duplicate post is (as held), and nothing changed
    assert (answer.status, answer.body["status"]) == (200, "pending")
    stored = stored_item(content_table, slug, second)
    assert (stored["status"], stored["body_markdown"]) == ("approved", "My second point.")
    assert set(listed(slug)) == {first, second}


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_edited_text_frees_the_old_one_and_guards_the_new_one(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment edited from one text to another
    reader = form(unique, body="The old words.")
    comment_id, token = posted(post_comment(slug, reader))
    assert edit_when_flood_allows(slug, comment_id, "The new words.", token=token).status == 200

    # When its author posts the old text again, and then the new one
    old_again = post_when_flood_allows(slug, reader)
    new_again = post_when_flood_allows(slug, reader | {"body": "The new words."})

    # Then the old text is a new comment; the new one is a duplicate (answered as held)
    assert (old_again.status, old_again.body["status"]) == (201, "approved")
    assert (new_again.status, new_again.body["status"]) == (201, "pending")
    assert {c["id"] for c in stored_comments(content_table, slug)} == {
        comment_id,
        old_again.body["id"],
    }


@pytest.mark.usefixtures("auto_approve")
@pytest.mark.parametrize(
    ("raw_body", "headers", "status", "fields"),
    [
        pytest.param('{"body": ""}', {}, 422, {"body"}, id="empty"),
        pytest.param('{"body": "   \\n "}', {}, 422, {"body"}, id="blank"),
        pytest.param('{"body": "[]()"}', {}, 422, {"body"}, id="renders-to-nothing"),
        pytest.param("{}", {}, 422, {"body"}, id="missing"),
        pytest.param('{"body": 7}', {}, 422, {"body"}, id="not-text"),
        pytest.param(
            '{"body": "Hi", "author_email": "x@example.org"}',
            {},
            422,
            {"author_email"},
            id="other-field",
        ),
        pytest.param('{"body": "Hi"', {}, 400, {"body"}, id="not-json"),
        pytest.param('{"body": "a", "body": "b"}', {}, 400, {"body"}, id="duplicate-key"),
        pytest.param(
            '{"body": "Hi"}',
            {"Content-Type": "text/plain"},
            400,
            {"Content-Type"},
            id="not-sent-as-json",
        ),
        pytest.param(json.dumps({"body": "y" * 70_000}), {}, 413, {"body"}, id="over-64-kb"),
    ],
)
def test_bad_edit_is_refused_naming_the_problem_and_changes_nothing(
    content_table: str,
    slug: str,
    unique: str,
    raw_body: str,
    headers: dict[str, str],
    status: int,
    fields: set[str],
) -> None:
    comment_id, token = posted(post_comment(slug, form(unique, body="Kept as it is.")))
    before = stored_item(content_table, slug, comment_id)

    answer = edit_comment(slug, comment_id, token=token, raw_body=raw_body, headers=headers)

    assert answer.status == status, answer.body
    assert answer.error_fields == fields
    assert stored_item(content_table, slug, comment_id) == before


# -- who may edit, and until when --------------------------------------------------------------


def signed_by(key: bytes, payload: dict[str, str], *, salt: str = "newsroom.edit.v1") -> str:
    return str(URLSafeTimedSerializer(key, salt=salt).dumps(payload))


def altered(token: str, comment_id: str) -> str:
    """The token with another comment's id in its payload, the signature kept."""
    payload, rest = token.split(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["c"] = comment_id
    forged = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode())
    return forged.decode().rstrip("=") + "." + rest


FORGERIES: dict[str, Callable[[str, str, str, str], str | None]] = {
    # (slug, this comment's id and token, another comment's token) -> what is sent
    "no-token": lambda slug, cid, token, other: None,
    "empty": lambda slug, cid, token, other: "",
    "garbage": lambda slug, cid, token, other: "not-a-token-at-all",
    "another-comments-token": lambda slug, cid, token, other: other,
    "payload-altered": lambda slug, cid, token, other: altered(other, cid),
    "signed-with-another-key": lambda slug, cid, token, other: signed_by(
        secrets.token_bytes(48), {"s": slug, "c": cid}
    ),
    "link-token-of-this-comment": lambda slug, cid, token, other: sign(
        project_keys(os.environ["SECRET_PARAMETER_NAME"]),
        slug=slug,
        comment_id=cid,
        action="unsubscribe",
    ),
    "signed-for-another-article": lambda slug, cid, token, other: sign_edit(
        project_keys(os.environ["SECRET_PARAMETER_NAME"]), slug=slug + "-x", comment_id=cid
    ),
}


@pytest.mark.usefixtures("auto_approve", "quick_flood")
@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_edit_or_delete_without_this_comments_token_is_refused_with_401(
    content_table: str, slug: str, unique: str, forgery: str
) -> None:
    # Given two comments, each with its token
    comment_id, token = posted(post_comment(slug, form(unique, reader="a", body="Mine.")))
    _, other = posted(post_comment(slug, form(unique, reader="b", body="Theirs.")))
    sent = FORGERIES[forgery](slug, comment_id, token, other)

    # When someone edits or deletes the first without its own token
    edited = edit_comment(slug, comment_id, "Hijacked.", token=sent)
    deleted = delete_own_comment(slug, comment_id, token=sent)

    # Then both are refused as unauthenticated, saying what to send, and nothing changed
    for answer in (edited, deleted):
        assert error(answer) == (401, "edit_token_invalid"), answer.body
        assert answer.error_fields == {"Authorization"}
        assert answer.headers["www-authenticate"].startswith("Bearer")
    stored = stored_item(content_table, slug, comment_id)
    assert (stored["body_markdown"], stored["revision"]) == ("Mine.", 0)


@pytest.mark.usefixtures("auto_approve")
@pytest.mark.parametrize(
    "authorization",
    [
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256 Credential=AKID/20261128/us-east-1/execute-api/aws4_request, "
        "SignedHeaders=host, Signature=abc",
        "Bearer",
    ],
)
def test_another_authorization_scheme_is_refused_with_401(
    slug: str, unique: str, authorization: str
) -> None:
    comment_id, _ = posted(post_comment(slug, form(unique)))

    answer = edit_comment(
        slug, comment_id, "Hijacked.", token=None, headers={"Authorization": authorization}
    )

    assert error(answer) == (401, "edit_token_invalid")


@pytest.mark.usefixtures("auto_approve")
def test_edit_and_delete_after_the_window_are_refused_with_403(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment posted 15 minutes and a second ago, with its genuine token
    comment_id, token = posted(post_comment(slug, form(unique, body="Too late to change.")))
    set_created_at(
        content_table, slug, comment_id, datetime.now(UTC) - WINDOW - timedelta(seconds=1)
    )

    # When its author edits or deletes it
    edited = edit_comment(slug, comment_id, "Changed.", token=token)
    deleted = delete_own_comment(slug, comment_id, token=token)

    # Then the window is closed, and it stays as it was
    assert error(edited) == (403, "edit_window_closed")
    assert error(deleted) == (403, "edit_window_closed")
    assert stored_item(content_table, slug, comment_id)["body_markdown"] == "Too late to change."
    assert comment_id in listed(slug)


@pytest.mark.usefixtures("auto_approve")
def test_a_token_older_than_the_window_is_refused_with_403(
    monkeypatch: pytest.MonkeyPatch, content_table: str, slug: str, unique: str
) -> None:
    # Given a token issued 15 minutes and a second ago
    issued = int((datetime.now(UTC) - WINDOW).timestamp()) - 1
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued)
    comment_id, token = posted(post_comment(slug, form(unique, body="Still the same.")))
    monkeypatch.undo()

    # When it is used
    edited = edit_comment(slug, comment_id, "Changed.", token=token)
    deleted = delete_own_comment(slug, comment_id, token=token)

    # Then it no longer works
    assert error(edited) == (403, "edit_window_closed")
    assert error(deleted) == (403, "edit_window_closed")
    assert stored_comment(content_table, slug, comment_id) is not None


@pytest.mark.usefixtures("auto_approve", "quick_flood")
@pytest.mark.parametrize("reply_status", ["approved", "pending"])
def test_edit_and_delete_after_a_reply_are_refused_with_403(
    settings: Settings, content_table: str, slug: str, unique: str, reply_status: str
) -> None:
    # Given an approved comment with a reply (published, or held for a word)
    settings(moderation_keys=json.dumps(["hold-me"]))
    parent, token = posted(post_comment(slug, form(unique, reader="a", body="Original.")))
    reply_text = "I agree." + (" hold-me" if reply_status == "pending" else "")
    reply = post_comment(slug, form(unique, reader="b", body=reply_text, parent_id=parent))
    assert reply.body["status"] == reply_status

    # When the first comment's author edits or deletes it, in its window
    edited = edit_when_flood_allows(slug, parent, "Something else entirely.", token=token)
    deleted = delete_own_comment(slug, parent, token=token)

    # Then both are refused, saying why, and it stays as the reply found it
    assert error(edited) == (403, "edit_window_closed")
    assert "reply" in edited.body["error"]["message"]
    assert error(deleted) == (403, "edit_window_closed")
    stored = stored_item(content_table, slug, parent)
    assert (stored["body_markdown"], stored["replies"]) == ("Original.", 1)
    assert article_comment_count(slug) == (2 if reply_status == "approved" else 1)


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_a_reply_at_the_deepest_level_counts_for_the_comment_it_answers(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a thread five deep, the last posted by a reader with its token
    ids = [posted(post_comment(slug, form(unique, reader="r0")))[0]]
    for depth in range(2, 5):
        reader = form(unique, reader=f"r{depth}", parent_id=ids[-1])
        ids.append(posted(post_comment(slug, reader))[0])
    deepest, token = posted(post_comment(slug, form(unique, reader="deep", parent_id=ids[-1])))

    # When someone answers it (stored as its sibling, at depth five)
    sibling = post_comment(slug, form(unique, reader="late", parent_id=deepest))
    assert stored_item(content_table, slug, sibling.body["id"])["parent_id"] == ids[-1]

    # Then it has a reply, and its author can no longer change it
    answer = edit_when_flood_allows(slug, deepest, "Changed.", token=token)
    assert error(answer) == (403, "edit_window_closed")


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_edit_on_an_article_closed_since_is_refused_but_delete_works(
    content_table: str, slug: str, unique: str
) -> None:
    comment_id, token = posted(post_comment(slug, form(unique)))
    seed(content_table, slug, comments_open=False)

    edited = edit_when_flood_allows(slug, comment_id, "Changed.", token=token)
    deleted = delete_own_comment(slug, comment_id, token=token)

    assert error(edited) == (403, "comments_closed")
    assert deleted.status == 204


# -- deleting ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_deleted_comment_disappears_and_the_count_goes_down_by_one(
    content_table: str, slug: str, unique: str
) -> None:
    # Given two approved comments, counted
    keep, _ = posted(post_comment(slug, form(unique, reader="a")))
    reader = form(unique, reader="b", body="I take it back.")
    gone, token = posted(post_comment(slug, reader))
    assert article_comment_count(slug) == 2

    # When the second one's author deletes it
    answer = delete_own_comment(slug, gone, token=token)

    # Then it is gone: not listed, not stored, not counted
    assert answer.status == 204
    assert answer.body == ""
    assert set(listed(slug)) == {keep}
    assert stored_comment(content_table, slug, gone) is None
    assert article_comment_count(slug) == 1
    # and its author may post the same words again
    again = post_when_flood_allows(slug, reader)
    assert (again.status, again.body["status"]) == (201, "approved")


@pytest.mark.usefixtures("auto_approve")
def test_delete_again_is_done_already(content_table: str, slug: str, unique: str) -> None:
    comment_id, token = posted(post_comment(slug, form(unique)))

    first = delete_own_comment(slug, comment_id, token=token)
    again = delete_own_comment(slug, comment_id, token=token)
    edited = edit_comment(slug, comment_id, "Back?", token=token)

    assert (first.status, again.status) == (204, 204)
    assert article_comment_count(slug) == 0
    assert error(edited) == (404, "comment_not_found")


@pytest.mark.usefixtures("quick_flood")
def test_deleted_held_comment_leaves_the_moderation_queue(slug: str, unique: str) -> None:
    comment_id, token = posted(post_comment(slug, form(unique)))
    assert find_in_queue("pending", comment_id) is not None

    assert delete_own_comment(slug, comment_id, token=token).status == 204

    assert find_in_queue("pending", comment_id) is None
    assert error(admin_action(slug, comment_id, "approve")) == (404, "comment_not_found")


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_deleting_the_only_reply_lets_its_parents_author_edit_again(
    content_table: str, slug: str, unique: str
) -> None:
    # Given a comment whose only reply its author deletes
    parent, parent_token = posted(post_comment(slug, form(unique, reader="a")))
    reply, reply_token = posted(
        post_comment(slug, form(unique, reader="b", parent_id=parent, body="Oops."))
    )
    assert stored_item(content_table, slug, parent)["replies"] == 1
    assert delete_own_comment(slug, reply, token=reply_token).status == 204

    # When the parent's author edits it
    answer = edit_when_flood_allows(slug, parent, "Now I can say more.", token=parent_token)

    # Then no reply exists any more, and the edit is made
    assert answer.status == 200, answer.body
    assert stored_item(content_table, slug, parent)["replies"] == 0
    assert article_comment_count(slug) == 1


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("auto_approve", "quick_flood")
def test_edit_retried_with_its_idempotency_key_is_made_once(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given an edit made with an Idempotency-Key
    comment_id, token = posted(post_comment(slug, form(unique)))
    key = {"Idempotency-Key": secrets.token_hex(8)}
    once = edit_when_flood_allows(slug, comment_id, "Said once.", token=token, headers=key)
    assert once.status == 200, once.body

    # When it is sent again (a lost answer, a double click) where a new edit would be refused
    # by flood control
    settings(flood_interval_seconds="60")
    again = edit_comment(slug, comment_id, "Said once.", token=token, headers=key)

    # Then the retry gets the first answer, and the edit was made once
    assert (again.status, again.body) == (200, once.body)
    assert stored_item(content_table, slug, comment_id)["revision"] == 1
    # and a retry must still carry the comment's token
    forged = edit_comment(slug, comment_id, "Said once.", token="forged", headers=key)
    assert error(forged) == (401, "edit_token_invalid")


# -- a duplicate answered as held ----------------------------------------------------------------


@pytest.mark.usefixtures("quick_flood")
def test_duplicate_answered_as_held_is_edited_and_deleted_as_a_held_comment_is(
    settings: Settings, content_table: str, slug: str, unique: str
) -> None:
    # Given a text posted twice by one reader: the second is answered as held, not stored
    reader = form(unique, body="Said it once.")
    original, _ = posted(post_comment(slug, reader))
    duplicate, token = posted(post_when_flood_allows(slug, reader))
    assert stored_comment(content_table, slug, duplicate) is None

    # When its "author" edits it
    answer = edit_when_flood_allows(slug, duplicate, "Something new.", token=token)

    # Then it is answered as the edit of a held comment is, and nothing is stored ...
    assert (answer.status, answer.body["id"], answer.body["status"]) == (200, duplicate, "pending")
    assert {c["id"] for c in stored_comments(content_table, slug)} == {original}
    # ... but the edit took the email's flood guard, as an edit of a stored comment does
    settings(flood_interval_seconds=STEADY_FLOOD_SECONDS)
    too_soon = post_comment(slug, reader | {"body": "And once more."}, ip=fresh_ip())
    assert error(too_soon) == (429, "comment_flood")
    # and it is deleted as a held comment is, after which it is gone
    assert delete_own_comment(slug, duplicate, token=token).status == 204
    assert error(edit_comment(slug, duplicate, "Back?", token=token)) == (404, "comment_not_found")
    assert error(delete_own_comment(slug, original, token=token)) == (401, "edit_token_invalid")


def test_answered_duplicate_is_kept_only_until_its_window_ends(
    content_table: str, slug: str, unique: str, quick_flood: None
) -> None:
    reader = form(unique, body="Twice over.")
    posted(post_comment(slug, reader))
    duplicate, _ = posted(post_when_flood_allows(slug, reader))

    item = dynamo.client().get_item(
        TableName=content_table,
        Key={"pk": {"S": f"ARTICLE#{slug}"}, "sk": {"S": f"DUPLICATE#{duplicate}"}},
        ConsistentRead=True,
    )["Item"]

    kept: dict[str, Any] = dynamo.from_item(item)
    assert set(kept) == {
        "pk",
        "sk",
        "type",
        "id",
        "slug",
        "author_email",
        "created_at",
        "expires_at",
        # in the author index, so that an erasure of the address finds it
        "gsi4pk",
        "gsi4sk",
    }
    created = datetime.fromisoformat(kept["created_at"])
    assert kept["expires_at"] == int((created + WINDOW).timestamp())
