"""API Gateway's AWS_IAM authorization, played locally: a SigV4-signed request or a 403.

The signature is checked against the emulator's credentials (any access key, secret
"testing"), so `curl --aws-sigv4` and botocore-signed requests work as they do against AWS,
and refused where API Gateway refuses it: signed more than 15 minutes from now, scoped to
another region, service or day, or leaving `host` or `x-amz-date` unsigned.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from urllib.parse import urlunsplit

from newsroom_tools.apigateway import (
    ACCOUNT_ID,
    HttpRequest,
    HttpResponse,
    gateway_error,
    missing_authentication_token,
)
from newsroom_tools.emulator import FAKE_CREDENTIALS, REGION

SERVICE = "execute-api"
# How far the signing time may be from the gateway's clock, either way.
MAX_CLOCK_SKEW = timedelta(minutes=15)
_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_TIMESTAMP = re.compile(r"\d{8}T\d{6}Z")

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


def authorize(request: HttpRequest, *, now: datetime | None = None) -> Caller | HttpResponse:
    """The signer of a SigV4 request, or API Gateway's 403 answer in the API's error shape.

    `now` is the gateway's clock (the current time unless given).
    """
    header = request.header("Authorization")
    if not header:
        return missing_authentication_token()
    found = _AUTHORIZATION.fullmatch(header.strip())
    if found is None:
        return _incomplete("Authorization header requires a SigV4 signature.")
    refused = _refusal(request, found, now or datetime.now(UTC))
    if refused is not None:
        return refused
    expected = _signature(request, found)
    if not hmac.compare_digest(expected, found["signature"]):
        return _invalid(
            "The request signature we calculated does not match the signature you provided."
        )
    return Caller(access_key=found["key"])


def _refusal(request: HttpRequest, found: re.Match[str], now: datetime) -> HttpResponse | None:
    """API Gateway's answer to a well-formed signature it refuses before checking it, or None."""
    signed = found["signed"].split(";")
    if "host" not in signed:
        return _incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        )
    stamp = request.header("X-Amz-Date")
    if stamp is None:
        return _incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
    if "x-amz-date" not in signed:
        return _incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.")
    signed_at = _timestamp(stamp)
    if signed_at is None:
        return _incomplete(f"X-Amz-Date must be an ISO-8601 basic timestamp, not {stamp!r}.")
    if found["date"] != stamp[:8]:
        return _invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{found['date']}' != '{stamp[:8]}', from 'X-Amz-Date'."
        )
    if found["region"] != REGION:
        return _invalid(f"Credential should be scoped to a valid region, not '{found['region']}'.")
    if found["service"] != SERVICE:
        return _invalid(f"Credential should be scoped to correct service: '{SERVICE}'.")
    earliest, latest = now - MAX_CLOCK_SKEW, now + MAX_CLOCK_SKEW
    if signed_at < earliest:
        return _invalid(
            f"Signature expired: {stamp} is now earlier than {earliest:{_TIMESTAMP_FORMAT}} "
            f"({now:{_TIMESTAMP_FORMAT}} - 15 min.)"
        )
    if signed_at > latest:
        return _invalid(
            f"Signature not yet current: {stamp} is still later than "
            f"{latest:{_TIMESTAMP_FORMAT}} ({now:{_TIMESTAMP_FORMAT}} + 15 min.)"
        )
    return None


def _timestamp(stamp: str) -> datetime | None:
    """The time of an ISO-8601 basic timestamp (20260101T120000Z), or None."""
    if _TIMESTAMP.fullmatch(stamp) is None:
        return None
    try:
        return datetime.strptime(stamp, _TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    except ValueError:  # a 13th month, say
        return None


def _incomplete(message: str) -> HttpResponse:
    return gateway_error(
        HTTPStatus.FORBIDDEN,
        "incomplete_signature",
        message,
        response_type="INCOMPLETE_SIGNATURE",
    )


def _invalid(message: str) -> HttpResponse:
    return gateway_error(
        HTTPStatus.FORBIDDEN, "invalid_signature", message, response_type="INVALID_SIGNATURE"
    )


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
