"""After a SnapStart restore, nothing random or secret that init kept is used again as it was
(newsroom.snapstart).

The hooks run as Lambda's runtime runs them after a restore: each callable registered with
snapshot_restore_py (the runtime's own library, which the dev extra installs), in the order of
registration.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import snapshot_restore_py

import newsroom.secrets
from newsroom import snapstart
from newsroom.secrets import project_keys
from newsroom_tools.template import PROJECT_ROOT

PARAMETER = "/newsroom/secret"
FUNCTIONS = ["functions.articles.app", "functions.comments.app", "functions.notifications.app"]


class FakeSsm:
    """Parameter Store holding SecureStrings by name; counts the reads."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.reads = 0

    def get_parameters(self, *, Names: list[str], WithDecryption: bool) -> dict[str, Any]:  # noqa: N803
        self.reads += 1
        return {
            "Parameters": [{"Name": n, "Value": self.values[n]} for n in Names if n in self.values]
        }


def run_after_restore_hooks() -> None:
    """What the runtime does when it restores a snapshot, before the first invocation."""
    for hook, args, kwargs in snapshot_restore_py.get_after_restore():
        hook(*args, **kwargs)


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSsm]:
    fake = FakeSsm({PARAMETER: "k" * 48})
    monkeypatch.setattr(newsroom.secrets, "_ssm", lambda: fake)
    project_keys.cache_clear()
    yield fake
    project_keys.cache_clear()


@pytest.fixture(autouse=True)
def registered() -> None:
    # As each function's handler module does at import.
    assert snapstart.register_restore_hooks()


def test_after_a_restore_the_next_use_of_the_keys_reads_ssm_again(ssm: FakeSsm) -> None:
    # Given an environment that read the keys once and keeps them
    project_keys(PARAMETER)
    project_keys(PARAMETER)
    assert ssm.reads == 1

    # When Lambda restores a snapshot of it, the key having been rotated since
    run_after_restore_hooks()
    ssm.values[PARAMETER] = "n" * 48
    keys = project_keys(PARAMETER)

    # Then the keys were read from SSM again: the new key is the current one
    assert ssm.reads == 2
    assert keys.current == b"n" * 48


def test_environments_restored_from_one_snapshot_draw_different_jitter() -> None:
    # Given random's state as the snapshot holds it
    random.seed(20261201)
    snapshot = random.getstate()
    from_the_snapshot = [random.random() for _ in range(4)]

    # When two environments are restored from it, and each draws its retry jitter
    draws = []
    for _ in range(2):
        random.setstate(snapshot)
        run_after_restore_hooks()
        draws.append([random.random() for _ in range(4)])

    # Then neither repeats the snapshot's sequence, nor the other's
    assert from_the_snapshot not in draws
    assert draws[0] != draws[1]


def hooks_after_importing(*modules: str, without_the_library: bool = False) -> list[str] | None:
    """The after-restore hooks registered once `modules` are imported in a fresh interpreter,
    as Lambda's init imports a handler (None: snapshot_restore_py cannot be imported)."""
    code = "\n".join(
        [
            "import json, sys",
            *(["sys.modules['snapshot_restore_py'] = None"] if without_the_library else []),
            *(f"import {module}" for module in modules),
            "restore = sys.modules.get('snapshot_restore_py')",
            "hooks = restore.get_after_restore() if restore else []",
            "names = [f'{hook.__module__}.{hook.__qualname__}' for hook, _, _ in hooks]",
            "print(json.dumps(names if restore else None))",
        ]
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "shared"), str(PROJECT_ROOT)]),
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and modules
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    hooks: list[str] | None = json.loads(done.stdout.splitlines()[-1])
    return hooks


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_registers_the_refresh_when_its_handler_is_imported(function: str) -> None:
    assert hooks_after_importing(function) == ["newsroom.snapstart.refresh_after_restore"]


def test_functions_imported_in_one_process_register_the_refresh_once() -> None:
    # As the local run imports all three.
    assert hooks_after_importing(*FUNCTIONS) == ["newsroom.snapstart.refresh_after_restore"]


def test_without_the_runtime_library_the_functions_import_and_register_nothing() -> None:
    assert hooks_after_importing(*FUNCTIONS, without_the_library=True) is None
