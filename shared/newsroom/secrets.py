"""The project's keys (for keyed hashes, signed links and cursors), from SSM Parameter Store.

The SecureString `SecretParameterName` holds the current key; `<name>-previous`, while it
exists, the key it replaced. Everything new is keyed or signed with the current key; every
lookup and every verification tries both, so rotating the key resets nothing (the procedure is
in docs/operations.md). Both are read in one `GetParameters` call and kept a few minutes per
container, so a rotation reaches every function within `SECRET_MAX_AGE_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

SECRET_MAX_AGE_SECONDS = 300
MIN_SECRET_BYTES = 32
PREVIOUS_SUFFIX = "-previous"


class SecretTooShortError(Exception):
    """The configured secret is too short to key an HMAC safely."""


class SecretMissingError(Exception):
    """The current key's parameter does not exist."""


@dataclass(frozen=True)
class Keyring:
    """The current key, and the keys it replaced that are still honoured.

    Write (hash, sign) with `current`; look up and verify with each of `all`, current first.
    """

    current: bytes
    previous: tuple[bytes, ...] = ()

    @property
    def all(self) -> tuple[bytes, ...]:
        return (self.current, *(key for key in self.previous if key != self.current))


def previous_parameter_name(parameter_name: str) -> str:
    """Where the key replaced by the current one is kept during a rotation."""
    return parameter_name + PREVIOUS_SUFFIX


def _ssm() -> SSMClient:
    import boto3
    from botocore.config import Config

    from newsroom.deadline import refuse_late_attempts

    # An attempt takes at most 3 s; one that cannot end before the invocation's deadline is
    # not started.
    config = Config(
        connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}
    )
    return refuse_late_attempts(boto3.client("ssm", config=config))


def _checked(name: str, value: str) -> bytes:
    key = value.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise SecretTooShortError(f"{name} must hold at least {MIN_SECRET_BYTES} bytes")
    return key


def read_keyring(parameter_name: str, ssm: SSMClient | None = None) -> Keyring:
    """The current and previous keys, read now (one `GetParameters`, decrypted).

    Raises
    ------
    SecretMissingError
        When `parameter_name` does not exist.
    SecretTooShortError
        When a key holds fewer than 32 bytes.
    ServiceUnavailableError
        When SSM is throttled, failing or out of reach, or no attempt fits in the invocation.
    """
    from newsroom.data.dynamo import unavailable_as_domain_error

    previous_name = previous_parameter_name(parameter_name)
    with unavailable_as_domain_error():
        response = (ssm or _ssm()).get_parameters(
            Names=[parameter_name, previous_name], WithDecryption=True
        )
    values = {p["Name"]: p["Value"] for p in response.get("Parameters", [])}
    if parameter_name not in values:
        raise SecretMissingError(f"the SSM parameter {parameter_name} does not exist")
    current = _checked(parameter_name, values[parameter_name])
    previous = (_checked(previous_name, values[previous_name]),) if previous_name in values else ()
    return Keyring(current=current, previous=previous)


def read_parameter(parameter_name: str, ssm: SSMClient | None = None) -> str:
    """One SecureString's value, read now (a service's key, such as Akismet's).

    Raises
    ------
    SecretMissingError
        When `parameter_name` does not exist.
    ServiceUnavailableError
        As `read_keyring`.
    """
    from newsroom.data.dynamo import unavailable_as_domain_error

    with unavailable_as_domain_error():
        response = (ssm or _ssm()).get_parameters(Names=[parameter_name], WithDecryption=True)
    for parameter in response.get("Parameters", []):
        if parameter["Name"] == parameter_name:
            return parameter["Value"]
    raise SecretMissingError(f"the SSM parameter {parameter_name} does not exist")


class _KeyringCache:
    """`read_keyring`, remembered per parameter for `SECRET_MAX_AGE_SECONDS`."""

    def __init__(self, read: Callable[[str], Keyring], max_age: float) -> None:
        self._read = read
        self._max_age = max_age
        self._kept: dict[str, tuple[float, Keyring]] = {}
        self._lock = threading.Lock()

    def __call__(self, parameter_name: str) -> Keyring:
        with self._lock:
            kept = self._kept.get(parameter_name)
            if kept is not None and time.monotonic() - kept[0] < self._max_age:
                return kept[1]
        keyring = self._read(parameter_name)
        with self._lock:
            self._kept[parameter_name] = (time.monotonic(), keyring)
        return keyring

    def cache_clear(self) -> None:
        with self._lock:
            self._kept.clear()


project_keys = _KeyringCache(read_keyring, SECRET_MAX_AGE_SECONDS)
"""The project's keyring, cached a few minutes per container (``project_keys(name)``)."""
