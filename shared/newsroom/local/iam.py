"""API Gateway's AWS_IAM authorization, played locally: a SigV4-signed request or a 403.

The signature is checked against the emulator's credentials (any access key, secret
"testing"), so `curl --aws-sigv4` and botocore-signed requests work as they do against AWS.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlunsplit

from newsroom.local.apigateway import (
    ACCOUNT_ID,
    HttpRequest,
    HttpResponse,
    gateway_error,
    missing_authentication_token,
)
from newsroom.local.emulator import FAKE_CREDENTIALS

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request,\s*SignedHeaders=(?P<signed>[^,]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass(frozen=True)
class Caller:
    """Who signed the request, as API Gateway puts it in `requestContext.identity`."""

    access_key: str

    @property
    def user_arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:user/{self.access_key}"


def authorize(request: HttpRequest) -> Caller | HttpResponse:
    """The signer of a SigV4 request, or API Gateway's 403 answer."""
    header = request.header("Authorization")
    if not header:
        return missing_authentication_token()
    found = _AUTHORIZATION.fullmatch(header.strip())
    if found is None:
        return gateway_error(
            HTTPStatus.FORBIDDEN,
            "incomplete_signature",
            "Authorization header requires a SigV4 signature.",
        )
    expected = _signature(request, found)
    if not hmac.compare_digest(expected, found["signature"]):
        return gateway_error(
            HTTPStatus.FORBIDDEN,
            "invalid_signature",
            "The request signature we calculated does not match the signature you provided.",
        )
    return Caller(access_key=found["key"])


def _signature(request: HttpRequest, found: re.Match[str]) -> str:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = found["signed"].split(";")
    headers = {name: value for name, value in request.headers if name.lower() in signed}
    url = urlunsplit(
        ("http", request.header("Host") or "localhost", request.path, request.query, "")
    )
    aws_request = AWSRequest(method=request.method, url=url, headers=headers, data=request.body)
    timestamp = request.header("X-Amz-Date") or ""
    aws_request.context["timestamp"] = timestamp
    secret = FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    auth = SigV4Auth(Credentials(found["key"], secret), found["service"], found["region"])
    canonical = auth.canonical_request(aws_request)
    return str(auth.signature(auth.string_to_sign(aws_request, canonical), aws_request))
