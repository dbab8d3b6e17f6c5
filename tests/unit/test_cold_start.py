"""Cold start: a function imports only what its routes use; heavy modules wait for a request."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from newsroom_tools.template import PROJECT_ROOT

# Never needed to serve: development tools, authoring, the emulator; and pydantic-settings,
# whose start-up (argparse, dotenv, its CLI source) newsroom.config does without.
NEVER = ("moto", "newsroom_tools", "yaml", "pytest", "pydantic_settings", "dotenv", "argparse")
# Needed only by some routes, so imported on first use there.
ON_DEMAND = (
    "markdown_it",  # rendering a posted comment
    "email_validator",  # checking a posted comment's address
    "nh3",
    "aws_lambda_powertools.utilities.idempotency",  # a POST with an Idempotency-Key
    "aws_lambda_powertools.utilities.parameters",  # the secret, for hashing
    "newsroom.feeds",  # the Atom feeds
    "xml.etree",  # which write them
    "altcha",  # ALTCHA proof of work, when it is on
    "newsroom.proof_of_work",
    "newsroom.data.challenges",  # where solutions are spent
    "newsroom.form_time",  # the minimum form time, when it is set
    "newsroom.akismet_check",  # Akismet, when its key is configured
    "akismet",
    "httpx",  # which it calls Akismet with
)


def modules_after_import(module: str, *, tracing: bool = False, then: str = "pass") -> set[str]:
    """The modules loaded by importing `module` (and running the statement `then`) in a fresh
    interpreter, as a cold start does, with X-Ray tracing off (the template's default) or on."""
    code = f"import json, sys; import {module}; {then}; print(json.dumps(sorted(sys.modules)))"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "shared"), str(PROJECT_ROOT)]),
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def loaded(modules: set[str], prefix: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for name in modules)


@pytest.mark.parametrize(
    "function",
    [
        "functions.articles.app",
        "functions.comments.app",
        "functions.notifications.app",
        "functions.delivery.app",
    ],
)
def test_function_loads_no_development_or_authoring_module(function: str) -> None:
    modules = modules_after_import(function)

    assert [name for name in NEVER if loaded(modules, name)] == []


@pytest.mark.parametrize("function", ["functions.articles.app", "functions.comments.app"])
def test_route_specific_modules_wait_for_their_route(function: str) -> None:
    modules = modules_after_import(function)

    assert [name for name in ON_DEMAND if loaded(modules, name)] == []


def test_snapstart_hooks_load_only_the_standard_library_and_snapshot_restore_py() -> None:
    # Given what the layer's package loads by itself
    before = modules_after_import("newsroom")

    # When a handler registers the after-restore hooks, as each does at import
    after = modules_after_import(
        "newsroom.snapstart", then="newsroom.snapstart.register_restore_hooks()"
    )

    # Then nothing is added but the module, the runtime's hooks library and the standard library
    added = {name.split(".")[0] for name in after - before} - set(sys.stdlib_module_names)
    assert added == {"newsroom", "snapshot_restore_py"}


def test_articles_function_does_not_load_the_email_validator() -> None:
    assert not loaded(modules_after_import("functions.articles.app"), "email_validator")


def test_articles_function_does_not_build_the_other_functions_settings() -> None:
    assert not loaded(modules_after_import("functions.articles.app"), "newsroom.comment_settings")


FUNCTIONS = [
    "functions.articles.app",
    "functions.comments.app",
    "functions.notifications.app",
    "functions.delivery.app",
]


def test_delivery_events_function_loads_neither_comments_nor_emails_nor_boto3_sessions() -> None:
    # It reads SES's events and writes single items: the comment, article and email models,
    # the notifications' planning and the stream parser are other functions' cold start.
    modules = modules_after_import("functions.delivery.app")

    heavy = [
        "newsroom.models.comments",
        "newsroom.models.articles",
        "newsroom.notifications",
        "newsroom.emails",
        "newsroom.comment_settings",
        "aws_lambda_powertools.utilities.batch",
        "boto3",
    ]
    assert [name for name in heavy if loaded(modules, name)] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_with_tracing_off_no_function_imports_the_xray_sdk(function: str) -> None:
    assert not loaded(modules_after_import(function), "aws_xray_sdk")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_with_tracing_on_the_functions_are_traced(function: str) -> None:
    assert loaded(modules_after_import(function, tracing=True), "aws_xray_sdk")


def test_template_turns_tracing_on_only_when_asked() -> None:
    from newsroom_tools.template import load_template

    template = load_template()
    globals_ = template["Globals"]["Function"]
    api = template["Resources"]["NewsroomApi"]["Properties"]

    assert template["Parameters"]["Tracing"]["Default"] == "off"
    assert globals_["Tracing"] == {"Fn::If": ["TracingOn", "Active", "PassThrough"]}
    assert globals_["Environment"]["Variables"]["POWERTOOLS_TRACE_DISABLED"] == {
        "Fn::If": ["TracingOn", "false", "true"]
    }
    assert api["TracingEnabled"] == {"Fn::If": ["TracingOn", True, False]}
