"""What tests that start a local run (`newsroom_tools.runner.LocalSystem`) share."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

# The `newsroom` console script of the interpreter running the tests.
NEWSROOM = Path(sys.executable).with_name("newsroom")


def own_table_prefix() -> str:
    """A table prefix of the local run's own: moto's state is the process's, so local runs
    started one after another in one test process would otherwise share tables and see each
    other's articles, comments and emails, as the order the modules run in decides."""
    return f"l{uuid.uuid4().hex[:8]}-"


def shell_environment() -> dict[str, str]:
    """The environment of a new terminal: no AWS credentials, and none of the variables this
    test session set for the functions in process (PUBLIC_BASE_URL, AWS_ENDPOINT_URL, the table
    names, ...)."""
    kept = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
    return {name: value for name, value in os.environ.items() if name in kept} | {
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    }


def newsroom(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The `newsroom` command, run as a person runs it from a new terminal (a local run's
    requests are then signed with the emulator's credentials)."""
    return subprocess.run(  # noqa: S603 - our own console script
        [str(NEWSROOM), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=shell_environment(),
    )
