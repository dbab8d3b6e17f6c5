"""ALTCHA's own widget (npm `altcha` v3, `tests.browser.altcha_widget`) works with newsroom's
`GET /challenge` in place of the comment widget's solver: on a site's page it fetches a
challenge, solves it and puts its payload in the form's `altcha` field, which the comment API
accepts once and refuses when replayed, as docs/embed.md says."""

from __future__ import annotations

import base64
import functools
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from newsroom_tools.runner import LocalSystem, free_port
from tests.browser.altcha_widget import VERSION, widget
from tests.browser.conftest import save_screenshot
from tests.http_client import Reply, request

pytestmark = pytest.mark.browser

SLUG = "storm-isolde-clean-up"  # a demo article of the local run, open for comments


@pytest.fixture(scope="module")
def site_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, LocalSystem]]:
    """A site's page holding ALTCHA's widget, on an origin of its own, and the system it asks
    (ALTCHA on, that origin allowed)."""
    root = tmp_path_factory.mktemp("site")
    (root / "altcha.js").write_bytes(widget().read_bytes())
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=f"a{uuid.uuid4().hex[:8]}-",
        parameters={"Altcha": "on", "AllowedOrigins": origin},
    ) as system:
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A site</title>'
            '<script type="module" src="altcha.js"></script></head><body><form>'
            f'<altcha-widget challenge="{system.api_url}/challenge" auto="onload"></altcha-widget>'
            "</form></body></html>"
        )
        (root / "index.html").write_text(page)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"{origin}/index.html", system
        finally:
            server.shutdown()
            server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def post_comment(system: LocalSystem, body: str, altcha: str, source_ip: str) -> Reply:
    return request(
        f"{system.api_url}/articles/{SLUG}/comments",
        method="POST",
        json_body={
            "author_name": "A Reader",
            "author_email": f"reader-{uuid.uuid4().hex[:8]}@example.org",
            "body": body,
            "altcha": altcha,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        source_ip=source_ip,
    )


def test_altchas_own_widget_solves_our_challenge_and_its_solution_counts_once(
    site_page: tuple[str, LocalSystem], page: Page
) -> None:
    url, system = site_page

    # Given a site's page with ALTCHA's widget pointed at the API's challenge
    with page.expect_response(lambda answer: answer.url.endswith("/challenge")) as issued:
        page.goto(url)

    # When the widget has solved it (its form field holds the payload)
    field = page.locator("input[name=altcha]")
    expect(field).not_to_have_value("", timeout=30_000)
    expect(page.get_by_text("Verified")).to_be_visible()
    save_screenshot(page, f"altcha-widget-{VERSION}")
    payload = field.input_value()
    solved = json.loads(base64.b64decode(payload))

    # Then it solved the challenge the API issued, a comment carrying it is accepted, and the
    # same payload again is refused
    assert issued.value.status == 200
    assert solved["challenge"] == issued.value.json()
    first = post_comment(system, "Solved by ALTCHA's own widget.", payload, "127.0.3.1")
    again = post_comment(system, "The same solution again.", payload, "127.0.3.2")
    assert first.status == 201, first.body
    assert again.status == 403, again.body
    assert again.json()["error"]["code"] == "altcha_used"
