"""An import writes thousands of old comments: through the local stream (the template's filter,
the real notifications function, the local SES outbox) none of them emails anyone, while a
moderator's later decision on an imported comment is told as any other."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from newsroom.data.comments import CommentTable, all_comment_items
from newsroom.data.pagination import CursorSigner
from newsroom.models.comments import Moderation, StoredComment
from newsroom.secrets import Keyring, read_keyring
from newsroom_tools.cli import main as newsroom
from newsroom_tools.runner import LocalSystem, free_port
from tests.http_client import request

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parent.parent / "data" / "wordpress" / "site.xml"


@pytest.fixture(scope="module")
def system() -> Iterator[LocalSystem]:
    # Tables of its own: emulators in one process share moto's state, and the other local runs
    # of the session list what their tables hold.
    prefix = f"i{uuid.uuid4().hex[:8]}-"
    with LocalSystem(port=0, emulator_port=free_port(), seed=False, table_prefix=prefix) as running:
        yield running


def test_imported_comments_email_nobody_and_a_later_approval_is_told(
    system: LocalSystem, tmp_path: Path
) -> None:
    # Given the local run's table and key, and an export whose comments include held ones
    unique = uuid.uuid4().hex[:10]
    export = tmp_path / "site.xml"
    text = FIXTURE.read_text(encoding="utf-8").replace(
        "old.example.org", f"old-{unique}.example.org"
    )
    text = re.sub(
        r"<wp:post_name><!\[CDATA\[([a-z0-9-]+)\]\]>",
        rf"<wp:post_name><![CDATA[\1-{unique}]]>",
        text,
    )
    export.write_text(text, encoding="utf-8")
    db = boto3.client("dynamodb", endpoint_url=system.emulator_url)
    ssm = boto3.client("ssm", endpoint_url=system.emulator_url)
    keys: Keyring = read_keyring(system.table_names["SecretParameterName"], ssm=ssm)
    table = system.table_names["ContentTable"]
    assert system.outbox is not None
    sent_before = len(system.outbox.emails())

    # When it is imported as `make import-wordpress` does, and the stream has delivered every
    # record
    status = newsroom(
        [
            "import",
            "wordpress",
            str(export),
            "--local",
            "--emulator-port",
            str(system.emulator_port),
            "--table",
            table,
            "--parameter",
            system.table_names["SecretParameterName"],
        ]
    )
    system.wait_for_streams()

    # Then the API serves the article and its thread
    assert status == 0
    slug = f"harbour-wall-repairs-{unique}"
    listed = request(f"{system.api_url}/articles/{slug}/comments")
    assert [c["author_name"] for c in listed.json()["items"]] == [
        "Zoë & Łukasz", "Zoë & Łukasz", "Orphan", "No Email",
    ]  # fmt: skip
    # And not one email went out: not to moderators for the held one, not to the author
    assert len(system.outbox.emails()) == sent_before

    # When a moderator later approves the imported held comment
    held = next(
        StoredComment.model_validate(item)
        for item in all_comment_items(db, table, slug)
        if item["status"] == "pending"
    )
    comments = CommentTable(table, cursors=CursorSigner(lambda: keys), db=db)
    comments.change_status(
        held, "approved", moderation=Moderation(rule="moderator_approve", explanation="ok", by="m")
    )
    system.wait_for_streams()

    # Then that is told, as for any comment: the article's author hears of it
    author = f"ada@old-{unique}.example.org"
    (told,) = system.outbox.emails(to=author)
    assert "Held Reader" in (told.text or "")
