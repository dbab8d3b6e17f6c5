"""GET /embed/{file}: the widget's script and stylesheet as the articles function serves them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.articles.app import EMBED_DIRECTORY, lambda_handler
from newsroom import embed
from tests.apigw import Answer, invoke, rest_event

pytestmark = pytest.mark.integration


def fetch(
    name: str, *, version: str | None = None, headers: dict[str, str] | None = None
) -> Answer:
    event = rest_event(
        "GET",
        "/embed/{file}",
        path_params={"file": name},
        query=None if version is None else {"v": version},
        headers=headers,
    )
    return invoke(lambda_handler, event)


def served_version() -> str:
    """The version the server wrote into the script where its placeholder is."""
    written = (EMBED_DIRECTORY / "comments.js").read_text(encoding="utf-8")
    before, placeholder, after = written.partition(embed.VERSION_PLACEHOLDER)
    assert placeholder, "the script names no version for its stylesheet"
    served = fetch("comments.js").body
    assert served.startswith(before)
    assert served.endswith(after)
    version = served[len(before) : len(served) - len(after)]
    assert re.fullmatch(r"[0-9a-f]{16}", version), version
    return version


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("comments.js", "text/javascript"), ("comments.css", "text/css")],
)
def test_files_are_served_as_written_with_their_type(name: str, content_type: str) -> None:
    written = (EMBED_DIRECTORY / name).read_text(encoding="utf-8")

    answer = fetch(name)

    assert answer.status == 200
    assert answer.headers["content-type"].startswith(content_type)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body == written.replace(embed.VERSION_PLACEHOLDER, served_version())


def test_plain_url_is_cached_briefly_and_revalidates_to_304() -> None:
    first = fetch("comments.js")

    again = fetch("comments.js", headers={"If-None-Match": first.headers["etag"]})

    assert first.headers["cache-control"] == f"public, max-age={embed.PLAIN_MAX_AGE_SECONDS}"
    assert again.status == 304
    assert again.body == ""


def test_current_version_is_cached_for_a_year_any_other_briefly() -> None:
    version = served_version()

    current = fetch("comments.css", version=version)
    stale = fetch("comments.css", version="0123456789abcdef")

    assert current.headers["cache-control"] == embed.VERSIONED_CACHE_CONTROL
    assert stale.headers["cache-control"] == f"public, max-age={embed.PLAIN_MAX_AGE_SECONDS}"


def test_version_changes_with_either_file(tmp_path: Path) -> None:
    for name in embed.FILE_NAMES:
        (tmp_path / name).write_text(f"/* {name} */ {embed.VERSION_PLACEHOLDER}")
    before = embed.load(tmp_path).version
    (tmp_path / "comments.css").write_text("/* changed */")
    embed.load.cache_clear()

    after = embed.load(tmp_path).version

    assert before != after


@pytest.mark.parametrize("name", ["other.js", "comments.js.map", "..%2Fapp.py", "app.py"])
def test_any_other_file_is_a_404_naming_the_files(name: str) -> None:
    answer = fetch(name)

    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"
    assert "comments.js, comments.css" in answer.body["error"]["message"]


def test_a_version_too_long_is_a_422() -> None:
    answer = fetch("comments.js", version="v" * 65)

    assert answer.status == 422
    assert answer.body["error"]["details"][0]["field"] == "v"
