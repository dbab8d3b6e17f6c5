"""Test session wiring: the AWS emulator (moto's server over HTTP), reached through
pytest-localstack's `RunningSession`, and tables created from template.yaml."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from newsroom_tools import emulator as local_emulator
from newsroom_tools.runner import free_port, function_environment
from newsroom_tools.template import (
    functions,
    load_template,
    parameter_defaults,
    provision,
    resources,
)
from tests.flood import QUICK_FLOOD_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from pytest_localstack.session import RunningSession

# The session's own emulator on a free port (so a running `make run` is left alone), unless
# NEWSROOM_TEST_EMULATOR_PORT names one to use, started there if nothing listens.
EMULATOR_PORT = int(os.environ.get("NEWSROOM_TEST_EMULATOR_PORT") or free_port())
# One prefix per test session, so two sessions can share an emulator.
TABLE_PREFIX = f"test-{uuid.uuid4().hex[:8]}-"
# Where links in emails point during tests (no server listens there; tests follow links
# by handing the token to the handler).
LINK_BASE_URL = "http://newsroom.test"


# Property tests: CI runs the same examples every time and keeps no database, so a run cannot
# fail on one clone and pass on the next; a developer's run keeps exploring new examples, and
# replays what it found before from .hypothesis/ (failures found that way are pinned with
# @example). HYPOTHESIS_PROFILE=ci picks CI's (.ci/run sets it).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_configure(config: pytest.Config) -> None:
    """Point every boto3 client at the emulator and give the functions the environment the
    template gives them, before any handler module is imported."""
    template = load_template()
    local_names = parameter_defaults(template) | {
        logical_id: TABLE_PREFIX + logical_id
        for logical_id in resources(template, "AWS::DynamoDB::Table")
    }
    apis = resources(template, "AWS::Serverless::Api")
    os.environ.update(
        {
            **local_emulator.FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": f"http://{local_emulator.DEFAULT_HOST}:{EMULATOR_PORT}",
            **function_environment(
                functions(template), local_names, api_url=LINK_BASE_URL, apis=apis
            ),
            "POWERTOOLS_SERVICE_NAME": "newsroom-test",
            "POWERTOOLS_METRICS_NAMESPACE": "NewsroomTest",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("AWS_PROFILE", None)


SERVICES = ("dynamodb", "dynamodbstreams", "ssm", "ses", "sqs")


@pytest.fixture(scope="session")
def localstack() -> Iterator[RunningSession]:
    """pytest-localstack's session: moto's server by default, a LocalStack container on request.

    moto: connects a `RunningSession` to the server on EMULATOR_PORT, starting one in this
    process when none is listening. LocalStack (NEWSROOM_EMULATOR=localstack, needs Docker):
    pytest-localstack's own container session.
    """
    if os.environ.get("NEWSROOM_EMULATOR") == "localstack":
        yield from _localstack_container()
        return
    from pytest_localstack.session import RunningSession

    running = local_emulator.start(local_emulator.DEFAULT_HOST, EMULATOR_PORT)
    services = dict.fromkeys(SERVICES, running.port)
    try:
        with RunningSession(
            running.host, services=services, region_name=local_emulator.REGION
        ) as session:
            yield session
    finally:
        running.stop()


def _localstack_container() -> Iterator[RunningSession]:
    import docker
    from pytest_localstack.session import LocalstackSession

    with LocalstackSession(
        docker.from_env(), services=list(SERVICES), region_name=local_emulator.REGION
    ) as session:
        os.environ["AWS_ENDPOINT_URL"] = session.endpoint_url("dynamodb")
        yield session


@pytest.fixture(scope="session")
def dynamodb(localstack: RunningSession) -> DynamoDBClient:
    client: DynamoDBClient = localstack.boto3.client("dynamodb")
    return client


@pytest.fixture(scope="session")
def tables(dynamodb: DynamoDBClient) -> dict[str, str]:
    """Logical id → local name of every table and parameter in template.yaml, created in the
    emulator (tables under this session's prefix)."""
    return provision(dynamodb, load_template(), prefix=TABLE_PREFIX)


@pytest.fixture(scope="session")
def content_table(tables: dict[str, str]) -> str:
    name = tables["ContentTable"]
    assert name == os.environ["CONTENT_TABLE_NAME"]
    return name


@pytest.fixture
def unique() -> str:
    """A short id that keeps this test's data apart from every other test's."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def dynamodb_requests(content_table: str) -> Iterator[list[str]]:
    """The DynamoDB operations the handlers send over the wire while the test runs, in order.

    Hooks botocore's `before-send` event on the layer's shared client, so retries count too.
    """
    from newsroom.data import dynamo

    sent: list[str] = []

    def record(request: object, **_: object) -> None:
        target = getattr(request, "headers", {}).get("X-Amz-Target", b"")
        sent.append(target.decode().rsplit(".", 1)[-1] if isinstance(target, bytes) else target)

    events = dynamo.client().meta.events
    events.register("before-send.dynamodb", record, unique_id="count-dynamodb-requests")
    yield sent
    events.unregister("before-send.dynamodb", unique_id="count-dynamodb-requests")


@pytest.fixture(scope="session")
def demo_articles(content_table: str) -> list[str]:
    """The demo articles of content/articles, imported into the test table; their slugs."""
    from newsroom_tools.importer import import_paths
    from newsroom_tools.template import PROJECT_ROOT

    return import_paths([PROJECT_ROOT / "content" / "articles"], table=content_table)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Change the comments function's settings (its environment) for one test, e.g.
    ``settings(require_previous_approval="false")``."""
    from newsroom.config import comments_settings

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), value)
        comments_settings.cache_clear()

    comments_settings.cache_clear()
    yield apply
    comments_settings.cache_clear()  # before monkeypatch restores the environment


@pytest.fixture
def quick_flood(settings: Callable[..., None]) -> None:
    """A short flood interval (tests.flood), for tests where one commenter posts twice."""
    settings(flood_interval_seconds=QUICK_FLOOD_SECONDS)
