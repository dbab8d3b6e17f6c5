"""What tests that start a local run (`newsroom_tools.runner.LocalSystem`) share."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsroom_tools.runner import LocalSystem

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


# SES's mailbox simulator addresses the local run answers as SES would
# (newsroom_tools.mailbox_simulator): a permanent bounce, a complaint, a delivery.
BOUNCE = "bounce@simulator.amazonses.com"
COMPLAINT = "complaint@simulator.amazonses.com"
SUCCESS = "success@simulator.amazonses.com"
HELD_SLUG = "storm-isolde-clean-up"  # a demo article of the local run, open for comments


def mailbox_simulator_system() -> LocalSystem:
    """A local run (not started) whose moderators are the three simulator addresses, so that
    each held comment emails all three and their delivery events come back."""
    from newsroom_tools.runner import LocalSystem, free_port

    return LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        parameters={"ModeratorEmails": json.dumps([BOUNCE, COMPLAINT, SUCCESS])},
    )


def post_held(system: LocalSystem) -> tuple[str, str]:
    """A first comment from a new address, held, so every moderator is asked about it, with its
    emails' delivery events handled: (the unique text it carries, its id)."""
    from tests.http_client import loopback_address, request

    unique = uuid.uuid4().hex[:8]
    posted = request(
        f"{system.api_url}/articles/{HELD_SLUG}/comments",
        method="POST",
        json_body={
            "author_name": f"Reader {unique}",
            "author_email": f"reader-{unique}@example.org",
            "body": f"A first comment, {unique}.",
        },
        source_ip=loopback_address(),
    )
    assert posted.status == 201, posted.text
    assert posted.json()["status"] == "pending"
    system.wait_for_delivery_events()
    return unique, str(posted.json()["id"])
