"""Every file in events/ is a real event its function accepts, as `sam local invoke -e` sends."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from newsroom.local.template import PROJECT_ROOT, functions, load_template
from tests.apigw import EVENTS_DIR, expected_status, invoke

pytestmark = pytest.mark.integration

EVENT_FILES = sorted(EVENTS_DIR.glob("*.json"))


def handler_for(event: dict[str, Any]) -> Any:
    """The handler whose template `Api` event matches this event's resource and method."""
    for spec in functions(load_template()).values():
        for route in spec.routes:
            if (route.path, route.method) == (event["resource"], event["httpMethod"]):
                relative = spec.module_file.relative_to(PROJECT_ROOT).with_suffix("")
                module = importlib.import_module(".".join(relative.parts))
                return getattr(module, spec.handler_name)
    raise AssertionError(
        f"no function in template.yaml serves {event['httpMethod']} {event['resource']}"
    )


def test_there_is_an_event_for_every_route() -> None:
    routes = {
        (route.method, route.path)
        for spec in functions(load_template()).values()
        for route in spec.routes
    }
    covered = {
        (event["httpMethod"], event["resource"])
        for event in (json.loads(path.read_text()) for path in EVENT_FILES)
    }

    assert routes <= covered


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda path: Path(path).name)
def test_event_file_is_answered_by_its_function(path: Path, demo_articles: list[str]) -> None:
    # Given the demo articles and an event file, unchanged
    event = json.loads(path.read_text())

    # When the function the template routes it to handles it
    answer = invoke(handler_for(event), event)

    # Then it answers as the event expects
    assert answer.status == expected_status(path), answer.body
