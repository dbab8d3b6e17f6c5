"""Rotating the project key resets nothing: with the replaced key kept as the previous one,
returning commenters stay "previously approved", duplicates and flood control still hold, links
already mailed still work, and a redelivered stream record sends nothing twice. New hashes and
signatures use the new key; once the previous key is removed, what it signed stops working."""

from __future__ import annotations

import contextlib
import os
import secrets as random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.data import dynamo
from newsroom.data.comments import CommentTable
from newsroom.data.delivery import DeliveryTable, is_suppressed, suppression_key
from newsroom.data.notifications import NotificationTable
from newsroom.data.pagination import CursorSigner
from newsroom.privacy import email_hash, subscriber_key
from newsroom.secrets import Keyring, previous_parameter_name, project_keys
from newsroom.tokens import TokenInvalidError, verify
from newsroom_tools.cli import main as cli_main
from tests.integration.comments_api import (
    approve_first_comment_of,
    delete_own_comment,
    edit_when_flood_allows,
    fresh_ip,
    post_comment,
    post_when_flood_allows,
    stored_comments,
)
from tests.integration.notifications_stream import batch, confirm_reply_notices, handle
from tests.integration.test_notifications import (
    ALL_DONE,
    JSON,
    HeldComment,
    Scene,
    error_code,
    follow,
    form,
    held,
    inserted,
    moderation_links,
    only_email_to,
    post,
    scene,
    stored,
    tally,
)

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient
    from pytest_localstack.session import RunningSession

pytestmark = pytest.mark.integration
__all__ = ["held", "scene"]  # fixtures of other test modules


@dataclass
class Rotation:
    """Rotates the emulator's project key the way docs/operations.md says an operator does."""

    ssm: SSMClient
    name: str
    original: str

    def rotate(self) -> Keyring:
        """Keep the current key as the previous one, and put a new current key."""
        current = self._value(self.name)
        self._put(previous_parameter_name(self.name), current)
        self._put(self.name, random.token_urlsafe(48))
        return self._forget()

    def drop_previous(self) -> Keyring:
        """The last step: the replaced key is no longer honoured."""
        self.ssm.delete_parameter(Name=previous_parameter_name(self.name))
        return self._forget()

    def restore(self) -> None:
        self._put(self.name, self.original)
        with contextlib.suppress(self.ssm.exceptions.ParameterNotFound):
            self.ssm.delete_parameter(Name=previous_parameter_name(self.name))
        self._forget()

    def _value(self, name: str) -> str:
        return self.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]

    def _put(self, name: str, value: str) -> None:
        self.ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    def _forget(self) -> Keyring:
        # Every function reads the keys again within SECRET_MAX_AGE_SECONDS; here at once.
        project_keys.cache_clear()
        return project_keys(self.name)


@pytest.fixture
def rotation(localstack: RunningSession, tables: dict[str, str]) -> Iterator[Rotation]:
    ssm: SSMClient = localstack.boto3.client("ssm")
    name = os.environ["SECRET_PARAMETER_NAME"]
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    rotation = Rotation(ssm, name, value)
    try:
        yield rotation
    finally:
        rotation.restore()


def test_rotation_keeps_the_replaced_key_as_previous(rotation: Rotation) -> None:
    before = project_keys(rotation.name)

    after = rotation.rotate()

    assert after.previous == (before.current,)
    assert after.current != before.current
    assert after.all == (after.current, before.current)


def test_commenter_approved_before_a_rotation_is_still_previously_approved(
    quick_flood: None, scene: Scene, rotation: Rotation
) -> None:
    # Given a commenter whose first comment a moderator approved
    commenter = form(scene.unique, reader="regular")
    approve_first_comment_of(scene.slug, commenter)

    # When the key is rotated and they comment again
    rotation.rotate()
    answer = post_when_flood_allows(scene.slug, commenter | {"body": "Back again."})

    # Then they are still known: the comment is published at once
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "approved"


def test_same_text_after_a_rotation_is_still_a_duplicate(
    quick_flood: None, scene: Scene, rotation: Rotation
) -> None:
    # Given a comment
    commenter = form(scene.unique, reader="a")
    first = post_comment(scene.slug, commenter)
    assert first.status == 201, first.body

    # When the key is rotated and the same text comes again from the same email
    rotation.rotate()
    again = post_when_flood_allows(scene.slug, commenter)

    # Then it is answered as held and not stored
    assert (again.status, again.body["status"]) == (201, "pending")
    assert [c["id"] for c in stored_comments(scene.table, scene.slug)] == [first.body["id"]]


def test_flood_guard_taken_before_a_rotation_still_applies(
    scene: Scene, rotation: Rotation
) -> None:
    # Given a comment from one address
    ip = fresh_ip()
    assert post_comment(scene.slug, form(scene.unique, reader="a"), ip=ip).status == 201

    # When the key is rotated and another comment comes from that address at once
    rotation.rotate()
    answer = post_comment(scene.slug, form(scene.unique, reader="b"), ip=ip)

    # Then flood control still refuses it
    assert answer.status == 429


def test_link_mailed_before_a_rotation_still_works(
    scene: Scene, held: HeldComment, rotation: Rotation
) -> None:
    # Given the approve link of a moderation email sent before the rotation
    token = held.links["approve"]

    # When the key is rotated and the moderator presses the button
    rotation.rotate()
    answer = follow(token, accept=JSON)

    # Then the comment is approved
    assert answer.status == 200, answer.body
    assert stored(scene, held.id)["status"] == "approved"


def test_links_mailed_after_a_rotation_are_signed_with_the_new_key(
    scene: Scene, rotation: Rotation
) -> None:
    # Given a rotated key
    keys = rotation.rotate()

    # When a comment is held and its moderation email goes out
    comment = post(scene, "a")
    assert handle(batch(inserted(scene, comment))) == ALL_DONE
    token = moderation_links(only_email_to(scene.moderators[0]))["approve"]

    # Then its links verify with the new key alone, and not with the replaced one
    assert verify(Keyring(keys.current), token, max_age_seconds=60).comment_id == comment
    with pytest.raises(TokenInvalidError):
        verify(Keyring(keys.previous[0]), token, max_age_seconds=60)


def test_record_redelivered_after_a_rotation_sends_nothing_twice(
    scene: Scene, rotation: Rotation
) -> None:
    # Given a held comment whose moderation emails went out
    comment = post(scene, "a")
    record = inserted(scene, comment)
    assert handle(batch(record)) == ALL_DONE
    sent = tally(scene)

    # When the key is rotated and Lambda delivers the record again
    rotation.rotate()
    assert handle(batch(record)) == ALL_DONE

    # Then nobody got a second email
    assert tally(scene) == sent == Counter(dict.fromkeys(scene.moderators, 1))


def test_links_of_a_key_no_longer_honoured_are_refused(
    scene: Scene, held: HeldComment, rotation: Rotation
) -> None:
    # Given a link mailed before a rotation
    token = held.links["approve"]
    rotation.rotate()

    # When the previous key is removed (the procedure's last step) and the link is followed
    rotation.drop_previous()
    answer = follow(token, accept=JSON)

    # Then it is refused as invalid, and the comment is still held
    assert (answer.status, error_code(answer)) == (400, "link_invalid")
    assert stored(scene, held.id)["status"] == "pending"


def test_edit_token_given_before_a_rotation_still_edits_and_guards_the_new_text(
    quick_flood: None, scene: Scene, rotation: Rotation
) -> None:
    # Given a comment posted before the rotation, with its edit token
    commenter = form(scene.unique, reader="a", body="Before the rotation.")
    answer = post_comment(scene.slug, commenter)
    comment, token = answer.body["id"], answer.body["edit_token"]

    # When the key is rotated and its author edits it
    rotation.rotate()
    edited = edit_when_flood_allows(scene.slug, comment, "After the rotation.", token=token)

    # Then the edit is made, and the new text is a duplicate for its author, the old one not
    assert edited.status == 200, edited.body
    again = post_when_flood_allows(scene.slug, commenter | {"body": "After the rotation."})
    old = post_when_flood_allows(scene.slug, commenter)
    stored_ids = {c["id"] for c in stored_comments(scene.table, scene.slug)}
    assert stored_ids == {comment, old.body["id"]}
    assert again.body["id"] not in stored_ids


def test_edit_token_of_a_key_no_longer_honoured_is_refused(
    scene: Scene, rotation: Rotation
) -> None:
    answer = post_comment(scene.slug, form(scene.unique, reader="a", body="Kept."))
    rotation.rotate()
    rotation.drop_previous()

    refused = delete_own_comment(scene.slug, answer.body["id"], token=answer.body["edit_token"])

    assert (refused.status, error_code(refused)) == (401, "edit_token_invalid")
    assert stored(scene, answer.body["id"])["body_markdown"] == "Kept."


def test_rekey_after_a_rotation_keeps_avatars_and_survives_the_previous_keys_removal(
    quick_flood: None, scene: Scene, rotation: Rotation, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a commenter with an approved comment, who confirmed reply notices, before a
    # rotation
    commenter = form(scene.unique, reader="regular")
    first = approve_first_comment_of(scene.slug, commenter)
    avatar_before = stored(scene, first)["avatar"]
    confirm_reply_notices(scene.table, commenter["author_email"])

    # When the key is rotated, the stored comments rekeyed (twice: the second finds nothing
    # to do) and the previous key removed
    rotation.rotate()
    rekey = ["secret", "rekey", "--table", scene.table, "--parameter", rotation.name]
    assert cli_main(rekey) == 0
    assert cli_main(rekey) == 0
    rotation.drop_previous()
    printed = [line for line in capsys.readouterr().out.splitlines() if "rekeyed" in line]

    # Then the commenter is still previously approved, still confirmed, keeps one avatar
    # across all their comments, and the same text again is still a duplicate
    again = post_when_flood_allows(scene.slug, commenter | {"body": "Back after the rotation."})
    assert (again.status, again.body["status"]) == (201, "approved"), again.body
    avatars = {stored(scene, cid)["avatar"] for cid in (first, again.body["id"])}
    assert len(avatars) == 1
    assert avatars != {avatar_before}
    duplicate = post_when_flood_allows(scene.slug, commenter | {"body": "Back after the rotation."})
    assert (duplicate.status, duplicate.body["status"]) == (201, "pending")
    assert len(stored_comments(scene.table, scene.slug)) == 2
    keys = project_keys(rotation.name)
    address = subscriber_key(keys.current, commenter["author_email"])
    assert NotificationTable(scene.table).confirmed_subscribers([address]) == {address}
    assert printed[0].endswith(
        "1 rekeyed, 1 commenter profiles moved, 1 confirmed subscribers moved, "
        "0 suppressed addresses moved"
    )
    assert printed[1].endswith(
        "0 rekeyed, 0 commenter profiles moved, 0 confirmed subscribers moved, "
        "0 suppressed addresses moved"
    )


def test_rekey_carries_a_suppressed_address_to_the_new_key_so_it_stays_suppressed(
    scene: Scene, rotation: Rotation, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a commenter whose address bounced for good before a rotation
    commenter = form(scene.unique, reader="bounced")
    assert post_comment(scene.slug, commenter).status == 201
    email = commenter["author_email"]
    before = project_keys(rotation.name)
    delivery = DeliveryTable(scene.table)
    delivery.suppress(email_hash(before.current, email), reason="bounce", at=datetime.now(UTC))

    # When the key is rotated, the table rekeyed and the previous key removed
    rotation.rotate()
    assert cli_main(["secret", "rekey", "--table", scene.table, "--parameter", rotation.name]) == 0
    after = rotation.drop_previous()

    # Then the address is still suppressed under the only key left, for the same reason, and
    # its old item is gone
    assert is_suppressed(delivery, [email_hash(after.current, email)])
    moved = dynamo.client().get_item(
        TableName=scene.table, Key=suppression_key(email_hash(after.current, email))
    )["Item"]
    assert moved["reason"] == {"S": "bounce"}
    old = suppression_key(email_hash(before.current, email))
    assert "Item" not in dynamo.client().get_item(TableName=scene.table, Key=old)
    assert capsys.readouterr().out.rstrip().endswith("1 suppressed addresses moved")


def authors_comment_ids(table: str, email: str) -> list[str]:
    """The comments of an address as the author index finds them, under every key there is."""
    keys = project_keys(os.environ["SECRET_PARAMETER_NAME"])
    store = CommentTable(table, cursors=CursorSigner(lambda: keys))
    return [c.id for c in store.author_items([email_hash(k, email) for k in keys.all]).comments]


def test_comments_of_an_address_are_found_across_a_rotation_and_after_rekey_without_the_old_key(
    quick_flood: None, scene: Scene, rotation: Rotation
) -> None:
    # Given a comment posted before a rotation and one after it, by one address
    commenter = form(scene.unique, reader="a")
    before = post_comment(scene.slug, commenter | {"body": "Before the rotation."})
    assert before.status == 201, before.body
    rotation.rotate()
    after = post_when_flood_allows(scene.slug, commenter | {"body": "After the rotation."})
    assert after.status == 201, after.body
    both = [before.body["id"], after.body["id"]]

    # When the address's comments are looked up during the rotation, and again once the
    # comments were rekeyed and the previous key removed
    during = authors_comment_ids(scene.table, commenter["author_email"])
    assert cli_main(["secret", "rekey", "--table", scene.table, "--parameter", rotation.name]) == 0
    rotation.drop_previous()
    rekeyed = authors_comment_ids(scene.table, commenter["author_email"])

    # Then both are found each time
    assert during == both
    assert rekeyed == both


def test_rekey_gives_a_comment_stored_before_the_author_index_its_author_key_and_drops_its_ip_hash(
    scene: Scene, rotation: Rotation
) -> None:
    # Given a comment stored before comments carried an author key
    commenter = form(scene.unique, reader="a")
    old = post_comment(scene.slug, commenter | {"body": "From before the author index."})
    assert old.status == 201, old.body
    dynamodb = dynamo.client()
    dynamodb.update_item(
        TableName=scene.table,
        Key={"pk": {"S": f"ARTICLE#{scene.slug}"}, "sk": {"S": f"COMMENT#{old.body['id']}"}},
        UpdateExpression="REMOVE author_key, gsi4pk, gsi4sk SET ip_hash = :hash",
        ExpressionAttributeValues={":hash": {"S": "an-ip-hash-kept-on-the-comment"}},
    )
    assert authors_comment_ids(scene.table, commenter["author_email"]) == []

    # When the comments are rekeyed (no rotation needed)
    assert cli_main(["secret", "rekey", "--table", scene.table, "--parameter", rotation.name]) == 0

    # Then the author index finds it, and the IP hash it kept without expiry is gone
    assert authors_comment_ids(scene.table, commenter["author_email"]) == [old.body["id"]]
    assert "ip_hash" not in stored(scene, old.body["id"])


def test_rekey_makes_no_hash_of_an_erased_comment_or_of_a_blank_address(
    scene: Scene, rotation: Rotation
) -> None:
    # Given a comment kept without its author after an erasure (as newsroom.data.privacy
    # anonymises one), and an imported one whose source had no address
    erased = post_comment(scene.slug, form(scene.unique, reader="a", body="Erased later."))
    blank = post_comment(scene.slug, form(scene.unique, reader="b", body="From an old site."))
    assert erased.status == blank.status == 201
    dynamodb = dynamo.client()

    def update(comment_id: str, expression: str, values: dict[str, Any]) -> None:
        dynamodb.update_item(
            TableName=scene.table,
            Key={"pk": {"S": f"ARTICLE#{scene.slug}"}, "sk": {"S": f"COMMENT#{comment_id}"}},
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
        )

    update(
        erased.body["id"],
        "SET author_email = :blank, avatar = :blank, commenter = :blank, duplicate_key = :blank,"
        " erased_at = :at REMOVE author_key, gsi4pk, gsi4sk",
        {":blank": {"S": ""}, ":at": {"S": "2026-12-01T10:00:00+00:00"}},
    )
    update(
        blank.body["id"],
        "SET author_email = :blank REMOVE author_key, gsi4pk, gsi4sk",
        {":blank": {"S": ""}},
    )

    # When the key is rotated and the comments rekeyed
    rotation.rotate()
    assert cli_main(["secret", "rekey", "--table", scene.table, "--parameter", rotation.name]) == 0

    # Then neither is put in the author index (all blank addresses would share one entry),
    # and the erased one gets no new hash of anything
    kept, imported = stored(scene, erased.body["id"]), stored(scene, blank.body["id"])
    assert {"author_key", "gsi4pk"} & kept.keys() == set()
    assert {"author_key", "gsi4pk"} & imported.keys() == set()
    assert (kept["avatar"], kept["commenter"], kept["duplicate_key"]) == ("", "", "")


def test_unsuppress_removes_an_address_suppressed_under_the_previous_key_and_the_current(
    content_table: str, unique: str, rotation: Rotation, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an address suppressed before a rotation (under the key now previous), and again
    # after it (under the current key)
    address = f"bounced-{unique}@example.org"
    delivery = DeliveryTable(content_table)
    before = rotation.rotate().current  # the key the first suppression is written under
    delivery.suppress(email_hash(before, address), reason="bounce", at=datetime.now(UTC))
    keys = rotation.rotate()
    assert keys.previous == (before,)
    delivery.suppress(email_hash(keys.current, address), reason="complaint", at=datetime.now(UTC))

    # When an operator unsuppresses it
    unsuppress = ["emails", "unsuppress", "--table", content_table, "--parameter", rotation.name]
    code = cli_main([*unsuppress, "--email", address])

    # Then it is suppressed under neither key, and the command said there was a suppression
    assert code == 0
    assert not is_suppressed(delivery, [email_hash(key, address) for key in keys.all])
    assert capsys.readouterr().out.startswith("Suppression removed (bounce, since ")
