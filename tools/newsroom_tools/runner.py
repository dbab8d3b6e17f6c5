"""The `newsroom run` command: the whole system on this machine, without Docker or AWS.

It starts the embedded emulator, creates the template's tables there, loads the demo articles,
serves every API route of every function on one port (under the stage, `/v1/...`, as the API's
invoke URL does) and the demo news site (docs/demo-site/) on another, feeds each DynamoDB stream
event of the template to its function, and shows the emails sent at /_local/outbox, until
Ctrl-C. `LocalSystem` does the same in process for
end-to-end tests.

The module's top level stays on the standard library; moto, boto3 and the handlers load in `run`.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from newsroom_tools import emulator as local_emulator
from newsroom_tools.apigateway import HttpRequest, HttpResponse
from newsroom_tools.functions import (
    DEFAULT_POOL_SIZE,
    FunctionLoadError,
    FunctionPool,
    Handler,
    LoadedFunction,
    limits_of,
    load_function,
    new_log_stream_name,
)
from newsroom_tools.server import LocalApiServer, LocalRoute, PortInUseError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

    from newsroom_tools.demo_site import DemoSiteServer
    from newsroom_tools.mailbox_simulator import MailboxSimulator
    from newsroom_tools.outbox import Outbox
    from newsroom_tools.queues import QueuePoller
    from newsroom_tools.streams import StreamPoller
    from newsroom_tools.template import FunctionSpec

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
DEFAULT_DEMO_PORT = 8000
ALLOWED_ORIGINS = "AllowedOrigins"  # the template parameter listing the origins CORS allows
CONTENT_TABLE = "ContentTable"  # the logical id of the table the demo articles go to
SERVICE_NAME = "newsroom-local"  # every function shares this process, so one service name

log = logging.getLogger(__name__)


class LocalRunError(Exception):
    """The local system cannot start; the message says why in one line."""


def default_content() -> Path:
    from newsroom_tools.template import PROJECT_ROOT

    return PROJECT_ROOT / "content" / "articles"


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def function_environment(
    specs: dict[str, FunctionSpec],
    table_names: dict[str, str],
    *,
    api_url: str | None = None,
    apis: Iterable[str] = (),
    template: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The variables every function needs, merged, with table `!Ref`s as local table names.

    A variable whose value names one of the template's `apis` (its invoke URL, say, for links
    in emails) is `api_url` here: the local API stands in for the deployed one.
    All functions share one process here, so tracing is off and the service name is common.
    With the `template`, a variable set by a condition (`!If`) on the parameters in
    `table_names` is evaluated as CloudFormation would (see `environment_of`).
    """
    merged: dict[str, str] = {}
    for spec in specs.values():
        variables = environment_of(spec, table_names, api_url=api_url, apis=apis, template=template)
        for key, value in variables.items():
            if key in merged and merged[key] != value and key != "POWERTOOLS_SERVICE_NAME":
                log.warning("functions disagree on %s; %s's value is used", key, spec.name)
            merged[key] = value
    merged["POWERTOOLS_TRACE_DISABLED"] = "true"
    merged["POWERTOOLS_SERVICE_NAME"] = SERVICE_NAME
    return merged


def environment_of(
    spec: FunctionSpec,
    table_names: dict[str, str],
    *,
    api_url: str | None = None,
    apis: Iterable[str] = (),
    template: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """One function's variables, resolved as `function_environment` resolves them: a variable
    naming one of `apis` (its invoke URL, under `!If` or `!Sub`) is `api_url`. With the
    `template`, any other intrinsic of parameters, conditions and pseudo parameters is
    evaluated (`newsroom_tools.template.evaluate`; `AWS::NoValue` leaves the variable out)."""
    from newsroom_tools.template import UnresolvableError, evaluate, resolve_environment

    apis = tuple(apis)
    defaults = {
        key: api_url
        for key, value in spec.environment.items()
        if api_url is not None and any(_names_resource(value, api) for api in apis)
    }
    resolved = resolve_environment(spec, table_names, defaults)
    if template is None:
        return resolved
    known = {**PSEUDO_PARAMETERS, **table_names}
    for key, value in spec.environment.items():
        if key in resolved or key in defaults or not isinstance(value, dict):
            continue
        try:
            evaluated = evaluate(template, value, known)
        except UnresolvableError:
            continue  # AWS::NoValue, or what only a deployment knows
        if isinstance(evaluated, (str, int, float)):
            resolved[key] = str(evaluated)
    return resolved


# What CloudFormation's pseudo parameters are in a local run.
PSEUDO_PARAMETERS = {
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::Region": "us-east-1",
    "AWS::StackName": "newsroom-local",
    "AWS::StackId": (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/newsroom-local/"
        "4c0ca1e0-0000-4000-8000-000000000000"
    ),
    "AWS::URLSuffix": "amazonaws.com",
}


def _names_resource(value: Any, logical_id: str) -> bool:
    """Whether a template value refers to a resource (`!Ref`, `!GetAtt` or `${...}` in `!Sub`)."""
    if isinstance(value, dict):
        if value.get("Ref") == logical_id:
            return True
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute[:1] == [logical_id]:
            return True
        return any(_names_resource(item, logical_id) for item in value.values())
    if isinstance(value, list):
        return any(_names_resource(item, logical_id) for item in value)
    return isinstance(value, str) and f"${{{logical_id}}}" in value


def prepare_tables(
    db: DynamoDBClient,
    template: dict[str, Any],
    *,
    content: Path | None,
    parameters: Mapping[str, str] | None = None,
    prefix: str = "",
) -> tuple[dict[str, str], list[str]]:
    """Create the template's tables and secrets if missing, then import the articles under
    `content`.

    Returns what each `!Ref` stands for locally (table names, `prefix` before each, parameter
    values, with `parameters` overriding the template's defaults) and the slugs imported.

    Raises
    ------
    LocalRunError
        When a parameter override is not one the template allows, or the content is missing
        or invalid.
    """
    from newsroom_tools.template import ParameterOverrideError, provision

    try:
        names = provision(db, template, prefix=prefix, parameters=parameters)
    except ParameterOverrideError as exc:
        raise LocalRunError(str(exc)) from exc
    if content is None or CONTENT_TABLE not in names:
        return names, []
    if not content.exists():
        raise LocalRunError(f"no article files at {content} (pass --content PATH or --no-seed)")
    from newsroom_tools.importer import ArticleFileError, import_paths

    try:
        return names, import_paths([content], table=names[CONTENT_TABLE], db=db)
    except ArticleFileError as exc:
        raise LocalRunError(f"the demo articles cannot be loaded: {exc}") from exc


def forget_process_caches() -> None:
    """Drop the layer's per-process caches (AWS clients, settings).

    On Lambda they live as long as the environment; here the endpoint and the table names
    change under them when a local system starts or stops. Every cached function of every
    loaded layer module is cleared (the SES client as much as the DynamoDB one).
    """
    modules = [
        module
        for name, module in list(sys.modules.items())
        if module is not None
        and name.startswith("newsroom.")
        and not name.startswith("newsroom_tools")
    ]
    for module in modules:
        for value in list(vars(module).values()):
            if isinstance(value, type):
                continue  # a cache's class, not a cache
            cache_clear = getattr(value, "cache_clear", None)
            if callable(cache_clear) and getattr(value, "__module__", None) == module.__name__:
                cache_clear()


class LocalSystem:
    """Emulator, tables, demo articles and the local API, started and stopped together.

    Port 0 picks a free port. The process environment points at the emulator and holds the
    functions' variables while the system runs; `stop` restores it.

    `parameters` override template parameter defaults, as `sam deploy --parameter-overrides`
    does (for example ``{"ApiDocs": "on"}``). `handlers` (logical id → handler) stand in for
    functions' own, for tests of the plumbing. With `stage_in_path` (the default) the API is
    served under its stage, as on its invoke URL (`api_url` ends in ``/v1``); otherwise at the
    root, as behind a custom domain. Local-only routes are at `root_url` either way. An
    emulator already on `emulator_port` (LocalStack's, another run's) is refused unless
    `reuse_emulator`.

    Tables and queues are named as in the template, after `table_prefix`: moto's state is
    the process's, so local systems started one after another in one process (tests) share
    tables unless each has a prefix of its own.

    With `demo_port` (0 for a free one) the demo news site is served there too, at `demo_url`,
    its pages pointing at this API; unless `parameters` set `AllowedOrigins`, the API then
    allows the demo site's origins (its port under 127.0.0.1 and localhost) and no other.

    In a test::

        with LocalSystem() as system:
            urlopen(system.api_url + "/articles")
            system.wait_for_streams()  # the stream events of what that wrote, delivered
    """

    def __init__(
        self,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        emulator_port: int = 0,
        content: Path | None = None,
        seed: bool = True,
        pool_size: int = DEFAULT_POOL_SIZE,
        parameters: Mapping[str, str] | None = None,
        handlers: Mapping[str, Handler] | None = None,
        stage_in_path: bool = True,
        reuse_emulator: bool = False,
        demo_port: int | None = None,
        table_prefix: str = "",
    ) -> None:
        self.host = host
        self.stage_in_path = stage_in_path
        self.reuse_emulator = reuse_emulator
        self.parameters = dict(parameters or {})
        self.port = port
        self.emulator_port = emulator_port
        self.content = content
        self.seed = seed
        self.pool_size = pool_size
        self.handlers = dict(handlers or {})
        self.table_names: dict[str, str] = {}
        self.seeded: list[str] = []
        self.emulator: local_emulator.Emulator | None = None
        self.server: LocalApiServer | None = None
        self.stream_pollers: list[StreamPoller] = []
        self.queue_pollers: list[QueuePoller] = []
        self.mailbox_simulator: MailboxSimulator | None = None
        self.outbox: Outbox | None = None
        self.demo_port = demo_port
        self.table_prefix = table_prefix
        self.demo_site: DemoSiteServer | None = None
        self._stack = ExitStack()

    @property
    def api_url(self) -> str:
        """The API's base URL, the stage included when it is served under it."""
        if self.server is None:
            raise RuntimeError("the local system is not running")
        return self.server.url

    @property
    def root_url(self) -> str:
        """The server's root, where the local-only routes (the outbox) are."""
        if self.server is None:
            raise RuntimeError("the local system is not running")
        return self.server.root_url

    @property
    def demo_url(self) -> str:
        """The demo site's front page (``http://127.0.0.1:PORT/``)."""
        if self.demo_site is None:
            raise RuntimeError("the local system is not running, or serves no demo site")
        return self.demo_site.url

    @property
    def emulator_url(self) -> str:
        if self.emulator is None:
            raise RuntimeError("the local system is not running")
        return self.emulator.endpoint_url

    @property
    def reused_emulator(self) -> bool:
        return self.emulator is not None and self.emulator.server is None

    def add_local_route(self, path: str, route: LocalRoute) -> None:
        """Serve a local-only endpoint (for example ``/_local/outbox``) next to the API."""
        if self.server is None:
            raise RuntimeError("start the local system first")
        self.server.add_local_route(path, route)

    def wait_for_streams(self, timeout: float = 10.0) -> None:
        """Wait until every stream record written so far has been delivered to its function
        (or given up on).

        Raises
        ------
        TimeoutError
            When a poller is still busy at the deadline.
        """
        deadline = time.monotonic() + timeout
        for poller in self.stream_pollers:
            poller.wait_idle(max(0.0, deadline - time.monotonic()))

    def wait_for_delivery_events(self, timeout: float = 10.0) -> None:
        """Wait until the stream is idle and every email sent so far to a mailbox simulator
        address has had its delivery event queued (`newsroom_tools.mailbox_simulator`) and
        handled by the function reading the queue.

        Raises
        ------
        TimeoutError
        """
        deadline = time.monotonic() + timeout
        self.wait_for_streams(timeout)
        if self.mailbox_simulator is not None:
            self.mailbox_simulator.wait_idle(max(0.0, deadline - time.monotonic()))
        for poller in self.queue_pollers:
            poller.wait_idle(max(0.0, deadline - time.monotonic()))

    def start(self) -> LocalSystem:
        """Start everything, or nothing: on failure what was started is stopped again.

        Raises
        ------
        LocalRunError
            When a port is taken, the emulator does not answer, or the content is invalid.
        """
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        from newsroom_tools.apigateway import GatewayResponses, Router, cors_of
        from newsroom_tools.outbox import Outbox, ledger_delivery
        from newsroom_tools.streams import StreamConfigError, pollers_for
        from newsroom_tools.template import (
            ParameterOverrideError,
            functions,
            load_template,
            parameter_values,
            resources,
            stage_name,
        )

        template = load_template()
        specs = functions(template)
        demo_origins = self._bind_demo_site()
        try:
            parameters = parameter_values(template, self._parameters(demo_origins))
        except ParameterOverrideError as exc:
            raise LocalRunError(str(exc)) from exc
        # API Gateway's own answers as the template configures them: the CORS preflight and
        # the headers of its errors; every other answer is the functions'.
        router = Router.of(
            specs.values(),
            cors_of(template, parameters),
            GatewayResponses.of(template, parameters),
        )
        stage = stage_name(template, parameters)
        try:
            # Bound first, so a taken API port fails before anything else starts.
            server = LocalApiServer(
                (self.host, self.port),
                router,
                pools={},
                stage=stage,
                stage_in_path=self.stage_in_path,
                # As the custom domain's base path mapping serves it (docs/domain.md).
                base_path=parameters.get("DomainBasePath", ""),
            )
        except PortInUseError as exc:
            raise LocalRunError(f"{exc} (is another `newsroom run` running? use --port)") from exc
        self.server = server
        self._stack.callback(server.server_close)
        if self.demo_site is not None:
            self.demo_site.api_url = server.url

        host, port = local_emulator.DEFAULT_HOST, self.emulator_port or free_port()
        if not self.reuse_emulator and local_emulator.is_listening(host, port):
            raise LocalRunError(
                f"port {port} on {host} is already in use (another emulator? LocalStack "
                "listens on 4566): stop it, pass --emulator-port PORT, or --reuse-emulator "
                "to use it"
            )
        try:
            self.emulator = local_emulator.start(host, port, reuse=self.reuse_emulator)
        except (OSError, TimeoutError) as exc:
            raise LocalRunError(f"the emulator did not start on port {port}: {exc}") from exc
        self._stack.callback(self._stop_emulator)
        self._stack.enter_context(local_emulator.environment(self.emulator.environment()))

        db = boto3.client(
            "dynamodb", endpoint_url=self.emulator.endpoint_url, region_name=local_emulator.REGION
        )
        content = (self.content or default_content()) if self.seed else None
        try:
            self.table_names, self.seeded = prepare_tables(
                db,
                template,
                content=content,
                parameters=self._parameters(demo_origins),
                prefix=self.table_prefix,
            )
        except (BotoCoreError, ClientError) as exc:
            raise LocalRunError(
                f"the emulator at {self.emulator.endpoint_url} did not accept the tables: {exc}"
            ) from exc

        self._stack.enter_context(
            local_emulator.environment(
                function_environment(
                    specs,
                    self.table_names,
                    api_url=server.url,
                    apis=resources(template, "AWS::Serverless::Api"),
                    template=template,
                )
            )
        )
        forget_process_caches()
        self._stack.callback(forget_process_caches)

        pools = {
            name: FunctionPool(
                spec,
                limits_of(template, name),
                size=self.pool_size,
                loader=_stand_in(self.handlers[name]) if name in self.handlers else load_function,
            )
            for name, spec in specs.items()
        }
        self._stack.callback(_close_all, pools.values())
        try:
            for pool in pools.values():
                pool.warm()
        except FunctionLoadError as exc:
            raise LocalRunError(str(exc)) from exc
        server.pools = pools
        if self.reused_emulator:
            self.outbox = Outbox.unavailable(
                f"The emulator at {self.emulator.endpoint_url} was already running, in another "
                "process, so its emails cannot be read here; stop it and run again."
            )
        else:
            delivery_of = (
                ledger_delivery(db, self.table_names[CONTENT_TABLE])
                if CONTENT_TABLE in self.table_names
                else None
            )
            self.outbox = Outbox.in_process(region=local_emulator.REGION, delivery_of=delivery_of)
        for path in self.outbox.paths():
            server.add_local_route(path, self.outbox.route)
        server.add_local_route("/openapi.json", _serve_openapi)
        server.start()
        self._stack.callback(server.stop)
        if self.demo_site is not None:
            self.demo_site.start()
            self._stack.callback(self.demo_site.stop)

        try:
            pollers = pollers_for(
                template,
                self.table_names,
                {name: pool.invoke for name, pool in pools.items()},
                endpoint_url=self.emulator.endpoint_url,
                region=local_emulator.REGION,
            )
            for poller in pollers:
                poller.start()
                self._stack.callback(poller.stop)  # pollers stop first, before the server
                self.stream_pollers.append(poller)
        except (StreamConfigError, BotoCoreError, ClientError) as exc:
            raise LocalRunError(f"the stream events cannot be set up: {exc}") from exc

        # Functions reading a queue (the delivery events function), as Lambda's SQS poller.
        from newsroom_tools import queues

        try:
            for queue_poller in queues.pollers_for(
                template,
                self.table_names,
                {name: pool.invoke for name, pool in pools.items()},
                endpoint_url=self.emulator.endpoint_url,
                region=local_emulator.REGION,
            ):
                queue_poller.start()
                self._stack.callback(queue_poller.stop)
                self.queue_pollers.append(queue_poller)
        except queues.QueueConfigError as exc:
            raise LocalRunError(f"the queue events cannot be set up: {exc}") from exc

        # SES's mailbox simulator addresses yield the delivery events SES would publish, put on
        # the queues the template's rules send them to.
        from newsroom_tools.mailbox_simulator import MailboxSimulator, ses_event_queues

        sqs = boto3.client(
            "sqs", endpoint_url=self.emulator.endpoint_url, region_name=local_emulator.REGION
        )
        targets = [
            (pattern, partial(_put_event, sqs, url))
            for pattern, url in ses_event_queues(template, self.table_names)
        ]
        if targets and self.outbox.available:
            self.mailbox_simulator = MailboxSimulator(
                self.outbox.sent,
                targets,
                configuration_set=_configuration_set(template, self.table_names),
            ).start()
            self._stack.callback(self.mailbox_simulator.stop)

    def _bind_demo_site(self) -> list[str]:
        """Bind the demo site's port, when asked for one; the origins of its pages."""
        from newsroom_tools.demo_site import DemoSiteServer

        if self.demo_port is None:
            return []
        try:
            # Its pages get the API's base once the API's port is bound too.
            self.demo_site = DemoSiteServer((self.host, self.demo_port), api_url="")
        except PortInUseError as exc:
            raise LocalRunError(
                f"{exc} (the demo site's: use --demo-port, 0 for a free one)"
            ) from exc
        self._stack.callback(self.demo_site.server_close)
        return self.demo_site.origins

    def _parameters(self, demo_origins: list[str]) -> dict[str, str]:
        """The caller's parameters, with the demo site's origins as `AllowedOrigins` unless
        the caller chose them."""
        if not demo_origins or ALLOWED_ORIGINS in self.parameters:
            return self.parameters
        return {**self.parameters, ALLOWED_ORIGINS: ",".join(demo_origins)}

    def _stop_emulator(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()

    def stop(self) -> None:
        """Stop the stream pollers and the server, forget the functions, restore the
        environment, stop the emulator."""
        self._stack.close()
        self.server = None
        self.emulator = None
        self.stream_pollers = []
        self.outbox = None
        self.demo_site = None

    def __enter__(self) -> LocalSystem:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _serve_openapi(request: HttpRequest) -> HttpResponse:
    """The API's contract, docs/openapi.json (kept in step with the code by a test)."""
    from newsroom_tools.openapi import SPEC_PATH

    return HttpResponse(
        status=200, headers=(("Content-Type", "application/json"),), body=SPEC_PATH.read_bytes()
    )


def _close_all(pools: Iterable[FunctionPool]) -> None:
    for pool in pools:
        pool.close()


def _stand_in(handler: Handler) -> Callable[[FunctionSpec], LoadedFunction]:
    def load(spec: FunctionSpec) -> LoadedFunction:
        return LoadedFunction(f"stand-in for {spec.name}", handler, new_log_stream_name())

    return load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser."""
    parser.add_argument("--host", default=DEFAULT_HOST, help="address of the API (%(default)s)")
    local_emulator.add_port_option(
        parser, "--port", variable="NEWSROOM_PORT", default=DEFAULT_PORT, help="port of the API"
    )
    local_emulator.add_port_option(
        parser,
        "--demo-port",
        variable="NEWSROOM_DEMO_PORT",
        default=DEFAULT_DEMO_PORT,
        help="port of the demo news site, another origin than the API's; 0 picks a free one",
    )
    local_emulator.add_port_argument(
        parser, when_taken="refused when something already listens there"
    )
    parser.add_argument(
        "--reuse-emulator",
        action="store_true",
        help="use an emulator already on --emulator-port (its emails cannot be shown here)",
    )
    parser.add_argument(
        "--content",
        metavar="PATH",
        type=Path,
        default=None,
        help="article files or directory to load at start (default: content/articles)",
    )
    parser.add_argument("--no-seed", action="store_true", help="load no articles at start")
    parser.add_argument(
        "--stage-in-path",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve the API under its stage (/v1/...), as its invoke URL does (the default), "
        "or, with --no-stage-in-path, at the root, as a custom domain mapped at its root",
    )
    parser.add_argument(
        "--parameter-overrides",
        metavar="NAME=VALUE",
        nargs="*",
        type=_parameter_override,
        action="extend",  # given twice (RUN_ARGS, then the Makefile's RUN_PARAMETERS): both
        default=[],
        help="template parameters other than their defaults, as for sam (e.g. ApiDocs=on)",
    )


def _parameter_override(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


# How often `newsroom run` looks whether it was asked to stop (a signal wakes it sooner).
STOP_CHECK_SECONDS = 0.5


def run(args: argparse.Namespace) -> int:
    """Run until Ctrl-C or SIGTERM; 1 with a one-line message when the system cannot start."""
    _configure_logging()
    system = LocalSystem(
        host=args.host,
        port=args.port,
        emulator_port=args.emulator_port,
        content=args.content,
        seed=not args.no_seed,
        parameters=dict(args.parameter_overrides),
        stage_in_path=args.stage_in_path,
        reuse_emulator=args.reuse_emulator,
        demo_port=args.demo_port,
    )
    # The handler only notes the signal: one that took a lock (Event.set) would wait forever
    # for itself when a second signal interrupts it holding that lock (Ctrl-C pressed twice,
    # make passing SIGTERM on), and the run would never stop.
    stop_signals: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_signals.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            system.start()
        except LocalRunError as exc:
            print(f"newsroom run: {exc}", file=sys.stderr)
            return 1
        try:
            print(_banner(system), flush=True)
            while not stop_signals:
                time.sleep(STOP_CHECK_SECONDS)  # a signal cuts the sleep short
            print("\nstopping...", file=sys.stderr, flush=True)
        finally:
            system.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _banner(system: LocalSystem) -> str:
    api, root = system.api_url, system.root_url
    emulator_note = "reused, already running" if system.reused_emulator else "moto, in process"
    table = system.table_names.get(CONTENT_TABLE, "-")
    outbox_note = (
        "emails sent through SES"
        if system.outbox is not None and system.outbox.available
        else "unavailable: the emulator is not in this process"
    )
    streams = [
        f"  stream     {poller.mapping.table or poller.stream_arn} -> {poller.mapping.function}"
        for poller in system.stream_pollers
    ]
    return "\n".join(
        [
            "newsroom is running locally (no Docker, no AWS)",
            f"  API        {api}",
            *(
                [
                    f"  demo site  {system.demo_url}  (a news site on another origin, with the "
                    "comment widget)"
                ]
                if system.demo_site is not None
                else []
            ),
            f"  articles   {api}/articles",
            f"  contract   {root}/openapi.json",
            *(
                [f"  api docs   {api}/api-docs  (Swagger UI)"]
                if _publishes_api_docs(system)
                else []
            ),
            f"  outbox     {root}/_local/outbox  ({outbox_note})",
            f"  emulator   {system.emulator_url}  ({emulator_note}; use it as AWS_ENDPOINT_URL)",
            f"  table      {table} ({len(system.seeded)} articles loaded)",
            *streams,
            "Press Ctrl-C to stop.",
        ]
    )


def _publishes_api_docs(system: LocalSystem) -> bool:
    return system.table_names.get("ApiDocs") == "on"


def _configure_logging() -> None:
    # One line per API request on stderr; the emulator's own access log would drown it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # Read-only requests publish no business metric; Powertools warns about each one.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    logger = logging.getLogger("newsroom_tools")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _put_event(sqs: SQSClient, queue_url: str, event: dict[str, Any]) -> None:
    """Put an EventBridge event on a queue as a rule's SQS target does: the event is the body."""
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(event))


def _configuration_set(template: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """The local name of the template's SES configuration set (every email is sent with it;
    a template test holds that), or "" when it has none."""
    from newsroom_tools.template import resources

    sets = [names[logical] for logical in resources(dict(template), "AWS::SES::ConfigurationSet")]
    return sets[0] if len(sets) == 1 else ""
