"""`newsroom export` and `newsroom import backup` against the emulator: a table filled through
the real importer and handlers comes back item for item, over several Scan pages, through
throttling, unprocessed items and an interruption; bad files and occupied tables are refused
with nothing written."""

from __future__ import annotations

import gzip
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import EndpointConnectionError
from botocore.parsers import create_parser

from functions.articles.app import lambda_handler as articles_handler
from newsroom.config import articles_settings, comments_settings
from newsroom.data.notifications import restore_record_key
from newsroom_tools.backup import (
    BATCH_SIZE,
    Backoff,
    RestoreRefusedError,
    ThrottledTooLongError,
    export_table,
    restore_backup,
)
from newsroom_tools.cli import main
from newsroom_tools.importer import import_paths
from newsroom_tools.template import PROJECT_ROOT, load_template, resources, table_create_kwargs
from tests.apigw import Answer, invoke, rest_event
from tests.flood import QUICK_FLOOD_SECONDS
from tests.integration.comments_api import (
    admin_action,
    admin_queue,
    form,
    list_comments,
    own_content_table,
    post_comment,
    post_when_flood_allows,
)
from tests.integration.notifications_stream import (
    batch,
    comment_item,
    confirm_reply_notices,
    handle,
    stream_record,
)
from tests.integration.test_notifications import ALL_DONE
from tests.integration.test_privacy_erasure import erase, notifications_on_it

if TYPE_CHECKING:
    from botocore.model import OperationModel
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration

Settings = Callable[..., None]
Item = dict[str, Any]
Key = tuple[str, str]
SLUG = "storm-isolde-clean-up"  # a demo article, open for comments
_HOOK = "tests-backup-fault"


# -- tables ------------------------------------------------------------------------------------


def _spec() -> dict[str, Any]:
    spec: dict[str, Any] = resources(load_template(), "AWS::DynamoDB::Table")["ContentTable"]
    return spec


def enable_ttl(db: DynamoDBClient, table: str) -> None:
    """The template's TTL on `table`, as `provision` sets it."""
    ttl = _spec()["Properties"]["TimeToLiveSpecification"]
    db.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
    )


@contextmanager
def template_table(db: DynamoDBClient) -> Iterator[str]:
    """A new, empty table made from the template's ContentTable (stream and TTL included),
    deleted when the block ends."""
    name = f"{os.environ['CONTENT_TABLE_NAME']}-r{uuid.uuid4().hex[:10]}"
    db.create_table(**table_create_kwargs(_spec(), name))
    enable_ttl(db, name)
    try:
        yield name
    finally:
        db.delete_table(TableName=name)


def every_item(db: DynamoDBClient, table: str) -> dict[Key, Item]:
    """Every item of `table`, by key, as DynamoDB's typed JSON (consistent Scan, every page)."""
    items: dict[Key, Item] = {}
    scan: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = db.scan(**scan)
        for item in page.get("Items", []):
            items[(item["pk"]["S"], item["sk"]["S"])] = dict(item)
        if "LastEvaluatedKey" not in page:
            return items
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def backup_lines(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as text:
        return text.read().splitlines()


def restore_record(items: dict[Key, Item]) -> Item:
    key = restore_record_key()
    return items.pop((key["pk"]["S"], key["sk"]["S"]))


def every_type_item(unique: str) -> Item:
    """An item holding each of DynamoDB's attribute types, with values JSON would bend."""
    return {
        "pk": {"S": f"TEST#{unique}"},
        "sk": {"S": "TYPES"},
        "type": {"S": "test_types"},
        "blob": {"B": bytes(range(256))},
        "blobs": {"BS": [b"\x00", b"\xff\xfe\xfd"]},
        "big": {"N": "123456789012345678901234567890.12345678"},
        "small": {"N": "-0.000000000000000000000000000000000001"},
        "numbers": {"NS": ["1", "2.5", "99999999999999999999"]},
        "strings": {"SS": ["a", "ünï", "😀"]},
        "text": {"S": 'line\nbreak \u2028 "quoted" \\ ünïcødé'},
        "flags": {"L": [{"BOOL": True}, {"BOOL": False}, {"NULL": True}]},
        "nested": {"M": {"B": {"S": "a map key named B"}, "L": {"L": [{"M": {}}, {"L": []}]}}},
    }


def expired_guard(unique: str) -> Item:
    """A flood guard whose TTL passed a minute ago (DynamoDB deletes it within days)."""
    return {
        "pk": {"S": f"GUARD#FLOOD#ip#expired-{unique}"},
        "sk": {"S": "GUARD"},
        "type": {"S": "flood_guard"},
        "last_at_ms": {"N": str(int(time.time() * 1000) - 120_000)},
        "expires_at": {"N": str(int(time.time()) - 60)},
    }


def synthetic_items(unique: str, count: int, *, size: int = 100) -> list[Item]:
    return [
        {
            "pk": {"S": f"TEST#{unique}#{n:04d}"},
            "sk": {"S": "ITEM"},
            "type": {"S": "test_item"},
            "n": {"N": str(n)},
            "payload": {"S": "x" * size},
        }
        for n in range(count)
    ]


def put_all(db: DynamoDBClient, table: str, items: list[Item]) -> None:
    for start in range(0, len(items), BATCH_SIZE):
        chunk = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_SIZE]]
        response = db.batch_write_item(RequestItems={table: chunk})  # type: ignore[dict-item]
        assert not response.get("UnprocessedItems"), response


@pytest.fixture
def db(content_table: str) -> DynamoDBClient:
    """A client of our own (the hooks a test registers go with it), the session's tables and
    key provisioned."""
    client: DynamoDBClient = boto3.client("dynamodb")
    return client


def use_table(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """Point the comments and articles functions at `table`."""
    monkeypatch.setenv("CONTENT_TABLE_NAME", table)
    comments_settings.cache_clear()
    articles_settings.cache_clear()


# -- a table filled as the site fills it ------------------------------------------------------


def articles_page(**query: str) -> Answer:
    """GET /articles (a tag's page with ``tag=``), through the articles function."""
    event = rest_event("GET", "/articles", query=query or None)
    return invoke(articles_handler, event)


def accepted(answer: Any) -> str:
    assert answer.status == 201, answer.body
    return str(answer.body["id"])


def approve(comment_id: str) -> None:
    answer = admin_action(SLUG, comment_id, "approve")
    assert answer.status == 200, answer.body


def populate(table: str, unique: str) -> dict[str, str]:
    """Articles through the importer; comments through the comments function (approved,
    replies, pending, spam, one asking for replies and confirmed), their emails through the
    notifications function (its ledger), and an erasure. The comment ids by role."""
    import_paths([PROJECT_ROOT / "content" / "articles"], table=table)
    root = accepted(post_comment(SLUG, form(unique, reader="a", notify_replies=True)))
    approve(root)
    confirm_reply_notices(table, str(form(unique, reader="a")["author_email"]))
    reply = accepted(post_comment(SLUG, form(unique, reader="b", parent_id=root)))
    approve(reply)
    nested = accepted(post_comment(SLUG, form(unique, reader="c", parent_id=reply)))
    pending = accepted(post_comment(SLUG, form(unique, reader="d")))
    spam = accepted(post_comment(SLUG, form(unique, reader="s")))
    assert admin_action(SLUG, spam, "spam").status == 200
    inserts = [stream_record(table, comment_item(table, SLUG, cid)) for cid in (reply, pending)]
    assert handle(batch(*inserts)) == ALL_DONE  # the ledger records the emails sent
    erased_person = form(unique, reader="e")
    kept = accepted(post_comment(SLUG, erased_person))
    approve(kept)
    answer = accepted(post_comment(SLUG, form(unique, reader="f", parent_id=kept)))
    approve(answer)
    gone = accepted(post_when_flood_allows(SLUG, erased_person | {"body": f"Bye ({unique})."}))
    assert erase(str(erased_person["author_email"])).status == 200
    return {
        "root": root,
        "reply": reply,
        "nested": nested,
        "pending": pending,
        "spam": spam,
        "kept": kept,
        "answer": answer,
        "gone": gone,
    }


def test_a_populated_table_exported_and_restored_into_an_empty_one_is_the_same_item_for_item(
    dynamodb: DynamoDBClient,
    db: DynamoDBClient,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    unique: str,
    tmp_path: Path,
) -> None:
    # Given a table filled by the importer and the functions, with an item of every
    # attribute type and a flood guard whose TTL has passed
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS)
    with own_content_table(dynamodb, monkeypatch) as source, notifications_on_it():
        enable_ttl(db, source)
        ids = populate(source, unique)
        put_all(db, source, [every_type_item(unique), expired_guard(unique)])
        before = every_item(db, source)
        kinds = {item["type"]["S"] for item in before.values()}
        assert {"article", "article_tag", "comment", "commenter", "duplicate_guard"} <= kinds
        assert {"sender_data", "sent_email", "subscriber", "erased_address"} <= kinds
        assert {"privacy_request", "flood_guard", "test_types"} <= kinds
        erased = before[(f"ARTICLE#{SLUG}", f"COMMENT#{ids['kept']}")]
        assert "erased_at" in erased
        thread = list_comments(SLUG, limit="100")
        queue = admin_queue("pending", limit="100")
        front, tag = articles_page(), articles_page(tag="storm")
        assert thread.status == queue.status == front.status == tag.status == 200
        assert SLUG in [a["slug"] for a in tag.body["items"]]
        assert {c["id"] for c in thread.body["items"]} >= {ids["root"], ids["reply"], ids["kept"]}

        # When it is exported, and the file restored into a new table made from the template
        backup = tmp_path / "backup.jsonl.gz"
        exported = export_table(db, source, backup)
        with template_table(db) as target:
            restored = restore_backup(db, target, backup)
            after = every_item(db, target)

            # Then every item but the expired one is there, each attribute of the same type
            # and value, and the restore record besides
            expired_key = (f"GUARD#FLOOD#ip#expired-{unique}", "GUARD")
            assert exported.skipped_expired == 1
            assert restored.items == exported.items == len(before) - 1
            record = restore_record(after)
            assert record["backup_id"]["S"] == json.loads(backup_lines(backup)[0])["id"]
            assert "finished_at" in record
            assert after.keys() == before.keys() - {expired_key}
            for key, item in after.items():
                assert item == before[key], key
            assert after[(f"TEST#{unique}", "TYPES")] == every_type_item(unique)

            # and the indexes answer as before: the public thread, the moderation queue, the
            # front page and a tag's page
            use_table(monkeypatch, target)
            assert list_comments(SLUG, limit="100").body == thread.body
            assert admin_queue("pending", limit="100").body == queue.body
            assert articles_page().body == front.body
            assert articles_page(tag="storm").body == tag.body
            use_table(monkeypatch, source)


def test_an_export_reads_every_scan_page_and_a_parallel_one_every_segment(
    db: DynamoDBClient, tmp_path: Path, unique: str
) -> None:
    # Given a table of 3 MB: three of moto's 1 MB Scan pages or more
    with template_table(db) as source:
        items = synthetic_items(unique, 30, size=100_000)
        put_all(db, source, items)
        scans: list[str] = []
        db.meta.events.register(
            "before-call.dynamodb.Scan", lambda **_: scans.append("Scan"), unique_id=_HOOK
        )
        try:
            # When it is exported in one Scan, then in three segments side by side
            whole = export_table(db, source, tmp_path / "one.jsonl.gz")
            one_segment = len(scans)
            parallel = export_table(db, source, tmp_path / "three.jsonl.gz", segments=3)
        finally:
            db.meta.events.unregister("before-call.dynamodb.Scan", unique_id=_HOOK)

        # Then every page was read, and each file restores all 30 items
        assert whole.pages == one_segment >= 3
        assert parallel.pages == len(scans) - one_segment >= 3
        assert whole.items == parallel.items == 30
        for name in ("one", "three"):
            with template_table(db) as target:
                restore_backup(db, target, tmp_path / f"{name}.jsonl.gz")
                after = every_item(db, target)
                restore_record(after)
                assert after == every_item(db, source)


# -- faults ------------------------------------------------------------------------------------


def dynamodb_error(model: OperationModel, code: str) -> tuple[AWSResponse, dict[str, Any]]:
    """What DynamoDB answers with the error `code`, parsed by botocore's own JSON parser."""
    headers = HTTPHeaders.from_dict({"Content-Type": "application/x-amz-json-1.0"})
    body = json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected by the test"}
    ).encode()
    assert model.output_shape is not None
    wire = {"status_code": 400, "headers": headers, "body": body}
    parsed: dict[str, Any] = create_parser("json").parse(wire, model.output_shape)
    return AWSResponse("https://dynamodb.us-east-1.amazonaws.com/", 400, headers, None), parsed


@contextmanager
def hooked(db: DynamoDBClient, event: str, handler: Callable[..., Any]) -> Iterator[None]:
    """`handler` on the client's `event` of BatchWriteItem while the block runs."""
    name, hook = f"{event}.dynamodb.BatchWriteItem", f"{_HOOK}-{event}"
    db.meta.events.register(name, handler, unique_id=hook)
    try:
        yield
    finally:
        db.meta.events.unregister(name, unique_id=hook)


@pytest.fixture
def backup_of(db: DynamoDBClient, tmp_path: Path, unique: str) -> Iterator[Path]:
    """A backup of a table of 80 small items (four batches)."""
    with template_table(db) as source:
        put_all(db, source, synthetic_items(unique, 80))
        path = tmp_path / "small.jsonl.gz"
        export_table(db, source, path)
        yield path


def recorded_backoff(waits: list[float], *, attempts: int = 12) -> Backoff:
    """A backoff that waits no time: its waits, at their most (no jitter), are recorded."""
    return Backoff(sleep=waits.append, jitter=lambda most: most, attempts=attempts)


def test_throttled_batches_are_written_again_after_growing_waits(
    db: DynamoDBClient, backup_of: Path
) -> None:
    # Given DynamoDB refusing the first four batch writes, throttled
    refused: list[str] = []
    codes = ["ThrottlingException", "ProvisionedThroughputExceededException"] * 2

    def throttle(model: OperationModel, **_: Any) -> Any:
        if len(refused) == len(codes):
            return None
        refused.append(codes[len(refused)])
        return dynamodb_error(model, refused[-1])

    # When the backup is restored
    waits: list[float] = []
    with template_table(db) as target, hooked(db, "before-call", throttle):
        report = restore_backup(db, target, backup_of, backoff=recorded_backoff(waits))
        after = every_item(db, target)

    # Then every item is written, after waits that doubled each time
    assert len(refused) == 4
    assert report.retries == 4
    assert waits == [0.05, 0.1, 0.2, 0.4]
    restore_record(after)
    assert len(after) == report.items == 80


def test_items_left_unprocessed_are_written_again_until_none_is_left(
    db: DynamoDBClient, backup_of: Path
) -> None:
    # Given DynamoDB taking only the first 10 items of each of the first three batch writes,
    # and answering the rest as UnprocessedItems, as it does under load
    held: list[list[Any]] = []  # per write: what DynamoDB "did not process"
    taken: list[str] = []  # the table of a write cut short, until its answer says so

    def take_part(params: dict[str, Any], **_: Any) -> None:
        if len(held) < 3:
            ((table, requests),) = params["RequestItems"].items()
            params["RequestItems"] = {table: requests[:10]}
            held.append(requests[10:])
            taken.append(table)

    def answer_unprocessed(parsed: dict[str, Any], **_: Any) -> None:
        if taken:
            table = taken.pop()
            if held[-1]:
                parsed["UnprocessedItems"] = {table: held[-1]}

    # When the backup is restored
    waits: list[float] = []
    with (
        template_table(db) as target,
        hooked(db, "provide-client-params", take_part),
        hooked(db, "after-call", answer_unprocessed),
    ):
        report = restore_backup(db, target, backup_of, backoff=recorded_backoff(waits))
        after = every_item(db, target)

    # Then what was left is written again after growing waits (the first batch in writes of
    # 10, 10 and 5 items), and every item is there once
    assert [len(rest) for rest in held] == [15, 5, 0]
    assert report.retries == 2
    assert waits == [0.05, 0.1]
    restore_record(after)
    assert len(after) == report.items == 80


def test_a_batch_throttled_past_every_retry_stops_the_restore_for_a_resume(
    db: DynamoDBClient, backup_of: Path
) -> None:
    # Given DynamoDB throttling every batch write
    def throttle(model: OperationModel, **_: Any) -> Any:
        return dynamodb_error(model, "ThrottlingException")

    waits: list[float] = []
    with template_table(db) as target:
        # When the backup is restored
        with hooked(db, "before-call", throttle), pytest.raises(ThrottledTooLongError):
            restore_backup(db, target, backup_of, backoff=recorded_backoff(waits, attempts=4))

        # Then it gives up after its tries, its waits capped; a resume completes it
        assert waits == [0.05, 0.1, 0.2]
        report = restore_backup(db, target, backup_of, resume=True)
        assert report.items == 80


def test_an_interrupted_restore_run_again_with_resume_completes_it_exactly(
    db: DynamoDBClient, backup_of: Path, unique: str
) -> None:
    # Given a restore whose connection fails at its third batch write
    calls: list[int] = []

    def fail_third(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.example")

    with template_table(db) as target:
        with hooked(db, "before-call", fail_third), pytest.raises(EndpointConnectionError):
            restore_backup(db, target, backup_of)
        written = every_item(db, target)
        restore_record(written)
        assert len(written) == 2 * BATCH_SIZE

        # When it is run again: without --resume it is refused; with it, it completes
        with pytest.raises(RestoreRefusedError, match="--resume"):
            restore_backup(db, target, backup_of)
        report = restore_backup(db, target, backup_of, resume=True)

        # Then the table holds each item once, as in the backup
        after = every_item(db, target)
        record = restore_record(after)
        assert "finished_at" in record
        assert len(after) == 80
        assert sorted(int(item["n"]["N"]) for item in after.values()) == list(range(80))
        assert all(item["payload"] == {"S": "x" * 100} for item in after.values())
        # having put again the items after the last checkpoint only (every 40 batches: none)
        assert report.skipped == 0
        assert report.items == 80


def test_a_resumed_restore_goes_on_from_its_last_checkpoint(
    db: DynamoDBClient, backup_of: Path
) -> None:
    # Given a restore checkpointing every batch, whose connection fails at its third write
    calls: list[int] = []

    def fail_third(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise EndpointConnectionError(endpoint_url="https://dynamodb.example")

    with template_table(db) as target:
        with hooked(db, "before-call", fail_third), pytest.raises(EndpointConnectionError):
            restore_backup(db, target, backup_of, checkpoint_every=1)

        # When it is resumed
        calls.clear()
        with hooked(db, "before-call", lambda **_: calls.append(1)):
            report = restore_backup(db, target, backup_of, resume=True, checkpoint_every=1)

        # Then it wrote the two batches after the checkpoint only, and the table is whole
        assert (report.skipped, report.items, len(calls)) == (50, 30, 2)
        after = every_item(db, target)
        restore_record(after)
        assert sorted(int(item["n"]["N"]) for item in after.values()) == list(range(80))


def test_resume_refuses_a_table_that_no_restore_of_the_file_was_started_in(
    db: DynamoDBClient, backup_of: Path, unique: str
) -> None:
    # Given a table holding items of its own
    with template_table(db) as target:
        put_all(db, target, synthetic_items(f"{unique}-own", 1))

        # When the backup is restored into it with --resume, then it is refused
        with pytest.raises(RestoreRefusedError, match="no restore of this backup"):
            restore_backup(db, target, backup_of, resume=True)
        assert len(every_item(db, target)) == 1


# -- the commands ------------------------------------------------------------------------------


def rewrite(path: Path, change: Callable[[list[str]], list[str]]) -> Path:
    """A copy of the backup `path` with its lines changed by `change`."""
    lines = backup_lines(path)
    changed = path.with_name(f"changed-{uuid.uuid4().hex[:6]}.jsonl.gz")
    with gzip.open(changed, "wt", encoding="utf-8") as out:
        out.writelines(line + "\n" for line in change(lines))
    return changed


def header_with(**fields: Any) -> Callable[[list[str]], list[str]]:
    return lambda lines: [json.dumps(json.loads(lines[0]) | fields), *lines[1:]]


def replaced(number: int, text: str) -> Callable[[list[str]], list[str]]:
    return lambda lines: [*lines[: number - 1], text, *lines[number:]]


def plain_text(path: Path) -> Path:
    plain = path.with_name("plain.jsonl")
    plain.write_text("".join(line + "\n" for line in backup_lines(path)), encoding="utf-8")
    return plain


def truncated(path: Path) -> Path:
    data = path.read_bytes()
    cut = path.with_name("cut.jsonl.gz")
    cut.write_bytes(data[: len(data) // 2])
    return cut


BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "not gzip": (plain_text, "not a gzip file"),
    "truncated gzip": (truncated, "truncated"),
    "no trailer": (lambda p: rewrite(p, lambda lines: lines[:-1]), "no trailer after 80 items"),
    "wrong header": (
        lambda p: rewrite(p, header_with(format="remark42")),
        "line 1: not a newsroom-backup file",
    ),
    "unknown version": (
        lambda p: rewrite(p, header_with(version=2)),
        "line 1: format version 2 is not one this tool reads",
    ),
    "corrupt line": (lambda p: rewrite(p, replaced(40, '{"item": {"pk": ')), "line 40: not JSON"),
    "bad number": (
        lambda p: rewrite(
            p,
            replaced(
                7, json.dumps({"item": {"pk": {"S": "a"}, "sk": {"S": "b"}, "n": {"N": "1x"}}})
            ),
        ),
        "line 7: n: not a valid N value",
    ),
    "item without its key": (
        lambda p: rewrite(p, replaced(9, json.dumps({"item": {"pk": {"S": "a"}}}))),
        "line 9: the item has no key attribute 'sk'",
    ),
    "wrong count": (
        lambda p: rewrite(
            p, lambda lines: [*lines[:-1], '{"end": "newsroom-backup", "items": 81}']
        ),
        "the trailer counts 81 items, the file holds 80",
    ),
}


@pytest.mark.parametrize("fault", BAD_FILES)
def test_a_bad_backup_file_is_refused_by_name_and_line_and_nothing_is_written(
    db: DynamoDBClient, backup_of: Path, fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a backup spoiled in one way
    spoil, message = BAD_FILES[fault]
    bad = spoil(backup_of)

    with template_table(db) as target:
        # When it is restored, or only checked
        status = main(["import", "backup", str(bad), "--table", target])
        restore_err = capsys.readouterr().err
        dry = main(["import", "backup", str(bad), "--dry-run"])
        dry_err = capsys.readouterr().err

        # Then both exit 2 saying what is wrong and where, without a traceback, and the
        # table is left empty
        assert status == dry == 2
        for err in (restore_err, dry_err):
            assert message in err, err
            assert "Traceback" not in err
        assert "nothing was written" in restore_err
        assert every_item(db, target) == {}


def test_a_restore_into_a_table_that_is_not_empty_is_refused(
    db: DynamoDBClient, backup_of: Path, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a table with one item
    with template_table(db) as target:
        put_all(db, target, synthetic_items(f"{unique}-own", 1))

        # When the backup is restored into it
        status = main(["import", "backup", str(backup_of), "--table", target])

        # Then it is refused, and the table holds its one item only
        assert status == 2
        assert "is not empty" in capsys.readouterr().err
        assert len(every_item(db, target)) == 1


def test_the_commands_export_and_restore_printing_counts_and_no_address(
    db: DynamoDBClient, tmp_path: Path, unique: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a table holding a comment with an address
    address = f"private-{unique}@example.org"
    comment = {
        "pk": {"S": f"ARTICLE#b-{unique}"},
        "sk": {"S": "COMMENT#c1"},
        "type": {"S": "comment"},
        "author_email": {"S": address},
        "created_at": {"S": "2026-11-28T15:04:05.000000Z"},
    }
    with template_table(db) as source, template_table(db) as target:
        put_all(db, source, [comment, *synthetic_items(unique, 2)])
        backup = tmp_path / "cli.jsonl.gz"

        # When it is exported, checked and restored with the commands
        exported = main(["export", str(backup), "--table", source])
        out = capsys.readouterr().out
        checked = main(["import", "backup", str(backup), "--dry-run"])
        out += capsys.readouterr().out
        assert every_item(db, target) == {}  # a dry run writes nothing
        restored = main(["import", "backup", str(backup), "--table", target])
        out += capsys.readouterr().out

        # Then each says what it did, in counts, and never the address; the file is its
        # owner's only
        assert exported == checked == restored == 0
        assert backup.stat().st_mode & 0o777 == 0o600
        assert "exported 3 items" in out
        assert "3 items (comment 1, test_item 2); nothing written (--dry-run)" in out
        assert "restored 3 items" in out
        assert address not in out
        after = every_item(db, target)
        record = restore_record(after)
        assert record["restored_through"] == {"S": "2026-11-28T15:04:05+00:00"}
        assert after == every_item(db, source)


@pytest.mark.parametrize(
    ("cut", "exit_status"),
    [
        (EndpointConnectionError(endpoint_url="https://dynamodb.example"), 1),
        (KeyboardInterrupt(), 130),
    ],
    ids=["connection lost", "ctrl-c"],
)
def test_a_restore_cut_short_says_to_resume_and_the_command_with_resume_completes_it(
    db: DynamoDBClient,
    backup_of: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    cut: BaseException,
    exit_status: int,
) -> None:
    # Given a restore with the command, cut short at its second batch write
    calls: list[int] = []

    def cut_second(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise cut

    with template_table(db) as target:
        monkeypatch.setattr("newsroom_tools.export.connect", lambda args: (target, db))
        command = ["import", "backup", str(backup_of), "--table", target]
        with hooked(db, "before-call", cut_second):
            status = main(command)
        cut_err = capsys.readouterr().err

        # When the command is run again, then with --resume
        again = main(command)
        again_err = capsys.readouterr().err
        resumed = main([*command, "--resume"])

        # Then the cut one said to resume, the plain one refused, the resumed one completed
        assert status == exit_status
        assert "run the same command again with --resume" in cut_err
        assert "Traceback" not in cut_err
        assert again == 2
        assert "run again with --resume" in again_err
        assert resumed == 0
        after = every_item(db, target)
        restore_record(after)
        assert len(after) == 80
