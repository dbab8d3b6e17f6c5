"""docs/deploying.md's "Locally" blocks (fenced ```sh local), run in order in one shell against
a local run started as `make run` starts it, as a site owner would paste them: every command in
the walk-through that can run without AWS is run here."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsroom_tools.runner import LocalSystem, free_port
from newsroom_tools.template import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "deploying.md"
# Where the doc's reader has `make run`: the API's default origin, which the test's run replaces.
DOCUMENTED_ORIGIN = "http://127.0.0.1:3000"
# `make run`'s parameters (the Makefile's RUN_PARAMETERS default).
MAKE_RUN_PARAMETERS = {"ApiDocs": "on"}
LOCAL_BLOCK = re.compile(r"^```sh local\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def local_blocks(text: str) -> list[str]:
    return LOCAL_BLOCK.findall(text)


def test_the_walk_through_has_local_blocks_and_no_unmarked_placeholders() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = local_blocks(text)

    assert len(blocks) >= 3
    # what a reader replaces (<ApiUrl>, <ContentTableName>) is never in a block that runs
    assert not [block for block in blocks if re.search(r"<[A-Za-z]+>", block)]


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    with LocalSystem(port=0, emulator_port=free_port(), parameters=MAKE_RUN_PARAMETERS) as running:
        yield running


def script_of(blocks: list[str], origin: str) -> str:
    """The blocks as one script that says which block failed, `origin` for the documented one."""
    parts = ["set -euo pipefail"]
    for number, block in enumerate(blocks, start=1):
        parts.append(f"echo {shlex.quote(f'--- block {number}')} >&2")
        parts.append(block.replace(DOCUMENTED_ORIGIN, origin))
    return "\n".join(parts) + "\n"


def test_every_local_block_runs_against_a_local_run(system: LocalSystem, tmp_path: Path) -> None:
    assert shutil.which("curl"), "the walk-through uses curl (.ci/run installs it)"
    origin = re.match(r"https?://[^/]+", system.api_url)
    assert origin
    script = tmp_path / "walk-through.sh"
    script.write_text(script_of(local_blocks(DOC.read_text(encoding="utf-8")), origin[0]))
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    environment = {name: value for name, value in os.environ.items() if name in kept}
    # the `--local` commands find this run's emulator as they find `make run`'s on 4566
    environment["NEWSROOM_EMULATOR_PORT"] = str(system.emulator_port)

    done = subprocess.run(  # noqa: S603 - the doc's own commands
        ["bash", str(script)],  # noqa: S607 - bash from PATH, as a reader's shell
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, f"{done.stderr[-3000:]}\n{done.stdout[-3000:]}"
