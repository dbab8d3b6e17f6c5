"""The `newsroom invoke` command: one function, one event file, one call, no Docker.

The counterpart of `sam local invoke FUNCTION -e EVENT_FILE`. An emulator already listening on
the port (a `make run`'s) is reused (its tables are created if missing); otherwise one is
started for the call, with the tables and the demo articles, and stopped afterwards. The
function's environment is the one `newsroom run` gives it: a variable that names the API (the
links in emails, `PUBLIC_BASE_URL`) is the local run's API URL, on `--port`, under the stage.
The handler's return value is printed as JSON on stdout; everything the function logs goes to
stderr.

The module's top level stays on the standard library; moto, boto3 and the handler load in `run`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
import warnings
from contextlib import ExitStack, redirect_stdout
from pathlib import Path
from typing import IO, Any

from newsroom_tools import emulator as local_emulator
from newsroom_tools.functions import FunctionLoadError, LambdaContext, limits_of, load_function
from newsroom_tools.runner import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    LocalRunError,
    default_content,
    environment_of,
    prepare_tables,
)


class InvokeError(Exception):
    """The invocation cannot happen; the message says why in one line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser."""
    parser.add_argument("function", metavar="FUNCTION", help="logical id, e.g. ArticlesFunction")
    parser.add_argument("event", metavar="EVENT_FILE", type=Path, help="the event, as JSON")
    local_emulator.add_port_argument(parser)
    local_emulator.add_port_option(
        parser,
        "--port",
        variable="NEWSROOM_PORT",
        default=DEFAULT_PORT,
        help="port of the local API (`newsroom run`'s) that links in emails lead to",
    )


def run(args: argparse.Namespace) -> int:
    """Invoke once and print the result; 1 when the function or the event is unusable.

    A handler that raises prints Lambda's error object ``{"errorMessage", "errorType",
    "stackTrace"}`` instead, and the command exits 1.
    """
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stdout = sys.stdout
    # Handlers print (Powertools' metrics, stray prints) and log to stdout, which holds the
    # result only.
    with redirect_stdout(sys.stderr):
        try:
            result = invoke(
                args.function, args.event, emulator_port=args.emulator_port, api_port=args.port
            )
        except (InvokeError, LocalRunError) as exc:
            print(f"newsroom invoke: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            _print_json(_lambda_error(exc), stdout)
            return 1
    _print_json(result, stdout)
    return 0


def invoke(
    function: str, event_file: Path, *, emulator_port: int, api_port: int = DEFAULT_PORT
) -> Any:
    """Call the function's handler once with the event; returns what the handler returns.

    The function's links lead to the local API on `api_port`, under the stage.

    Raises
    ------
    InvokeError
        When the function is not in the template or the event file is not JSON.
    """
    from newsroom_tools.template import functions, load_template, resources, stage_name

    template = load_template()
    specs = functions(template)
    spec = specs.get(function)
    if spec is None:
        known = ", ".join(sorted(specs)) or "none"
        raise InvokeError(f"no function {function!r} in template.yaml (known: {known})")
    event = _read_event(event_file)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    with ExitStack() as stack:
        try:
            emulator = local_emulator.start(local_emulator.DEFAULT_HOST, emulator_port)
        except (OSError, TimeoutError) as exc:
            raise InvokeError(f"the emulator did not start on port {emulator_port}: {exc}") from exc
        stack.callback(emulator.stop)
        how = "already running" if emulator.server is None else "started for this call"
        print(f"newsroom invoke: the emulator at {emulator.endpoint_url} ({how})", file=sys.stderr)
        stack.enter_context(local_emulator.environment(emulator.environment()))
        db = boto3.client(
            "dynamodb", endpoint_url=emulator.endpoint_url, region_name=local_emulator.REGION
        )
        # Demo articles go into an emulator started for this call, never into a reused one.
        content = default_content() if emulator.server is not None else None
        try:
            names, _ = prepare_tables(db, template, content=content)
        except (BotoCoreError, ClientError) as exc:
            raise InvokeError(f"the emulator at {emulator.endpoint_url} failed: {exc}") from exc
        api_url = f"http://{DEFAULT_HOST}:{api_port}/{stage_name(template, names)}"
        apis = resources(template, "AWS::Serverless::Api")
        environment = {
            **environment_of(spec, names, api_url=api_url, apis=apis, template=template),
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
        stack.enter_context(local_emulator.environment(environment))

        try:
            loaded = load_function(spec)
        except FunctionLoadError as exc:
            raise InvokeError(str(exc)) from exc
        stack.callback(sys.modules.pop, loaded.module_name, None)
        _send_logs_to_stderr()
        context = LambdaContext(spec.name, limits_of(template, spec.name))
        return loaded.handler(event, context)


def _read_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvokeError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvokeError(f"{path} is not valid JSON: {exc}") from exc


def _send_logs_to_stderr() -> None:
    # Logging handlers keep the stream they were made with; Powertools' Logger took stdout.
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        for handler in getattr(logger, "handlers", ()):
            if isinstance(handler, logging.StreamHandler) and handler.stream is sys.__stdout__:
                handler.setStream(sys.stderr)


def _lambda_error(exc: Exception) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _print_json(value: Any, stream: IO[str]) -> None:
    print(json.dumps(value, indent=2, default=str), file=stream, flush=True)
