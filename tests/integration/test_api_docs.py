"""Swagger UI on the API's contract: published through the API when the deployment's ApiDocs
parameter is "on", and answered as a route the function does not have when it is "off" (the
default).

This module runs two local systems of its own (real HTTP, the real articles function, an emulator
on a free port), once with the template's defaults and once with `ApiDocs=on`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest

from newsroom_tools.openapi import SPEC_PATH
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import request
from tests.local_runs import own_table_prefix

pytestmark = pytest.mark.integration

DOCS_FILES = ["openapi.json", "start.js", "swagger-ui.js", "swagger-ui.css"]
NOT_A_ROUTE = {"error": {"code": "route_not_found", "message": "No such resource.", "details": []}}


@pytest.fixture(scope="module")
def docs_off() -> Iterator[str]:
    with LocalSystem(
        port=0, emulator_port=free_port(), table_prefix=own_table_prefix(), seed=False
    ) as running:
        yield running.api_url


@pytest.fixture(scope="module")
def docs_on() -> Iterator[str]:
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        seed=False,
        parameters={"ApiDocs": "on"},
    ) as running:
        yield running.api_url


class _Resources(HTMLParser):
    """The scripts and stylesheets a page loads, and whether any script is inline."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.inline_scripts = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = True
            if attributes.get("src"):
                self.loaded.append(attributes["src"] or "")
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.loaded.append(attributes.get("href") or "")
        if any(name.startswith("on") for name in attributes):
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1


# Off: the template's default


@pytest.mark.parametrize("path", ["/api-docs", *(f"/api-docs/{name}" for name in DOCS_FILES)])
def test_docs_are_answered_as_no_route_when_the_deployment_does_not_publish_them(
    docs_off: str, path: str
) -> None:
    reply = request(docs_off + path)

    assert reply.status == 404
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json() == NOT_A_ROUTE


def test_an_unpublished_docs_file_name_that_does_not_exist_is_no_route_either(
    docs_off: str,
) -> None:
    # No 422 and no "no such file": nothing tells an unpublished route apart from a missing one
    reply = request(docs_off + "/api-docs/" + "x" * 300)

    assert reply.status == 404
    assert reply.json() == NOT_A_ROUTE


def test_the_local_run_serves_the_contract_whatever_the_setting(docs_off: str) -> None:
    reply = request(urljoin(docs_off, "/openapi.json"))  # a local route, at the server's root

    assert reply.status == 200
    assert reply.json() == json.loads(SPEC_PATH.read_text())


# On


def test_docs_page_loads_only_its_own_files_and_no_inline_script(docs_on: str) -> None:
    # When the page is read as a browser reads it
    reply = request(docs_on + "/api-docs", headers={"Accept": "text/html"})

    # Then it is a page whose scripts are files of this API, which its policy allows alone
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    policy = reply.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in re.search(r"script-src[^;]*", policy).group(0)  # type: ignore[union-attr]
    assert "frame-ancestors 'none'" in policy
    resources = _Resources()
    resources.feed(reply.text)
    assert resources.inline_scripts == 0
    page_url = docs_on + "/api-docs"
    assert sorted(urljoin(page_url, src) for src in resources.loaded) == sorted(
        f"{docs_on}/api-docs/{name}" for name in ("swagger-ui.css", "swagger-ui.js", "start.js")
    )


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("openapi.json", "application/json"),
        ("start.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
    ],
)
def test_each_file_the_page_loads_is_served_with_its_type_and_revalidates(
    docs_on: str, name: str, content_type: str
) -> None:
    first = request(f"{docs_on}/api-docs/{name}")
    again = request(f"{docs_on}/api-docs/{name}", headers={"If-None-Match": first.headers["etag"]})

    assert first.status == 200
    assert first.headers["content-type"] == content_type
    assert first.headers["x-content-type-options"] == "nosniff"
    assert len(first.body) > 500
    assert again.status == 304


def test_served_contract_is_the_published_one(docs_on: str) -> None:
    reply = request(f"{docs_on}/api-docs/openapi.json")

    assert reply.json() == json.loads(SPEC_PATH.read_text())


def test_docs_file_that_does_not_exist_is_404_naming_the_files_there_are(docs_on: str) -> None:
    reply = request(f"{docs_on}/api-docs/secrets.txt")

    assert reply.status == 404
    error = reply.json()["error"]
    assert error["code"] == "not_found"
    assert error["details"] == [{"location": "path", "field": "file", "message": error["message"]}]
    assert "secrets.txt" in error["message"]
    assert all(name in error["message"] for name in DOCS_FILES)


def test_publishing_the_docs_changes_nothing_else(docs_on: str) -> None:
    reply = request(f"{docs_on}/articles")

    assert reply.status == 200
    assert reply.json() == {"items": [], "next_cursor": None}
