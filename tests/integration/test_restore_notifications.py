"""A restore writes every comment again, each an insert on the table's stream: the notifications
function sends nothing for those (the table's restore record), and goes on telling of what
happens to comments afterwards."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.data.notifications import restore_record_key
from tests.integration.notifications_stream import batch, handle
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


pytestmark = pytest.mark.integration
__all__ = ["scene"]  # the fixture, used by name


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
