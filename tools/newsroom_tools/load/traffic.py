"""The load run's HTTP: requests counted by purpose and status, a distinct loopback source
address per sender, and SigV4 signing for the admin API."""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from newsroom_tools import emulator as local_emulator

HTTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Reply:
    status: int  # 0: no answer (the connection failed)
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str | None:
        try:
            data = self.json()
        except ValueError:
            return None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            code = data["error"].get("code")
            return str(code) if code is not None else None
        return None


class Traffic:
    """Sends requests to the API and keeps count: by purpose and status, and every 5xx or
    unanswered request."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.counts: Counter[tuple[str, int]] = Counter()
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def send(
        self,
        purpose: str,
        method: str,
        target: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        source_ip: str | None = None,
    ) -> Reply:
        """One request to `target` (a path of the API, or a full loopback URL)."""
        url = target if "://" in target else self.base_url + target
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1",
            parts.port,
            timeout=HTTP_TIMEOUT,
            source_address=(source_ip, 0) if source_ip else None,
        )
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, path, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            reply = Reply(
                response.status,
                {name.lower(): value for name, value in response.getheaders()},
                response.read(),
            )
        except (OSError, http.client.HTTPException) as exc:
            reply = Reply(0, {}, b"")
            with self._lock:
                self.failures.append(f"{method} {path}: no answer ({exc!r})")
        finally:
            connection.close()
        with self._lock:
            self.counts[(purpose, reply.status)] += 1
            if reply.status >= 500:
                self.failures.append(f"{method} {path}: {reply.status} {reply.body[:200]!r}")
        return reply

    def total(self, *, exclude: Sequence[str] = ()) -> int:
        with self._lock:
            return sum(n for (purpose, _), n in self.counts.items() if purpose not in exclude)

    def by_purpose(self) -> dict[str, Counter[int]]:
        with self._lock:
            found: dict[str, Counter[int]] = {}
            for (purpose, status), n in self.counts.items():
                found.setdefault(purpose, Counter())[status] += n
            return found


class Addresses:
    """Distinct 127.x.y.z source addresses, so each sender is another reader to flood control."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()
        self._lock = threading.Lock()

    def new(self) -> str:
        with self._lock:
            while True:
                rng = self._rng
                address = (
                    f"127.{rng.randrange(1, 255)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                )
                if address not in self._used:
                    self._used.add(address)
                    return address


def signed_headers(method: str, url: str) -> dict[str, str]:
    """SigV4 headers for an admin (AWS_IAM) request, with the emulator's credentials."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=b"")
    credentials = Credentials(
        local_emulator.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        local_emulator.FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    SigV4Auth(credentials, "execute-api", local_emulator.REGION).add_auth(request)
    return dict(request.headers.items())
