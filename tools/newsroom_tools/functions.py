"""Loads a function's handler in this process and keeps a few warm instances of it.

Each instance is the handler module imported afresh under its own name, like one Lambda
execution environment. Invocations run one at a time in this process, whatever the function:
Powertools keeps the current request on its `BaseRouter` class (shared by every resolver), so
two handlers running at once in one process would read each other's request. The process
environment must already hold the function's variables when the first instance is loaded
(module-level code reads them, as on Lambda).
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsroom_tools.template import FunctionSpec

DEFAULT_POOL_SIZE = 4
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
MODULE_PREFIX = "newsroom_local_fn_"
# One invocation at a time in this process (see the module docstring).
_INVOCATION = threading.Lock()

Handler = Callable[[Any, Any], Any]
_module_numbers = itertools.count(1)


class FunctionLoadError(Exception):
    """A function's handler module is missing, fails to import, or lacks its handler."""


@dataclass(frozen=True)
class Limits:
    """The function's `Timeout` (seconds) and `MemorySize` (MB); Lambda's defaults otherwise."""

    timeout_seconds: int = 3
    memory_mb: int = 128


def limits_of(template: Mapping[str, Any], function: str) -> Limits:
    """The function's limits from its Properties, else from Globals.Function."""
    globals_ = template.get("Globals", {}).get("Function", {})
    props = template.get("Resources", {}).get(function, {}).get("Properties", {})
    default = Limits()
    return Limits(
        timeout_seconds=int(props.get("Timeout", globals_.get("Timeout", default.timeout_seconds))),
        memory_mb=int(props.get("MemorySize", globals_.get("MemorySize", default.memory_mb))),
    )


class LambdaContext:
    """A stand-in for the context object Lambda passes the handler."""

    def __init__(
        self,
        function_name: str,
        limits: Limits = Limits(),
        *,
        log_stream_name: str | None = None,
        aws_request_id: str | None = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = limits.memory_mb
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name or new_log_stream_name()
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + limits.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def new_log_stream_name() -> str:
    """A log stream name shaped like Lambda's, one per execution environment."""
    return f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"


@dataclass(frozen=True)
class LoadedFunction:
    module_name: str
    handler: Handler
    log_stream_name: str


def load_function(spec: FunctionSpec) -> LoadedFunction:
    """Import the function's handler module under a fresh module name and return its handler.

    Raises
    ------
    FunctionLoadError
        When the module file is missing, raises on import, or has no such callable.
    """
    path = spec.module_file
    if not path.is_file():
        raise FunctionLoadError(f"{spec.name}: no handler module at {path}")
    module_name = f"{MODULE_PREFIX}{spec.name}_{next(_module_numbers)}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise FunctionLoadError(f"{spec.name}: cannot import {path}")
    module = importlib.util.module_from_spec(module_spec)
    # Registered before running it, as `import` does: Pydantic and typing look modules up here.
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise FunctionLoadError(f"{spec.name}: importing {path} failed: {exc!r}") from exc
    handler = getattr(module, spec.handler_name, None)
    if not callable(handler):
        sys.modules.pop(module_name, None)
        raise FunctionLoadError(f"{spec.name}: {path} has no callable {spec.handler_name!r}")
    return LoadedFunction(module_name, handler, new_log_stream_name())


class FunctionPool:
    """Up to `size` warm instances of one function; a busy instance is never handed out.

    An invocation takes an idle instance, else loads a new one while fewer than `size` exist,
    else waits for one to be returned.
    """

    def __init__(
        self,
        spec: FunctionSpec,
        limits: Limits = Limits(),
        *,
        size: int = DEFAULT_POOL_SIZE,
        loader: Callable[[FunctionSpec], LoadedFunction] = load_function,
    ) -> None:
        if size < 1:
            raise ValueError("a pool holds at least one instance")
        self.spec = spec
        self.limits = limits
        self.size = size
        self._loader = loader
        self._idle: list[LoadedFunction] = []
        self._all: list[LoadedFunction] = []
        self._loading = 0
        self._available = threading.Condition()

    @property
    def instances(self) -> int:
        """How many instances are loaded."""
        with self._available:
            return len(self._all)

    def warm(self) -> None:
        """Load the first instance now, so import errors show at start and not on a request."""
        with self._instance():
            pass

    def invoke(self, event: Any) -> Any:
        """Run the handler on one free instance with a fresh context, as one Lambda invoke."""
        with self._instance() as instance:
            context = LambdaContext(
                self.spec.name, self.limits, log_stream_name=instance.log_stream_name
            )
            with _INVOCATION:
                return instance.handler(event, context)

    def close(self) -> None:
        """Forget every instance and its module."""
        with self._available:
            for instance in self._all:
                sys.modules.pop(instance.module_name, None)
            self._all.clear()
            self._idle.clear()

    @contextmanager
    def _instance(self) -> Iterator[LoadedFunction]:
        with self._available:
            while not self._idle and len(self._all) + self._loading >= self.size:
                self._available.wait()
            instance = self._idle.pop() if self._idle else None
            if instance is None:
                self._loading += 1
        if instance is None:
            instance = self._load()
        try:
            yield instance
        finally:
            with self._available:
                self._idle.append(instance)
                self._available.notify()

    def _load(self) -> LoadedFunction:
        # Outside the lock: an import takes a while and other instances may be returned meanwhile.
        try:
            instance = self._loader(self.spec)
        except BaseException:
            with self._available:
                self._loading -= 1
                self._available.notify()
            raise
        with self._available:
            self._loading -= 1
            self._all.append(instance)
        return instance
