"""One cold start as Lambda's Python runtime makes it: import the handler module (the init),
call it once with the event (the first request), and say when it returned and what memory the
process took at most.

tests/bench/cold_start.py runs it in a fresh interpreter, in the function's task root with the
function's environment, as ``python lambda_runner.py JOB.json``: the job names the handler, the
event, the timeout and where to write the result. Standard library only, so every program it
starts (a function, a bare boto3 handler) carries the same few modules of its own.

With ``"record"`` in the job (a run that is not measured), it first hooks every botocore client
the handler makes, and writes down each AWS call (service, operation, parameters, the error it
got) and, before each DynamoDB write, the items that write is about to change, as they were:
the bare handler replays those calls, and the bench puts those items back after each replay.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from typing import Any


class LambdaContext:
    """The context object Lambda passes the handler, from the variables Lambda sets."""

    def __init__(self, timeout_seconds: float) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = (
            f"arn:aws:lambda:{os.environ.get('AWS_REGION', 'us-east-1')}:123456789012"
            f":function:{self.function_name}"
        )
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def peak_rss_kib() -> int:
    """This process image's peak resident set (VmHWM), in KiB.

    Not `getrusage`'s ru_maxrss: on Linux that keeps the high-water mark of the process before
    `exec`, here the bench's own (the emulator runs in it), which is far bigger.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(job_path: str) -> None:
    with open(job_path, encoding="utf-8") as file:
        job = json.load(file)
    recorder = Recorder() if job.get("record") else None
    module_name, handler_name = job["handler"].rsplit(".", 1)
    # As Lambda's runtime imports it (`importlib.import_module` there), through the import
    # statement's own machinery, which `python -X importtime` times (it does not see the
    # module `importlib.import_module` imports, only each import that one makes).
    __import__(module_name)
    handler = getattr(sys.modules[module_name], handler_name)
    context = LambdaContext(job["timeout_seconds"])
    result = handler(job["event"], context)
    returned_ns = time.monotonic_ns()
    peak = peak_rss_kib()
    with open(job["result"], "w", encoding="utf-8") as file:
        json.dump({"returned_ns": returned_ns, "peak_rss_kib": peak, "answer": result}, file)
    if recorder is not None:
        with open(job["record"], "w", encoding="utf-8") as file:
            file.write(repr(recorder.record()))  # a Python literal: SES's raw mail is bytes


# -- recording (a run that is not measured) ----------------------------------------------------

# DynamoDB writes, and where each names the items it changes.
_ITEM_WRITES = {"PutItem": "Item", "UpdateItem": "Key", "DeleteItem": "Key"}
_TRANSACTION_WRITES = {"Put": "Item", "Update": "Key", "Delete": "Key"}


class Recorder:
    """Every AWS call of the clients made from now on, and the items DynamoDB writes change.

    Hooked where every client is made (`botocore.session.Session.create_client`), so a client of
    any session is recorded: botocore's `before-parameter-build` event, registered last (after
    botocore filled in idempotency tokens), gives the parameters as sent; `after-call` gives the
    error code, if any. Before a DynamoDB write, a client of its own reads each item it names
    (consistently), the first time that item is written.
    """

    def __init__(self) -> None:
        import botocore.session

        self.calls: list[dict[str, Any]] = []
        self.before: dict[str, dict[str, Any]] = {}
        self._schemas: dict[str, list[str]] = {}
        create_client = botocore.session.Session.create_client
        self._reader = botocore.session.get_session().create_client("dynamodb")
        recorder = self

        def recorded_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = create_client(session, *args, **kwargs)
            client.meta.events.register_last("before-parameter-build", recorder._call)
            client.meta.events.register_last("after-call", recorder._answer)
            return client

        botocore.session.Session.create_client = recorded_client  # type: ignore[method-assign]

    def record(self) -> dict[str, Any]:
        return {"calls": self.calls, "before": list(self.before.values())}

    def _call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        import copy

        members = model.input_shape.members if model.input_shape is not None else {}
        self.calls.append(
            {
                "service": model.service_model.service_name,
                "operation": model.name,
                "params": copy.deepcopy(params),
                # Unique per call (botocore makes one when the caller gives none): the replay
                # makes its own, as the emulator answers a repeated token from its memory.
                "fresh": sorted(
                    name for name in params if members[name].metadata.get("idempotencyToken")
                ),
                "error": None,
            }
        )
        if model.service_model.service_name == "dynamodb":
            for table, key in self._written_items(model.name, params):
                self._remember(table, key)

    def _answer(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        error = parsed.get("Error", {}).get("Code")
        for call in reversed(self.calls):
            if call["operation"] == model.name:
                call["error"] = error
                return

    def _written_items(self, operation: str, params: dict[str, Any]) -> list[tuple[str, Any]]:
        if operation in _ITEM_WRITES:
            return [(params["TableName"], params[_ITEM_WRITES[operation]])]
        if operation == "TransactWriteItems":
            return [
                (action["TableName"], action[_TRANSACTION_WRITES[kind]])
                for entry in params["TransactItems"]
                for kind, action in entry.items()
                if kind in _TRANSACTION_WRITES
            ]
        if operation == "BatchWriteItem":
            return [
                (
                    table,
                    request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"],
                )
                for table, requests in params["RequestItems"].items()
                for request in requests
            ]
        return []

    def _remember(self, table: str, item: dict[str, Any]) -> None:
        if table not in self._schemas:
            described = self._reader.describe_table(TableName=table)["Table"]
            self._schemas[table] = [key["AttributeName"] for key in described["KeySchema"]]
        key = {name: item[name] for name in self._schemas[table]}
        seen = json.dumps([table, key], sort_keys=True)
        if seen not in self.before:
            found = self._reader.get_item(TableName=table, Key=key, ConsistentRead=True)
            self.before[seen] = {"table": table, "key": key, "item": found.get("Item")}


if __name__ == "__main__":
    main(sys.argv[1])
