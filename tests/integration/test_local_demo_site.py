"""The demo news site of `newsroom run`: its own port (another origin than the API), pages
pointing at the running API, and the API allowing that origin."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsroom_tools.emulator import is_listening
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import request
from tests.integration.test_local_run import newsroom, serve_until_ctrl_c, shell_environment
from tests.local_runs import own_table_prefix

pytestmark = pytest.mark.integration

NEWSROOM = Path(sys.executable).with_name("newsroom")
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(
        port=0, emulator_port=free_port(), table_prefix=own_table_prefix(), demo_port=0
    ) as running:
        yield running


def test_demo_site_is_served_on_a_port_of_its_own_pointing_at_the_api(
    system: LocalSystem,
) -> None:
    reply = request(f"{system.demo_url}article.html?slug={system.seeded[0]}")

    assert reply.status == 200
    assert system.demo_url != system.root_url + "/"
    page = reply.body.decode()
    assert f'<script async src="{system.api_url}/embed/comments.js"></script>' in page
    assert "API-BASE" not in page


def test_demo_front_page_advertises_the_feeds_a_reader_can_subscribe_to(
    system: LocalSystem,
) -> None:
    # Given the demo site's front page
    page = request(system.demo_url).body.decode()

    # When a feed reader follows the feed links in its head
    feeds = re.findall(
        r'<link rel="alternate" type="application/atom\+xml"[^>]* href="([^"]+)"', page
    )
    answers = [request(url) for url in feeds]

    # Then they are the API's site feeds, and each answers an Atom feed
    assert feeds == [f"{system.api_url}/feed", f"{system.api_url}/comments/feed"]
    assert [a.headers["content-type"] for a in answers] == [
        "application/atom+xml; charset=utf-8"
    ] * 2


def test_demo_pages_carry_a_csp_naming_the_api_origin(system: LocalSystem) -> None:
    reply = request(system.demo_url)

    policy = reply.headers["content-security-policy"]
    assert f"connect-src {system.root_url};" in policy
    assert f"script-src 'self' {system.root_url};" in policy


def test_demo_site_answers_404_for_what_it_does_not_hold(system: LocalSystem) -> None:
    missing = request(f"{system.demo_url}no-such-page.html")
    climbing = request(f"{system.demo_url}../../pyproject.toml")
    encoded = request(f"{system.demo_url}..%2F..%2Fpyproject.toml")

    assert [missing.status, climbing.status, encoded.status] == [404, 404, 404]
    assert b"[project]" not in climbing.body + encoded.body


def test_api_allows_the_demo_sites_origins_by_default(system: LocalSystem) -> None:
    assert system.demo_site is not None
    port = system.demo_site.server_port

    assert system.table_names["AllowedOrigins"] == (
        f"http://127.0.0.1:{port},http://localhost:{port}"
    )


def test_allowed_origins_given_by_the_operator_are_kept() -> None:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        demo_port=0,
        seed=False,
        parameters={"AllowedOrigins": "https://www.example.com"},
    ) as running:
        assert running.table_names["AllowedOrigins"] == "https://www.example.com"


def test_no_demo_site_unless_asked_for() -> None:
    with LocalSystem(
        port=0, emulator_port=free_port(), table_prefix=own_table_prefix(), seed=False
    ) as running:
        assert running.demo_site is None
        with pytest.raises(RuntimeError, match="no demo site"):
            _ = running.demo_url


def test_run_prints_the_demo_sites_url_and_serves_it_until_ctrl_c() -> None:
    api_port, demo_port = free_port(), free_port()
    command = [str(NEWSROOM), "run", "--port", str(api_port), "--emulator-port", str(free_port())]
    command += ["--demo-port", str(demo_port), "--no-seed"]

    returncode, stdout, stderr = serve_until_ctrl_c(
        command, f"http://{HOST}:{demo_port}/", env=shell_environment()
    )

    assert returncode == 0, stderr
    assert f"  demo site  http://{HOST}:{demo_port}/" in stdout
    assert not is_listening(HOST, demo_port)


def test_run_fails_in_one_line_when_the_demo_port_is_taken(system: LocalSystem) -> None:
    assert system.demo_site is not None
    taken = system.demo_site.server_port

    done = newsroom(
        "run",
        "--port",
        str(free_port()),
        "--emulator-port",
        str(free_port()),
        "--demo-port",
        str(taken),
    )

    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"newsroom run: port {taken} on {HOST} is already in use "
        "(the demo site's: use --demo-port, 0 for a free one)"
    )
