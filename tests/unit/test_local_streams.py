"""The local DynamoDB event source mapping: filter patterns, the Lambda event, batching, and
Lambda's failure handling, against an in-memory stream and a fake handler."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from newsroom_tools.event_filter import (
    FilterPatternError,
    matches,
    matches_any,
    parse_filter_criteria,
    parse_pattern,
)
from newsroom_tools.streams import (
    StreamConfigError,
    StreamMapping,
    StreamPoller,
    failure_message,
    first_failed_index,
    lambda_record,
    mapping_of,
    stream_mappings,
)
from newsroom_tools.template import functions, load_template

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/T/stream/2024-01-01T00:00:00.000"
SHARD_ID = "shardId-00000001-test"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:dead-letters"
TEMPLATE_EVENT = functions(load_template())["NotificationsFunction"].events["CommentChanges"]
TEMPLATE_FILTERS = parse_filter_criteria(TEMPLATE_EVENT["Properties"]["FilterCriteria"])


def stream_event(
    event_name: str = "INSERT",
    new: dict[str, Any] | None = None,
    old: dict[str, Any] | None = None,
) -> dict[str, Any]:
    dynamodb: dict[str, Any] = {"Keys": {"pk": {"S": "ARTICLE#a"}}, "SequenceNumber": "100"}
    if new is not None:
        dynamodb["NewImage"] = new
    if old is not None:
        dynamodb["OldImage"] = old
    return {"eventName": event_name, "eventSource": "aws:dynamodb", "dynamodb": dynamodb}


COMMENT = {"pk": {"S": "ARTICLE#a"}, "type": {"S": "comment"}, "status": {"S": "pending"}}
ARTICLE = {"pk": {"S": "ARTICLE#a"}, "type": {"S": "article"}}
SENDER_DATA = {"pk": {"S": "ARTICLE#a"}, "sk": {"S": "SENDER#c1"}, "type": {"S": "sender_data"}}


# The template's own filter


@pytest.mark.parametrize(
    ("record", "passes"),
    [
        (stream_event("INSERT", new=COMMENT), True),
        (stream_event("MODIFY", new=COMMENT, old=COMMENT), True),
        (stream_event("REMOVE", old=COMMENT), False),
        (stream_event("INSERT", new=ARTICLE), False),
        (stream_event("MODIFY", new=ARTICLE, old=ARTICLE), False),
        (stream_event("INSERT", new={"pk": {"S": "x"}}), False),
        (stream_event("INSERT", new=SENDER_DATA), False),
        (stream_event("REMOVE", old=SENDER_DATA), False),
    ],
    ids=[
        "new-comment",
        "changed-comment",
        "deleted-comment",
        "new-article",
        "changed-article",
        "untyped-item",
        "new-sender-data",
        "sender-data-expired",
    ],
)
def test_template_filter_passes_new_and_changed_comments_only(
    record: dict[str, Any], passes: bool
) -> None:
    assert matches_any(TEMPLATE_FILTERS, record) is passes


# Pattern semantics, one operator at a time

RECORD = {
    "name": "Ada",
    "count": 5,
    "ratio": 0.5,
    "flag": True,
    "nothing": None,
    "empty": "",
    "tags": ["red", "green"],
    "image": {"type": {"S": "comment"}, "score": {"N": "7"}},
    "items": [{"kind": "a"}, {"kind": "b"}],
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"name": ["Ada"]}, True),
        ({"name": ["ada"]}, False),
        ({"name": ["Bob", "Ada"]}, True),
        ({"count": [5]}, True),
        ({"count": [5.0]}, True),
        ({"count": ["5"]}, False),
        ({"flag": [True]}, True),
        ({"count": [True]}, False),
        ({"nothing": [None]}, True),
        ({"missing": [None]}, False),
        ({"empty": [""]}, True),
        ({"name": [{"prefix": "A"}]}, True),
        ({"name": [{"prefix": "B"}]}, False),
        ({"name": [{"suffix": "da"}]}, True),
        ({"name": [{"equals-ignore-case": "ADA"}]}, True),
        ({"name": [{"exists": True}]}, True),
        ({"missing": [{"exists": True}]}, False),
        ({"missing": [{"exists": False}]}, True),
        ({"name": [{"exists": False}]}, False),
        ({"image": {"type": [{"exists": True}]}}, False),  # exists looks at leaves only
        ({"image": {"type": {"S": [{"exists": True}]}}}, True),
        ({"absent": {"deeper": [{"exists": False}]}}, True),
        ({"absent": {"deeper": [{"exists": True}]}}, False),
        ({"name": [{"anything-but": ["Bob"]}]}, True),
        ({"name": [{"anything-but": ["Ada", "Bob"]}]}, False),
        ({"name": [{"anything-but": "Ada"}]}, False),
        ({"name": [{"anything-but": {"prefix": "A"}}]}, False),
        ({"name": [{"anything-but": {"prefix": "B"}}]}, True),
        ({"missing": [{"anything-but": ["Ada"]}]}, False),
        ({"count": [{"numeric": [">", 4]}]}, True),
        ({"count": [{"numeric": [">", 0, "<=", 5]}]}, True),
        ({"count": [{"numeric": [">", 5]}]}, False),
        ({"ratio": [{"numeric": ["=", 0.5]}]}, True),
        ({"image": {"score": {"N": [{"numeric": [">", 1]}]}}}, False),  # N values are strings
        ({"tags": ["green"]}, True),
        ({"tags": ["blue"]}, False),
        ({"tags": [{"prefix": "gr"}]}, True),
        ({"image": {"type": {"S": ["comment"]}}}, True),
        ({"image": {"type": {"S": ["article"]}}}, False),
        ({"items": {"kind": ["b"]}}, True),
        ({"name": ["Ada"], "count": [6]}, False),
        ({"$or": [{"name": ["Bob"]}, {"count": [5]}]}, True),
        ({"$or": [{"name": ["Bob"]}, {"count": [6]}]}, False),
        ({"name": ["Ada", {"prefix": "Z"}]}, True),
    ],
)
def test_pattern_operators_match_as_lambda_documents(
    pattern: dict[str, Any], expected: bool
) -> None:
    assert matches(parse_pattern(pattern), RECORD) is expected


def test_filters_are_ored_and_no_filters_pass_everything() -> None:
    bob = parse_pattern('{"name": ["Bob"]}')
    ada = parse_pattern('{"name": ["Ada"]}')

    assert matches_any((bob, ada), RECORD)
    assert not matches_any((bob,), RECORD)
    assert matches_any((), RECORD)


@pytest.mark.parametrize(
    "pattern",
    [
        "not json",
        '["a list"]',
        '{"name": "Ada"}',
        '{"name": []}',
        '{"name": [{"regex": ".*"}]}',
        '{"name": [{"exists": "yes"}]}',
        '{"count": [{"numeric": ["~", 1]}]}',
        '{"count": [{"numeric": [">", "1"]}]}',
        '{"name": [{"prefix": 1}]}',
        '{"$or": [{"name": ["Ada"]}]}',
    ],
)
def test_invalid_patterns_are_refused_like_lambda_refuses_the_mapping(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        parse_pattern(pattern)


# The mapping, from the template


def test_template_mapping_is_read_from_the_notifications_event() -> None:
    names = {
        "ContentTable": "local-content",
        "NotificationsDeadLetterQueue.Arn": QUEUE_ARN,
    }

    (mapping,) = stream_mappings(load_template(), names)

    assert mapping.function == "NotificationsFunction"
    assert mapping.table == "local-content"
    assert mapping.starting_position == "LATEST"
    assert mapping.batch_size == 10
    assert mapping.batching_window == 1.0
    assert mapping.maximum_retry_attempts == 5
    assert mapping.bisect_on_error is True
    assert mapping.report_batch_item_failures is True
    assert mapping.on_failure == QUEUE_ARN
    assert mapping.filters == TEMPLATE_FILTERS


def test_mapping_with_an_invalid_filter_fails_at_setup() -> None:
    props = {
        "Stream": {"Fn::GetAtt": ["T", "StreamArn"]},
        "StartingPosition": "LATEST",
        "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": "INSERT"}'}]},
    }

    with pytest.raises(StreamConfigError, match=r"F\.E: eventName"):
        mapping_of("F", "E", props, {"T": "t"})


# The Lambda event and the failure record


def test_record_is_converted_to_lambdas_event_shape() -> None:
    # Given a GetRecords record as boto3 parses it (datetime, bytes)
    record = {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2024, 5, 1, 12, 0, 30, 500000, tzinfo=UTC),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "set": {"BS": [b"x"]}},
            "SequenceNumber": "111",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }

    # When it is converted
    converted = lambda_record(record, STREAM_ARN)

    # Then it is Lambda's record: epoch seconds, base64 binaries, version 1.1, the source ARN
    assert converted == {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": 1714564830,
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "blob": {"B": "AP8="}, "set": {"BS": ["eA=="]}},
            "SequenceNumber": "111",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": STREAM_ARN,
    }
    json.dumps(converted)  # what Lambda hands the handler is plain JSON


BATCH = [{"dynamodb": {"SequenceNumber": str(n)}} for n in (10, 20, 30)]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (None, None),
        ({}, None),
        ({"batchItemFailures": None}, None),
        ({"batchItemFailures": []}, None),
        ({"batchItemFailures": [{"itemIdentifier": "30"}, {"itemIdentifier": "20"}]}, 1),
        ({"batchItemFailures": [{"itemIdentifier": "10"}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": "99"}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, 0),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, 0),
        ({"batchItemFailures": [{"id": "20"}]}, 0),
        ({"batchItemFailures": "20"}, 0),
        ("ok", 0),
    ],
)
def test_partial_batch_answer_resumes_at_the_lowest_failure_or_fails_whole_when_malformed(
    response: Any, expected: int | None
) -> None:
    assert first_failed_index(response, BATCH) == expected


def test_failure_message_has_lambdas_stream_shape() -> None:
    records = [
        {"dynamodb": {"SequenceNumber": "10", "ApproximateCreationDateTime": 1714564800}},
        {"dynamodb": {"SequenceNumber": "20", "ApproximateCreationDateTime": 1714564801}},
    ]

    message = failure_message(
        records,
        shard_id=SHARD_ID,
        stream_arn=STREAM_ARN,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:F",
        invoke_count=6,
        function_error=True,
        now=datetime(2024, 5, 1, 12, 0, 5, 123000, tzinfo=UTC),
    )

    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 6
    assert message["requestContext"]["functionArn"].endswith(":function:F")
    assert message["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert message["version"] == "1.0"
    assert message["timestamp"] == "2024-05-01T12:00:05.123Z"
    assert message["DDBStreamBatchInfo"] == {
        "shardId": SHARD_ID,
        "startSequenceNumber": "10",
        "endSequenceNumber": "20",
        "approximateArrivalOfFirstRecord": "2024-05-01T12:00:00Z",
        "approximateArrivalOfLastRecord": "2024-05-01T12:00:01Z",
        "batchSize": 2,
        "streamArn": STREAM_ARN,
    }


# The poller, against an in-memory stream


class FakeStream:
    """One table's stream with one shard, in memory, answering as boto3's DynamoDB, DynamoDB
    Streams and SQS clients do for the calls the poller makes."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.queue: list[dict[str, Any]] = []  # bodies sent to the dead-letter queue
        self.next_sequence = 100
        self.lock = threading.Lock()

    def write(self, name: str, *, item_type: str = "comment", event: str = "INSERT") -> str:
        """Append a record for an item called `name`; returns its sequence number."""
        with self.lock:
            self.next_sequence += 100
            sequence = str(self.next_sequence)
            item = {"pk": {"S": name}, "type": {"S": item_type}}
            self.records.append(
                {
                    "eventID": f"id-{name}",
                    "eventName": event,
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": "us-east-1",
                    "dynamodb": {
                        "ApproximateCreationDateTime": datetime.now(UTC),
                        "Keys": {"pk": {"S": name}},
                        "NewImage": item,
                        "SequenceNumber": sequence,
                        "SizeBytes": 50,
                        "StreamViewType": "NEW_AND_OLD_IMAGES",
                    },
                }
            )
            return sequence

    # dynamodb

    def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        return {"Table": {"TableName": TableName, "LatestStreamArn": STREAM_ARN}}

    # dynamodbstreams

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:  # noqa: N803
        assert StreamArn == STREAM_ARN
        shard = {"ShardId": SHARD_ID, "SequenceNumberRange": {"StartingSequenceNumber": "1"}}
        return {"StreamDescription": {"StreamArn": StreamArn, "Shards": [shard]}}

    def get_shard_iterator(self, **kwargs: Any) -> dict[str, Any]:
        assert kwargs["ShardId"] == SHARD_ID
        with self.lock:
            position = {"TRIM_HORIZON": 0, "LATEST": len(self.records)}[kwargs["ShardIteratorType"]]
        return {"ShardIterator": str(position)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        start = int(ShardIterator)
        with self.lock:
            records = self.records[start : start + Limit]
        return {"Records": records, "NextShardIterator": str(start + len(records))}

    # sqs

    def get_queue_url(self, QueueName: str) -> dict[str, Any]:  # noqa: N803
        return {"QueueUrl": f"https://sqs.local/{QueueName}"}

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:  # noqa: N803
        assert QueueUrl == "https://sqs.local/dead-letters"
        self.queue.append(json.loads(MessageBody))
        return {"MessageId": "m"}


class Handler:
    """Records the item names of every batch; `answer(names)` decides each invocation's result
    (a return value, or an exception to raise)."""

    def __init__(self, answer: Any = None) -> None:
        self.batches: list[list[str]] = []
        self.events: list[dict[str, Any]] = []
        self.answer = answer

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        names = [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
        self.batches.append(names)
        result = self.answer(names, event["Records"]) if self.answer else None
        if isinstance(result, Exception):
            raise result
        return result


MAPPING = StreamMapping(
    function="NotificationsFunction",
    event="CommentChanges",
    starting_position="TRIM_HORIZON",
    table="content",
    batch_size=10,
    maximum_retry_attempts=2,
    report_batch_item_failures=True,
    filters=TEMPLATE_FILTERS,
    on_failure=QUEUE_ARN,
)


def run_poller(stream: FakeStream, handler: Handler, mapping: StreamMapping = MAPPING) -> None:
    """Deliver everything in `stream` to `handler`, then stop."""
    poller = StreamPoller(
        mapping,
        handler,
        dynamodb=stream,  # type: ignore[arg-type]
        streams=stream,  # type: ignore[arg-type]
        sqs=stream,  # type: ignore[arg-type]
        poll_interval=0.01,
        retry_delay=0.001,
    ).start()
    try:
        poller.wait_idle(timeout=5)
    finally:
        poller.stop()


def failing_on(name: str) -> Any:
    """An answer that reports `name` (and what follows it) failed, once."""
    failed: set[str] = set()

    def answer(names: list[str], records: list[dict[str, Any]]) -> Any:
        if name in names and name not in failed:
            failed.add(name)
            position = names.index(name)
            return {
                "batchItemFailures": [
                    {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records[position:]
                ]
            }
        return {"batchItemFailures": []}

    return answer


def test_event_holds_lambdas_records_of_the_stream() -> None:
    stream = FakeStream()
    sequence = stream.write("a")
    handler = Handler()

    run_poller(stream, handler)

    (event,) = handler.events
    (record,) = event["Records"]
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["eventVersion"] == "1.1"
    assert record["dynamodb"]["SequenceNumber"] == sequence
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)


def test_records_no_filter_matches_never_reach_the_function() -> None:
    stream = FakeStream()
    stream.write("article", item_type="article")
    stream.write("comment")
    stream.write("gone", event="REMOVE")  # a REMOVE is dropped by the eventName rule
    handler = Handler()

    run_poller(stream, handler)

    assert handler.batches == [["comment"]]


def test_batches_hold_at_most_batch_size_records_in_stream_order() -> None:
    stream = FakeStream()
    for name in "abcde":
        stream.write(name)
    handler = Handler()

    run_poller(stream, handler, replace(MAPPING, batch_size=2))

    assert handler.batches == [["a", "b"], ["c", "d"], ["e"]]


def test_batching_window_waits_for_a_fuller_batch() -> None:
    # Given a one-second window and a record already waiting
    stream = FakeStream()
    stream.write("a")
    handler = Handler()
    poller = StreamPoller(
        replace(MAPPING, batch_size=3, batching_window=1.0),
        handler,
        dynamodb=stream,  # type: ignore[arg-type]
        streams=stream,  # type: ignore[arg-type]
        sqs=stream,  # type: ignore[arg-type]
        poll_interval=0.01,
    ).start()
    try:
        # When more arrive within the window
        stream.write("b")
        stream.write("c")
        poller.wait_idle(timeout=5)
    finally:
        poller.stop()

    # Then they went as one batch
    assert handler.batches == [["a", "b", "c"]]


def test_reported_failure_is_retried_from_the_first_failed_record() -> None:
    stream = FakeStream()
    for name in "abcd":
        stream.write(name)
    handler = Handler(failing_on("c"))

    run_poller(stream, handler)

    assert handler.batches == [["a", "b", "c", "d"], ["c", "d"]]


def test_reported_failures_resume_at_the_lowest_sequence_number() -> None:
    stream = FakeStream()
    for name in "abcd":
        stream.write(name)
    calls = 0

    def answer(names: list[str], records: list[dict[str, Any]]) -> Any:
        nonlocal calls
        calls += 1
        if calls > 1:
            return None
        failed = [records[3], records[1]]  # d then b: out of order
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed
            ]
        }

    handler = Handler(answer)

    run_poller(stream, handler)

    assert handler.batches == [["a", "b", "c", "d"], ["b", "c", "d"]]


def test_exception_retries_the_whole_batch() -> None:
    stream = FakeStream()
    for name in "abc":
        stream.write(name)
    raised: list[str] = []

    def answer(names: list[str], records: list[dict[str, Any]]) -> Any:
        if not raised:
            raised.append("once")
            return RuntimeError("the mail server is down")
        return None

    handler = Handler(answer)

    run_poller(stream, handler)

    assert handler.batches == [["a", "b", "c"], ["a", "b", "c"]]


def test_malformed_answer_retries_the_whole_batch() -> None:
    stream = FakeStream()
    stream.write("a")
    stream.write("b")
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "not-in-batch"}]}, None])
    handler = Handler(lambda names, records: next(answers))

    run_poller(stream, handler)

    assert handler.batches == [["a", "b"], ["a", "b"]]


def test_reported_failures_are_ignored_without_report_batch_item_failures() -> None:
    stream = FakeStream()
    stream.write("a")
    handler = Handler(failing_on("a"))

    run_poller(stream, handler, replace(MAPPING, report_batch_item_failures=False))

    assert handler.batches == [["a"]]


def test_exhausted_retries_describe_the_batch_in_the_dead_letter_queue_and_move_on() -> None:
    # Given a function that always raises on a batch holding "b", and two retries allowed
    stream = FakeStream()
    first = stream.write("a")
    last = stream.write("b")
    stream.write("c")
    handler = Handler(lambda names, records: RuntimeError("poison") if "b" in names else None)

    # When the stream is delivered in batches of two
    run_poller(stream, handler, replace(MAPPING, batch_size=2))

    # Then [a, b] is tried three times, described in the queue, and "c" still goes through
    assert handler.batches == [["a", "b"]] * 3 + [["c"]]
    (message,) = stream.queue
    assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert message["requestContext"]["approximateInvokeCount"] == 3
    assert message["responseContext"]["functionError"] == "Unhandled"
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (first, last)
    assert info["batchSize"] == 2
    assert info["shardId"] == SHARD_ID
    assert info["streamArn"] == STREAM_ARN


def test_bisect_isolates_the_record_the_function_raises_on() -> None:
    # Given a function that raises on any batch holding "c", bisection on, one retry
    stream = FakeStream()
    for name in "abcd":
        stream.write(name)
    poison = stream.records[2]["dynamodb"]["SequenceNumber"]
    handler = Handler(lambda names, records: RuntimeError("poison") if "c" in names else None)

    # When the batch is delivered
    run_poller(stream, handler, replace(MAPPING, bisect_on_error=True, maximum_retry_attempts=1))

    # Then halves are tried (the split is not a retry), "c" alone is retried once, then given up
    assert handler.batches == [
        ["a", "b", "c", "d"],
        ["a", "b"],
        ["c", "d"],
        ["c"],
        ["c"],
        ["d"],
    ]
    (message,) = stream.queue
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        poison,
        poison,
        1,
    )


def test_exhausted_partial_failure_sends_only_the_unprocessed_records() -> None:
    stream = FakeStream()
    for name in "abc":
        stream.write(name)
    b, c = (record["dynamodb"]["SequenceNumber"] for record in stream.records[1:])

    def answer(names: list[str], records: list[dict[str, Any]]) -> Any:
        position = names.index("b") if "b" in names else None
        if position is None:
            return None
        return {
            "batchItemFailures": [
                {"itemIdentifier": records[position]["dynamodb"]["SequenceNumber"]}
            ]
        }

    handler = Handler(answer)

    run_poller(stream, handler, replace(MAPPING, maximum_retry_attempts=1))

    assert handler.batches == [["a", "b", "c"], ["b", "c"]]
    (message,) = stream.queue
    info = message["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (b, c)
    assert "functionError" not in message["responseContext"]


def test_latest_starts_after_what_was_written_before_start() -> None:
    # Given a record written before the poller starts at LATEST
    stream = FakeStream()
    stream.write("before")
    handler = Handler()
    poller = StreamPoller(
        replace(MAPPING, starting_position="LATEST"),
        handler,
        dynamodb=stream,  # type: ignore[arg-type]
        streams=stream,  # type: ignore[arg-type]
        sqs=stream,  # type: ignore[arg-type]
        poll_interval=0.01,
    ).start()
    try:
        # When another is written after
        stream.write("after")
        poller.wait_idle(timeout=5)
    finally:
        poller.stop()

    # Then only that one is delivered
    assert handler.batches == [["after"]]


def test_stop_returns_promptly_and_the_poller_no_longer_runs() -> None:
    stream = FakeStream()
    poller = StreamPoller(
        MAPPING,
        Handler(),
        dynamodb=stream,  # type: ignore[arg-type]
        streams=stream,  # type: ignore[arg-type]
        sqs=stream,  # type: ignore[arg-type]
        poll_interval=5,  # a long sleep that stop must cut short
    ).start()
    poller.wait_idle(timeout=5)

    started = time.monotonic()
    poller.stop()

    assert time.monotonic() - started < 1
    assert not poller.running
    with pytest.raises(RuntimeError, match="not running"):
        poller.wait_idle(timeout=1)


def test_table_without_a_stream_fails_at_start() -> None:
    class NoStream(FakeStream):
        def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803
            return {"Table": {"TableName": TableName}}

    stream = NoStream()
    poller = StreamPoller(
        MAPPING,
        Handler(),
        dynamodb=stream,  # type: ignore[arg-type]
        streams=stream,  # type: ignore[arg-type]
        sqs=stream,  # type: ignore[arg-type]
    )

    with pytest.raises(StreamConfigError, match="has no stream"):
        poller.start()
