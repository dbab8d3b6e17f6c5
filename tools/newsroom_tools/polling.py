"""A thread that polls in rounds until stopped, and lets a caller wait for a round that found
nothing to do: what Lambda's local event source mappings (`newsroom_tools.streams` for a
table's stream, `newsroom_tools.queues` for an SQS queue) share."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

# What a mapping calls its function with: the event, answered with the handler's answer.
Invoke = Callable[[dict[str, Any]], Any]
# A mapping's `FunctionResponseTypes` value for partial batch responses.
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

log = logging.getLogger(__name__)


class PollingThread:
    """Rounds of `_poll` in a thread of its own, `poll_interval` apart while a round finds
    nothing. `name` is what logs and errors call it; `source` what it reads ("stream")."""

    source = "source"

    def __init__(self, name: str, poll_interval: float) -> None:
        self.name = name
        self.poll_interval = poll_interval
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._changed = threading.Condition()
        self._rounds = 0
        self._idle = False
        self._last_error: Exception | None = None

    def _poll(self) -> tuple[bool, bool]:
        """One round: (whether it found anything, whether nothing is left to do)."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start_thread(self, thread_name: str) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling: a round under way finishes. Safe to call twice."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s: the poller did not stop within %ss", self.name, timeout)
            self._thread = None

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until a round that started after this call found nothing and left nothing to
        do.

        Raises
        ------
        TimeoutError
            When the poller is still busy at the deadline (the last error, if any, says why).
        RuntimeError
            When the poller is not running.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            target = self._rounds + 2  # the round in progress may have read before the call
            while not (self._rounds >= target and self._idle):
                if self._rounds < target:
                    self._wake.set()  # no need to sit out the poll interval
                if not self.running:
                    raise RuntimeError(f"{self.name}: the poller is not running")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"{self.name}: still busy after {timeout}s"
                        + (f" (last error: {self._last_error!r})" if self._last_error else "")
                    )
                self._changed.wait(min(remaining, 0.5))

    def _run(self) -> None:
        reported: str | None = None
        while not self._stopping.is_set():
            error: Exception | None = None
            got = idle = False
            try:
                got, idle = self._poll()
            except Exception as exc:  # the emulator may be restarting; keep polling
                error = exc
                if repr(exc) != reported:
                    log.exception("%s: reading the %s failed", self.name, self.source)
                reported = repr(exc)
            else:
                reported = None
            with self._changed:
                self._rounds += 1
                self._last_error = error
                self._idle = error is None and not got and idle
                self._changed.notify_all()
            if not got:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
