"""The embedded AWS emulator: moto's server, in process, on loopback."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4566
REGION = "us-east-1"

# moto accepts any credentials; these keep boto3 from looking for real ones.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass
class Emulator:
    host: str
    port: int
    server: Any | None  # the ThreadedMotoServer we started, or None when reusing one

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        """Variables that point boto3 (any client, any service) at this emulator."""
        return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint_url}

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def start(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, reuse: bool = True) -> Emulator:
    """Start moto's server in this process, or reuse one already listening there."""
    if is_listening(host, port):
        if reuse:
            return Emulator(host, port, server=None)
        raise OSError(f"port {port} on {host} is already in use")
    from moto.server import ThreadedMotoServer  # development dependency, imported on use

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    deadline = time.monotonic() + 10
    while not is_listening(host, port):
        if time.monotonic() > deadline:
            server.stop()
            raise TimeoutError(f"the emulator did not start on {host}:{port}")
        time.sleep(0.05)
    return Emulator(host, port, server=server)


@contextmanager
def environment(
    values: dict[str, str], target: MutableMapping[str, str] = os.environ
) -> Iterator[None]:
    """Set environment variables for the duration of a block, then restore them."""
    saved = {key: target.get(key) for key in values}
    target.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                target.pop(key, None)
            else:
                target[key] = old
