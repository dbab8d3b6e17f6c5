"""The local API: an HTTP server that plays API Gateway in front of the template's functions.

Standard library only. Every `Api` route of every function is served on one port, under the
stage (``/v1/articles``) as on the API's invoke URL, or at the root; the gateway's own answers
(unknown route, path outside the stage, missing signature, CORS preflight, 413) never reach a
function. Extra local-only endpoints, such as an outbox viewer, are added at the root with
`LocalApiServer.add_local_route`.
"""

from __future__ import annotations

import errno
import logging
import re
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

from newsroom_tools.apigateway import (
    STAGE,
    Cors,
    HttpRequest,
    HttpResponse,
    Router,
    bad_gateway,
    from_proxy_result,
    gateway_error,
    to_event,
)
from newsroom_tools.iam import Caller, authorize

if TYPE_CHECKING:
    from collections.abc import Iterable

    from newsroom_tools.functions import FunctionPool
    from newsroom_tools.template import FunctionSpec

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# A chunk-size line: hex digits, then optional extensions (RFC 9112, 7.1).
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]+)[ \t]*(;[^\r\n]*)?\r?\n")
_MAX_LINE_BYTES = 4096  # a chunk-size or trailer line longer than this is refused
_MAX_TRAILERS = 100

LocalRoute = Callable[[HttpRequest], HttpResponse]

log = logging.getLogger(__name__)


class PortInUseError(OSError):
    """The address the server should listen on is taken."""


class PayloadTooLargeError(Exception):
    pass


class MalformedBodyError(Exception):
    """The body's framing (Content-Length or chunks) is broken; the message says how."""


class LoopbackServer(ThreadingHTTPServer):
    """A threaded HTTP server of the local run: one thread per connection, bound without a
    host-name lookup, a taken port reported as `PortInUseError`, served in a daemon thread
    between `start` and `stop`."""

    daemon_threads = True
    allow_reuse_address = True  # a restart right after Ctrl-C must not wait out TIME_WAIT
    thread_name = "newsroom-local"

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._thread: threading.Thread | None = None
        try:
            super().__init__(address, handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {address[1]} on {address[0]} is already in use"
                ) from exc
            raise

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host name up (getfqdn), which can hang offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-request (a browser's cancelled load, a test's timed-out
        request) is no error of ours: no traceback (a handler logs what it was answering).
        Anything else is printed with its traceback, as socketserver does."""
        if isinstance(sys.exc_info()[1], ConnectionError):  # broken pipe, reset, aborted
            return
        super().handle_error(request, client_address)

    def start(self) -> Self:
        """Serve in a daemon thread; returns at once."""
        self._thread = threading.Thread(
            target=self.serve_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (safe to call twice, or before `start`)."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()


class LocalApiServer(LoopbackServer):
    """One thread per connection; each function's pool bounds how many run at once.

    With `stage_in_path` the API is served below ``/<stage>``, as API Gateway's invoke URL
    serves it (the functions see paths without it); with `base_path` below ``/<base_path>``,
    as a custom domain's base path mapping serves it (the functions see paths with it);
    otherwise at the root, as a custom domain mapped there.
    """

    thread_name = "newsroom-local-api"

    def __init__(
        self,
        address: tuple[str, int],
        router: Router,
        pools: Mapping[str, FunctionPool],
        *,
        stage: str = STAGE,
        stage_in_path: bool = False,
        base_path: str = "",
    ) -> None:
        self.router = router
        self.pools = pools
        self.stage = stage
        self.base_path = base_path.strip("/")
        self.stage_in_path = stage_in_path and not self.base_path
        self.local_routes: dict[str, LocalRoute] = {}
        super().__init__(address, _RequestHandler)

    @property
    def root_url(self) -> str:
        """Where the server listens; local-only routes are below it."""
        return f"http://{self.server_name}:{self.server_port}"

    @property
    def url(self) -> str:
        """The API's base URL: the root, or the stage or base path below it."""
        if self.base_path:
            return f"{self.root_url}/{self.base_path}"
        return self.root_url + (f"/{self.stage}" if self.stage_in_path else "")

    def add_local_route(self, path: str, route: LocalRoute) -> None:
        """Serve `path` (any method, from the server's root) with `route`, ahead of the
        template's routes.

        A path ending in ``/`` serves every path below it too (the longest such prefix wins).
        By convention local-only paths start with ``/_local/``, which no API route uses.
        """
        self.local_routes[path] = route

    def local_route(self, path: str) -> LocalRoute | None:
        """The local route serving `path`, if any: its own, else the longest prefix's."""
        if path in self.local_routes:
            return self.local_routes[path]
        prefixes = [p for p in self.local_routes if p.endswith("/") and path.startswith(p)]
        return self.local_routes[max(prefixes, key=len)] if prefixes else None

    def dispatch(self, request: HttpRequest) -> HttpResponse:
        """The answer to one request: a local route, the gateway itself, or a function."""
        local = self.local_route(request.path)
        if local is not None:
            return local(request)
        if self.base_path:
            api_request = request.below(f"/{self.base_path}")
            if api_request is None:
                return _outside_the_mapping(self.base_path)
        else:
            api_request = request.below(f"/{self.stage}") if self.stage_in_path else request
            if api_request is None:
                return _outside_the_stage(self.stage)
        match = self.router.match(api_request.method, api_request.path)
        if isinstance(match, HttpResponse):
            return match
        caller: Caller | None = None
        if match.route.authorizer == "AWS_IAM":
            authorized = authorize(request)  # signed for the path the client sent
            if isinstance(authorized, HttpResponse):
                return authorized
            caller = authorized
        event = to_event(
            api_request,
            match,
            stage=self.stage,
            stage_in_path=self.stage_in_path,
            base_path=self.base_path,
            caller_key=caller.access_key if caller else None,
            caller_arn=caller.user_arn if caller else None,
        )
        try:
            result = self.pools[match.route.function].invoke(event)
        except Exception:
            log.exception("%s failed", match.route.function)
            return bad_gateway()
        return from_proxy_result(result)


def serve(
    host: str,
    port: int,
    specs: Iterable[FunctionSpec],
    pools: Mapping[str, FunctionPool],
    *,
    cors: Cors | None = None,
    stage: str = STAGE,
    stage_in_path: bool = False,
) -> LocalApiServer:
    """Serve every route of `specs` on host:port (0 picks a free port), in a daemon thread.

    Call `.stop()` on the result to shut it down.
    """
    router = Router.of(specs, cors)
    server = LocalApiServer((host, port), router, pools, stage=stage, stage_in_path=stage_in_path)
    return server.start()


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalApiServer
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    timeout = 60  # an idle keep-alive connection frees its thread after this

    def _handle(self) -> None:
        started = time.perf_counter()
        try:
            body = self._read_body()
        except PayloadTooLargeError:
            response = _too_large()
        except MalformedBodyError as exc:
            self.close_connection = True  # where the next request starts is unknown
            response = gateway_error(
                HTTPStatus.BAD_REQUEST,
                "malformed_request",
                str(exc),
                response_type="BAD_REQUEST_BODY",
            )
        else:
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=tuple(self.headers.items()),
                body=body,
                client_ip=self.client_address[0],
            )
            try:
                response = self.server.dispatch(request)
            except Exception:
                log.exception("%s %s failed", self.command, self.path)
                response = bad_gateway()
        line = "%s %s %d %.1fms"
        try:
            self._send(self.server.router.gateway_responses.apply(response))
        except ConnectionError:  # the client hung up before it had the answer
            self.close_connection = True
            line += " (the client hung up before the answer was sent)"
        elapsed = (time.perf_counter() - started) * 1000
        log.info(line, self.command, self.path, response.status, elapsed)

    # BaseHTTPRequestHandler dispatches on do_<METHOD> and answers a method without one
    # "501 Unsupported method" in HTML; API Gateway answers any method a resource lacks
    # (TRACE, CONNECT, PROPFIND, a made-up one) in its own error shape, so every name is ours.
    def __getattr__(self, name: str) -> Callable[[], None]:
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def handle_expect_100(self) -> bool:
        # Refuse an oversized upload before the client sends it.
        if self._declared_length() > MAX_BODY_BYTES:
            self._send(self.server.router.gateway_responses.apply(_too_large()))
            log.info("%s %s %d (body not read)", self.command, self.path, 413)
            return False
        return super().handle_expect_100()

    def _declared_length(self) -> int:
        """The Content-Length (0 when absent).

        Raises
        ------
        MalformedBodyError
            When it is not a decimal number of bytes.
        """
        declared = self.headers.get("Content-Length")
        if declared is None:
            return 0
        if not declared.strip().isdigit() or not declared.strip().isascii():
            raise MalformedBodyError(f"Content-Length must be a number of bytes, not {declared!r}.")
        return int(declared)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self._declared_length()
        if length > MAX_BODY_BYTES:
            raise PayloadTooLargeError
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        """The body of a chunked request, read no further than its last chunk.

        Raises
        ------
        MalformedBodyError
            When a chunk size is not hex digits, a chunk is not followed by CRLF, a line is
            too long or the connection ends inside the body.
        PayloadTooLargeError
        """
        body = bytearray()
        while True:
            line = self._line("chunk size")
            found = _CHUNK_SIZE.fullmatch(line)
            if found is None:
                raise MalformedBodyError(
                    f"The chunked body has a chunk size that is not hex digits: {line[:40]!r}."
                )
            size = int(found.group(1), 16)
            if size == 0:
                for _ in range(_MAX_TRAILERS):
                    if self._line("trailer") in (b"\r\n", b"\n"):
                        return bytes(body)
                raise MalformedBodyError(
                    f"The chunked body has more than {_MAX_TRAILERS} trailer lines."
                )
            if len(body) + size > MAX_BODY_BYTES:
                raise PayloadTooLargeError
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise MalformedBodyError("The chunked body ends inside a chunk.")
            body += chunk
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise MalformedBodyError("The chunked body has a chunk not followed by CRLF.")

    def _line(self, what: str) -> bytes:
        line = self.rfile.readline(_MAX_LINE_BYTES + 1)
        if not line.endswith(b"\n"):
            if len(line) > _MAX_LINE_BYTES:
                raise MalformedBodyError(
                    f"The chunked body has a {what} line longer than {_MAX_LINE_BYTES} bytes."
                )
            raise MalformedBodyError("The chunked body ends before its last chunk.")
        return line

    def _send(self, response: HttpResponse) -> None:
        if response.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
            self.close_connection = True  # the unread body is still on the wire
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        has_body = response.status >= 200 and response.status not in (204, 304)
        if has_body:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if has_body and self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        # Our own line per request replaces the access log; what is left is protocol noise
        # (malformed requests, idle keep-alive connections timing out).
        log.debug("%s: " + format, self.client_address[0], *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def _outside_the_stage(stage: str) -> HttpResponse:
    # API Gateway's invoke URL answers a path without a stage 403 Forbidden.
    return gateway_error(
        HTTPStatus.FORBIDDEN,
        "forbidden",
        f"Forbidden: the path names no stage; the API is served under /{stage}/.",
    )


def _outside_the_mapping(base_path: str) -> HttpResponse:
    # A custom domain answers a path no base path mapping covers 403 Forbidden.
    return gateway_error(
        HTTPStatus.FORBIDDEN,
        "forbidden",
        f"Forbidden: the path is outside the domain's mapping; the API is served under "
        f"/{base_path}/.",
    )


def _too_large() -> HttpResponse:
    return gateway_error(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "payload_too_large",
        f"The request body is larger than {MAX_BODY_BYTES} bytes.",
        response_type="REQUEST_TOO_LARGE",
    )
