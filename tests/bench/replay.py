"""The baselines of the bench: a function's recorded AWS calls (tests/bench/lambda_runner.py) as
the source of a bare boto3 handler making them in the same order, or of the Powertools floor
(a resolver with validation, Logger and Metrics, no Tracer) making them in its route; and the
items those calls wrote, put back as they were before, so the next replay finds what the first
request found.
"""

from __future__ import annotations

import pprint
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Call = Mapping[str, Any]  # one recorded call: service, operation, params, fresh, error


def describe(calls: Sequence[Call], table_ids: Mapping[str, str]) -> list[str]:
    """One line per call, for the bench's output: ``dynamodb.GetItem ContentTable``; a
    transaction lists its actions."""
    lines = []
    for call in calls:
        params = call["params"]
        line = f"{call['service']}.{call['operation']}"
        if "TableName" in params:
            line += " " + table_ids.get(params["TableName"], params["TableName"])
        if call["operation"] == "TransactWriteItems":
            actions = Counter(
                f"{kind} {table_ids.get(action['TableName'], action['TableName'])}"
                for entry in params["TransactItems"]
                for kind, action in entry.items()
            )
            line += " [" + ", ".join(f"{n}x {action}" for action, n in actions.items()) + "]"
        if call["operation"] == "GetParameters":
            line += f" ({len(params['Names'])} names)"
        if call["error"]:
            line += f" -> {call['error']} (as recorded)"
        lines.append(line)
    return lines


def _client_name(service: str) -> str:
    return re.sub(r"\W", "_", service)


def _calls_source(calls: Sequence[Call], indent: str) -> list[str]:
    """Statements appending each call's answer to `answers`, an expected error caught."""
    from botocore import xform_name

    lines = []
    for call in calls:
        fresh = set(call["fresh"])
        params = {name: value for name, value in call["params"].items() if name not in fresh}
        literal = pprint.pformat(params, width=96, sort_dicts=False)
        arguments = "**" + literal.replace("\n", "\n" + indent + "    ")
        arguments += "".join(f", {name}=str(uuid.uuid4())" for name in sorted(fresh))
        statement = (
            f"answers.append({_client_name(call['service'])}."
            f"{xform_name(call['operation'])}({arguments}))"
        )
        if call["error"] is None:
            lines.append(indent + statement)
            continue
        lines += [
            f"{indent}try:",
            f"{indent}    {statement}",
            f"{indent}except ClientError as error:  # as the function's call got it",
            f"{indent}    if error.response['Error']['Code'] != {call['error']!r}:",
            f"{indent}        raise",
            f"{indent}    answers.append(error.response)",
        ]
    return lines


def _clients_source(calls: Sequence[Call]) -> list[str]:
    services = dict.fromkeys(call["service"] for call in calls)
    return [f"{_client_name(service)} = boto3.client({service!r})" for service in services]


def _imports(calls: Sequence[Call]) -> list[str]:
    lines = ["import json", "import uuid", "", "import boto3"]
    if any(call["error"] for call in calls):
        lines.append("from botocore.exceptions import ClientError")
    return lines


def bare_handler_source(title: str, calls: Sequence[Call], answer: Mapping[str, Any]) -> str:
    """A plain boto3 handler making `calls` in order, answering as the function answered: its
    status code with the last call's answer as a JSON body, or (not an HTTP function) the
    function's answer itself."""
    if "statusCode" in answer:
        returned = (
            f"{{'statusCode': {answer['statusCode']}, "
            "'headers': {'Content-Type': 'application/json'}, "
            "'body': json.dumps(answers[-1], default=str)}"
        )
    else:
        returned = repr(dict(answer))
    return "\n".join(
        [
            f'"""A bare boto3 handler making the AWS calls of {title} (cold), in order."""',
            "",
            *_imports(calls),
            "",
            *_clients_source(calls),
            "",
            "",
            "def lambda_handler(event, context):",
            "    answers = []",
            *_calls_source(calls, "    "),
            f"    return {returned}",
            "",
        ]
    )


def floor_handler_source(title: str, calls: Sequence[Call], event: Mapping[str, Any]) -> str:
    """The smallest Powertools REST function: a resolver with validation, Logger and Metrics
    (no Tracer), one route for the event's resource making `calls`, the last one's answer as
    its body; decorated as the functions' handlers are."""
    method = str(event["httpMethod"]).lower()
    path = re.sub(r"\{(\w+)\}", r"<\1>", str(event["resource"]))
    parameters = ", ".join(f"{name}: str" for name in re.findall(r"<(\w+)>", path))
    return "\n".join(
        [
            f'"""The Powertools floor: the AWS calls of {title} (cold), in a resolver."""',
            "",
            *_imports(calls),
            "from aws_lambda_powertools import Logger, Metrics",
            "from aws_lambda_powertools.event_handler import APIGatewayRestResolver",
            "from aws_lambda_powertools.logging import correlation_paths",
            "",
            "app = APIGatewayRestResolver(enable_validation=True)",
            "logger, metrics = Logger(), Metrics()",
            *_clients_source(calls),
            "",
            "",
            f"@app.{method}({path!r})",
            f"def handle({parameters}) -> dict:",
            "    answers = []",
            *_calls_source(calls, "    "),
            "    return answers[-1]",
            "",
            "",
            "@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)",
            "@metrics.log_metrics(capture_cold_start_metric=True)",
            "def lambda_handler(event, context):",
            "    return app.resolve(event, context)",
            "",
        ]
    )


def restore(db: DynamoDBClient, before: Sequence[Mapping[str, Any]]) -> None:
    """Put back each recorded item as it was before the recorded writes (or delete it, when
    there was none)."""
    for image in before:
        if image["item"] is None:
            db.delete_item(TableName=image["table"], Key=image["key"])
        else:
            db.put_item(TableName=image["table"], Item=image["item"])
