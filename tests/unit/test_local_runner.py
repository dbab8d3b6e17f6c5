"""The local run's environment for the functions, resolved from template.yaml."""

from __future__ import annotations

from newsroom.local.runner import function_environment
from newsroom.local.template import functions, load_template, parameter_defaults, resources

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
