"""`newsroom run` and `newsroom invoke` end to end: real HTTP, real handlers, the emulator.

The local system gets an emulator of its own on a free port, so its unprefixed tables and demo
articles never meet the test session's tables (or a `make run` on the default port).
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from newsroom_tools import emulator as local_emulator
from newsroom_tools.apigateway import HttpRequest, HttpResponse, Router
from newsroom_tools.emulator import is_listening
from newsroom_tools.runner import LocalSystem, free_port
from newsroom_tools.template import PROJECT_ROOT, functions, load_template
from tests.apigw import EVENTS_DIR, expected_status
from tests.http_client import request, signed_request
from tests.local_runs import NEWSROOM, newsroom, shell_environment

pytestmark = pytest.mark.integration

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))
API_EVENT_FILES = [p for p in EVENT_FILES if "httpMethod" in json.loads(p.read_text())]
STREAM_EVENT_FILES = [p for p in EVENT_FILES if p.name.startswith("stream_")]
QUEUED_SES_EVENT_FILES = [p for p in EVENT_FILES if p.name.startswith("sqs_ses_")]
SES_EVENT_FILES = [p for p in EVENT_FILES if json.loads(p.read_text()).get("source") == "aws.ses"]
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(port=0, emulator_port=free_port()) as running:
        yield running


# The API


def test_article_list_shows_the_demo_articles(system: LocalSystem) -> None:
    reply = request(f"{system.api_url}/articles")

    assert reply.status == 200
    listed = [item["slug"] for item in reply.json()["items"]]
    assert listed
    assert set(listed) <= set(system.seeded)


def test_demo_article_is_served_with_an_etag_and_revalidates_to_304(system: LocalSystem) -> None:
    # Given a demo article on the list
    slug = request(f"{system.api_url}/articles").json()["items"][0]["slug"]

    # When it is read, then read again with its ETag
    first = request(f"{system.api_url}/articles/{slug}")
    again = request(
        f"{system.api_url}/articles/{slug}", headers={"If-None-Match": first.headers["etag"]}
    )

    # Then the first read has it, the second is a bodiless 304
    assert first.status == 200
    assert first.json()["slug"] == slug
    assert first.headers["etag"].startswith('"')
    assert again.status == 304
    assert again.body == b""


def test_site_feed_is_served_under_the_stage_and_revalidates_to_304(system: LocalSystem) -> None:
    # Given the local API, on the demo articles, reached under its stage (/v1)
    assert urlsplit(system.api_url).path == "/v1"

    # When a feed reader fetches the site's feed over HTTP, then again with its ETag
    first = request(f"{system.api_url}/feed")
    again = request(f"{system.api_url}/feed", headers={"If-None-Match": first.headers["etag"]})

    # Then it is a valid Atom feed of the demo articles, linking back under the stage
    assert first.status == 200
    assert first.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(first.body)
    assert not feed.bozo, feed.get("bozo_exception")
    assert [link.href for link in feed.feed.links if link.rel == "self"] == [
        f"{system.api_url}/feed"
    ]
    slugs = [entry.link.removeprefix(f"{system.api_url}/articles/") for entry in feed.entries]
    assert slugs
    assert set(slugs) <= set(system.seeded)
    followed = request(feed.entries[0].link)
    assert followed.status == 200
    assert again.status == 304
    assert again.body == b""


def test_query_string_reaches_the_functions_validation(system: LocalSystem) -> None:
    reply = request(f"{system.api_url}/articles?limit=0")

    assert reply.status == 422
    assert [d["field"] for d in reply.json()["error"]["details"]] == ["limit"]


def test_unknown_article_is_the_functions_404(system: LocalSystem) -> None:
    reply = request(f"{system.api_url}/articles/no-such-article-here")

    assert reply.status == 404
    assert reply.json()["error"]["code"] == "article_not_found"


def test_unknown_route_is_the_gateways_403_in_the_error_shape(system: LocalSystem) -> None:
    reply = request(f"{system.api_url}/no/such/route")

    assert reply.status == 403
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {
        "error": {
            "code": "missing_authentication_token",
            "message": "Missing Authentication Token",
            "details": [],
        }
    }


def test_other_method_on_a_route_is_the_gateways_403(system: LocalSystem) -> None:
    reply = request(f"{system.api_url}/articles", method="DELETE")

    assert reply.status == 403
    assert reply.json()["error"]["code"] == "missing_authentication_token"


@pytest.mark.parametrize(
    "method", ["PUT", "TRACE", "CONNECT", "PROPFIND", "LINK", "BREW", "get-ish"]
)
def test_any_method_a_route_lacks_is_the_gateways_403_in_the_error_shape(
    system: LocalSystem, method: str
) -> None:
    reply = request(f"{system.api_url}/articles", method=method)

    assert reply.status == 403
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["error"]["code"] == "missing_authentication_token"


def test_head_on_a_get_route_is_the_gateways_403_without_a_body(system: LocalSystem) -> None:
    # API Gateway's REST APIs answer HEAD only where a HEAD method is defined.
    reply = request(f"{system.api_url}/articles", method="HEAD")

    assert reply.status == 403
    assert reply.body == b""


def test_local_run_serves_the_api_contract(system: LocalSystem) -> None:
    reply = request(f"{system.root_url}/openapi.json")  # a local route: at the root

    assert reply.status == 200
    assert reply.json()["openapi"] == "3.1.0"
    assert "/articles/{slug}/comments" in reply.json()["paths"]


def test_admin_route_refuses_an_unsigned_request(system: LocalSystem) -> None:
    reply = request(f"{system.api_url}/admin/comments")

    assert reply.status == 403
    assert reply.json()["error"]["code"] == "missing_authentication_token"


def test_admin_route_serves_a_request_signed_with_sigv4(system: LocalSystem) -> None:
    reply = signed_request(f"{system.api_url}/admin/comments?status=pending")

    assert reply.status == 200
    assert "items" in reply.json()


def test_concurrent_requests_are_all_answered_by_at_most_four_instances(
    system: LocalSystem,
) -> None:
    with ThreadPoolExecutor(max_workers=12) as workers:
        replies = list(workers.map(lambda _: request(f"{system.api_url}/articles"), range(24)))

    assert [reply.status for reply in replies] == [200] * 24
    assert system.server is not None
    assert 1 <= system.server.pools["ArticlesFunction"].instances <= 4


def test_local_route_is_served_at_the_root_next_to_the_api(system: LocalSystem) -> None:
    def outbox(request: HttpRequest) -> HttpResponse:
        return HttpResponse.json(200, {"messages": [], "method": request.method})

    system.add_local_route("/_local/test-outbox", outbox)

    reply = request(f"{system.root_url}/_local/test-outbox")

    assert reply.status == 200
    assert reply.json() == {"messages": [], "method": "GET"}


def raw_exchange(
    system: LocalSystem, data: bytes, *, hang_up: bool = False, timeout: float = 5.0
) -> tuple[int, bytes]:
    """Send bytes as they are to the local API (then stop sending, if `hang_up`); (status,
    body) of its answer, read until it closes the connection (the request says
    `Connection: close`; the deadline fails the test)."""
    assert system.server is not None
    with socket.create_connection((HOST, system.server.server_port), timeout=timeout) as sock:
        sock.sendall(data)
        if hang_up:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError as exc:
            raise AssertionError(f"no complete answer within {timeout}s: {received!r}") from exc
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), received
    return int(head.split()[1]), body


def test_a_client_that_hangs_up_before_its_answer_gets_a_log_line_not_a_traceback(
    system: LocalSystem, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a client that asks for the article list and hangs up at once (a reset, as a
    # browser's cancelled load or a timed-out request does)
    caplog.set_level("INFO", logger="newsroom_tools.server")
    assert system.server is not None
    path = urlsplit(f"{system.api_url}/articles").path + "?hung-up"
    with socket.create_connection((HOST, system.server.server_port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    # When the server has answered it
    deadline = time.monotonic() + 10
    while "hung-up" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)

    # Then its request line says the client hung up, and nothing else is printed
    (line,) = [r.getMessage() for r in caplog.records if "hung-up" in r.getMessage()]
    assert line.endswith("(the client hung up before the answer was sent)")
    assert "Traceback" not in capsys.readouterr().err
    assert request(f"{system.api_url}/articles").status == 200  # and it serves on


def comments_path(system: LocalSystem) -> str:
    """The path of an article's comments, under the stage, as a client sends it."""
    return urlsplit(f"{system.api_url}/articles/{system.seeded[0]}/comments").path


def chunked_post(system: LocalSystem, chunks: bytes) -> bytes:
    path = comments_path(system)
    return (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode() + chunks


@pytest.mark.parametrize(
    ("chunks", "hang_up"),
    [
        pytest.param(b"-1\r\n", False, id="negative size"),
        pytest.param(b"zz\r\n{}\r\n0\r\n\r\n", False, id="not hex"),
        pytest.param(b"0x2\r\n{}\r\n0\r\n\r\n", False, id="hex with a 0x prefix"),
        pytest.param(b"+2\r\n{}\r\n0\r\n\r\n", False, id="signed size"),
        pytest.param(b"\r\n{}\r\n0\r\n\r\n", False, id="empty size line"),
        pytest.param(b"2\r\n{}XX0\r\n\r\n", False, id="chunk not followed by CRLF"),
        pytest.param(b"1" * 70_000 + b"\r\n", False, id="size line longer than any size"),
        pytest.param(b"5\r\n{}", True, id="body ends inside a chunk"),
        pytest.param(b"2\r\n{}\r\n", True, id="body ends before the last chunk"),
    ],
)
def test_malformed_chunked_body_is_refused_with_400(
    system: LocalSystem, chunks: bytes, hang_up: bool
) -> None:
    # Given a chunked POST whose chunk framing is broken (the client then keeps the
    # connection open, as a slow or hostile one would, or hangs up)
    request = chunked_post(system, chunks)

    # When it is sent
    status, body = raw_exchange(system, request, hang_up=hang_up)

    # Then the gateway refuses it in the error shape, without reading on
    assert status == 400
    error = json.loads(body)["error"]
    assert error["code"] == "malformed_request"
    assert "chunked body" in error["message"]


def test_well_formed_chunked_body_reaches_the_function(system: LocalSystem) -> None:
    payload = json.dumps({"author_name": "Chunk", "author_email": "c@example.org"}).encode()
    chunks = b"".join(
        f"{len(part):x};ext=1\r\n".encode() + part + b"\r\n" for part in (payload[:7], payload[7:])
    )

    status, body = raw_exchange(system, chunked_post(system, chunks + b"0\r\nX-Trailer: 1\r\n\r\n"))

    # The function read the whole body: the comment is refused for its missing field only
    assert status == 422, body
    assert [d["field"] for d in json.loads(body)["error"]["details"]] == ["body"]


def test_content_length_that_is_not_a_number_is_refused_with_400(system: LocalSystem) -> None:
    request = (
        f"POST {comments_path(system)} HTTP/1.1\r\nHost: {HOST}\r\n"
        "Connection: close\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}"
    ).encode()

    status, body = raw_exchange(system, request)

    assert status == 400
    error = json.loads(body)["error"]
    assert error["code"] == "malformed_request"
    assert "Content-Length" in error["message"]


# newsroom invoke


def function_for(event_file: Path) -> str:
    """The function the template routes this event to."""
    event = json.loads(event_file.read_text())
    match = Router.of(functions(load_template()).values()).match(event["httpMethod"], event["path"])
    assert not isinstance(match, HttpResponse), f"no route in template.yaml for {event_file.name}"
    return match.route.function


@pytest.mark.parametrize("event_file", STREAM_EVENT_FILES, ids=lambda path: Path(path).name)
def test_invoke_processes_every_stream_event_file(system: LocalSystem, event_file: Path) -> None:
    assert system.emulator is not None

    done = newsroom(
        "invoke",
        "NotificationsFunction",
        str(event_file),
        "--emulator-port",
        str(system.emulator.port),
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"batchItemFailures": []}
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "event_file", SES_EVENT_FILES + QUEUED_SES_EVENT_FILES, ids=lambda path: Path(path).name
)
def test_invoke_takes_every_ses_event_file(system: LocalSystem, event_file: Path) -> None:
    assert system.emulator is not None

    done = newsroom(
        "invoke",
        "DeliveryEventsFunction",
        str(event_file),
        "--emulator-port",
        str(system.emulator.port),
    )

    # The files' message ids were never sent here: each event is ignored, none failed (one
    # event alone, or a batch from the delivery events queue).
    assert done.returncode == 0, done.stderr
    ignored = (
        {"batchItemFailures": []} if event_file in QUEUED_SES_EVENT_FILES else {"result": "ignored"}
    )
    assert json.loads(done.stdout) == ignored


@pytest.mark.parametrize("event_file", API_EVENT_FILES, ids=lambda path: Path(path).name)
def test_invoke_answers_every_event_file(system: LocalSystem, event_file: Path) -> None:
    # Given the emulator of a running local system (tables and demo articles in place)
    assert system.emulator is not None

    # When the event's function is invoked with it
    done = newsroom(
        "invoke",
        function_for(event_file),
        str(event_file),
        "--emulator-port",
        str(system.emulator.port),
    )

    # Then stdout holds only the handler's proxy result
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["statusCode"] == expected_status(event_file), result
    content_type = (result.get("multiValueHeaders") or {}).get("Content-Type", [""])[0]
    if content_type == "application/json":
        json.loads(result["body"])


def test_make_invoke_uses_the_emulator_on_emulator_port(system: LocalSystem) -> None:
    # Given a running local system whose emulator is on a port of its own
    assert system.emulator is not None
    port = system.emulator.port
    event_file = EVENTS_DIR / "get_article.json"

    # When `make invoke` is given that port, as the README says
    make = shutil.which("make")
    assert make is not None
    done = subprocess.run(  # noqa: S603 - make, on this project's Makefile
        [
            make,
            "--no-print-directory",
            "-o",
            ".venv/.installed",  # the test session's virtualenv is in place: no reinstall
            "invoke",
            "FUNCTION=ArticlesFunction",
            f"EVENT={event_file}",
            f"EMULATOR_PORT={port}",
        ],
        cwd=PROJECT_ROOT,
        env=shell_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then the function ran against that emulator, and says so
    assert done.returncode == 0, done.stderr
    assert f"the emulator at http://{HOST}:{port} (already running)" in done.stderr
    assert json.loads(done.stdout[done.stdout.index("{") :])["statusCode"] == 200


def test_invoke_starts_seeds_and_stops_its_own_emulator_when_none_runs() -> None:
    port = free_port()
    event_file = EVENTS_DIR / "get_article.json"

    done = newsroom(
        "invoke", function_for(event_file), str(event_file), "--emulator-port", str(port)
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["statusCode"] == 200
    assert not is_listening(HOST, port)


def test_invoke_refuses_a_function_not_in_the_template() -> None:
    done = newsroom(
        "invoke", "NoSuchFunction", str(EVENT_FILES[0]), "--emulator-port", str(free_port())
    )

    assert done.returncode == 1
    assert "no function 'NoSuchFunction' in template.yaml" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_invoke_refuses_an_event_file_that_is_not_json(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")

    done = newsroom("invoke", "ArticlesFunction", str(broken), "--emulator-port", str(free_port()))

    assert done.returncode == 1
    assert "is not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr


# newsroom run


def test_run_fails_in_one_line_when_the_api_port_is_taken(system: LocalSystem) -> None:
    assert system.server is not None
    taken = system.server.server_port

    done = newsroom(
        "run", "--port", str(taken), "--emulator-port", str(free_port()), "--demo-port", "0"
    )

    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"newsroom run: port {taken} on {HOST} is already in use "
        "(is another `newsroom run` running? use --port)"
    )


@pytest.fixture
def other_emulator() -> Iterator[int]:
    """An emulator that is not this run's (LocalStack's, say) on a port of its own."""
    running = local_emulator.start(local_emulator.DEFAULT_HOST, free_port(), reuse=False)
    try:
        yield running.port
    finally:
        running.stop()


def test_run_refuses_an_emulator_already_on_its_port_in_one_line(other_emulator: int) -> None:
    # Given an emulator already listening on the port `newsroom run` would use
    command = ["run", "--port", str(free_port()), "--emulator-port", str(other_emulator)]
    command += ["--demo-port", "0"]

    # When it starts
    done = newsroom(*command, timeout=30)

    # Then it stops at once, saying why and what to do, and touches nothing there
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"newsroom run: port {other_emulator} on {HOST} is already in use (another emulator? "
        "LocalStack listens on 4566): stop it, pass --emulator-port PORT, "
        "or --reuse-emulator to use it"
    )
    assert done.stdout == ""


def test_run_reuses_an_emulator_when_asked_and_says_so(other_emulator: int) -> None:
    api_port = free_port()
    command = [str(NEWSROOM), "run", "--port", str(api_port)]
    command += ["--emulator-port", str(other_emulator), "--reuse-emulator", "--no-seed"]
    command += ["--demo-port", "0"]

    returncode, stdout, stderr = serve_until_ctrl_c(
        command, f"http://{HOST}:{api_port}/v1/articles", env=shell_environment()
    )

    assert returncode == 0, stderr
    assert f"http://{HOST}:{other_emulator}  (reused, already running" in stdout


def serve_until_ctrl_c(
    command: list[str], url: str, *, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Start `newsroom run`, wait until `url` answers, press Ctrl-C: its exit code, stdout and
    stderr."""
    process = subprocess.Popen(  # noqa: S603 - our own console script
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        wait_until_serving(url, process, 30)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, stdout, stderr


def wait_until_serving(url: str, process: subprocess.Popen[str], deadline_seconds: float) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            if request(url).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {deadline_seconds}s")


def test_run_stops_cleanly_on_ctrl_c_and_starts_again_on_the_same_ports() -> None:
    api_port, emulator_port, demo_port = free_port(), free_port(), free_port()
    command = [str(NEWSROOM), "run", "--port", str(api_port), "--emulator-port", str(emulator_port)]
    command += ["--demo-port", str(demo_port)]

    for attempt in (1, 2):
        # Given `newsroom run` serving the demo articles, when it gets Ctrl-C
        url = f"http://{HOST}:{api_port}/v1/articles"
        returncode, stdout, stderr = serve_until_ctrl_c(command, url)

        # Then it exits 0 and frees its ports, so the next run can start
        assert returncode == 0, (attempt, stderr)
        assert f"http://{HOST}:{api_port}/v1/articles" in stdout
        assert "Traceback" not in stderr
        assert not is_listening(HOST, api_port)
        assert not is_listening(HOST, emulator_port)
        assert not is_listening(HOST, demo_port)


def test_run_with_snapstart_on_starts_and_serves() -> None:
    # SnapStart has nothing to do locally (no published versions, no snapshots): the run takes
    # the parameter as `sam deploy` does, and the functions load and answer as with it off.
    api_port, emulator_port = free_port(), free_port()
    command = [str(NEWSROOM), "run", "--port", str(api_port), "--emulator-port", str(emulator_port)]
    command += ["--demo-port", "0", "--parameter-overrides", "SnapStart=on"]

    returncode, stdout, stderr = serve_until_ctrl_c(
        command, f"http://{HOST}:{api_port}/v1/articles"
    )

    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "ContentTable -> NotificationsFunction" in stdout
