"""What a new user meets first: the README's examples answer as it says, and `make` says what
is missing instead of failing obscurely."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from newsroom_tools.emulator import REGION
from newsroom_tools.runner import CONTENT_TABLE, LocalSystem, free_port
from newsroom_tools.template import PROJECT_ROOT
from tests.http_client import request
from tests.integration.test_local_run import shell_environment, system

pytestmark = pytest.mark.integration

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
LOCAL_API = "http://127.0.0.1:3000"
__all__ = ["system"]  # the fixture of test_local_run this module uses


def make(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`make` on this project's Makefile; the test session's virtualenv is in place, so make
    does not reinstall it."""
    executable = shutil.which("make")
    assert executable is not None
    return subprocess.run(  # noqa: S603 - make, on this project's Makefile
        [executable, "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def readme_urls(pattern: str) -> list[str]:
    """The local URLs in the README's examples that match `pattern`."""
    found = re.findall(r"http://127\.0\.0\.1:3000[^\s'\"`)]*", README)
    return [url for url in found if re.search(pattern, url)]


def test_readme_tag_example_lists_demo_articles(system: LocalSystem) -> None:
    # Given the README's example of listing articles by tag
    (example,) = readme_urls(r"[?&]tag=")
    parts = urlsplit(example)

    # When it is asked of the local run
    reply = request(f"{system.root_url}{parts.path}?{parts.query}")

    # Then it lists demo articles carrying that tag
    assert reply.status == 200, reply.text
    assert reply.json()["items"], f"{example} lists nothing"


@pytest.fixture
def own_article(system: LocalSystem, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An article file of one's own (slug, path); removed from the local run's table after the
    test, so other tests' listings of the demo articles do not see it."""
    import boto3

    from newsroom.data.articles import ARTICLE_SK, article_pk

    slug = f"my-own-{uuid.uuid4().hex[:8]}"
    article = tmp_path / f"{slug}.md"
    article.write_text(
        f"---\nslug: {slug}\ntitle: My own article\nsummary: Written to try the local run.\n"
        "author:\n  name: Me\n  email: me@example.org\npublished_at: 2026-01-01T09:00:00Z\n"
        "tags: [mine]\n---\nHello, *Kettlemouth*.\n",
        encoding="utf-8",
    )
    yield slug, article
    db = boto3.client("dynamodb", endpoint_url=system.emulator_url, region_name=REGION)
    db.delete_item(
        TableName=system.table_names[CONTENT_TABLE],
        Key={"pk": {"S": article_pk(slug)}, "sk": {"S": ARTICLE_SK}},
    )


def test_make_import_articles_adds_an_article_to_the_running_local_run(
    system: LocalSystem, own_article: tuple[str, Path]
) -> None:
    # Given a running local system, and an article of one's own, as the README describes
    assert system.emulator is not None
    slug, article = own_article

    # When it is imported with the README's command
    done = make(
        "import-articles",
        f"ARTICLES={article}",
        f"EMULATOR_PORT={system.emulator.port}",
        env=shell_environment(),
    )

    # Then the running API serves it, and lists it under its tag
    assert done.returncode == 0, done.stderr
    assert f"imported {slug}" in done.stdout
    served = request(f"{system.api_url}/articles/{slug}")
    assert served.status == 200, served.text
    assert served.json()["title"] == "My own article"
    listed = request(f"{system.api_url}/articles?tag=mine").json()["items"]
    assert slug in [item["slug"] for item in listed]
    assert "make import-articles ARTICLES=" in README


def test_import_articles_without_a_local_run_says_to_start_one(tmp_path: Path) -> None:
    port = free_port()

    done = make(
        "import-articles", f"ARTICLES={tmp_path}", f"EMULATOR_PORT={port}", env=shell_environment()
    )

    assert done.returncode != 0
    assert f"error: no local run on 127.0.0.1:{port}: start `make run` first" in done.stderr


def test_make_build_without_python_3_13_says_what_is_missing_and_how_to_get_it(
    tmp_path: Path,
) -> None:
    # Given a machine with no Python 3.13: none in pyenv (an empty home) nor on PATH
    path = ":".join(d for d in ("/usr/local/bin", "/usr/bin", "/bin") if Path(d).is_dir())
    assert shutil.which("python3.13", path=path) is None, "this machine has python3.13 on PATH"
    env = {"PATH": path, "HOME": str(tmp_path)}

    # When the arm64 build (part of make test) starts
    done = make("build", env=env)

    # Then make stops before doing anything, naming what is missing and how to get it
    assert done.returncode != 0
    message = done.stderr.strip().splitlines()
    assert any("Python 3.13" in line for line in message), done.stderr
    assert "SAM_PYTHON=/path/to/python3.13" in done.stderr
    assert "No such file or directory" not in done.stderr


def test_make_build_refuses_a_sam_python_that_is_not_3_13(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    done = make("build", "SAM_PYTHON=/usr/bin/python3", env=env)

    assert done.returncode != 0
    assert "SAM_PYTHON=/usr/bin/python3 is not Python 3.13" in done.stderr
