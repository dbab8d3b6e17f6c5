"""`newsroom moderation dry-run` against the emulator: comments posted through the comments
function, judged again by a stricter policy, the changes reported and nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from newsroom.data.articles import article_pk
from newsroom_tools.cli import main
from tests.apigw import Answer
from tests.integration.articles_data import seed
from tests.integration.comments_api import (
    form,
    own_content_table,
    post_comment,
    post_when_flood_allows,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

Settings = Callable[..., None]


@pytest.fixture
def content_table(
    content_table: str, dynamodb: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    with own_content_table(dynamodb, monkeypatch, stream=False) as table:
        yield table


@pytest.fixture
def slug(content_table: str, unique: str, settings: Settings) -> str:
    """A published article whose live policy approves every comment."""
    settings(require_previous_approval="false", comment_max_links="0")
    slug = f"dr-{unique}"
    seed(content_table, slug)
    return slug


def accepted_id(answer: Answer) -> str:
    assert answer.status == 201, answer.body
    assert answer.body["status"] == "approved"
    return str(answer.body["id"])


def every_item(db: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    scan: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = db.scan(**scan)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_stricter_policy_reports_the_verdicts_that_would_change_and_writes_nothing(
    dynamodb: DynamoDBClient,
    content_table: str,
    slug: str,
    unique: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given approved comments: a clean one, one with a keyword, one linking one address twice,
    # and one with the keyword posted long ago
    clean = accepted_id(post_comment(slug, form(unique, reader="a")))
    keyword = accepted_id(
        post_comment(slug, form(unique, reader="b", body=f"Buy cheapwatches now {unique}"))
    )
    repeated = accepted_id(
        post_comment(
            slug,
            form(
                unique,
                reader="c",
                body=f"[one](https://x.example/) [two](https://x.example/) {unique}",
            ),
        )
    )
    old = accepted_id(post_comment(slug, form(unique, reader="d", body="cheapwatches too")))
    long_ago = datetime.now(UTC) - timedelta(days=40)
    dynamodb.update_item(
        TableName=content_table,
        Key={"pk": {"S": article_pk(slug)}, "sk": {"S": f"COMMENT#{old}"}},
        UpdateExpression="SET created_at = :at",
        ExpressionAttributeValues={":at": {"S": long_ago.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}},
    )
    before = every_item(dynamodb, content_table)
    capsys.readouterr()

    # When the dry run judges the last 30 days with a keyword and the repeated-link check,
    # first-time holds off, as live
    code = main(
        [
            "moderation",
            "dry-run",
            "--table",
            content_table,
            "--since",
            "30d",
            "--max-links",
            "0",
            "--no-require-previous-approval",
            "--moderation-key",
            "cheapwatches",
            "--check",
            "repeated_link",
        ]
    )
    out = capsys.readouterr().out

    # Then it names the two comments it would hold, and why, and not the others; nothing
    # in the table changed
    assert code == 0
    assert (
        f"{slug} {keyword}: approved -> pending (moderation_keyword: It contains the "
        "moderation word 'cheapwatches'.)" in out
    )
    assert f"{slug} {repeated}: approved -> pending (content_check: " in out
    assert clean not in out
    assert old not in out
    assert "3 comment(s) judged, 2 would change" in out
    assert "example.org" not in out
    assert every_item(dynamodb, content_table) == before


def test_first_time_hold_judges_an_author_by_their_earlier_approved_comment(
    content_table: str,
    slug: str,
    unique: str,
    quick_flood: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given one author's two approved comments and another author's one
    first = accepted_id(post_comment(slug, form(unique, reader="a")))
    second = accepted_id(
        post_when_flood_allows(slug, form(unique, reader="a", body=f"And more, {unique}."))
    )
    other = accepted_id(post_comment(slug, form(unique, reader="b")))
    capsys.readouterr()

    # When the dry run turns the first-time hold on
    code = main(["moderation", "dry-run", "--table", content_table, "--max-links", "0"])
    out = capsys.readouterr().out

    # Then each author's first comment would be held, the second one not
    assert code == 0
    assert f"{first}: approved -> pending (first_comment:" in out
    assert f"{other}: approved -> pending (first_comment:" in out
    assert second not in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "soon"], "--since 'soon'"),
        (["--check", "nope"], "--check 'nope': unknown check"),
    ],
)
def test_bad_option_exits_2_naming_it(
    content_table: str, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["moderation", "dry-run", "--table", content_table, *arguments])

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_negative_link_limit_exits_2_naming_it(
    content_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["moderation", "dry-run", "--table", content_table, "--max-links", "-1"])

    assert code == 2
    assert "--max-links" in capsys.readouterr().err
