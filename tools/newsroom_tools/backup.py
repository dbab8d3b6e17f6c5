"""Backing up the content table to a file and restoring it into an empty table, item for item.

A backup is gzipped JSON Lines (docs/operations.md, "Backup and restore"): a header line (the
format's name and version, the backup's id, when and from which table it was read, the table's
key), one line per item, ``{"item": {...}}`` in DynamoDB's own typed JSON (``{"S": ...}``,
``{"N": "..."}``, ``{"B": <base64>}``, sets, maps, lists), so that numbers keep their digits and
binary its bytes, and a trailer line with the count of items, without which a file is taken
for truncated.

The export is a paginated `Scan` (every page, until DynamoDB has no `LastEvaluatedKey`), in
`segments` run side by side if asked (a parallel Scan), written as it is read: memory holds a
few pages, whatever the table's size. Items whose TTL (`expires_at`) has passed are left out:
DynamoDB deletes them within days, and every reader already treats them as gone.

The restore reads the whole file once to check it (nothing is written if any line is wrong),
then writes its items with `BatchWriteItem`, 25 at a time, retrying what DynamoDB leaves
unprocessed or throttles with exponential backoff and jitter. Before its first item it writes
the table's restore record (`newsroom.data.notifications.restore_record_key`), which tells the
notifications function that the comments inserted are old ones, and marks it finished after its
last, and the line it has written every item up to in between (a checkpoint every 1,000 items).
Items are put by their key, so putting one twice leaves one item: a restore interrupted is
completed by running it again with `resume`, which goes on from the last checkpoint.

Operator's tools (a `Scan` of the whole table), never run on a request path.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import io
import json
import os
import queue
import random
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from newsroom.data import dynamo
from newsroom.data.notifications import restore_record_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FORMAT = "newsroom-backup"
VERSION = 1
TABLE = "ContentTable"  # the logical id (template.yaml) of the table a backup holds
BATCH_SIZE = 25  # BatchWriteItem's most
# Batches between two checkpoints of a restore (one more write per 1,000 items), from which a
# resumed restore goes on.
CHECKPOINT_EVERY = 40
# The throttling answers worth waiting out (botocore has retried them already by then).
THROTTLED = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
_RESTORE_KEY = restore_record_key()
_ATTRIBUTE_TYPES = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL"})


class BackupFileError(Exception):
    """A backup file that cannot be restored: unreadable, truncated, or a line at fault."""

    def __init__(self, path: Path, problem: str, *, line: int | None = None) -> None:
        where = f"{path}" if line is None else f"{path}, line {line}"
        super().__init__(f"{where}: {problem}")
        self.line = line


class RestoreRefusedError(Exception):
    """The target table is not one this backup may be restored into (nothing was written)."""


class BackupChangedError(Exception):
    """The backup file, checked whole before the first write, was found at fault after it."""


class ThrottledTooLongError(Exception):
    """DynamoDB kept refusing a batch (throttling, or items left unprocessed) after every retry."""


# -- DynamoDB's typed JSON ---------------------------------------------------------------------


def encode_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """An attribute value as the low-level client gives it, as JSON (bytes as base64)."""
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(content)).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(v)).decode("ascii") for v in content]}
    if kind == "M":
        return {"M": {name: encode_value(v) for name, v in content.items()}}
    if kind == "L":
        return {"L": [encode_value(v) for v in content]}
    if kind in ("SS", "NS"):
        return {kind: list(content)}
    return {kind: content}


def encode_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: encode_value(value) for name, value in item.items()}


def decode_value(value: Any, where: str) -> dict[str, Any]:
    """The attribute value a line's JSON `value` stands for, for the low-level client.

    Raises
    ------
    ValueError
        When it is not one (the message names the attribute, `where`, never its content).
    """
    if not isinstance(value, dict) or len(value) != 1:
        kinds = ", ".join(sorted(_ATTRIBUTE_TYPES))
        raise ValueError(f"{where}: not a typed attribute value (one of {kinds})")
    ((kind, content),) = value.items()
    if kind == "S" and isinstance(content, str):
        return {"S": content}
    if kind == "N" and _is_number(content):
        return {"N": content}
    if kind == "B" and isinstance(content, str):
        return {"B": _bytes(content, where)}
    if kind == "BOOL" and isinstance(content, bool):
        return {"BOOL": content}
    if kind == "NULL" and content is True:
        return {"NULL": True}
    if kind in ("SS", "NS", "BS") and isinstance(content, list) and content:
        if not all(isinstance(v, str) for v in content) or len(set(content)) != len(content):
            raise ValueError(f"{where}: a set of distinct strings expected")
        if kind == "NS" and not all(_is_number(v) for v in content):
            raise ValueError(f"{where}: a number set holds something else")
        if kind == "BS":
            return {"BS": [_bytes(v, where) for v in content]}
        return {kind: list(content)}
    if kind == "M" and isinstance(content, dict):
        return {"M": {name: decode_value(v, f"{where}.{name}") for name, v in content.items()}}
    if kind == "L" and isinstance(content, list):
        return {"L": [decode_value(v, f"{where}[{i}]") for i, v in enumerate(content)]}
    if kind in _ATTRIBUTE_TYPES:
        raise ValueError(f"{where}: not a valid {kind} value")
    raise ValueError(f"{where}: unknown attribute type {kind!r}")


def _is_number(content: Any) -> bool:
    if not isinstance(content, str):
        return False
    try:
        return Decimal(content).is_finite()
    except InvalidOperation:
        return False


def _bytes(content: str, where: str) -> bytes:
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{where}: binary that is not base64") from exc


# -- export ------------------------------------------------------------------------------------


@dataclass
class ExportReport:
    items: int = 0
    pages: int = 0
    skipped_expired: int = 0
    by_type: Counter[str] = field(default_factory=Counter)


def ttl_attribute(db: DynamoDBClient, table: str) -> str | None:
    """The table's TTL attribute, when its TTL is on."""
    described = db.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return described.get("AttributeName")
    return None


def item_type(item: Mapping[str, Any]) -> str:
    """What an item is (its ``type`` attribute), for counting."""
    kind = item.get("type", {})
    return str(kind.get("S")) if isinstance(kind, dict) and "S" in kind else "(no type)"


def _expired(item: Mapping[str, Any], ttl: str | None, now: float) -> bool:
    expires = item.get(ttl) if ttl else None
    if not isinstance(expires, dict) or "N" not in expires:
        return False  # DynamoDB's TTL ignores an attribute that is not a number
    return float(expires["N"]) <= now


def _scan_pages(
    db: DynamoDBClient, table: str, *, consistent: bool, segments: int
) -> Iterator[list[dict[str, Any]]]:
    """Every page of a Scan of `table`, from `segments` Scans side by side (each on its own
    thread, at most two pages each waiting to be written)."""
    pages: queue.Queue[list[dict[str, Any]] | BaseException | None] = queue.Queue(2 * segments)
    stop = threading.Event()

    def scan(segment: int) -> None:
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": consistent}
        if segments > 1:
            request |= {"Segment": segment, "TotalSegments": segments}
        try:
            while not stop.is_set():
                response = db.scan(**request)
                pages.put([dict(item) for item in response.get("Items", [])])
                if "LastEvaluatedKey" not in response:
                    break
                request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        except BaseException as exc:  # handed to the writer, which raises it
            pages.put(exc)
        finally:
            pages.put(None)

    threads = [
        threading.Thread(target=scan, args=(s,), name=f"scan-{s}", daemon=True)
        for s in range(segments)
    ]
    for thread in threads:
        thread.start()
    running = segments
    try:
        while running:
            page = pages.get()
            if page is None:
                running -= 1
            elif isinstance(page, BaseException):
                raise page
            else:
                yield page
    finally:
        stop.set()
        while any(thread.is_alive() for thread in threads):  # let blocked scanners finish
            with suppress(queue.Empty):
                pages.get(timeout=0.1)


def export_table(
    db: DynamoDBClient,
    table: str,
    path: Path,
    *,
    consistent: bool = True,
    segments: int = 1,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ExportReport:
    """Write every item of `table` whose TTL has not passed to the backup file `path`.

    The file is written beside `path` under another name and renamed when complete, so `path`
    is never a partial backup.
    """
    if segments < 1:
        raise ValueError("segments must be 1 or more")
    started = clock()
    ttl = ttl_attribute(db, table)
    key = [k["AttributeName"] for k in db.describe_table(TableName=table)["Table"]["KeySchema"]]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "id": uuid.uuid4().hex,
        "table": TABLE,
        "source": table,
        "key": key,
        "exported_at": started.isoformat(),
        "consistent_read": consistent,
    }
    report = ExportReport()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with _private_gzip_text(partial, name=path.name) as out:
            out.write(_line(header))
            for page in _scan_pages(db, table, consistent=consistent, segments=segments):
                report.pages += 1
                now = time.time()
                for item in page:
                    if _is_restore_record(item):
                        continue  # this table's own history, not its content
                    if _expired(item, ttl, now):
                        report.skipped_expired += 1
                        continue
                    out.write(_line({"item": encode_item(item)}))
                    report.items += 1
                    report.by_type[item_type(item)] += 1
            out.write(_line({"end": FORMAT, "items": report.items}))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return report


@contextmanager
def _private_gzip_text(path: Path, *, name: str) -> Iterator[io.TextIOWrapper]:
    """A new file (it must not exist) for gzipped UTF-8 text that only its owner may read: a
    backup holds personal data (docs/operations.md). `name` is the one its gzip header keeps."""
    with (
        open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw,
        gzip.GzipFile(filename=name, mode="wb", fileobj=raw) as packed,
        io.TextIOWrapper(packed, encoding="utf-8", newline="\n") as text,
    ):
        yield text


def _line(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def _is_restore_record(item: Mapping[str, Any]) -> bool:
    return all(item.get(name) == value for name, value in _RESTORE_KEY.items())


# -- reading a backup --------------------------------------------------------------------------


@dataclass
class BackupSummary:
    """What a backup file holds, as checked line by line."""

    header: dict[str, Any]
    items: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    # The creation time of its newest comment: the stream inserts of comments created no later
    # are the restore's (the restore record's `restored_through`).
    newest_comment: datetime | None = None

    @property
    def backup_id(self) -> str:
        return str(self.header["id"])

    @property
    def key(self) -> list[str]:
        return [str(name) for name in self.header["key"]]


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """The file's lines, numbered from 1, gunzipped as they are read."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as text:
            yield from enumerate(text, 1)
    except FileNotFoundError as exc:
        raise BackupFileError(path, "no such file") from exc
    except gzip.BadGzipFile as exc:
        raise BackupFileError(path, f"not a gzip file ({exc})") from exc
    except EOFError as exc:
        raise BackupFileError(path, "the gzip stream ends early: the file is truncated") from exc
    except zlib.error as exc:
        raise BackupFileError(path, f"the gzip data is corrupt ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise BackupFileError(path, "the file is not UTF-8 text") from exc
    except OSError as exc:
        raise BackupFileError(path, f"cannot be read: {exc}") from exc


def _header(path: Path, text: str) -> dict[str, Any]:
    try:
        header = json.loads(text)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupFileError(path, f"not a {FORMAT} file: line 1 is not its header", line=1)
    if header.get("version") != VERSION:
        raise BackupFileError(
            path,
            f"format version {header.get('version')!r} is not one this tool reads "
            f"(it reads version {VERSION})",
            line=1,
        )
    if header.get("table") != TABLE:
        raise BackupFileError(path, f"a backup of {header.get('table')!r}, not {TABLE}", line=1)
    key = header.get("key")
    if (
        not isinstance(header.get("id"), str)
        or not isinstance(key, list)
        or not key
        or not all(isinstance(name, str) for name in key)
    ):
        raise BackupFileError(path, "the header lacks the backup's id or the table's key", line=1)
    return header


def read_backup(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The header (line 1), then each item of the backup with its line number, for the
    low-level client; the trailer is checked once reached.

    Raises
    ------
    BackupFileError
        As soon as a line is found at fault (the items before it have been yielded): use
        `check_backup` first to know the whole file is sound.
    """
    lines = _lines(path)
    first = next(lines, None)
    if first is None:
        raise BackupFileError(path, "the file is empty")
    header = _header(path, first[1])
    key = [str(name) for name in header["key"]]
    yield 1, header
    items = 0
    trailer: int | None = None
    for number, text in lines:
        if trailer is not None:
            raise BackupFileError(path, "a line after the trailer", line=number)
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BackupFileError(
                path, f"not JSON ({exc.msg}, column {exc.colno})", line=number
            ) from exc
        if isinstance(record, dict) and record.keys() == {"end", "items"}:
            if record["end"] != FORMAT or record["items"] != items:
                raise BackupFileError(
                    path,
                    f"the trailer counts {record['items']!r} items, the file holds {items}",
                    line=number,
                )
            trailer = number
            continue
        if not isinstance(record, dict) or record.keys() != {"item"}:
            raise BackupFileError(path, 'not an {"item": ...} line nor the trailer', line=number)
        yield number, _item(path, number, record["item"], key)
        items += 1
    if trailer is None:
        raise BackupFileError(
            path, f"no trailer after {items} items: the file is truncated (an export cut short?)"
        )


def _item(path: Path, number: int, value: Any, key: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise BackupFileError(path, "the item is not an object of attributes", line=number)
    try:
        item = {name: decode_value(v, name) for name, v in value.items()}
    except ValueError as exc:
        raise BackupFileError(path, str(exc), line=number) from exc
    for name in key:
        if "S" not in item.get(name, {}) or not item[name]["S"]:
            raise BackupFileError(path, f"the item has no key attribute {name!r}", line=number)
    return item


def check_backup(path: Path) -> BackupSummary:
    """Read the whole backup, checking every line; what it holds.

    Raises
    ------
    BackupFileError
        When the file is not a backup of this format and version, is truncated or corrupt, or
        a line is at fault (the message gives its number, never its content).
    """
    lines = read_backup(path)
    _, header = next(lines)
    summary = BackupSummary(header=header)
    for number, item in lines:
        summary.items += 1
        summary.by_type[item_type(item)] += 1
        if item_type(item) == "comment" and "S" in item.get("created_at", {}):
            try:
                created = datetime.fromisoformat(item["created_at"]["S"])
            except ValueError as exc:
                raise BackupFileError(path, "created_at: not a timestamp", line=number) from exc
            if created.tzinfo is None:
                raise BackupFileError(path, "created_at: no time zone", line=number)
            if summary.newest_comment is None or created > summary.newest_comment:
                summary.newest_comment = created
    return summary


# -- restore -----------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    items: int = 0
    skipped: int = 0  # written by the interrupted restore this one resumed
    batches: int = 0
    retries: int = 0  # batch writes repeated (throttled, or items left unprocessed)
    by_type: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: the n-th wait (from 0) is `jitter` of
    min(`cap`, `base` x 2**n) seconds."""

    base: float = 0.05
    cap: float = 5.0
    attempts: int = 12  # writes of one batch before giving up
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[float], float] = lambda most: random.uniform(0, most)  # noqa: S311

    def wait(self, retry: int) -> None:
        self.sleep(self.jitter(min(self.cap, self.base * 2**retry)))


def restore_state(db: DynamoDBClient, table: str) -> tuple[bool, dict[str, Any] | None]:
    """Whether `table` holds any item besides its restore record, and that record."""
    found = db.scan(TableName=table, Limit=2, ConsistentRead=True).get("Items", [])
    others = [item for item in found if not _is_restore_record(item)]
    record = db.get_item(TableName=table, Key=_RESTORE_KEY, ConsistentRead=True).get("Item")
    return bool(others), None if record is None else dict(record)


def restore_backup(
    db: DynamoDBClient,
    table: str,
    path: Path,
    *,
    resume: bool = False,
    backoff: Backoff | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_batch: Callable[[RestoreReport], None] | None = None,
    checkpoint_every: int = CHECKPOINT_EVERY,
) -> RestoreReport:
    """Restore the backup `path` into `table`, which must be empty (or, with `resume`, hold
    what an interrupted restore of this same backup wrote: it goes on from the restore
    record's last checkpoint, every `checkpoint_every` batches written).

    Raises
    ------
    BackupFileError
        Before anything is written, when the file is at fault.
    RestoreRefusedError
        Before anything is written, when the table is not one to restore into.
    ThrottledTooLongError
        When DynamoDB kept refusing a batch; what was written stays, run it again with `resume`.
    BackupChangedError
        When the file changed between its check and its end (what was written stays).
    """
    backoff = backoff or Backoff()
    summary = check_backup(path)
    described = db.describe_table(TableName=table)["Table"]
    key = [k["AttributeName"] for k in described["KeySchema"]]
    if key != summary.key:
        raise RestoreRefusedError(
            f"table {table} is keyed by {key}, the backup's table by {summary.key}"
        )
    occupied, record = restore_state(db, table)
    _refuse_unless_restorable(table, summary, occupied=occupied, record=record, resume=resume)
    _write_restore_record(db, table, summary, started_at=clock())

    # The line up to which a restore of this backup interrupted before had written every item.
    checkpoint = (record or {}).get("written_through_line", {}) if resume else {}
    done = int(checkpoint.get("N", "0"))
    report = RestoreReport(skipped=max(0, done - 1))
    batch: list[dict[str, Any]] = []
    keys_in_batch: set[tuple[str, ...]] = set()
    last_line = done

    def flush() -> None:
        _write_batch(db, table, batch, backoff, report, on_batch)
        if report.batches % checkpoint_every == 0:
            _checkpoint(db, table, last_line)
        batch.clear()
        keys_in_batch.clear()

    lines = _read_again(path)
    next(lines)  # the header, checked
    for number, item in lines:
        if number <= done or _is_restore_record(item):
            continue
        item_key = tuple(item[name]["S"] for name in key)
        if item_key in keys_in_batch:  # a batch may not put one key twice: the later wins
            flush()
        batch.append(item)
        keys_in_batch.add(item_key)
        last_line = number
        if len(batch) == BATCH_SIZE:
            flush()
    if batch:
        flush()
    db.update_item(
        TableName=table,
        Key=_RESTORE_KEY,
        UpdateExpression="SET finished_at = :at, #items = :items, written_through_line = :line",
        ExpressionAttributeNames={"#items": "items"},
        ExpressionAttributeValues={
            ":at": {"S": clock().isoformat()},
            ":items": {"N": str(summary.items)},
            ":line": {"N": str(last_line)},
        },
    )
    return report


def _read_again(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """`read_backup` of a file checked before: a fault now means it changed since."""
    try:
        yield from read_backup(path)
    except BackupFileError as exc:
        raise BackupChangedError(f"{exc} (the file changed while it was being restored)") from exc


def _checkpoint(db: DynamoDBClient, table: str, line: int) -> None:
    """Record that every item of the backup up to `line` is written."""
    db.update_item(
        TableName=table,
        Key=_RESTORE_KEY,
        UpdateExpression="SET written_through_line = :line",
        ExpressionAttributeValues={":line": {"N": str(line)}},
    )


def _refuse_unless_restorable(
    table: str,
    summary: BackupSummary,
    *,
    occupied: bool,
    record: dict[str, Any] | None,
    resume: bool,
) -> None:
    restored = None if record is None else record.get("backup_id", {}).get("S")
    if restored is not None and restored != summary.backup_id:
        raise RestoreRefusedError(
            f"table {table} holds a restore of another backup ({restored}); "
            "restore into an empty table"
        )
    if resume:
        if restored is None and occupied:
            raise RestoreRefusedError(
                f"table {table} is not empty and no restore of this backup was started in it: "
                "--resume only completes an interrupted restore of the same file"
            )
        return
    if restored is not None:
        finished = "finished" if "finished_at" in (record or {}) else "interrupted"
        raise RestoreRefusedError(
            f"this backup was restored into table {table} already ({finished}): "
            "run again with --resume to complete it"
        )
    if occupied:
        raise RestoreRefusedError(
            f"table {table} is not empty: a backup is restored into an empty table only"
        )


def _write_restore_record(
    db: DynamoDBClient, table: str, summary: BackupSummary, *, started_at: datetime
) -> None:
    values: dict[str, Any] = {
        ":id": summary.backup_id,
        ":type": "restore",
        ":exported_at": str(summary.header.get("exported_at", "")),
        ":started_at": started_at.isoformat(),
    }
    expression = (
        "SET backup_id = :id, #type = :type, exported_at = :exported_at, "
        "started_at = if_not_exists(started_at, :started_at)"
    )
    if summary.newest_comment is not None:
        values[":through"] = summary.newest_comment.astimezone(UTC).isoformat()
        expression += ", restored_through = :through"
    try:
        db.update_item(
            TableName=table,
            Key=_RESTORE_KEY,
            UpdateExpression=expression,
            # Two restores of different backups at once: the second is refused.
            ConditionExpression="attribute_not_exists(backup_id) OR backup_id = :id",
            ExpressionAttributeNames={"#type": "type"},
            ExpressionAttributeValues=dynamo.to_item(values),
        )
    except ClientError as exc:
        if dynamo.error_code(exc) == "ConditionalCheckFailedException":
            raise RestoreRefusedError(
                f"table {table}: another backup's restore started meanwhile"
            ) from exc
        raise


def _write_batch(
    db: DynamoDBClient,
    table: str,
    items: list[dict[str, Any]],
    backoff: Backoff,
    report: RestoreReport,
    on_batch: Callable[[RestoreReport], None] | None,
) -> None:
    """Put `items` (at most 25), retrying with backoff until DynamoDB took every one."""
    pending: list[Any] = [{"PutRequest": {"Item": item}} for item in items]
    for attempt in range(backoff.attempts):
        if attempt:
            report.retries += 1
            backoff.wait(attempt - 1)
        try:
            response = db.batch_write_item(RequestItems={table: pending})
        except ClientError as exc:
            if dynamo.error_code(exc) not in THROTTLED:
                raise
            continue
        pending = list(response.get("UnprocessedItems", {}).get(table, []))
        if not pending:
            break
    else:
        raise ThrottledTooLongError(
            f"DynamoDB still refused {len(pending)} of a batch of {len(items)} items "
            f"after {backoff.attempts} tries"
        )
    report.items += len(items)
    report.batches += 1
    for item in items:
        report.by_type[item_type(item)] += 1
    if on_batch is not None:
        on_batch(report)
