"""The embedded AWS emulator: moto's server, in process, on loopback."""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
REGION = "us-east-1"

# moto accepts any credentials; these keep boto3 from looking for real ones.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class Emulator:
    host: str
    port: int
    server: Any | None  # the ThreadedMotoServer we started, or None when reusing one

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """Variables that point boto3 (any client, any service) at this emulator."""
        return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url}

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class _OneRequestAtATime:
    """WSGI wrapper: moto handles one request at a time, and transactions honour their client
    token, as DynamoDB does.

    moto is not thread-safe (its TransactWriteItems deep-copies the table without a lock and
    restores the copy on failure, erasing concurrent writes); DynamoDB applies every request
    atomically and in isolation, and so does the emulator with this lock. Clients still
    interleave their requests freely. moto also ignores `ClientRequestToken`: DynamoDB answers
    a repeated TransactWriteItems with the same token (a client's retry after a timeout) with
    the first answer and applies nothing twice, so this wrapper keeps those answers.
    """

    _TOKEN_LIFETIME_SECONDS = 600  # DynamoDB keeps a client token for 10 minutes

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self._answers: dict[str, tuple[float, str, list[tuple[str, str]], bytes]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            token = _transaction_token(environ)
            kept = self._answers.get(token) if token else None
            if kept is not None and time.monotonic() - kept[0] < self._TOKEN_LIFETIME_SECONDS:
                _, status, headers, body = kept
                start_response(status, headers)
                return [body]
            answered: list[Any] = []

            def remember(status: str, headers: list[tuple[str, str]], *info: Any) -> Any:
                answered[:] = [status, headers]
                return start_response(status, headers, *info)

            body = b"".join(self.app(environ, remember))
            if token and answered and answered[0].startswith("200"):
                self._answers[token] = (time.monotonic(), answered[0], answered[1], body)
            return [body]


def _transaction_token(environ: dict[str, Any]) -> str | None:
    """The ClientRequestToken of a TransactWriteItems request (reading its body), or None."""
    if not environ.get("HTTP_X_AMZ_TARGET", "").endswith(".TransactWriteItems"):
        return None
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(raw)
    try:
        token = json.loads(raw).get("ClientRequestToken")
    except ValueError:
        return None
    return str(token) if token else None


class _AtomicMotoServer:
    """moto's server in a thread of this process, as `moto.server.ThreadedMotoServer`, with
    requests applied one at a time."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import (  # development dependency
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        keep_streams_through_rollbacks()
        app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, app, True, request_handler=MotoRequestHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="newsroom-emulator", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


_PATCHED: set[str] = set()
_PATCHING = threading.Lock()
_TRANSACTING = threading.Lock()


class _TableBackups:
    """Stands in for the `copy` module in moto's DynamoDB models during one transaction: each
    table is copied once, and its stream shard is shared with the copy, not copied."""

    def __init__(self, table_type: Any) -> None:
        self._table_type = table_type
        self._copies: dict[int, Any] = {}

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if not isinstance(value, self._table_type):
            return copy.deepcopy(value, memo)
        if id(value) not in self._copies:
            shard = getattr(value, "stream_shard", None)
            self._copies[id(value)] = copy.deepcopy(
                value, {} if shard is None else {id(shard): shard}
            )
        return self._copies[id(value)]

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def keep_streams_through_rollbacks() -> None:
    """Make the moto in this process (if any) roll back a cancelled `TransactWriteItems` without
    breaking the streams of the tables it touched.

    moto applies a transaction's actions one by one and, when one fails, puts back deep copies
    of the tables taken before it (one copy per action, each with all the stream's records).
    Each copy brought a stream shard of its own, so the shard the pollers' iterators point at
    was left behind and never got another record (no email after the first refused comment),
    holding the records of the rolled-back writes, which DynamoDB never streams (an email about
    a comment that does not exist). Here each table is copied once per transaction and keeps its
    own shard; a rollback drops the records the rolled-back writes added to it.
    """
    try:  # development dependencies
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table
    except ImportError:  # the emulator runs elsewhere, or not at all
        return
    dynamodb_models: Any = models
    with _PATCHING:
        if "transact_write_items" in _PATCHED:
            return
        backend_class: Any = dynamodb_models.DynamoDBBackend
        transact = backend_class.transact_write_items

        def transact_write_items(backend: Any, transact_items: Any) -> None:
            # One transaction at a time across this process's emulators: the backups replace
            # the module-wide `copy` while it runs.
            with _TRANSACTING:
                tables = dict(backend.tables)
                streamed = {
                    name: len(table.stream_shard.items)
                    for name, table in tables.items()
                    if getattr(table, "stream_shard", None) is not None
                }
                dynamodb_models.copy = _TableBackups(Table)
                try:
                    transact(backend, transact_items)
                except Exception:
                    for name, records in streamed.items():
                        restored = backend.tables.get(name)
                        if restored is None or restored is tables[name]:
                            continue
                        shard = tables[name].stream_shard
                        del shard.items[records:]
                        shard.table = restored
                        restored.stream_shard = shard
                    raise
                finally:
                    dynamodb_models.copy = copy

        backend_class.transact_write_items = transact_write_items
        _PATCHED.add("transact_write_items")


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


class NoLocalRunError(Exception):
    """No emulator of a local run listens where a command was pointed."""


def local_run_session(port: int) -> boto3.Session:
    """A boto3 session for the emulator of a running local system (`newsroom run`) on `port`:
    its region and credentials (the commands' `--local`; make the clients with
    ``endpoint_url=f"http://{DEFAULT_HOST}:{port}"``).

    Raises
    ------
    NoLocalRunError
        Nothing listens there (the message says how to start one).
    """
    if not is_listening(DEFAULT_HOST, port):
        raise NoLocalRunError(
            f"no local run on {DEFAULT_HOST}:{port}: start `make run` first "
            "(or pass --emulator-port PORT)"
        )
    import boto3

    return boto3.Session(
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def start(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, reuse: bool = True) -> Emulator:
    """Start moto's server in this process, or reuse one already listening there."""
    if is_listening(host, port):
        if reuse:
            return Emulator(host, port, server=None)
        raise OSError(f"port {port} on {host} is already in use")
    server = _AtomicMotoServer(host, port)
    server.start()
    deadline = time.monotonic() + 10
    while not is_listening(host, port):
        if time.monotonic() > deadline:
            server.stop()
            raise TimeoutError(f"the emulator did not start on {host}:{port}")
        time.sleep(0.05)
    return Emulator(host, port, server=server)


@contextmanager
def environment(
    values: dict[str, str], target: MutableMapping[str, str] = os.environ
) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {key: target.get(key) for key in values}
    target.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                target.pop(key, None)
            else:
                target[key] = old


def add_port_option(
    parser: argparse.ArgumentParser, flag: str, *, variable: str, default: int, help: str
) -> None:
    """A port option of a local command: the flag, else the environment `variable`, else
    `default`; its help ends saying so."""
    parser.add_argument(
        flag,
        type=int,
        default=os.environ.get(variable, str(default)),
        help=f"{help} (default: ${variable} or {default})",
    )


def add_port_argument(
    parser: argparse.ArgumentParser, *, when_taken: str = "one already running there is reused"
) -> None:
    """The `--emulator-port` option every local command takes; `when_taken` says what the
    command does when something already listens there."""
    add_port_option(
        parser,
        "--emulator-port",
        variable="NEWSROOM_EMULATOR_PORT",
        default=DEFAULT_PORT,
        help=f"port of the AWS emulator; {when_taken}",
    )
