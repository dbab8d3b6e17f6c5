"""The cost model (`newsroom costs`): its arithmetic on a case worked by hand, and docs/costs.md
carrying exactly the table it prints now."""

from __future__ import annotations

import re

import pytest

from newsroom_tools import costs
from newsroom_tools.cli import build_parser
from newsroom_tools.template import PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "costs.md"
BEGIN, END = "<!-- newsroom costs: begin -->", "<!-- newsroom costs: end -->"


def one_route_workload() -> costs.Workload:
    """Two requests per page view of one route on a 2 GB function, 500 ms, 4 read and 1 write
    units, 500 KB answers, 1 MB of logs each; 1 comment per 100 page views, 2 emails each."""
    route = costs.Route(
        name="GET /thing",
        per_page_view=2,
        function="F",
        ms=500,
        rru=4,
        wru=1,
        kb=500,
        why="test",
        cacheable=True,
        log_kb=1000,
    )
    return costs.Workload(
        routes=(route,),
        comments_per_page_view=0.01,
        emails_per_comment=2,
        cdn_hit_ratio=0.75,
        stored_kb_per_comment=1000,
        storage_months=12,
        memory_mb={"F": 2048},
    )


def test_a_month_of_one_route_costs_what_the_hand_computation_says() -> None:
    # Given 1,000 page views a day: 30,000 a month, 60,000 requests, 300 comments
    workload = one_route_workload()

    # When
    cost = costs.monthly_usage(1000, cdn=False, tracing=False, workload=workload).cost()

    # Then
    assert cost["apigw_rest_requests"] == pytest.approx(60_000 * 3.50 / 1e6)  # 0.21
    assert cost["lambda_requests"] == pytest.approx(60_000 * 0.20 / 1e6)  # 0.012
    # 60,000 x 0.5 s x 2 GB = 60,000 GB-s
    assert cost["lambda_arm_gb_seconds"] == pytest.approx(60_000 * 0.0000133334)
    assert cost["dynamodb_read_units"] == pytest.approx(240_000 * 0.125 / 1e6)
    assert cost["dynamodb_write_units"] == pytest.approx(60_000 * 0.625 / 1e6)
    assert cost["cloudwatch_logs_gb"] == pytest.approx(60 * 0.50)  # 60 GB of logs
    assert cost["data_transfer_out_gb"] == pytest.approx(30 * 0.09)  # 30 GB of answers
    assert cost["ses_emails"] == pytest.approx(600 * 0.10 / 1000)
    assert cost["dynamodb_storage"] == pytest.approx(3.6 * 0.25)  # 300 x 12 x 1 MB
    assert cost["cloudfront_https_requests"] == cost["cloudfront_gb"] == 0
    assert cost["xray_traces"] == 0


def test_with_the_cdn_only_misses_reach_the_api_and_every_answer_leaves_cloudfront() -> None:
    # Given a hit ratio of 3/4
    workload = one_route_workload()

    # When
    cost = costs.monthly_usage(1000, cdn=True, tracing=False, workload=workload).cost()

    # Then: 60,000 requests at the edge, 15,000 at the origin
    assert cost["cloudfront_https_requests"] == pytest.approx(60_000 * 0.01 / 10_000)
    assert cost["cloudfront_gb"] == pytest.approx(30 * 0.085)
    assert cost["apigw_rest_requests"] == pytest.approx(15_000 * 3.50 / 1e6)
    assert cost["lambda_arm_gb_seconds"] == pytest.approx(15_000 * 0.0000133334)
    assert cost["data_transfer_out_gb"] == 0  # API Gateway to CloudFront is free


def test_tracing_records_every_request_below_one_a_second_and_5_percent_beyond() -> None:
    workload = one_route_workload()

    # When: 2,000 requests a day (under the reservoir), then 200,000 a day (over it)
    low = costs.monthly_usage(1000, cdn=False, tracing=True, workload=workload).cost()
    high = costs.monthly_usage(100_000, cdn=False, tracing=True, workload=workload).cost()

    # Then
    assert low["xray_traces"] == pytest.approx(60_000 * 5 / 1e6)
    assert high["xray_traces"] == pytest.approx((86_400 + 0.05 * 113_600) * 30 * 5 / 1e6)


def test_memory_comes_from_the_template() -> None:
    memory = costs.template_memory_mb()

    assert set(memory) >= {
        "ArticlesFunction",
        "CommentsFunction",
        "NotificationsFunction",
        "DeliveryEventsFunction",
    }
    assert all(mb >= 128 for mb in memory.values())


def test_every_price_is_dated_sourced_and_says_when_it_is_unverified() -> None:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", costs.PRICES_READ_ON)
    for price in costs.PRICES.values():
        assert price.usd > 0
        assert price.per > 0
        assert price.source.startswith("aws.amazon.com/")


def test_docs_costs_md_carries_the_table_the_script_prints_now() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1, "the begin marker is missing in docs/costs.md"
    assert text.count(END) == 1, "the end marker is missing in docs/costs.md"
    between = text.split(BEGIN, 1)[1].split(END, 1)[0]

    assert between.strip() == costs.render().strip(), (
        "docs/costs.md is out of date: paste the output of `newsroom costs` between its markers"
    )


def test_the_newsroom_costs_command_prints_the_tables(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["costs", "--assumptions"])

    assert args.run(args) == 0

    out = capsys.readouterr().out
    assert out.startswith(costs.render())
    assert "POST /articles/{slug}/comments" in out
