"""Every file in events/ is a real event its function accepts, as `sam local invoke -e` sends."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from newsroom.local.template import PROJECT_ROOT, FunctionSpec, functions, load_template
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


@pytest.mark.parametrize("path", STREAM_EVENT_FILES, ids=lambda path: Path(path).name)
def test_stream_event_file_is_processed_without_failures(
    path: Path, demo_articles: list[str]
) -> None:
    # Given the demo articles and a stream event file, unchanged
    event = json.loads(path.read_text())

    # When the function with the stream trigger handles it
    result = handler_for(event)(event, LambdaContext())

    # Then no record is reported as failed
    assert result == {"batchItemFailures": []}


@pytest.mark.parametrize("path", API_EVENT_FILES, ids=lambda path: Path(path).name)
def test_event_file_is_answered_by_its_function(path: Path, demo_articles: list[str]) -> None:
    # Given the demo articles and an event file, unchanged
    event = json.loads(path.read_text())

    # When the function the template routes it to handles it
    answer = invoke(handler_for(event), event)

    # Then it answers as the event expects
    assert answer.status == expected_status(path), answer.body
