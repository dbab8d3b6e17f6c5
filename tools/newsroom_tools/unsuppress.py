"""The `newsroom emails unsuppress` command: let the notifications write to an address again
after a bounce or a complaint suppressed it (docs/operations.md).

A suppression item is keyed by the address's keyed hash (``SUPPRESSED#<hash>``,
`newsroom.data.delivery`): written under the key current when SES's event came, and moved to a
new key by `newsroom secret rekey`. So the address is hashed with every key of the keyring
(current and previous) and each item there is removed. It says whether there was one; the
address itself is never printed.

A complaint also ended the address's confirmation of reply notices: that stays ended (the
address asks again, and confirms by its link).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

PARAMETER_VARIABLE = "SECRET_PARAMETER_NAME"
DEFAULT_PARAMETER = "/newsroom/secret"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments on its subparser: the table, the keys, the address."""
    from newsroom_tools.export import add_target_arguments

    add_target_arguments(parser)
    parser.add_argument(
        "--parameter",
        help=f"the key's SSM parameter (default: ${PARAMETER_VARIABLE} or {DEFAULT_PARAMETER})",
    )
    parser.add_argument(
        "--email", required=True, type=address_argument, help="the address to send to again"
    )


def address_argument(text: str) -> str:
    """An email address, as the notifications would write to it (case and spacing aside)."""
    from pydantic import TypeAdapter, ValidationError

    from newsroom.models.comments import AuthorEmail

    try:
        return str(TypeAdapter(AuthorEmail).validate_python(text))
    except ValidationError:
        raise argparse.ArgumentTypeError("not an email address") from None


def _ssm(args: argparse.Namespace) -> SSMClient:
    """An SSM client for the place the options name (the local run's with --local)."""
    if args.local:
        from newsroom_tools import emulator

        session = emulator.local_run_session(args.emulator_port)
        url = f"http://{emulator.DEFAULT_HOST}:{args.emulator_port}"
        return session.client("ssm", endpoint_url=url)
    import boto3

    return boto3.Session(profile_name=args.profile, region_name=args.region).client("ssm")


def run(args: argparse.Namespace) -> int:
    """Remove the address's suppressions; 0 when done (there was one or not), 2 when the input
    is at fault (no table, no such table or key), 1 when AWS failed."""
    from newsroom.data.delivery import DeliveryTable
    from newsroom.errors import ServiceUnavailableError
    from newsroom.privacy import email_hash
    from newsroom.secrets import SecretMissingError, SecretTooShortError, read_keyring
    from newsroom_tools.export import TargetError, connect

    try:
        table, db = connect(args)
        parameter = args.parameter or os.environ.get(PARAMETER_VARIABLE) or DEFAULT_PARAMETER
        keys = read_keyring(parameter, ssm=_ssm(args))
    except (TargetError, SecretMissingError, SecretTooShortError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, ServiceUnavailableError) as exc:
        print(f"error: reading the keys failed: {exc}", file=sys.stderr)
        return 1
    hashes = [email_hash(key, args.email) for key in keys.all]
    try:
        removed = DeliveryTable(table, db).unsuppress(hashes)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") == "ResourceNotFoundException":
            print(f"error: no table {table}", file=sys.stderr)
            return 2
        print(f"error: updating table {table} failed: {exc}", file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        print(f"error: updating table {table} failed: {exc}", file=sys.stderr)
        return 1
    print(_said(removed))
    return 0


def _said(removed: list[dict[str, Any]]) -> str:
    if not removed:
        return "That address was not suppressed: nothing removed."
    first = min(removed, key=lambda item: str(item.get("suppressed_at", "")))
    reason = first.get("reason", "unknown reason")
    since = first.get("suppressed_at", "an unknown time")
    return (
        f"Suppression removed ({reason}, since {since}): the notifications send to that "
        "address again."
    )
