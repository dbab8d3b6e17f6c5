"""The one Logger, Tracer and Metrics every function uses (configured by POWERTOOLS_* variables).

X-Ray tracing is the operator's choice (template parameter `Tracing`, off by default): with
``POWERTOOLS_TRACE_DISABLED`` true no Powertools `Tracer` is built, so the X-Ray SDK is never
imported (half of a function's import time); `tracer` is then `UntracedTracer`, whose
decorators return the function unchanged. Structured logs and EMF metrics are on either way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

F = TypeVar("F", bound=Callable[..., Any])


class UntracedTracer:
    """Powertools `Tracer`'s decorators and annotations, doing nothing (tracing is off)."""

    def capture_method(self, method: F | None = None, **_options: Any) -> Any:
        """`@tracer.capture_method` or `@tracer.capture_method(...)`: the method unchanged."""
        return method if method is not None else (lambda later: later)

    capture_lambda_handler = capture_method

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing to annotate."""

    def put_metadata(self, key: str, value: Any, namespace: str | None = None) -> None:
        """Nothing to record."""


def tracing_enabled() -> bool:
    """As Powertools' Tracer reads it: on unless POWERTOOLS_TRACE_DISABLED is true."""
    disabled = os.getenv(constants.TRACER_DISABLED_ENV, "false")
    return not resolve_truthy_env_var_choice(env=disabled)


def _tracer() -> Tracer:
    if not tracing_enabled():
        # Offers what the functions use of a Tracer: its decorators.
        return cast("Tracer", UntracedTracer())
    from aws_lambda_powertools import Tracer

    return Tracer()


logger = Logger()
tracer = _tracer()
metrics = Metrics()
