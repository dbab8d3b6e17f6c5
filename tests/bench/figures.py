"""The bench's arithmetic: paired runs into medians and ratios, ratios against their targets.

Pure and standard library only (tests/unit/test_bench_figures.py).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

OK = "OK"
OVER = "OVER TARGET"


@dataclass(frozen=True)
class Run:
    """One cold start: seconds from spawn to the handler's return, and peak RSS in KiB."""

    seconds: float
    peak_kib: float


@dataclass(frozen=True)
class Comparison:
    """Alternating runs of a baseline and a program: the medians of each side's figures and the
    medians of the ratios of each program run to the baseline run just before it."""

    baseline: Run
    program: Run
    time_ratio: float
    memory_ratio: float
    pairs: int


def compare(pairs: Sequence[tuple[Run, Run]]) -> Comparison:
    """(baseline, program) runs, each pair measured one right after the other.

    The ratio of a pair moves little when the machine speeds up or slows down between pairs
    (other work on it), so its median is the figure to judge; the raw medians are for reading.
    """
    if not pairs:
        raise ValueError("no runs to compare")
    return Comparison(
        baseline=Run(
            statistics.median(base.seconds for base, _ in pairs),
            statistics.median(base.peak_kib for base, _ in pairs),
        ),
        program=Run(
            statistics.median(run.seconds for _, run in pairs),
            statistics.median(run.peak_kib for _, run in pairs),
        ),
        time_ratio=statistics.median(run.seconds / base.seconds for base, run in pairs),
        memory_ratio=statistics.median(run.peak_kib / base.peak_kib for base, run in pairs),
        pairs=len(pairs),
    )


def verdict(ratio: float, target: float) -> str:
    """OK when the ratio is at most its target."""
    return OK if ratio <= target else OVER
