"""The project secret (keys for hashes and signed links), from SSM Parameter Store, cached."""

from __future__ import annotations

# Long enough that a rotated secret is picked up within minutes, short enough to cost nothing.
SECRET_MAX_AGE_SECONDS = 300
MIN_SECRET_BYTES = 32


class SecretTooShortError(Exception):
    """The configured secret is too short to key an HMAC safely."""


def project_secret(parameter_name: str) -> bytes:
    """The decrypted SecureString `parameter_name`, cached for a few minutes per container.

    Raises
    ------
    SecretTooShortError
        When the parameter holds fewer than 32 bytes.
    """
    # Imported here: only the routes that hash or sign pay for the SSM client.
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_parameter(parameter_name, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS)
    secret = str(value).encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise SecretTooShortError(f"{parameter_name} must hold at least {MIN_SECRET_BYTES} bytes")
    return secret
