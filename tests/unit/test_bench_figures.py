"""The benches' arithmetic (tests/bench/figures.py): pairs, verdicts, import times, and the
spread, luck and device estimates of make bench-altcha."""

from __future__ import annotations

import pytest

from tests.bench.figures import (
    OK,
    OVER,
    Run,
    Spread,
    added_imports,
    attempts_at_quantile,
    compare,
    parse_importtime,
    per_attempt,
    scaled_by_device,
    self_time_by_package,
    spread,
    verdict,
)


def test_the_judged_ratio_is_the_median_of_the_pairs_ratios_so_machine_drift_cancels_out() -> None:
    # Given a machine that slows down threefold halfway, the program always 1.5x its baseline
    pairs = [
        (Run(0.2, 40_000), Run(0.3, 52_000)),
        (Run(0.2, 40_000), Run(0.3, 52_000)),
        (Run(0.6, 40_000), Run(0.9, 52_000)),
        (Run(0.6, 40_000), Run(0.9, 52_000)),
        (Run(0.6, 40_000), Run(0.9, 52_000)),
    ]

    # When
    comparison = compare(pairs)

    # Then the ratio is the program's, and the raw medians are each side's
    assert comparison.time_ratio == pytest.approx(1.5)
    assert comparison.memory_ratio == pytest.approx(1.3)
    assert comparison.baseline == Run(0.6, 40_000)
    assert comparison.program == Run(0.9, 52_000)
    assert comparison.pairs == 5


def test_one_slow_pair_does_not_move_the_median_ratio_but_shows_in_the_range() -> None:
    pairs = [(Run(0.2, 40_000), Run(0.3, 40_000))] * 6 + [(Run(0.2, 40_000), Run(2.0, 40_000))]

    comparison = compare(pairs)

    assert comparison.time_ratio == pytest.approx(1.5)
    assert comparison.time_ratio_range == pytest.approx((1.5, 10.0))


def test_no_pairs_are_refused() -> None:
    with pytest.raises(ValueError, match="no runs"):
        compare([])


def test_a_ratio_at_its_target_is_ok_and_above_it_is_over() -> None:
    assert verdict(1.7, 1.7) == OK
    assert verdict(1.71, 1.7) == OVER


# What `python -X importtime` writes: an import after those it made, indented one level less.
IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |   _json
import time:       500 |        600 | json
import time:      3000 |       3000 |       botocore.model
import time:      1000 |       4000 |     botocore
import time:       200 |       4200 |   boto3
import time:      7000 |       7000 |     pydantic_core
import time:      2000 |       9000 |   pydantic
import time:       300 |      13500 | app
import time:      4000 |       4000 |   email_validator.syntax
import time:       100 |       4100 | email_validator
"""


def test_each_import_knows_the_import_that_made_it() -> None:
    imports = parse_importtime(IMPORTTIME)

    importers = {entry.module: entry.importer for entry in imports}
    assert importers == {
        "_json": "json",
        "json": None,
        "botocore.model": "botocore",
        "botocore": "boto3",
        "boto3": "app",
        "pydantic_core": "pydantic",
        "pydantic": "app",
        "app": None,
        "email_validator.syntax": "email_validator",
        "email_validator": None,
    }
    assert imports[-2].self_us == 4000
    assert imports[-2].cumulative_us == 4000


def test_added_imports_count_only_what_the_baseline_does_not_import() -> None:
    # Given a baseline that imports json, boto3 and its own app module
    baseline = {"_json", "json", "botocore.model", "botocore", "boto3", "app"}

    # When
    added = added_imports(parse_importtime(IMPORTTIME), baseline)

    # Then boto3 costs nothing more, pydantic counts with what it imports, and an import the
    # request made (outside any other) is there too
    assert [(item.entry.module, item.added_us) for item in added] == [
        ("pydantic", 9000),
        ("pydantic_core", 7000),
        ("email_validator", 4100),
        ("email_validator.syntax", 4000),
    ]


def test_added_imports_are_the_top_few() -> None:
    added = added_imports(parse_importtime(IMPORTTIME), {"app"}, top=2)

    assert [item.entry.module for item in added] == ["pydantic", "pydantic_core"]


def test_self_time_by_package_counts_each_microsecond_once_biggest_first() -> None:
    totals = self_time_by_package(parse_importtime(IMPORTTIME))

    assert list(totals.items()) == [
        ("pydantic_core", 7000),
        ("email_validator", 4100),
        ("botocore", 4000),
        ("pydantic", 2000),
        ("json", 500),
        ("app", 300),
        ("boto3", 200),
        ("_json", 100),
    ]


def test_the_spread_is_the_median_and_the_90th_percentile_between_the_nearest_timings() -> None:
    # Given eleven timings, 1 to 11 ms, in no order
    timings = [7.0, 1.0, 11.0, 3.0, 5.0, 9.0, 2.0, 10.0, 4.0, 8.0, 6.0]

    # When
    summary = spread(timings)

    # Then the median is the middle one and the 90th percentile the tenth of eleven
    assert summary == Spread(median=6.0, p90=10.0, runs=11)


def test_the_90th_percentile_of_few_timings_stays_within_them() -> None:
    assert spread([2.0, 4.0]).p90 == pytest.approx(3.8)
    assert spread([5.0]) == Spread(5.0, 5.0, 1)
    with pytest.raises(ValueError, match="no runs"):
        spread([])


def test_the_time_of_one_attempt_weighs_each_solve_by_its_attempts() -> None:
    # Given a lucky solve (1 attempt, 3 ms of it overhead) and a long one (299 attempts)
    times, attempts = [4.0, 300.0], [1, 299]

    # When / Then: 304 ms over 300 attempts, not the mean of 4 and 1.003 ms
    assert per_attempt(times, attempts) == pytest.approx(304 / 300)
    with pytest.raises(ValueError, match="no attempts"):
        per_attempt([], [])


def test_half_the_solves_of_a_one_byte_prefix_end_within_178_attempts_nine_in_ten_589() -> None:
    assert attempts_at_quantile(2, 0.5) == 178
    assert attempts_at_quantile(2, 0.9) == 589
    # One hex digit: a chance of 1/16 an attempt
    assert attempts_at_quantile(1, 0.5) == 11
    with pytest.raises(ValueError, match="quantile"):
        attempts_at_quantile(2, 1.0)


def test_a_device_estimate_is_the_measured_time_scaled_by_its_time_over_the_reference() -> None:
    # Given ALTCHA's times for the same work, and 200 ms measured on a machine like the EC2 one
    devices = {"EC2": 1.0, "phone": 2.5, "laptop": 0.33}

    # When
    estimates = scaled_by_device(200.0, devices, reference="EC2")

    # Then each is 200 ms times its time over the EC2's
    assert estimates == pytest.approx({"EC2": 200.0, "phone": 500.0, "laptop": 66.0})
