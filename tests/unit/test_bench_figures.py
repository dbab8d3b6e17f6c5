"""make bench's arithmetic (tests/bench/figures.py): pairs and verdicts."""

from __future__ import annotations

import pytest

from tests.bench.figures import OK, OVER, Run, compare, verdict


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


def test_one_slow_pair_does_not_move_the_median_ratio() -> None:
    pairs = [(Run(0.2, 40_000), Run(0.3, 40_000))] * 6 + [(Run(0.2, 40_000), Run(2.0, 40_000))]

    assert compare(pairs).time_ratio == pytest.approx(1.5)


def test_no_pairs_are_refused() -> None:
    with pytest.raises(ValueError, match="no runs"):
        compare([])


def test_a_ratio_at_its_target_is_ok_and_above_it_is_over() -> None:
    assert verdict(1.7, 1.7) == OK
    assert verdict(1.71, 1.7) == OVER
