"""The invocation's deadline, and AWS clients that start no attempt they could not finish by it.

Each handler sets the deadline from its Lambda context (`invocation`). The layer's AWS clients
carry a hook (`refuse_late_attempts`) that refuses to send an attempt when it could not end
before the deadline: its connect and read timeouts, and the backoff botocore may sleep before
a next attempt, must fit in the time left. A refused attempt raises `DeadlineExceededError`, a
`BotoCoreError`, which callers answer as they answer a service that cannot be reached (503 with
Retry-After on the API), before Lambda stops the invocation. Outside an invocation (scripts,
the importer) nothing is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from botocore.exceptions import BotoCoreError

# Kept for answering after the last AWS attempt gave up: logging, serialising, returning.
ANSWER_SECONDS = 0.5
# botocore's standard retry mode sleeps up to 2 ** (n - 1) seconds after the n-th attempt
# failed (throttling errors; others far less), at most 20 (botocore.retries.standard).
_MAX_BACKOFF_SECONDS = 20
_ATTEMPT = re.compile(r"attempt=(\d+)")

_deadline: ContextVar[float | None] = ContextVar("newsroom_deadline", default=None)

Client = TypeVar("Client")


class HasRemainingTime(Protocol):
    """The part of Lambda's context object the deadline needs."""

    def get_remaining_time_in_millis(self) -> int: ...


class DeadlineExceededError(BotoCoreError):
    """An AWS attempt was not started: it could not end before the invocation does."""

    fmt = "No attempt started: it may take {needed:.1f} s and {left:.1f} s are left"


@contextmanager
def invocation(context: HasRemainingTime) -> Iterator[None]:
    """Within the block, AWS attempts must end `ANSWER_SECONDS` before Lambda would stop the
    invocation (`context.get_remaining_time_in_millis()`, read now)."""
    left = context.get_remaining_time_in_millis() / 1000
    token = _deadline.set(time.monotonic() + left - ANSWER_SECONDS)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextmanager
def regardless() -> Iterator[None]:
    """Within the block, attempts start whatever the time left: for recording work already
    done (an email that went out), where refusing would only have it done again."""
    token = _deadline.set(None)
    try:
        yield
    finally:
        _deadline.reset(token)


def seconds_left() -> float | None:
    """Seconds until the deadline of the invocation under way; None outside one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def allows(seconds: float) -> bool:
    """Whether `seconds` of work still end before the deadline (always, outside one)."""
    left = seconds_left()
    return left is None or left >= seconds


def refuse_late_attempts(client: Client) -> Client:
    """Give `client` (a boto3 client) the hook that refuses an attempt it could not finish
    before the deadline; `client` itself, for chaining."""
    meta: Any = getattr(client, "meta")  # noqa: B009 - boto3 clients are typed per service
    config = meta.config
    attempt_seconds = float(config.connect_timeout) + float(config.read_timeout)
    attempts = int((config.retries or {}).get("total_max_attempts", 1))

    def refuse_if_late(request: Any, **_: Any) -> None:
        left = seconds_left()
        if left is None:
            return
        header = request.headers.get("amz-sdk-request", b"")
        found = _ATTEMPT.search(header.decode() if isinstance(header, bytes) else str(header))
        attempt = int(found.group(1)) if found else 1
        # When this attempt fails and another may follow, botocore sleeps before finding that
        # the next one cannot start: that sleep must fit too.
        backoff = 0 if attempt >= attempts else min(2 ** (attempt - 1), _MAX_BACKOFF_SECONDS)
        needed = attempt_seconds + backoff
        if left < needed:
            raise DeadlineExceededError(needed=needed, left=max(left, 0.0))

    # On the service's own event, first: botocore calls the handlers of more specific events
    # before those of `before-send`, and the first answer a handler gives is sent no further.
    service = meta.service_model.service_id.hyphenize()
    meta.events.register_first(
        f"before-send.{service}", refuse_if_late, unique_id="newsroom-deadline"
    )
    return client
