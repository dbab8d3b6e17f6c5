"""A restore writes every comment again, each an insert on the table's stream: the notifications
function sends nothing for those (the table's restore record), and goes on telling of what
happens to comments afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from newsroom.data.notifications import restore_record_key
from newsroom_tools.cli import main
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import loopback_address, request
from tests.integration.notifications_stream import batch, handle
from tests.integration.test_end_to_end import links_in, submit_form
from tests.integration.test_notifications import (
    ALL_DONE,
    Scene,
    approve,
    changed,
    inserted,
    post,
    scene,
    stored,
    tally,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from newsroom_tools.outbox import OutboxEmail

pytestmark = pytest.mark.integration
__all__ = ["scene"]  # the fixture, used by name

SLUG = "storm-isolde-clean-up"  # a demo article of the local run, open for comments
MODERATOR = "moderator@example.com"  # the template's default ModeratorEmails


def restore_record(db: DynamoDBClient, table: str, through: str) -> None:
    """The record a restore writes before its first item: comments created up to `through`
    are the restore's."""
    item: Any = restore_record_key() | {
        "type": {"S": "restore"},
        "backup_id": {"S": uuid.uuid4().hex},
        "restored_through": {"S": through},
    }
    db.put_item(TableName=table, Item=item)


def test_an_insert_of_a_comment_a_restore_wrote_sends_nothing_and_its_approval_is_told(
    scene: Scene, dynamodb: DynamoDBClient
) -> None:
    # Given a held comment, and a restore record written after it (the restore wrote it)
    held = post(scene, "a")
    restore_record(dynamodb, scene.table, stored(scene, held)["created_at"])

    # When the notifications function gets its insert
    assert handle(batch(inserted(scene, held))) == ALL_DONE

    # Then no moderator is asked about it
    assert tally(scene) == {}

    # When a moderator approves it, and a reader posts after the restore
    assert handle(batch(changed(scene, held, approve(scene, held)))) == ALL_DONE
    later = post(scene, "b")
    assert handle(batch(inserted(scene, later))) == ALL_DONE

    # Then the article's author hears of the approved comment, and the moderators of the new
    assert tally(scene) == {scene.author: 1, **dict.fromkeys(scene.moderators, 1)}


# -- through the local run's stream ------------------------------------------------------------


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(port=0, emulator_port=free_port()) as running:
        yield running


def post_comment(system: LocalSystem, **fields: object) -> str:
    posted = request(
        f"{system.api_url}/articles/{SLUG}/comments",
        method="POST",
        json_body=fields,
        source_ip=loopback_address(),
    )
    assert posted.status == 201, posted.text
    return str(posted.json()["id"])


def emails(system: LocalSystem) -> list[OutboxEmail]:
    assert system.outbox is not None
    return system.outbox.emails()


def moderation_email(system: LocalSystem, text: str) -> OutboxEmail:
    system.wait_for_streams()
    (sent,) = [e for e in emails(system) if MODERATOR in e.to and text in (e.text or "")]
    return sent


def delete_items(db: DynamoDBClient, table: str, *, of_type: str | None = None) -> int:
    """Delete the items of `table` (of one type only, if given); how many."""
    scan: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    deleted = 0
    while True:
        page = db.scan(**scan)
        for item in page.get("Items", []):
            if of_type is None or item.get("type") == {"S": of_type}:
                db.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
                deleted += 1
        if "LastEvaluatedKey" not in page:
            return deleted
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def listed_ids(system: LocalSystem) -> list[str]:
    listed = request(f"{system.api_url}/articles/{SLUG}/comments?limit=100").json()
    return [item["id"] for item in listed["items"]]


def test_a_restore_through_the_local_runs_stream_sends_no_email(
    system: LocalSystem, tmp_path: Path
) -> None:
    # Given a comment approved by its moderation link (its article's author told, its
    # commenter asked to confirm replies) and one left held (its moderator asked)
    unique = uuid.uuid4().hex[:8]
    approved_text = f"Approved before the backup ({unique})."
    approved = post_comment(
        system,
        author_name="Kerensa",
        author_email=f"kerensa-{unique}@example.org",
        body=approved_text,
        notify_replies=True,
    )
    approve = links_in(moderation_email(system, approved_text))["approve"]
    _, done = submit_form(approve, request(approve))
    assert done.status == 200, done.text
    held_text = f"Held before the backup ({unique})."
    post_comment(
        system, author_name="Tamsin", author_email=f"tamsin-{unique}@example.org", body=held_text
    )
    moderation_email(system, held_text)
    system.wait_for_streams()
    sent_before = len(emails(system))
    assert sent_before >= 4
    # ... and the sent-email ledger gone, as its TTL takes it after 30 days (else it alone
    # would keep those emails from going out again)
    db: DynamoDBClient = boto3.client("dynamodb", endpoint_url=system.emulator_url)
    table = system.table_names["ContentTable"]
    assert delete_items(db, table, of_type="sent_email") >= 4

    # When the local run's table is exported, emptied and restored, with the commands
    port = str(system.emulator_port)
    backup = tmp_path / "local.jsonl.gz"
    assert main(["export", str(backup), "--local", "--emulator-port", port]) == 0
    delete_items(db, table)
    assert listed_ids(system) == []
    assert main(["import", "backup", str(backup), "--local", "--emulator-port", port]) == 0
    system.wait_for_streams()

    # Then the comments are back and not one email went out
    assert approved in listed_ids(system)
    assert len(emails(system)) == sent_before

    # And a comment posted after the restore is told to the moderator as before
    after_text = f"Posted after the restore ({unique})."
    post_comment(
        system, author_name="Jory", author_email=f"jory-{unique}@example.org", body=after_text
    )
    moderation_email(system, after_text)
