"""AWS_IAM routes locally: a SigV4 signature made with the emulator's credentials, or a 403,
checked as API Gateway checks it (time, region, service, signed headers)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from newsroom_tools.apigateway import HttpRequest, HttpResponse
from newsroom_tools.emulator import REGION
from newsroom_tools.iam import Caller, authorize

URL = "http://127.0.0.1:3000/admin/comments?status=pending"


class _SigV4WithoutHeaders(SigV4Auth):
    """botocore's signer, leaving some headers out of the signed ones (as a careless or
    hostile client may)."""

    def __init__(self, *args: Any, leave_out: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.leave_out = {name.lower() for name in leave_out}

    def headers_to_sign(self, request: AWSRequest) -> Any:
        headers = super().headers_to_sign(request)
        for name in self.leave_out:
            del headers[name]
        return headers


def signed(
    secret: str = "testing",
    method: str = "GET",
    body: bytes = b"",
    *,
    region: str = REGION,
    service: str = "execute-api",
    leave_out: Iterable[str] = (),
) -> HttpRequest:
    request = AWSRequest(method=method, url=URL, data=body, headers={"Host": "127.0.0.1:3000"})
    _SigV4WithoutHeaders(
        Credentials("AKIDLOCAL", secret), service, region, leave_out=leave_out
    ).add_auth(request)
    return HttpRequest(
        method=method,
        target="/admin/comments?status=pending",
        headers=tuple(request.headers.items()),
        body=body,
    )


def with_header(request: HttpRequest, name: str, value: str | None) -> HttpRequest:
    kept = tuple((k, v) for k, v in request.headers if k.lower() != name.lower())
    headers = kept if value is None else (*kept, (name, value))
    return HttpRequest(request.method, request.target, headers, request.body)


def signed_at(request: HttpRequest) -> datetime:
    stamp = request.header("X-Amz-Date") or ""
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def refusal(answer: Caller | HttpResponse) -> dict[str, Any]:
    """The error of a 403 in the API's one error shape."""
    assert isinstance(answer, HttpResponse), answer
    assert answer.status == 403
    body = json.loads(answer.body)
    assert body["error"]["details"] == []
    error: dict[str, Any] = body["error"]
    return error


def test_request_signed_with_the_emulator_credentials_is_let_through_with_its_caller() -> None:
    caller = authorize(signed())

    assert caller == Caller(access_key="AKIDLOCAL")
    assert isinstance(caller, Caller)
    assert caller.user_arn.endswith(":user/AKIDLOCAL")


def test_unsigned_request_is_refused_as_api_gateway_does() -> None:
    answer = authorize(HttpRequest(method="GET", target="/admin/comments"))

    assert refusal(answer)["message"] == "Missing Authentication Token"


def test_request_signed_with_another_secret_is_refused() -> None:
    assert refusal(authorize(signed(secret="not-the-secret")))["code"] == "invalid_signature"


def test_body_changed_after_signing_is_refused() -> None:
    request = signed(method="POST", body=b'{"a": 1}')
    tampered = HttpRequest(request.method, request.target, request.headers, b'{"a": 2}')

    assert refusal(authorize(tampered))["code"] == "invalid_signature"


def test_authorization_header_that_is_not_sigv4_is_refused() -> None:
    answer = authorize(
        HttpRequest(
            method="GET", target="/admin/comments", headers=(("Authorization", "Bearer x"),)
        )
    )

    assert refusal(answer)["code"] == "incomplete_signature"


@pytest.mark.parametrize("minutes", [14, -14])
def test_signature_within_15_minutes_of_now_is_let_through(minutes: int) -> None:
    request = signed()

    answer = authorize(request, now=signed_at(request) + timedelta(minutes=minutes))

    assert isinstance(answer, Caller)


def test_signature_older_than_15_minutes_is_refused_as_expired() -> None:
    # Given a request signed now, replayed 16 minutes later
    request = signed()

    # When it is checked
    answer = authorize(request, now=signed_at(request) + timedelta(minutes=16))

    # Then API Gateway's answer: the signature expired
    error = refusal(answer)
    assert error["code"] == "invalid_signature"
    assert error["message"].startswith("Signature expired:")


def test_signature_dated_more_than_15_minutes_ahead_is_refused() -> None:
    request = signed()

    answer = authorize(request, now=signed_at(request) - timedelta(minutes=16))

    error = refusal(answer)
    assert error["code"] == "invalid_signature"
    assert error["message"].startswith("Signature not yet current:")


def test_x_amz_date_that_is_not_an_iso_8601_basic_timestamp_is_refused() -> None:
    request = with_header(signed(), "X-Amz-Date", "yesterday")

    assert refusal(authorize(request))["code"] == "incomplete_signature"


def test_request_without_x_amz_date_is_refused() -> None:
    request = with_header(signed(), "X-Amz-Date", None)

    error = refusal(authorize(request))
    assert error["code"] == "incomplete_signature"
    assert "X-Amz-Date" in error["message"]


def test_signature_scoped_to_another_region_is_refused() -> None:
    error = refusal(authorize(signed(region="eu-west-1")))

    assert error["code"] == "invalid_signature"
    assert error["message"] == "Credential should be scoped to a valid region, not 'eu-west-1'."


def test_signature_scoped_to_another_service_is_refused() -> None:
    error = refusal(authorize(signed(service="s3")))

    assert error["code"] == "invalid_signature"
    assert error["message"] == "Credential should be scoped to correct service: 'execute-api'."


def test_credential_date_other_than_the_x_amz_date_day_is_refused() -> None:
    request = signed()
    day = signed_at(request).strftime("%Y%m%d")
    other_day = (signed_at(request) - timedelta(days=1)).strftime("%Y%m%d")
    forged = with_header(
        request,
        "Authorization",
        (request.header("Authorization") or "").replace(f"/{day}/", f"/{other_day}/"),
    )

    error = refusal(authorize(forged))

    assert error["code"] == "invalid_signature"
    assert error["message"] == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        f"HTTP: '{other_day}' != '{day}', from 'X-Amz-Date'."
    )


@pytest.mark.parametrize("header", ["host", "x-amz-date"])
def test_signature_that_leaves_host_or_x_amz_date_unsigned_is_refused(header: str) -> None:
    # Given a request whose signature does not cover the header, which may then be anything
    request = signed(leave_out=[header])

    # When it is checked
    error = refusal(authorize(request))

    # Then it is refused, naming the header
    assert error["code"] == "incomplete_signature"
    assert header in error["message"].lower()
