"""Every file in events/ is a real event its function accepts, as `sam local invoke -e` sends."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from newsroom.data.articles import get_article
from newsroom_tools.outbox import Outbox
from newsroom_tools.template import PROJECT_ROOT, FunctionSpec, functions, load_template
from tests.apigw import EVENTS_DIR, LambdaContext, expected_status, invoke

pytestmark = pytest.mark.integration

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))


def _handler(spec: FunctionSpec) -> Any:
    relative = spec.module_file.relative_to(PROJECT_ROOT).with_suffix("")
    return getattr(importlib.import_module(".".join(relative.parts)), spec.handler_name)


def handler_for(event: dict[str, Any]) -> Any:
    """The handler the template sends this event to: by `Api` resource and method, or, for a
    stream event, the function with a `DynamoDB` event."""
    for spec in functions(load_template()).values():
        if "Records" in event:
            if any(e.get("Type") == "DynamoDB" for e in spec.events.values()):
                return _handler(spec)
            continue
        for route in spec.routes:
            if (route.path, route.method) == (event["resource"], event["httpMethod"]):
                return _handler(spec)
    raise AssertionError("no function in template.yaml takes this event")


def test_there_is_an_event_for_every_route() -> None:
    routes = {
        (route.method, route.path)
        for spec in functions(load_template()).values()
        for route in spec.routes
    }
    covered = {
        (event["httpMethod"], event["resource"])
        for event in (json.loads(path.read_text()) for path in EVENT_FILES)
        if "Records" not in event
    }

    assert routes <= covered


API_EVENT_FILES = [p for p in EVENT_FILES if not p.name.startswith("stream_")]
STREAM_EVENT_FILES = [p for p in EVENT_FILES if p.name.startswith("stream_")]


def expected_recipients(path: Path, content_table: str) -> list[str]:
    """Who the stream event's change must email (see docs/notifications.md)."""
    article = get_article("storm-isolde-clean-up", table=content_table)
    assert article is not None
    moderators: list[str] = json.loads(os.environ["MODERATOR_EMAILS"])
    return {
        "stream_comment_held.json": moderators,
        # approved after being held: the article's author, and the commenter who asked
        "stream_comment_approved.json": [article.author.email, "morwenna@example.net"],
        # a public reply whose parent is not stored: only the article's author
        "stream_reply_posted.json": [article.author.email],
        # a public comment its author edited links into, held again: the moderators
        "stream_comment_edited_held_again.json": moderators,
    }[path.name]


@pytest.mark.parametrize("path", STREAM_EVENT_FILES, ids=lambda path: Path(path).name)
def test_stream_event_file_sends_its_emails_once(
    path: Path, demo_articles: list[str], content_table: str
) -> None:
    # Given the demo articles and a stream event file, unchanged
    event = json.loads(path.read_text())
    outbox = Outbox.in_process()
    recipients = expected_recipients(path, content_table)
    before = {to: len(outbox.emails(to=to)) for to in recipients}

    # When the function with the stream trigger handles it, twice (a redelivery)
    first = handler_for(event)(event, LambdaContext())
    again = handler_for(event)(event, LambdaContext())

    # Then no record failed, and each recipient got one email
    assert first == again == {"batchItemFailures": []}
    assert {to: len(outbox.emails(to=to)) - before[to] for to in recipients} == dict.fromkeys(
        recipients, 1
    )


@pytest.mark.parametrize("path", API_EVENT_FILES, ids=lambda path: Path(path).name)
def test_event_file_is_answered_by_its_function(path: Path, demo_articles: list[str]) -> None:
    # Given the demo articles and an event file, unchanged
    event = json.loads(path.read_text())

    # When the function the template routes it to handles it
    answer = invoke(handler_for(event), event)

    # Then it answers as the event expects
    assert answer.status == expected_status(path), answer.body
