"""The `newsroom articles register|update|close|open|delete` commands: the admin API's
`/admin/articles` routes for articles a site's CMS hosts (docs/cms.md), called over HTTPS with
a SigV4 signature made from the caller's AWS credentials, as API Gateway's AWS_IAM expects.

Against a local run (`make run`, `--api-url http://127.0.0.1:3000/v1`) with no AWS credentials
configured, the emulator's are used: its gateway checks the signature as API Gateway does.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from botocore.credentials import Credentials

API_URL_VARIABLE = "NEWSROOM_API_URL"
SERVICE = "execute-api"
LOCAL_REGION = "us-east-1"  # the emulator's (newsroom_tools.emulator.REGION)
TIMEOUT_SECONDS = 30
_INVOKE_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")
_MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
_HTML_SUFFIXES = frozenset({".html", ".htm"})


class CommandError(Exception):
    """The command line, or what it names, is at fault: nothing was sent."""


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    body: Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare one command's arguments; which command is `parser.prog`'s last word."""
    command = parser.prog.split()[-1]
    parser.add_argument("slug", metavar="SLUG", help="the article's slug, as the widget names it")
    parser.add_argument(
        "--api-url",
        default=os.environ.get(API_URL_VARIABLE),
        help=f"the stack's ApiUrl output, or http://127.0.0.1:3000/v1 for `make run` "
        f"(default: ${API_URL_VARIABLE})",
    )
    parser.add_argument("--region", help="the API's region (default: from the URL, or AWS's)")
    parser.add_argument("--profile", help="AWS profile to sign with (default: AWS's usual)")
    if command in ("register", "update"):
        parser.add_argument("--url", required=True, help="the article's page on the site")
        parser.add_argument("--title", required=True)
        parser.add_argument(
            "--published-at",
            required=True,
            help="publication time with a zone, e.g. 2026-03-04T09:00:00Z",
        )
        parser.add_argument("--updated-at", help="last change (default: now)")
        parser.add_argument("--summary", help="a sentence or two for teasers and feeds")
        parser.add_argument("--author-name", help="the author's name, as readers see it")
        parser.add_argument(
            "--author-email", help="gets an email for each comment approved (never published)"
        )
        parser.add_argument(
            "--tag", dest="tags", action="append", default=[], help="a tag (repeat for more)"
        )
        parser.add_argument(
            "--body-file",
            type=Path,
            help="the body: Markdown (.md) or HTML (.html); optional",
        )
        state = parser.add_mutually_exclusive_group()
        state.add_argument(
            "--closed", action="store_true", help="with comments closed (default: open when "
            "registered, as it was when updated)",
        )  # fmt: skip
        state.add_argument("--open", action="store_true", help="with comments open")
    if command == "delete":
        parser.add_argument(
            "--with-comments",
            action="store_true",
            help="delete its comments too (without it, an article with comments is kept)",
        )
    parser.add_argument("--json", action="store_true", help="print the API's answer as JSON")


def registration(args: argparse.Namespace) -> dict[str, Any]:
    """The PUT body the register and update options describe.

    Raises
    ------
    CommandError
        When the body file cannot be read or is neither Markdown nor HTML.
    """
    body: dict[str, Any] = {
        "url": args.url,
        "title": args.title,
        "published_at": args.published_at,
        "tags": args.tags,
    }
    optional = {"updated_at": args.updated_at, "summary": args.summary}
    body |= {name: value for name, value in optional.items() if value is not None}
    if args.author_name or args.author_email:
        if not args.author_name:
            raise CommandError("--author-email needs --author-name")
        body["author"] = {"name": args.author_name}
        if args.author_email:
            body["author"]["email"] = args.author_email
    if args.body_file is not None:
        suffix = args.body_file.suffix.lower()
        if suffix not in _MARKDOWN_SUFFIXES | _HTML_SUFFIXES:
            raise CommandError(f"{args.body_file}: the body file must end in .md or .html")
        try:
            text = args.body_file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{args.body_file}: cannot be read: {exc}") from exc
        body["body_markdown" if suffix in _MARKDOWN_SUFFIXES else "body_html"] = text
    if args.closed or args.open:
        body["comments_open"] = bool(args.open)
    return body


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def region_of(api_url: str, given: str | None, default: str | None) -> str:
    """The region to sign for: given, else an invoke URL's, else the emulator's for a local
    run, else the AWS settings'.

    Raises
    ------
    CommandError
        When none of them names one (a custom domain, no AWS region configured).
    """
    host = urlsplit(api_url).hostname or ""
    found = _INVOKE_HOST.match(host)
    region = given or (found["region"] if found else None)
    region = region or (LOCAL_REGION if _is_loopback(host) else default)
    if not region:
        raise CommandError(f"no region for {host}: give --region")
    return region


def credentials(profile: str | None, api_url: str) -> tuple[Credentials, str | None]:
    """The caller's AWS credentials (and the settings' region); for a local run with none
    configured, the emulator's.

    Raises
    ------
    CommandError
        When the profile is unknown, or no credentials are found for a deployed API.
    """
    import botocore.session
    from botocore.credentials import Credentials
    from botocore.exceptions import BotoCoreError

    try:
        session = botocore.session.Session(profile=profile)
        found = session.get_credentials()
        region = session.get_config_variable("region")
    except BotoCoreError as exc:
        raise CommandError(str(exc)) from exc
    if found is None:
        if _is_loopback(urlsplit(api_url).hostname or ""):
            from newsroom_tools.emulator import FAKE_CREDENTIALS

            local = Credentials(
                FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
            )
            return local, region
        raise CommandError(
            "no AWS credentials found: configure them (aws configure, AWS_PROFILE, "
            "--profile) for a user or role with the stack's ModeratorPolicy"
        )
    return found, region


def call(
    method: str,
    url: str,
    *,
    creds: Credentials,
    region: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> ApiAnswer:
    """Send one SigV4-signed request; the status and JSON body of its answer, whatever the
    status.

    Raises
    ------
    CommandError
        When the API cannot be reached, or answers something that is not JSON.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    data = None if body is None else json.dumps(body).encode()
    sent = dict(headers or {})
    if data is not None:
        sent["Content-Type"] = "application/json"
    signed = AWSRequest(method=method, url=url, data=data, headers=sent)
    SigV4Auth(creds.get_frozen_credentials(), SERVICE, region).add_auth(signed)
    outgoing = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked by the caller
        url, data=data, method=method, headers=dict(signed.headers.items())
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommandError(f"cannot reach {url}: {reason}") from exc
    if not raw:
        return ApiAnswer(status, None)
    try:
        return ApiAnswer(status, json.loads(raw))
    except ValueError as exc:
        raise CommandError(f"{method} {url} answered {status}, not JSON: {raw[:200]!r}") from exc


def error_message(answer: ApiAnswer) -> str:
    """The API's error as one line: its code, message and each detail's field and message."""
    error = (answer.body or {}).get("error") if isinstance(answer.body, dict) else None
    if not isinstance(error, dict):
        return f"the API answered {answer.status}"
    line = f"{error.get('message', '')} ({error.get('code', answer.status)})"
    for detail in error.get("details") or []:
        line += f"\n  {detail.get('field')}: {detail.get('message')}"
    return line


def _request_for(args: argparse.Namespace, base: str) -> tuple[str, str, dict[str, Any] | None]:
    """(method, URL, body) of the command."""
    article = f"{base}/admin/articles/{args.slug}"
    command = args.subcommand
    if command in ("register", "update"):
        return "PUT", article, registration(args)
    if command in ("close", "open"):
        return "POST", f"{article}/{command}", None
    return "DELETE", article + ("?comments=delete" if args.with_comments else ""), None


_DONE = {
    "register": "registered",
    "update": "updated",
    "close": "closed comments on",
    "open": "opened comments on",
}


def summary(command: str, slug: str, article: dict[str, Any]) -> str:
    state = "open" if article.get("comments_open") else "closed"
    return (
        f"{_DONE[command]} {slug}: {article.get('url') or '(no url)'}, comments {state}, "
        f"{article.get('comment_count', 0)} approved, revision {article.get('revision')}"
    )


def run(args: argparse.Namespace) -> int:
    """Call the admin API; 0 when done, 1 when the API refused or could not be reached (its
    error printed), 2 when the command line is at fault (nothing sent)."""
    command = args.subcommand
    try:
        if not args.api_url:
            raise CommandError(f"give --api-url (the stack's ApiUrl) or set ${API_URL_VARIABLE}")
        base = args.api_url.rstrip("/")
        if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname:
            raise CommandError(f"--api-url must be an http(s) URL, not {args.api_url!r}")
        method, url, body = _request_for(args, base)
        creds, default_region = credentials(args.profile, base)
        region = region_of(base, args.region, default_region)
    except CommandError as exc:
        print(f"error: {exc} (nothing was sent)", file=sys.stderr)
        return 2
    headers = {"register": {"If-None-Match": "*"}, "update": {"If-Match": "*"}}.get(command)
    try:
        answer = call(method, url, creds=creds, region=region, body=body, headers=headers)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if answer.status >= 400:
        print(f"error: {method} {url}: {error_message(answer)}", file=sys.stderr)
        if answer.status == 412 and command == "register":
            print(f"  (to change it: newsroom articles update {args.slug} ...)", file=sys.stderr)
        return 1
    if args.json and answer.body is not None:
        print(json.dumps(answer.body, indent=2))
    elif command == "delete":
        print(f"deleted {args.slug}" + (" and its comments" if args.with_comments else ""))
    else:
        print(summary(command, args.slug, answer.body))
    return 0
