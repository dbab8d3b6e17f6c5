"""The local run's environment for the functions, resolved from template.yaml."""

from __future__ import annotations

import argparse

import pytest

from newsroom.config import ArticlesSettings
from newsroom_tools.runner import add_arguments, function_environment
from newsroom_tools.template import (
    ParameterOverrideError,
    functions,
    load_template,
    parameter_defaults,
    parameter_values,
    resources,
)

LOCAL_API = "http://127.0.0.1:3000"


def test_api_invoke_url_in_a_variable_is_the_local_api() -> None:
    # Given the template, whose PUBLIC_BASE_URL falls back to the API's invoke URL
    template = load_template()
    names = parameter_defaults(template) | {"ContentTable": "ContentTable"}

    # When the functions' environment is resolved for a local run
    environment = function_environment(
        functions(template),
        names,
        api_url=LOCAL_API,
        apis=resources(template, "AWS::Serverless::Api"),
    )

    # Then links in emails lead to the local API, and plain references still resolve
    assert environment["PUBLIC_BASE_URL"] == LOCAL_API
    assert environment["SENDER_EMAIL"] == names["SenderEmail"]
    assert environment["CONTENT_TABLE_NAME"] == "ContentTable"


def test_without_a_local_api_url_unresolvable_variables_are_left_out() -> None:
    template = load_template()

    environment = function_environment(functions(template), parameter_defaults(template))

    assert "PUBLIC_BASE_URL" not in environment


def test_parameter_override_replaces_the_default_and_reaches_the_function() -> None:
    # Given the template, and ApiDocs turned on as `sam deploy --parameter-overrides` would
    template = load_template()
    names = parameter_values(template, {"ApiDocs": "on"}) | {"ContentTable": "ContentTable"}

    # When the functions' environment is resolved
    environment = function_environment(functions(template), names)

    # Then the articles function's settings read it as on; the defaults of the rest stay
    assert environment["API_DOCS"] == "on"
    assert ArticlesSettings.from_environment(environment).api_docs
    assert names["SenderEmail"] == parameter_defaults(template)["SenderEmail"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"ApiDoc": "on"}, "no parameter 'ApiDoc'"),
        ({"ApiDocs": "yes"}, "allows off, on, not 'yes'"),
    ],
)
def test_parameter_override_the_template_does_not_allow_is_refused_naming_it(
    overrides: dict[str, str], named: str
) -> None:
    with pytest.raises(ParameterOverrideError, match=named):
        parameter_values(load_template(), overrides)


def test_run_command_takes_sam_style_parameter_overrides() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)

    args = parser.parse_args(["--parameter-overrides", "ApiDocs=on", "AlarmEmail=ops@example.com"])

    assert dict(args.parameter_overrides) == {"ApiDocs": "on", "AlarmEmail": "ops@example.com"}
    with pytest.raises(SystemExit):
        parser.parse_args(["--parameter-overrides", "ApiDocs"])


def test_parameter_overrides_given_twice_are_all_kept() -> None:
    # `make run RUN_ARGS="--parameter-overrides X=..."` comes before the Makefile's own
    # `--parameter-overrides $(RUN_PARAMETERS)`: the later flag must not drop the earlier one.
    parser = argparse.ArgumentParser()
    add_arguments(parser)

    args = parser.parse_args(
        [
            "--parameter-overrides",
            "ModeratorEmails=a@example.org",
            "--parameter-overrides",
            "ApiDocs=on",
        ]
    )

    assert dict(args.parameter_overrides) == {"ModeratorEmails": "a@example.org", "ApiDocs": "on"}
