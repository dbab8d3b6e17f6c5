"""Warm function instances for the local API: loading, one invocation per instance, the context."""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from newsroom_tools.functions import (
    FunctionLoadError,
    FunctionPool,
    LambdaContext,
    Limits,
    LoadedFunction,
    limits_of,
    load_function,
)
from newsroom_tools.template import FunctionSpec, load_template

SPEC = FunctionSpec(name="FakeFunction", code_uri=Path("/nowhere"), handler="app.handler")


class FakeLoader:
    """Makes instances whose handler answers with the instance number; `block` holds it."""

    def __init__(self) -> None:
        self.loaded = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, spec: FunctionSpec) -> LoadedFunction:
        self.loaded += 1
        number = self.loaded

        def handler(event: dict[str, Any], context: Any) -> int:
            if event.get("block"):
                self.entered.set()
                assert self.release.wait(timeout=10)
            return number

        return LoadedFunction(f"fake_{number}", handler, "stream")


def in_thread(pool: FunctionPool, event: dict[str, Any]) -> tuple[threading.Thread, list[Any]]:
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(pool.invoke(event)), daemon=True)
    thread.start()
    return thread, results


def test_idle_instance_is_reused_rather_than_loading_another() -> None:
    loader = FakeLoader()
    pool = FunctionPool(SPEC, size=4, loader=loader)

    answers = [pool.invoke({}) for _ in range(3)]

    assert answers == [1, 1, 1]
    assert pool.instances == 1


def test_second_invocation_waits_for_the_first_even_on_another_instance() -> None:
    # Given an invocation holding the only instance
    loader = FakeLoader()
    pool = FunctionPool(SPEC, size=4, loader=loader)
    first, first_result = in_thread(pool, {"block": True})
    assert loader.entered.wait(timeout=10)

    # When a second invocation arrives meanwhile
    second, second_result = in_thread(pool, {})
    second.join(timeout=0.2)

    # Then it gets an instance of its own but runs only once the first is done, because
    # Powertools keeps the current request on a class shared by every resolver
    assert second.is_alive()
    loader.release.set()
    first.join(timeout=10)
    second.join(timeout=10)
    assert (first_result, second_result) == ([1], [2])
    assert pool.instances == 2


def test_concurrent_invocations_of_powertools_handlers_each_see_their_own_request(
    tmp_path: Path,
) -> None:
    # Given two functions built on Powertools resolvers, each echoing the path it was sent
    source = (
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
        "app = APIGatewayRestResolver()\n"
        "@app.get('/echo/<n>')\n"
        "def echo(n):\n"
        "    import time; time.sleep(0.005)\n"
        "    return {'n': n, 'path': app.current_event.path}\n"
        "def lambda_handler(event, context):\n"
        "    return app.resolve(event, context)\n"
    )
    pools = [
        FunctionPool(write_handler(tmp_path / name, source), size=4) for name in ("one", "two")
    ]

    def call(n: int) -> dict[str, Any]:
        event = {
            "httpMethod": "GET",
            "path": f"/echo/{n}",
            "resource": "/echo/{n}",
            "pathParameters": {"n": str(n)},
            "headers": {},
            "requestContext": {},
        }
        return json.loads(pools[n % 2].invoke(event)["body"])

    # When many requests run at once across both functions
    with ThreadPoolExecutor(max_workers=8) as workers:
        answers = list(workers.map(call, range(32)))

    # Then every answer is about its own request
    assert [(a["n"], a["path"]) for a in answers] == [(str(n), f"/echo/{n}") for n in range(32)]


def test_full_pool_makes_the_next_invocation_wait_for_a_free_instance() -> None:
    # Given a pool of one whose instance is busy
    loader = FakeLoader()
    pool = FunctionPool(SPEC, size=1, loader=loader)
    first, _ = in_thread(pool, {"block": True})
    assert loader.entered.wait(timeout=10)

    # When another invocation comes
    second, second_result = in_thread(pool, {})
    second.join(timeout=0.2)

    # Then it waits, and runs on the same instance once that is free
    assert second.is_alive()
    loader.release.set()
    second.join(timeout=10)
    first.join(timeout=10)
    assert second_result == [1]
    assert loader.loaded == 1


def test_failed_load_gives_its_place_back() -> None:
    calls: list[int] = []
    working = FakeLoader()

    def flaky(spec: FunctionSpec) -> LoadedFunction:
        calls.append(1)
        if len(calls) == 1:
            raise FunctionLoadError("broken import")
        return working(spec)

    pool = FunctionPool(SPEC, size=1, loader=flaky)

    with pytest.raises(FunctionLoadError):
        pool.invoke({})
    assert pool.invoke({}) == 1


def write_handler(folder: Path, source: str) -> FunctionSpec:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(source)
    return FunctionSpec(name="TmpFunction", code_uri=folder, handler="app.lambda_handler")


def test_each_load_is_a_fresh_module_with_its_own_state(tmp_path: Path) -> None:
    spec = write_handler(
        tmp_path,
        "calls = []\n"
        "def lambda_handler(event, context):\n"
        "    calls.append(event)\n"
        "    return {'calls': len(calls), 'function': context.function_name}\n",
    )

    first, second = load_function(spec), load_function(spec)
    first.handler({}, LambdaContext("TmpFunction"))

    assert first.module_name != second.module_name
    assert {first.module_name, second.module_name} <= sys.modules.keys()
    assert second.handler({}, LambdaContext("TmpFunction")) == {
        "calls": 1,
        "function": "TmpFunction",
    }


def test_closing_the_pool_forgets_its_modules(tmp_path: Path) -> None:
    spec = write_handler(tmp_path, "def lambda_handler(event, context):\n    return 1\n")
    pool = FunctionPool(spec)
    before = set(sys.modules)
    pool.warm()
    loaded = set(sys.modules) - before

    pool.close()

    assert loaded
    assert not loaded & sys.modules.keys()


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("raise RuntimeError('no table')\n", "importing"),
        ("def other(event, context):\n    return 1\n", "no callable 'lambda_handler'"),
    ],
    ids=["raises-on-import", "no-handler"],
)
def test_unloadable_handler_is_a_load_error(tmp_path: Path, source: str, problem: str) -> None:
    spec = write_handler(tmp_path, source)

    with pytest.raises(FunctionLoadError, match=problem):
        load_function(spec)


def test_missing_handler_module_is_a_load_error(tmp_path: Path) -> None:
    spec = FunctionSpec(name="Gone", code_uri=tmp_path, handler="app.lambda_handler")

    with pytest.raises(FunctionLoadError, match="no handler module"):
        load_function(spec)


def test_limits_come_from_the_templates_globals() -> None:
    template = load_template()
    globals_ = template["Globals"]["Function"]

    limits = limits_of(template, "ArticlesFunction")

    assert limits == Limits(globals_["Timeout"], globals_["MemorySize"])


def test_function_properties_override_globals() -> None:
    template = {
        "Globals": {"Function": {"Timeout": 10, "MemorySize": 512}},
        "Resources": {"Slow": {"Properties": {"Timeout": 60}}},
    }

    assert limits_of(template, "Slow") == Limits(timeout_seconds=60, memory_mb=512)


def test_context_counts_down_from_the_timeout() -> None:
    context = LambdaContext("ArticlesFunction", Limits(timeout_seconds=10, memory_mb=512))

    remaining = context.get_remaining_time_in_millis()

    assert 9_000 < remaining <= 10_000
    assert context.memory_limit_in_mb == 512
    assert context.invoked_function_arn.endswith(":function:ArticlesFunction")
    assert context.log_group_name == "/aws/lambda/ArticlesFunction"


def test_every_context_has_its_own_request_id() -> None:
    assert LambdaContext("F").aws_request_id != LambdaContext("F").aws_request_id
