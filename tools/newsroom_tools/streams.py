"""Lambda's DynamoDB event source mapping without Docker: reads a table's stream in the emulator
and invokes the template's function in process, with the mapping's batching, filter and retries.

One `StreamPoller` (one thread) per `Type: DynamoDB` event in template.yaml. What it mirrors from
Lambda, on purpose:

- the event is Lambda's (``eventVersion`` 1.1, ``eventSourceARN``, epoch-second
  ``ApproximateCreationDateTime``, binary attributes in base64), not the Streams API's;
- `FilterCriteria` drop records before batching; a record no filter matches is never seen;
- batches hold up to `BatchSize` records, or what came within `MaximumBatchingWindowInSeconds`;
- with `ReportBatchItemFailures`, the batch is retried from the lowest reported sequence number
  (the records before it are done); an unknown or empty ``itemIdentifier`` or a malformed answer
  fails the whole batch; without it, only an exception fails a batch;
- `BisectBatchOnFunctionError` splits a batch the function raised on in two, without counting
  the split as a retry; after `MaximumRetryAttempts` retries the records are given up: their
  description goes to the `OnFailure` SQS queue, in Lambda's shape, and the poller moves on;
- `StartingPosition` LATEST reads what is written after `start`, TRIM_HORIZON everything kept.

Retries wait `retry_delay` (0.2 s) rather than Lambda's backoff, so a local run and its tests
stay quick. A retried batch holds the same records, less those done: Lambda may add records
that arrived since, which changes only how batches are cut.

The embedded emulator keeps a cancelled transaction from touching the stream, as DynamoDB does
(`newsroom_tools.emulator.keep_streams_through_rollbacks`).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from newsroom_tools.emulator import REGION
from newsroom_tools.event_filter import Pattern, matches_any, parse_filter_criteria
from newsroom_tools.polling import REPORT_BATCH_ITEM_FAILURES, Invoke, PollingThread

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

ACCOUNT_ID = "123456789012"
DEFAULT_POLL_INTERVAL = 0.2  # Lambda polls a shard four times a second
DEFAULT_RETRY_DELAY = 0.2
EVENT_VERSION = "1.1"
_RECORDS_PER_READ = 1000  # GetRecords' maximum


log = logging.getLogger(__name__)


class StreamConfigError(Exception):
    """An event source mapping of the template cannot be set up locally."""


@dataclass(frozen=True)
class StreamMapping:
    """One `Type: DynamoDB` event of a function: what to read and how to deliver it.

    Defaults are Lambda's (`MaximumRetryAttempts` -1 means retry until the record expires).
    """

    function: str  # the function's logical id
    event: str  # the event's name in the template, e.g. CommentChanges
    starting_position: str
    table: str | None = None  # local name of the table whose latest stream is read
    stream_arn: str | None = None  # or the stream, when the template names it literally
    batch_size: int = 100
    batching_window: float = 0.0
    maximum_retry_attempts: int = -1
    bisect_on_error: bool = False
    report_batch_item_failures: bool = False
    filters: tuple[Pattern, ...] = ()
    on_failure: str | None = None  # ARN (or URL) of the SQS queue given-up records go to
    enabled: bool = True

    @property
    def name(self) -> str:
        return f"{self.function}.{self.event}"


def stream_mappings(template: Mapping[str, Any], names: Mapping[str, str]) -> list[StreamMapping]:
    """Every `Type: DynamoDB` event of the template's functions, resolved with `names` (what
    `template.provision` returned: table names, and "Logical.Attribute" for `!GetAtt`).

    Raises
    ------
    StreamConfigError
        When a stream, destination or filter cannot be resolved or is invalid.
    """
    from newsroom_tools.template import functions

    return [
        mapping_of(spec.name, event_name, event.get("Properties", {}), names)
        for spec in functions(dict(template)).values()
        for event_name, event in spec.events.items()
        if event.get("Type") == "DynamoDB"
    ]


def mapping_of(
    function: str, event: str, props: Mapping[str, Any], names: Mapping[str, str]
) -> StreamMapping:
    """The mapping one `Type: DynamoDB` event's properties describe.

    Raises
    ------
    StreamConfigError
        When the stream, the destination or a filter cannot be resolved or is invalid.
    """
    from newsroom_tools.event_filter import FilterPatternError

    where = f"{function}.{event}"
    table, stream_arn = _stream_of(props.get("Stream"), names, where)
    position = props.get("StartingPosition")
    if position not in ("LATEST", "TRIM_HORIZON"):
        raise StreamConfigError(f"{where}: StartingPosition must be LATEST or TRIM_HORIZON")
    try:
        filters = parse_filter_criteria(props.get("FilterCriteria"))
    except FilterPatternError as exc:
        raise StreamConfigError(f"{where}: {exc}") from exc
    return StreamMapping(
        function=function,
        event=event,
        starting_position=position,
        table=table,
        stream_arn=stream_arn,
        batch_size=int(props.get("BatchSize", 100)),
        batching_window=float(props.get("MaximumBatchingWindowInSeconds", 0)),
        maximum_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
        bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
        report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES
        in props.get("FunctionResponseTypes", []),
        filters=filters,
        on_failure=_destination_of(props.get("DestinationConfig"), names, where),
        enabled=bool(props.get("Enabled", True)),
    )


def _stream_of(stream: Any, names: Mapping[str, str], where: str) -> tuple[str | None, str | None]:
    if isinstance(stream, str):
        return None, stream
    if isinstance(stream, Mapping) and "Fn::GetAtt" in stream:
        logical_id, attribute = stream["Fn::GetAtt"]
        if attribute == "StreamArn" and logical_id in names:
            return names[logical_id], None
    raise StreamConfigError(f"{where}: Stream must be a table's !GetAtt StreamArn, not {stream!r}")


def _destination_of(config: Any, names: Mapping[str, str], where: str) -> str | None:
    on_failure = (config or {}).get("OnFailure")
    if not on_failure:
        return None
    if on_failure.get("Type", "SQS") != "SQS":
        log.warning("%s: only SQS failure destinations run locally; records will be dropped", where)
        return None
    destination = on_failure.get("Destination")
    if isinstance(destination, str):
        return destination
    if isinstance(destination, Mapping):
        key = (
            ".".join(destination["Fn::GetAtt"])
            if "Fn::GetAtt" in destination
            else str(destination.get("Ref"))
        )
        if key in names:
            return names[key]
    raise StreamConfigError(f"{where}: cannot resolve the OnFailure destination {destination!r}")


def lambda_record(
    record: Mapping[str, Any], stream_arn: str, region: str = REGION
) -> dict[str, Any]:
    """A Streams `GetRecords` record (as boto3 parses it) as Lambda puts it in the event."""
    stream = record["dynamodb"]
    dynamodb: dict[str, Any] = {}
    created = stream.get("ApproximateCreationDateTime")
    if created is not None:
        dynamodb["ApproximateCreationDateTime"] = _epoch_seconds(created)
    for key in ("Keys", "NewImage", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"):
        if key in stream:
            dynamodb[key] = _json_ready(stream[key])
    converted: dict[str, Any] = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": EVENT_VERSION,
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # deletions by TTL
        converted["userIdentity"] = dict(record["userIdentity"])
    return converted


def _epoch_seconds(value: Any) -> int:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return int(float(value))


def _json_ready(value: Any) -> Any:
    # boto3 decodes B and BS attributes to bytes; in Lambda's event they are base64 text.
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    return value


def first_failed_index(response: Any, records: Sequence[Mapping[str, Any]]) -> int | None:
    """Where a `ReportBatchItemFailures` answer says to resume: the index of the record with the
    lowest reported sequence number, 0 when the answer is malformed, None when all succeeded.
    """
    if response is None:
        return None
    if not isinstance(response, Mapping):
        return 0
    failures = response.get("batchItemFailures")
    if failures is None:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(records)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or identifier not in positions:
            return 0
        indexes.append(positions[identifier])
    return min(indexes, default=None)


def failure_message(
    records: Sequence[Mapping[str, Any]],
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    invoke_count: int,
    function_error: bool,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What Lambda sends the `OnFailure` destination for stream records it gave up on."""
    first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response_context["functionError"] = "Unhandled"
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso(now or datetime.now(UTC), milliseconds=True),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _arrival(first),
            "approximateArrivalOfLastRecord": _arrival(last),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
    }


def _arrival(dynamodb: Mapping[str, Any]) -> str | None:
    created = dynamodb.get("ApproximateCreationDateTime")
    return None if created is None else _iso(datetime.fromtimestamp(created, UTC))


def _iso(moment: datetime, *, milliseconds: bool = False) -> str:
    spec = "milliseconds" if milliseconds else "seconds"
    return moment.astimezone(UTC).isoformat(timespec=spec).replace("+00:00", "Z")


def function_arn_of(function: str, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function}"


@dataclass
class _Shard:
    id: str
    iterator: str | None
    last_sequence: str | None = None  # of the last record read
    buffer: list[dict[str, Any]] = field(default_factory=list)  # read, filtered, not delivered
    buffered_since: float | None = None


@dataclass(frozen=True)
class _Outcome:
    failed_from: int | None  # index of the first record to retry; None: the batch is done
    function_error: bool = False  # the handler raised (Lambda's "Unhandled" error)


class StreamPoller(PollingThread):
    """Reads one mapping's stream in a thread and delivers its records to `invoke`.

    `invoke` takes the event and returns the handler's answer (a `FunctionPool.invoke`, or a
    fake in tests). Clients default to ones for `endpoint_url` (or the environment's).

    In a test::

        poller = StreamPoller(mapping, invoke=handler, endpoint_url=url).start()
        ...write items...
        poller.wait_idle()  # everything in the stream delivered, or given up
    """

    source = "stream"

    def __init__(
        self,
        mapping: StreamMapping,
        invoke: Invoke,
        *,
        endpoint_url: str | None = None,
        region: str = REGION,
        dynamodb: DynamoDBClient | None = None,
        streams: DynamoDBStreamsClient | None = None,
        sqs: SQSClient | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        retry_delay: float = DEFAULT_RETRY_DELAY,
        batching_window: float | None = None,
    ) -> None:
        import boto3

        super().__init__(mapping.name, poll_interval)
        self.mapping = mapping
        self.region = region
        self.retry_delay = retry_delay
        self.batching_window = (
            mapping.batching_window if batching_window is None else batching_window
        )
        self.function_arn = function_arn_of(mapping.function, region)
        self.stream_arn: str | None = mapping.stream_arn
        self.invocations = 0  # handler calls, retries included
        self.given_up = 0  # records given up after their retries
        self._invoke = invoke
        self._dynamodb = dynamodb or boto3.client(
            "dynamodb", endpoint_url=endpoint_url, region_name=region
        )
        self._streams = streams or boto3.client(
            "dynamodbstreams", endpoint_url=endpoint_url, region_name=region
        )
        self._sqs = sqs or boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
        self._queue_url: str | None = None
        self._shards: list[_Shard] = []
        self._finished: set[str] = set()  # closed shards read to their end

    def start(self) -> StreamPoller:
        """Take the shard iterators now (LATEST means after this call), then poll in a thread.

        Raises
        ------
        StreamConfigError
            When the table has no stream.
        """
        if self._thread is not None:
            return self
        if self.stream_arn is None:
            table = self._dynamodb.describe_table(TableName=self.mapping.table or "")["Table"]
            if "LatestStreamArn" not in table:
                raise StreamConfigError(
                    f"{self.mapping.name}: table {table['TableName']} has no stream"
                )
            self.stream_arn = table["LatestStreamArn"]
        self._shards = [
            _Shard(shard_id, self._iterator(shard_id, self.mapping.starting_position))
            for shard_id in self._shard_ids(open_only=self.mapping.starting_position == "LATEST")
        ]
        self._start_thread(f"newsroom-stream-{self.mapping.name}")
        return self

    # The thread

    def _poll(self) -> tuple[bool, bool]:
        got = self._read_all()
        self._deliver_ready()
        return got, not any(s.buffer for s in self._shards)

    def _read_all(self) -> bool:
        got = False
        for shard in list(self._shards):
            if self._stopping.is_set():
                break
            got = self._read(shard) or got
        return got

    def _read(self, shard: _Shard) -> bool:
        from botocore.exceptions import ClientError

        if shard.iterator is None:
            return False
        try:
            response = self._streams.get_records(
                ShardIterator=shard.iterator, Limit=_RECORDS_PER_READ
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ExpiredIteratorException":
                raise
            position = "AFTER_SEQUENCE_NUMBER" if shard.last_sequence else "LATEST"
            shard.iterator = self._iterator(shard.id, position, shard.last_sequence)
            return False
        records = response.get("Records", [])
        now = time.monotonic()
        for record in records:
            event = lambda_record(record, self.stream_arn or "", self.region)
            shard.last_sequence = event["dynamodb"]["SequenceNumber"]
            if not matches_any(self.mapping.filters, event):
                continue
            if not shard.buffer:
                shard.buffered_since = now
            shard.buffer.append(event)
        next_iterator = response.get("NextShardIterator")
        if next_iterator is None:  # a closed shard, read to its end: its children carry on
            shard.iterator = None
            if not shard.buffer:
                self._retire(shard)
        elif records:
            # After an empty read the same iterator still points at the same place: keeping
            # it spares the emulator one stored iterator per poll.
            shard.iterator = next_iterator
        return bool(records)

    def _retire(self, shard: _Shard) -> None:
        self._shards.remove(shard)
        self._finished.add(shard.id)
        known = {s.id for s in self._shards} | self._finished
        for shard_id in self._shard_ids(open_only=False):
            if shard_id not in known:
                self._shards.append(_Shard(shard_id, self._iterator(shard_id, "TRIM_HORIZON")))

    def _shard_ids(self, *, open_only: bool) -> Iterator[str]:
        start: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StreamArn": self.stream_arn}
            if start:
                kwargs["ExclusiveStartShardId"] = start
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            for shard in description.get("Shards", []):
                if open_only and "EndingSequenceNumber" in shard.get("SequenceNumberRange", {}):
                    continue
                yield shard["ShardId"]
            start = description.get("LastEvaluatedShardId")
            if not start:
                return

    def _iterator(self, shard_id: str, position: str, sequence: str | None = None) -> str:
        kwargs: dict[str, Any] = {
            "StreamArn": self.stream_arn,
            "ShardId": shard_id,
            "ShardIteratorType": position,
        }
        if sequence is not None:
            kwargs["SequenceNumber"] = sequence
        iterator: str = self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        return iterator

    def _deliver_ready(self) -> None:
        for shard in list(self._shards):
            while shard.buffer and not self._stopping.is_set():
                waited = time.monotonic() - (shard.buffered_since or 0.0)
                if len(shard.buffer) < self.mapping.batch_size and waited < self.batching_window:
                    break
                batch = shard.buffer[: self.mapping.batch_size]
                del shard.buffer[: self.mapping.batch_size]
                if not shard.buffer:
                    shard.buffered_since = None
                self._deliver(shard, batch)
            if shard.iterator is None and not shard.buffer:
                self._retire(shard)

    def _deliver(self, shard: _Shard, batch: list[dict[str, Any]]) -> None:
        """Invoke until the batch is done or given up, as Lambda blocks a shard meanwhile."""
        pending: list[tuple[list[dict[str, Any]], int]] = [(batch, 0)]  # (records, retries)
        while pending and not self._stopping.is_set():
            records, retries = pending.pop(0)
            outcome = self._invoke_once(records)
            if outcome.failed_from is None:
                continue
            if outcome.function_error and self.mapping.bisect_on_error and len(records) > 1:
                half = len(records) // 2
                pending[0:0] = [(records[:half], retries), (records[half:], retries)]
                continue
            remaining = records[outcome.failed_from :]
            limit = self.mapping.maximum_retry_attempts
            if 0 <= limit <= retries:
                self._give_up(shard, remaining, retries + 1, function_error=outcome.function_error)
                continue
            pending.insert(0, (remaining, retries + 1))
            self._stopping.wait(self.retry_delay)

    def _invoke_once(self, records: list[dict[str, Any]]) -> _Outcome:
        # A fresh copy each time, as Lambda hands every invocation its own parsed JSON.
        event = json.loads(json.dumps({"Records": records}))
        self.invocations += 1
        try:
            response = self._invoke(event)
        except Exception:
            log.exception("%s failed on %d stream records", self.mapping.function, len(records))
            return _Outcome(0, function_error=True)
        if not self.mapping.report_batch_item_failures:
            return _Outcome(None)
        failed_from = first_failed_index(response, records)
        if failed_from is not None:
            log.info(
                "%s reported a failure; retrying %d of %d records",
                self.mapping.function,
                len(records) - failed_from,
                len(records),
            )
        return _Outcome(failed_from)

    def _give_up(
        self,
        shard: _Shard,
        records: list[dict[str, Any]],
        invoke_count: int,
        *,
        function_error: bool,
    ) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self.given_up += len(records)
        message = failure_message(
            records,
            shard_id=shard.id,
            stream_arn=self.stream_arn or "",
            function_arn=self.function_arn,
            invoke_count=invoke_count,
            function_error=function_error,
        )
        info = message["DDBStreamBatchInfo"]
        if self.mapping.on_failure is None:
            log.warning(
                "%s: gave up on %d records (%s..%s); no OnFailure destination",
                self.mapping.name,
                len(records),
                info["startSequenceNumber"],
                info["endSequenceNumber"],
            )
            return
        try:
            self._sqs.send_message(
                QueueUrl=self._failure_queue_url(), MessageBody=json.dumps(message)
            )
        except (BotoCoreError, ClientError):
            log.exception("%s: the OnFailure destination refused the message", self.mapping.name)
            return
        log.warning(
            "%s: gave up on %d records (%s..%s); described in %s",
            self.mapping.name,
            len(records),
            info["startSequenceNumber"],
            info["endSequenceNumber"],
            self.mapping.on_failure,
        )

    def _failure_queue_url(self) -> str:
        destination = self.mapping.on_failure or ""
        if destination.startswith(("http://", "https://")):
            return destination
        if self._queue_url is None:
            name = destination.rsplit(":", 1)[-1]  # arn:aws:sqs:region:account:name
            self._queue_url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return self._queue_url


def pollers_for(
    template: Mapping[str, Any],
    names: Mapping[str, str],
    invokers: Mapping[str, Invoke],
    **options: Any,
) -> list[StreamPoller]:
    """A poller, not started, for every enabled `Type: DynamoDB` event of the template whose
    function is in `invokers` (logical id → invoke). `options` go to `StreamPoller`.

    Raises
    ------
    StreamConfigError
        When a mapping cannot be resolved.
    """
    return [
        StreamPoller(mapping, invokers[mapping.function], **options)
        for mapping in stream_mappings(template, names)
        if mapping.enabled and mapping.function in invokers
    ]
