"""Idempotency-Key support: a retried POST returns the first answer and stores nothing new.

Backed by Powertools idempotency with its DynamoDB persistence layer (the IdempotencyTable).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from newsroom.errors import (
    IdempotencyKeyReusedError,
    RequestInProgressError,
    ServiceUnavailableError,
)

T = TypeVar("T", bound=BaseModel)
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, as HTTP header tokens


@cache
def _once(
    table_name: str, expiry_seconds: int, output: type[BaseModel]
) -> tuple[Callable[..., BaseModel], Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
        PydanticSerializer,
    )

    from newsroom.data import dynamo

    config = IdempotencyConfig(
        # The answer's shape is part of the key: see `run_once`.
        event_key_jmespath="[answer, key]",
        # The same key with another request is a client bug, not a retry.
        payload_validation_jmespath="request",
        expires_after_seconds=expiry_seconds,
        raise_on_no_idempotency_key=True,
    )

    def run(call: dict[str, Any], compute: Callable[[], BaseModel]) -> BaseModel:
        return compute()

    decorate = idempotent_function(
        data_keyword_argument="call",
        config=config,
        # The layer's process-wide client, with its timeouts and deadline, not botocore's 60 s
        # defaults; one client, since making a second costs a cold start some 30 ms.
        persistence_store=DynamoDBPersistenceLayer(
            table_name=table_name, boto3_client=dynamo.client()
        ),
        output_serializer=PydanticSerializer(model=output),
    )
    return cast("Callable[..., BaseModel]", decorate(run)), config


def run_once(
    key: str,
    request: dict[str, Any],
    compute: Callable[[], T],
    *,
    output: type[T],
    table_name: str,
    expiry_seconds: int,
    lambda_context: Any = None,
) -> T:
    """`compute()`, unless a call with this key already succeeded: then its stored result.

    A result is stored under the key and the fields of `output`: one stored by a release whose
    answer had other fields (an upgrade within the records' hour) is not read back, which would
    fail the answer's model and answer 500; the call is made again, and meets what the first
    made (a comment's duplicate check stores nothing twice).

    Parameters
    ----------
    key
        The client's Idempotency-Key.
    request
        What identifies the request (JSON-able); a key reused with another request is refused.
    lambda_context
        The invocation's context, so an interrupted call does not hold its key until expiry.

    Raises
    ------
    IdempotencyKeyReusedError, RequestInProgressError, ServiceUnavailableError
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    once, config = _once(table_name, expiry_seconds, output)
    # Lets Powertools expire an in-progress record when this invocation times out.
    config.register_lambda_context(lambda_context)
    try:
        answer = ",".join(sorted(output.model_fields))
        result = once(call={"key": key, "answer": answer, "request": request}, compute=compute)
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReusedError() from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise RequestInProgressError() from exc
    except IdempotencyPersistenceLayerError as exc:
        raise ServiceUnavailableError() from exc
    assert isinstance(result, output)
    return result
