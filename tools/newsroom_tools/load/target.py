"""The system under load: a local system of its own or a running one, its table and queue, and
the run's articles put up and taken down."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from newsroom_tools import emulator as local_emulator
from newsroom_tools.load.options import DEFAULT_FLOOD_INTERVAL, LoadSetupError
from newsroom_tools.load.plan import Plan

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from newsroom_tools.runner import LocalSystem

CONTENT_TABLE = "ContentTable"  # logical ids; a local run names them so
DEAD_LETTER_QUEUE = "NotificationsDeadLetterQueue"


def emulator_session() -> Any:
    """A boto3 session with the emulator's credentials (none are configured here, perhaps)."""
    import boto3

    credentials = local_emulator.FAKE_CREDENTIALS
    return boto3.session.Session(
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        region_name=local_emulator.REGION,
    )


@dataclass
class Target:
    """Where the run's requests go and where it looks afterwards."""

    api_url: str
    endpoint_url: str
    content_table: str
    dead_letter_queue: str  # URL
    moderators: tuple[str, ...]
    flood_interval: float
    system: LocalSystem | None = None

    @property
    def given_up(self) -> int:
        """Stream records the local pollers gave up on (own system only)."""
        if self.system is None:
            return 0
        return sum(poller.given_up for poller in self.system.stream_pollers)

    def db(self) -> DynamoDBClient:
        client: DynamoDBClient = emulator_session().client(
            "dynamodb", endpoint_url=self.endpoint_url
        )
        return client

    def sqs(self) -> SQSClient:
        client: SQSClient = emulator_session().client("sqs", endpoint_url=self.endpoint_url)
        return client


@contextlib.contextmanager
def own_system(flood_interval: int | None) -> Iterator[Target]:
    """A `LocalSystem` on free ports (no demo articles), with FLOOD_INTERVAL_SECONDS if given."""
    from newsroom_tools.runner import LocalSystem, free_port

    settings = {} if flood_interval is None else {"FLOOD_INTERVAL_SECONDS": str(flood_interval)}
    with (
        local_emulator.environment(settings),
        LocalSystem(port=0, emulator_port=free_port(), seed=False) as system,
    ):
        yield Target(
            api_url=system.api_url,
            endpoint_url=system.emulator_url,
            content_table=system.table_names[CONTENT_TABLE],
            dead_letter_queue=system.table_names[DEAD_LETTER_QUEUE],
            moderators=tuple(json.loads(os.environ.get("MODERATOR_EMAILS") or "[]")),
            flood_interval=float(
                os.environ.get("FLOOD_INTERVAL_SECONDS") or DEFAULT_FLOOD_INTERVAL
            ),
            system=system,
        )


def running_system(api: str, emulator_port: int, flood_interval: int | None) -> Target:
    """A running `make run` at `api` (`validate` checked it is on loopback), and its emulator."""
    from botocore.exceptions import BotoCoreError, ClientError

    from newsroom_tools.template import load_template, parameter_defaults

    endpoint = f"http://{local_emulator.DEFAULT_HOST}:{emulator_port}"
    try:
        sqs = emulator_session().client("sqs", endpoint_url=endpoint)
        queue = sqs.get_queue_url(QueueName=DEAD_LETTER_QUEUE)["QueueUrl"]
    except (BotoCoreError, ClientError) as exc:
        raise LoadSetupError(f"no local run's emulator at {endpoint}: {exc}") from exc
    moderators = json.loads(parameter_defaults(load_template())["ModeratorEmails"])
    return Target(
        api_url=api.rstrip("/"),
        endpoint_url=endpoint,
        content_table=CONTENT_TABLE,
        dead_letter_queue=queue,
        moderators=tuple(moderators),
        flood_interval=DEFAULT_FLOOD_INTERVAL if flood_interval is None else flood_interval,
    )


def create_articles(target: Target, plan: Plan) -> None:
    """The run's articles, open for comments, written as the importer writes them."""
    from newsroom.data.articles import save_article
    from newsroom.models.articles import StoredArticle

    db = target.db()
    published = datetime.now(UTC) - timedelta(hours=1)
    for k, slug in enumerate(plan.slugs):
        article = StoredArticle.model_validate(
            {
                "slug": slug,
                "title": f"Load run {plan.run}, article {k}",
                "summary": "An article the load run comments on.",
                "body_html": "<p>Body.</p>",
                "body_markdown": "Body.",
                "author": {"name": f"Author {k}", "email": plan.authors[slug]},
                "published_at": published,
                "updated_at": published,
                "tags": [],
            }
        )
        save_article(article, table=target.content_table, previous=None, db=db)


def take_down_articles(target: Target, plan: Plan) -> None:
    """Delete the run's articles (their comments stay, out of every listing)."""
    from newsroom.data.articles import ARTICLE_SK, article_pk

    db = target.db()
    for slug in plan.slugs:
        db.delete_item(
            TableName=target.content_table,
            Key={"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}},
        )


def dead_letters(target: Target) -> int:
    """Messages in the dead-letter queue, visible or not."""
    attributes = target.sqs().get_queue_attributes(
        QueueUrl=target.dead_letter_queue,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def stored_comments(target: Target, slugs: Sequence[str]) -> list[dict[str, Any]]:
    """Every comment item of the articles, whatever its status: one Query per partition."""
    from newsroom.data.comments import all_comment_items

    db = target.db()
    return [item for slug in slugs for item in all_comment_items(db, target.content_table, slug)]
