"""Property-based fuzzing of the whole API through the local run, driven by docs/openapi.json.

schemathesis generates requests from the contract (valid and invalid), sends them over HTTP to
the local run, and checks every answer: no 5xx, and status, content type, headers and body as
the contract says, errors included. Bounded in examples per operation so it fits in `make test`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from newsroom_tools.openapi import SPEC_PATH
from newsroom_tools.runner import LocalSystem, free_port
from tests.local_runs import own_table_prefix

pytestmark = pytest.mark.integration

EXAMPLES_PER_OPERATION = 40
# "Schema-valid data is accepted" cannot hold for this API: a cursor is opaque (any string the
# contract allows may not be one the API issued: 400), and a name or text made only of control
# characters passes the length rule before cleaning and fails it after (422). Every other
# check runs: no 5xx, and statuses, content types, headers and bodies as the contract says.
# And the session signs every request with valid SigV4, so "invalid credentials are refused"
# is tested by tests/unit/test_local_iam.py and test_local_run.py instead.
NOT_APPLICABLE = [positive_data_acceptance, ignored_auth]
SCHEMA = schemathesis.openapi.from_dict(json.loads(SPEC_PATH.read_text()))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


class SigV4(requests.auth.AuthBase):
    """Signs every request as an IAM caller would, so moderation routes are fuzzed too (the
    local run checks the signature against the emulator's credentials)."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=request.body,
            headers={"Host": urlsplit(str(request.url)).netloc},
        )
        SigV4Auth(Credentials("AKIDFUZZ", "testing"), "execute-api", "us-east-1").add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


@pytest.fixture(scope="module")
def session() -> requests.Session:
    signing = requests.Session()
    signing.auth = SigV4()
    return signing


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    # With the API docs published, so their routes are fuzzed as they answer when on (off,
    # they answer as no route: tests/integration/test_api_docs.py).
    with LocalSystem(
        port=0,
        emulator_port=free_port(),
        table_prefix=own_table_prefix(),
        parameters={"ApiDocs": "on"},
    ) as running:
        yield running.api_url


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_every_answer_keeps_the_contract(
    operation: Any, api_url: str, session: requests.Session
) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def answers_keep_the_contract(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=api_url, session=session, excluded_checks=NOT_APPLICABLE)

    answers_keep_the_contract()
