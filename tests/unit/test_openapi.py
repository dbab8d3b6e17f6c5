"""The published contract, docs/openapi.json, is what the code serves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from newsroom_tools.openapi import LAYER_SPEC_PATH, SPEC_PATH, build, render
from newsroom_tools.template import functions, load_template

SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())
OPERATIONS = [
    (path, method, operation)
    for path, methods in SPEC["paths"].items()
    for method, operation in methods.items()
]


def test_committed_contract_matches_the_code() -> None:
    assert SPEC_PATH.read_text() == render(), "run `make openapi` and commit docs/openapi.json"


def test_layer_ships_the_same_contract_for_the_docs_page() -> None:
    assert LAYER_SPEC_PATH.read_text() == render(), "run `make openapi` and commit both copies"


def test_contract_is_a_valid_openapi_3_1_document() -> None:
    validate(build())

    assert SPEC["openapi"] == "3.1.0"


def test_every_api_route_of_the_template_is_in_the_contract() -> None:
    routes = {
        (route.method.lower(), route.path)
        for spec in functions(load_template()).values()
        for route in spec.routes
    }

    assert routes == {(method, path) for path, method, _ in OPERATIONS}


@pytest.mark.parametrize(
    ("path", "method", "operation"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS]
)
def test_every_error_answer_uses_the_one_error_shape(
    path: str, method: str, operation: dict[str, Any]
) -> None:
    errors = {code: answer for code, answer in operation["responses"].items() if code[0] in "45"}

    assert {"4XX", "5XX"} <= set(errors)
    for answer in errors.values():
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
        assert set(answer["content"]) <= {"application/json", "text/html"}


def security_of(scheme: str) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, method, op in OPERATIONS
        if any(scheme in requirement for requirement in op.get("security", []))
    }


def test_only_moderation_routes_require_a_signature() -> None:
    assert security_of("sigv4") == {
        (path, method) for path, method, _ in OPERATIONS if path.startswith("/admin/")
    }


def test_only_a_comments_own_edit_and_delete_take_its_edit_token() -> None:
    assert security_of("editToken") == {
        ("/articles/{slug}/comments/{comment_id}", "patch"),
        ("/articles/{slug}/comments/{comment_id}", "delete"),
    }
    assert SPEC["components"]["securitySchemes"]["editToken"]["scheme"] == "bearer"
    secured = {
        scheme for _, _, op in OPERATIONS for req in op.get("security", []) for scheme in req
    }
    assert secured == {"sigv4", "editToken"}


def test_public_schemas_hold_no_email_or_ip_field() -> None:
    public = (
        "PublicComment",
        "Page_PublicComment_",
        "Article",
        "ArticleSummary",
        "CommentAccepted",
        "CommentEdited",
    )
    for name in public:
        fields = set(SPEC["components"]["schemas"][name].get("properties", {}))
        assert not {f for f in fields if "email" in f or "ip" in f.split("_")}, name
