"""A small HTTP client for tests that go through the local run over real sockets."""

from __future__ import annotations

import http.client
import json
import random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


def loopback_address() -> str:
    """A random 127.x.y.z: Linux routes all of 127/8 to loopback, so each caller can look
    like another reader to flood control."""
    return f"127.{random.randrange(1, 255)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def request(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    json_body: Any = None,
    source_ip: str | None = None,
    timeout: float = 10,
) -> Reply:
    """Send one request to a loopback URL, from `source_ip` if given; never raises on a status."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1",
        parts.port,
        timeout=timeout,
        source_address=(source_ip, 0) if source_ip else None,
    )
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target or "/", body=body, headers=headers)
        response = connection.getresponse()
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def signed_request(
    url: str,
    *,
    method: str = "GET",
    json_body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    access_key: str = "AKIDLOCAL",
    timeout: float = 10,
) -> Reply:
    """`request`, signed with SigV4 as an IAM caller (a moderator) signs it for API Gateway's
    AWS_IAM routes; the local gateway takes any access key with the emulator's secret."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = raw if raw is not None else None if json_body is None else json.dumps(json_body).encode()
    sent = dict(headers or {})
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    aws = AWSRequest(method=method, url=url, data=body, headers=sent)
    SigV4Auth(Credentials(access_key, "testing"), "execute-api", "us-east-1").add_auth(aws)
    return request(
        url, method=method, headers=dict(aws.headers.items()), body=body, timeout=timeout
    )
