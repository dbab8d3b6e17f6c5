"""The API on the site's own domain and behind CloudFront, as API Gateway and CloudFront present
requests to the functions (docs/domain.md).

A custom domain's base path mapping (`DomainBasePath`) stays in the event's `path` (API Gateway
strips it only to pick the route); the local run serves the API under it as the deployed domain
does. Behind the stack's CloudFront distribution (`Cdn=on`) API Gateway's source IP is the edge's;
the reader's comes in the distribution's headers, which count only with its origin secret.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import feedparser
import pytest

from newsroom_tools.runner import PSEUDO_PARAMETERS, LocalSystem, free_port
from tests.http_client import Reply, loopback_address, request
from tests.local_runs import own_table_prefix

pytestmark = pytest.mark.integration

SLUG = "storm-isolde-clean-up"  # a demo article, open for comments
DOMAIN = "comments.example.com"
LINK = re.compile(r"https?://\S+/links/[A-Za-z0-9._%-]+")
# What the template's TRUSTED_EDGE_SECRET and the distribution's header are in a local run:
# the stack id's last part.
EDGE_SECRET = PSEUDO_PARAMETERS["AWS::StackId"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def mapped() -> Iterator[LocalSystem]:
    """The API as on comments.example.com/api (DomainName, DomainBasePath)."""
    parameters = {"DomainName": DOMAIN, "DomainBasePath": "api"}
    with LocalSystem(
        emulator_port=free_port(), table_prefix=own_table_prefix(), parameters=parameters
    ) as running:
        yield running


def comment(unique: str, **fields: object) -> dict[str, object]:
    return {
        "author_name": "Morwenna",
        "author_email": f"reader-{unique}@example.org",
        "body": f"Seen from the quay {unique}.",
    } | fields


def post(url: str, body: dict[str, object], **options: object) -> Reply:
    return request(url, method="POST", json_body=body, **options)  # type: ignore[arg-type]


def test_the_api_answers_under_its_base_path_and_not_beside_it(mapped: LocalSystem) -> None:
    assert urlsplit(mapped.api_url).path == "/api"

    assert request(f"{mapped.api_url}/articles/{SLUG}").status == 200
    assert request(f"{mapped.api_url}/articles").json()["items"]
    # API Gateway's answer outside every mapping of the domain
    outside = request(f"{mapped.root_url}/articles/{SLUG}")
    assert outside.status == 403
    assert "/api/" in outside.json()["error"]["message"]


def test_a_posted_comments_location_stays_under_the_base_path(mapped: LocalSystem) -> None:
    unique = uuid.uuid4().hex[:8]
    comments_url = f"{mapped.api_url}/articles/{SLUG}/comments"

    posted = post(comments_url, comment(unique), source_ip=loopback_address())

    assert posted.status == 201, posted.text
    location = urljoin(comments_url, posted.headers["location"])
    assert location == f"{comments_url}/{posted.json()['id']}"
    # pending: the function's own 404, not the gateway's 403 for a path outside the mapping
    assert request(location).json()["error"]["code"] == "comment_not_found"


def test_links_in_emails_and_feeds_stay_under_the_base_path(mapped: LocalSystem) -> None:
    unique = uuid.uuid4().hex[:8]
    posted = post(
        f"{mapped.api_url}/articles/{SLUG}/comments",
        comment(unique),
        source_ip=loopback_address(),
    )
    assert posted.status == 201, posted.text

    # The moderation email's links, and the feeds': to this local run (the functions share one
    # environment here, whose PUBLIC_BASE_URL is the local API's, so that links can be
    # followed), under the base path; deployed, https://<DomainName>/api
    # (tests/unit/test_template_domain.py)
    mapped.wait_for_streams()
    assert mapped.outbox is not None
    (moderation,) = [e for e in mapped.outbox.emails() if unique in (e.text or "")]
    links = LINK.findall(moderation.text or "")
    assert links
    assert all(link.startswith(f"{mapped.api_url}/links/") for link in links), links
    opened = request(links[0])
    assert opened.status == 200, opened.text

    feed = feedparser.parse(request(f"{mapped.api_url}/feed").body)
    assert feed.entries
    assert all(e.link.startswith(f"{mapped.api_url}/articles/") for e in feed.entries)


# Behind CloudFront


@pytest.fixture(scope="module")
def behind_cdn() -> Iterator[LocalSystem]:
    with LocalSystem(
        emulator_port=free_port(), table_prefix=own_table_prefix(), parameters={"Cdn": "on"}
    ) as running:
        yield running


def through_the_edge(
    system: LocalSystem,
    unique: str,
    *,
    reader: str,
    edge: str,
    secret: str = EDGE_SECRET,
    header: str = "CloudFront-Viewer-Address",
) -> Reply:
    """A comment as the distribution forwards it: from the edge's address, with the origin
    secret and the reader's address in `header`."""
    value = f"{reader}:50312" if header == "CloudFront-Viewer-Address" else reader
    return post(
        f"{system.api_url}/articles/{SLUG}/comments",
        comment(unique),
        headers={"X-Newsroom-Edge": secret, header: value},
        source_ip=edge,
    )


@pytest.mark.parametrize("header", ["CloudFront-Viewer-Address", "X-Forwarded-For"])
def test_flood_control_counts_readers_behind_one_edge_apart(
    behind_cdn: LocalSystem, header: str
) -> None:
    edge = loopback_address()
    suffix = uuid.uuid4().hex[:6]
    first_reader = f"198.51.{int(suffix[:2], 16)}.{int(suffix[2:4], 16) or 1}"
    second_reader = f"203.0.{int(suffix[:2], 16)}.{int(suffix[2:4], 16) or 1}"

    # Given a reader's comment that came through the distribution
    first = through_the_edge(
        behind_cdn, f"a{suffix}", reader=first_reader, edge=edge, header=header
    )
    assert first.status == 201, first.text

    # When another reader comments through the same edge at once
    other = through_the_edge(
        behind_cdn, f"b{suffix}", reader=second_reader, edge=edge, header=header
    )
    # Then that is a different reader
    assert other.status == 201, other.text

    # But the first reader again, through another edge, is within the flood interval
    again = through_the_edge(
        behind_cdn, f"c{suffix}", reader=first_reader, edge=loopback_address(), header=header
    )
    assert again.status == 429, again.text
    assert again.json()["error"]["code"] == "comment_flood"


@pytest.mark.parametrize("secret", ["", "not-the-distribution"])
def test_an_address_named_without_the_distributions_secret_is_not_believed(
    behind_cdn: LocalSystem, secret: str
) -> None:
    caller = loopback_address()
    suffix = uuid.uuid4().hex[:6]

    # Given a caller who reaches the API directly and names a reader's address
    first = through_the_edge(
        behind_cdn, f"a{suffix}", reader="192.0.2.10", edge=caller, secret=secret
    )
    assert first.status == 201, first.text

    # When it posts again naming another address
    second = through_the_edge(
        behind_cdn, f"b{suffix}", reader="192.0.2.11", edge=caller, secret=secret
    )

    # Then flood control counts the caller's own address
    assert second.status == 429, second.text
    assert second.json()["error"]["code"] == "comment_flood"
