"""DynamoDB stream records of comment items, parsed with the layer's own comment model."""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import (
    DynamoDBStreamChangedRecordModel,
    DynamoDBStreamRecordModel,
)
from pydantic import ConfigDict

from newsroom.models.comments import StoredComment


class CommentImages(DynamoDBStreamChangedRecordModel):
    """The comment before (absent on insert) and after the change."""

    model_config = ConfigDict(defer_build=True)

    NewImage: StoredComment | None = None
    OldImage: StoredComment | None = None


class CommentChangeRecord(DynamoDBStreamRecordModel):
    """One stream record the template's FilterCriteria let through: a comment inserted or
    modified (its status changed, its author edited it, a reply was counted under it, or its
    author unsubscribed; `newsroom.notifications.plan` tells them apart)."""

    model_config = ConfigDict(defer_build=True)

    dynamodb: CommentImages
