"""The `newsroom costs` command: what a month of newsroom costs at list prices, for 10 thousand,
100 thousand and 1 million page views a day, from a stated model of what one page view costs.

Every number the model uses is here, named and explained: the prices (dated, one region, each
with the page it was read from, or "[unverified]" where no AWS page confirmed it), and the
workload (requests per page view to each route, comments per page view, emails per comment,
DynamoDB request units per request, Lambda durations). The memory of each function is read
from template.yaml. docs/costs.md holds the table this prints (a unit test keeps them equal)
and the assumptions written out. The free tier is ignored throughout.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

REGION = "us-east-1"
PRICES_READ_ON = "2026-12-02"
DAYS_PER_MONTH = 30
PAGE_VIEWS_PER_DAY = (10_000, 100_000, 1_000_000)


@dataclass(frozen=True)
class Price:
    """One list price in `REGION`: `usd` per `per` units of `unit`."""

    usd: float
    per: float
    unit: str
    source: str

    def cost(self, quantity: float) -> float:
        return self.usd * quantity / self.per


# List prices, us-east-1, on-demand, first tier (each is the lowest-volume tier, which is what
# these volumes stay in), free tier ignored. "[unverified]": no AWS page in reach confirmed the
# figure; it is the figure third-party transcriptions of the AWS page give, named in `source`.
PRICES: dict[str, Price] = {
    # https://aws.amazon.com/api-gateway/pricing/ renders its table with scripts; the figure is
    # the first tier (up to 333 million a month) as transcribed by
    # https://raw.githubusercontent.com/api-evangelist/aws-api-gateway/refs/heads/main/plans/aws-api-gateway-plans-pricing.yml
    "apigw_rest_requests": Price(
        3.50, 1e6, "REST API requests", "aws.amazon.com/api-gateway/pricing [unverified]"
    ),
    # Arm: $0.0000133334 per GB-second, as https://app.unpkg.com/artillery@2.0.28/files/lib/platform/aws-lambda/prices.js
    # transcribes https://aws.amazon.com/lambda/pricing/ (whose table is rendered by scripts).
    "lambda_arm_gb_seconds": Price(
        0.0000133334, 1, "GB-seconds (arm64)", "aws.amazon.com/lambda/pricing [unverified]"
    ),
    # $0.20 per million requests (both architectures), the same page [unverified].
    "lambda_requests": Price(
        0.20, 1e6, "Lambda requests", "aws.amazon.com/lambda/pricing [unverified]"
    ),
    # https://aws.amazon.com/dynamodb/pricing/on-demand/ defines the units (a write unit per
    # 1 KB, a read unit per 4 KB strongly consistent, half for eventually consistent, double
    # for transactions); its rates render by script: these are the on-demand rates since the
    # November 2024 reduction [unverified].
    "dynamodb_write_units": Price(
        0.625, 1e6, "write request units", "aws.amazon.com/dynamodb/pricing/on-demand [unverified]"
    ),
    "dynamodb_read_units": Price(
        0.125, 1e6, "read request units", "aws.amazon.com/dynamodb/pricing/on-demand [unverified]"
    ),
    "dynamodb_storage": Price(
        0.25, 1, "GB-month stored", "aws.amazon.com/dynamodb/pricing/on-demand [unverified]"
    ),
    # $0.10 per 1,000 outbound emails: https://gist.github.com/Kovah/876677c862cde81bfd43574043e20fe4
    # and https://aws.amazon.com/ses/pricing/ (rendered by scripts) [unverified].
    "ses_emails": Price(0.10, 1000, "emails sent", "aws.amazon.com/ses/pricing [unverified]"),
    # https://aws.amazon.com/cloudfront/pricing: United States, Mexico and Canada, first 10 TB.
    "cloudfront_gb": Price(0.085, 1, "GB out (North America)", "aws.amazon.com/cloudfront/pricing"),
    # HTTPS requests, United States: $0.0100 per 10,000 (the same page's request table, which
    # the copy in reach cuts off) [unverified].
    "cloudfront_https_requests": Price(
        0.0100, 10_000, "HTTPS requests", "aws.amazon.com/cloudfront/pricing [unverified]"
    ),
    # https://aws.amazon.com/de/xray/pricing/: $5 per million traces recorded.
    "xray_traces": Price(5.00, 1e6, "traces recorded", "aws.amazon.com/xray/pricing"),
    # Standard log class ingestion, $0.50 per GB: https://c3x.dev/blog/cloudwatch-logs-cost-optimization
    # transcribing https://aws.amazon.com/cloudwatch/pricing/ [unverified]. Storage ($0.03 per
    # GB-month) is left out: LogRetentionDays keeps a month by default, cents at these volumes.
    "cloudwatch_logs_gb": Price(
        0.50, 1, "GB of logs ingested", "aws.amazon.com/cloudwatch/pricing [unverified]"
    ),
    # Data transfer out to the internet from the region (API Gateway answers without CloudFront),
    # first 10 TB: $0.09 per GB, https://aws.amazon.com/ec2/pricing/on-demand/ [unverified].
    # From API Gateway to CloudFront (an AWS origin) it is free.
    "data_transfer_out_gb": Price(
        0.09, 1, "GB out to the internet", "aws.amazon.com/ec2/pricing/on-demand [unverified]"
    ),
}


@dataclass(frozen=True)
class Route:
    """One kind of request and what it costs each time.

    `per_page_view` requests per page view; `function` the template's function that answers it
    (None: answered by no function); `ms` its average billed duration; `rru`/`wru` the DynamoDB
    read/write request units one request takes (indexes included); `kb` the answer's size on
    the wire; `cacheable` whether CloudFront (Cdn on) may answer it from the edge; `log_kb` what
    one request writes to CloudWatch Logs (the function's lines, Lambda's START/END/REPORT, the
    API's access log line); `api` whether it passes through API Gateway; `invocation` whether
    each is a Lambda invocation of its own (an email is sent within a stream invocation: its
    time and units, not another request or trace).
    """

    name: str
    per_page_view: float
    function: str | None
    ms: float
    rru: float
    wru: float
    kb: float
    why: str
    cacheable: bool = False
    log_kb: float = 1.5
    api: bool = True
    invocation: bool = True


@dataclass(frozen=True)
class Workload:
    """What page views cause. See `DEFAULT_WORKLOAD` for the figures and why."""

    routes: tuple[Route, ...]
    comments_per_page_view: float
    emails_per_comment: float
    # Share of cacheable requests CloudFront answers from the edge (Cdn on).
    cdn_hit_ratio: float
    # Bytes each comment keeps in the table, with its indexes, and how many months of comments
    # the table holds (storage grows; the table shows it after `storage_months`).
    stored_kb_per_comment: float
    storage_months: float
    # Traced share of requests with Tracing on: X-Ray's default rule records the first request
    # each second and 5% of the rest; the model spreads the day's requests evenly over it.
    xray_reservoir_per_second: float = 1.0
    xray_rate: float = 0.05
    memory_mb: Mapping[str, int] = field(default_factory=dict)


COMMENTS_PER_PAGE_VIEW = 0.002  # 2 comments per 1,000 page views
HELD_SHARE = 0.3  # comments the moderation policy holds for a moderator
THREAD_SHARE = 0.6  # page views whose reader scrolls near the thread (the widget loads it then)
FORM_FOCUS_PER_COMMENT = 2  # readers who start a comment, per comment posted
EMAILS_PER_HELD_COMMENT = 1.0  # one moderator address in ModeratorEmails
EMAILS_PER_PUBLIC_COMMENT = 0.6  # article's author (0.5), reply notices and confirmations (0.1)
EMAILS_PER_COMMENT = (
    HELD_SHARE * EMAILS_PER_HELD_COMMENT + (1 - HELD_SHARE) * EMAILS_PER_PUBLIC_COMMENT
)
# Stream invocations per comment: its insert, a held comment's approval, a reply counted on
# its parent (a MODIFY the function reads and ignores); batches of one at these rates.
STREAM_INVOCATIONS_PER_COMMENT = 1 + HELD_SHARE + 0.3


def _routes() -> tuple[Route, ...]:
    c = COMMENTS_PER_PAGE_VIEW
    return (
        Route(
            "GET /embed/comments.js",
            0.5,
            "ArticlesFunction",
            5,
            0,
            0,
            10,
            "the snippet's unversioned URL: a browser keeps it 5 minutes (PLAIN_MAX_AGE_SECONDS), "
            "so about every second page view fetches it; 10 KB gzipped",
            cacheable=True,
        ),
        Route(
            "GET /embed/comments.css",
            0.2,
            "ArticlesFunction",
            5,
            0,
            0,
            2.2,
            "versioned URL kept a year: a new visitor's first page view",
            cacheable=True,
        ),
        Route(
            "GET /comment-counts",
            THREAD_SHARE,
            "CommentsFunction",
            20,
            0.5,
            0,
            0.3,
            "one eventually consistent BatchGetItem of the article's few count attributes "
            "(under 4 KB: half a unit), asked with the thread",
            cacheable=True,
        ),
        Route(
            "GET /articles/{slug}/comments",
            THREAD_SHARE,
            "CommentsFunction",
            30,
            1.5,
            0,
            4,
            "one Query of gsi2 (eventually consistent): about 10 approved comments of 1 KB, "
            "3 blocks of 4 KB at half a unit",
            cacheable=True,
        ),
        Route(
            "GET /embed/form.js",
            FORM_FOCUS_PER_COMMENT * c,
            "ArticlesFunction",
            5,
            0,
            0,
            2,
            "loaded on the form's first focus (versioned, kept a year; counted each time)",
            cacheable=True,
        ),
        Route(
            "GET /form-token, GET /challenge",
            2 * FORM_FOCUS_PER_COMMENT * c,
            "CommentsFunction",
            10,
            0,
            0,
            0.3,
            "both asked on the form's first focus, answered 404 while MinimumFormSeconds and "
            "Altcha are off; signed tokens, no table read; never cached",
        ),
        Route(
            "POST /articles/{slug}/comments",
            c,
            "CommentsFunction",
            150,
            2,
            28,
            0.5,
            "BatchGetItem of the article and commenter profile (2 units); one transaction "
            "(2 units per KB per item) of the article's count or check (4 KB item: 8), two flood "
            "guards (4), the duplicate guard (2), the comment (2 KB: 4), its sender data (2), the "
            "profile (approved ones: 1.4); index writes of the comment (gsi3 2, gsi2 1.4, gsi4 1); "
            "Powertools idempotency record put and completed (2)",
        ),
        Route(
            "moderation of a held comment (link, POST /admin/...)",
            c * HELD_SHARE,
            "CommentsFunction",
            80,
            1,
            14,
            0.5,
            "GetItem of the comment; one transaction changing its status, the article's count, "
            "the profile and the spent link token; its index entries rewritten",
        ),
        Route(
            "notifications (stream, per invocation)",
            c * STREAM_INVOCATIONS_PER_COMMENT,
            "NotificationsFunction",
            60,
            2,
            0,
            0,
            "the BatchGetItem of the article, parent and restore record; the emails' own units "
            "are the next line",
            log_kb=2,
            api=False,
        ),
        Route(
            "an email sent (SES SendEmail from the stream)",
            c * EMAILS_PER_COMMENT,
            "NotificationsFunction",
            250,
            1,
            4,
            0,
            "the suppression read; the ledger claim and its settling (each an item of 1 KB and "
            "an index entry)",
            log_kb=0.5,
            api=False,
            invocation=False,
        ),
        Route(
            "SES delivery event (EventBridge, SQS, per email)",
            c * EMAILS_PER_COMMENT,
            "DeliveryEventsFunction",
            30,
            1,
            2,
            0,
            "the ledger entry found by its SESMSG# pointer, its delivery state written",
            api=False,
        ),
    )


DEFAULT_WORKLOAD = Workload(
    routes=_routes(),
    comments_per_page_view=COMMENTS_PER_PAGE_VIEW,
    emails_per_comment=EMAILS_PER_COMMENT,
    cdn_hit_ratio=0.9,
    stored_kb_per_comment=4,
    storage_months=12,
)


@cache
def template_memory_mb() -> dict[str, int]:
    """Each function's MemorySize in template.yaml (its own, or the Globals')."""
    from newsroom_tools.template import load_template, resources

    template = load_template()
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    return {
        name: int(spec.get("Properties", {}).get("MemorySize", default))
        for name, spec in resources(template, "AWS::Serverless::Function").items()
    }


def _memory_gb(workload: Workload, function: str) -> float:
    memory = workload.memory_mb or template_memory_mb()
    return memory[function] / 1024


@dataclass(frozen=True)
class Usage:
    """A month's billed quantities, by price name."""

    quantities: dict[str, float]

    def cost(self, prices: Mapping[str, Price] = PRICES) -> dict[str, float]:
        return {name: prices[name].cost(q) for name, q in self.quantities.items()}


def monthly_usage(
    page_views_per_day: float, *, cdn: bool, tracing: bool, workload: Workload = DEFAULT_WORKLOAD
) -> Usage:
    """What a month (`DAYS_PER_MONTH`) of `page_views_per_day` bills, Cdn and Tracing as given."""
    views = page_views_per_day * DAYS_PER_MONTH
    q = dict.fromkeys(PRICES, 0.0)
    comments = views * workload.comments_per_page_view
    traced_sources: dict[str, float] = {}
    for route in workload.routes:
        requests = views * route.per_page_view
        # With Cdn on every reader request reaches CloudFront; only a cacheable one's hits stay
        # there, the rest goes on to API Gateway.
        origin = requests
        if cdn and route.api:
            q["cloudfront_https_requests"] += requests
            q["cloudfront_gb"] += requests * route.kb / 1e6
            if route.cacheable:
                origin = requests * (1 - workload.cdn_hit_ratio)
        elif route.api:
            q["data_transfer_out_gb"] += requests * route.kb / 1e6
        if route.api:
            q["apigw_rest_requests"] += origin
        if route.function is not None:
            if route.invocation:
                q["lambda_requests"] += origin
            q["lambda_arm_gb_seconds"] += (
                origin * route.ms / 1000 * _memory_gb(workload, route.function)
            )
        q["dynamodb_read_units"] += origin * route.rru
        q["dynamodb_write_units"] += origin * route.wru
        q["cloudwatch_logs_gb"] += origin * route.log_kb / 1e6
        if route.function is not None and route.invocation:
            # The API stage samples the requests it passes on (the function follows its
            # decision); a stream- or event-invoked function samples its own invocations.
            source = "api" if route.api else route.function
            traced_sources[source] = traced_sources.get(source, 0.0) + origin
    if tracing:
        q["xray_traces"] = sum(
            _traced(requests / DAYS_PER_MONTH, workload) * DAYS_PER_MONTH
            for requests in traced_sources.values()
        )
    q["ses_emails"] = comments * workload.emails_per_comment
    q["dynamodb_storage"] = (
        comments * workload.storage_months * workload.stored_kb_per_comment / 1e6
    )
    return Usage(quantities=q)


def _traced(requests_per_day: float, workload: Workload) -> float:
    """Traces X-Ray records of a day's requests from one sampler under its default rule (the
    first request each second, `xray_rate` of the rest), the requests spread evenly."""
    reservoir = workload.xray_reservoir_per_second * 86_400
    if requests_per_day <= reservoir:
        return requests_per_day
    return reservoir + workload.xray_rate * (requests_per_day - reservoir)


# The table's lines: a label and the prices it adds up.
LINES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("API Gateway (REST requests)", ("apigw_rest_requests",)),
    ("Lambda arm64 (requests and GB-seconds)", ("lambda_requests", "lambda_arm_gb_seconds")),
    ("DynamoDB on demand (read and write units)", ("dynamodb_read_units", "dynamodb_write_units")),
    ("DynamoDB storage (a year of comments)", ("dynamodb_storage",)),
    ("SES (emails)", ("ses_emails",)),
    ("CloudWatch Logs (ingestion)", ("cloudwatch_logs_gb",)),
    ("Data transfer out (API Gateway to readers)", ("data_transfer_out_gb",)),
    ("CloudFront (requests and GB out)", ("cloudfront_https_requests", "cloudfront_gb")),
)


def _plain(number: float) -> str:
    return f"{number:.10f}".rstrip("0").rstrip(".")


def _money(usd: float) -> str:
    if usd == 0:
        return "-"
    if usd < 0.01:
        return "< $0.01"
    return f"${usd:,.2f}"


def table(*, cdn: bool, volumes: Sequence[int] = PAGE_VIEWS_PER_DAY) -> str:
    """The month's cost by line for each of `volumes` page views a day, Cdn as given, with the
    totals with Tracing off and on."""
    off = [monthly_usage(v, cdn=cdn, tracing=False).cost() for v in volumes]
    on = [monthly_usage(v, cdn=cdn, tracing=True).cost() for v in volumes]
    head = "| Per month (USD, 30 days) | " + " | ".join(f"{v:,} page views/day" for v in volumes)
    rows = [head + " |", "| --- |" + " ---: |" * len(volumes)]
    for label, names in LINES:
        rows.append(
            f"| {label} | " + " | ".join(_money(sum(c[n] for n in names)) for c in off) + " |"
        )
    rows.append(
        "| **Total, Tracing off** | "
        + " | ".join(f"**{_money(sum(c.values()))}**" for c in off)
        + " |"
    )
    rows.append(
        "| X-Ray (traces recorded, Tracing on) | "
        + " | ".join(_money(c["xray_traces"]) for c in on)
        + " |"
    )
    rows.append(
        "| **Total, Tracing on** | "
        + " | ".join(f"**{_money(sum(c.values()))}**" for c in on)
        + " |"
    )
    return "\n".join(rows)


def render() -> str:
    """The markdown docs/costs.md carries between its markers: both tables and the prices."""
    prices = "\n".join(
        f"| {p.unit} | ${_plain(p.usd)} per {p.per:,.0f} | {p.source} |" for p in PRICES.values()
    )
    return (
        f"Region {REGION}, list prices read on {PRICES_READ_ON}, free tier ignored.\n\n"
        "**Cdn off** (readers call API Gateway directly):\n\n"
        f"{table(cdn=False)}\n\n"
        "**Cdn on** (CloudFront in front; cacheable reads answered at the edge):\n\n"
        f"{table(cdn=True)}\n\n"
        "Prices used:\n\n"
        "| Unit | Price | Source |\n| --- | --- | --- |\n"
        f"{prices}\n"
    )


def per_page_view_summary(workload: Workload = DEFAULT_WORKLOAD) -> str:
    """The workload's routes as a markdown table (the assumptions docs/costs.md explains)."""
    rows = [
        "| Request | Per page view | Function | ms | RRU | WRU | KB | Why |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in workload.routes:
        rows.append(
            f"| {r.name} | {r.per_page_view:g} | {r.function or '-'} | {r.ms:g} | {r.rru:g} "
            f"| {r.wru:g} | {r.kb:g} | {r.why} |"
        )
    return "\n".join(rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--assumptions` prints the per-request table too."""
    parser.add_argument(
        "--assumptions",
        action="store_true",
        help="also print the requests, units and durations per page view the model assumes",
    )


def run(args: argparse.Namespace) -> int:
    """Print the cost tables (the markdown of docs/costs.md)."""
    print(render(), end="")
    if args.assumptions:
        print()
        print(per_page_view_summary())
    return 0
