"""AWS_IAM routes locally: a SigV4 signature made with the emulator's credentials, or a 403."""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from newsroom.local.apigateway import HttpRequest, HttpResponse
from newsroom.local.iam import Caller, authorize

URL = "http://127.0.0.1:3000/admin/comments?status=pending"


def signed(secret: str = "testing", method: str = "GET", body: bytes = b"") -> HttpRequest:
    request = AWSRequest(method=method, url=URL, data=body, headers={"Host": "127.0.0.1:3000"})
    SigV4Auth(Credentials("AKIDLOCAL", secret), "execute-api", "us-east-1").add_auth(request)
    return HttpRequest(
        method=method,
        target="/admin/comments?status=pending",
        headers=tuple(request.headers.items()),
        body=body,
    )


def test_request_signed_with_the_emulator_credentials_is_let_through_with_its_caller() -> None:
    caller = authorize(signed())

    assert caller == Caller(access_key="AKIDLOCAL")
    assert isinstance(caller, Caller)
    assert caller.user_arn.endswith(":user/AKIDLOCAL")


def test_unsigned_request_is_refused_as_api_gateway_does() -> None:
    answer = authorize(HttpRequest(method="GET", target="/admin/comments"))

    assert isinstance(answer, HttpResponse)
    assert answer.status == 403
    assert b"Missing Authentication Token" in answer.body


def test_request_signed_with_another_secret_is_refused() -> None:
    answer = authorize(signed(secret="not-the-secret"))

    assert isinstance(answer, HttpResponse)
    assert answer.status == 403
    assert b"invalid_signature" in answer.body


def test_body_changed_after_signing_is_refused() -> None:
    request = signed(method="POST", body=b'{"a": 1}')
    tampered = HttpRequest(request.method, request.target, request.headers, b'{"a": 2}')

    answer = authorize(tampered)

    assert isinstance(answer, HttpResponse)
    assert answer.status == 403


def test_authorization_header_that_is_not_sigv4_is_refused() -> None:
    answer = authorize(
        HttpRequest(
            method="GET", target="/admin/comments", headers=(("Authorization", "Bearer x"),)
        )
    )

    assert isinstance(answer, HttpResponse)
    assert answer.status == 403
