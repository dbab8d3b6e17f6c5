"""The bench's arithmetic: paired runs into medians and ratios, ratios against their targets,
`python -X importtime` output into the imports a program adds to another's, and timings of a
proof of work into its spread, its luck and other devices' estimates.

Pure and standard library only (tests/unit/test_bench_figures.py).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
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
    medians of the ratios of each program run to the baseline run just before it, with the
    lowest and highest time ratio (how noisy the machine was)."""

    baseline: Run
    program: Run
    time_ratio: float
    memory_ratio: float
    pairs: int
    time_ratio_range: tuple[float, float]


def compare(pairs: Sequence[tuple[Run, Run]]) -> Comparison:
    """(baseline, program) runs, each pair measured one right after the other.

    The ratio of a pair moves little when the machine speeds up or slows down between pairs
    (other work on it), so its median is the figure to judge; the raw medians are for reading.
    """
    if not pairs:
        raise ValueError("no runs to compare")
    time_ratios = [run.seconds / base.seconds for base, run in pairs]
    return Comparison(
        baseline=Run(
            statistics.median(base.seconds for base, _ in pairs),
            statistics.median(base.peak_kib for base, _ in pairs),
        ),
        program=Run(
            statistics.median(run.seconds for _, run in pairs),
            statistics.median(run.peak_kib for _, run in pairs),
        ),
        time_ratio=statistics.median(time_ratios),
        memory_ratio=statistics.median(run.peak_kib / base.peak_kib for base, run in pairs),
        pairs=len(pairs),
        time_ratio_range=(min(time_ratios), max(time_ratios)),
    )


def verdict(ratio: float, target: float) -> str:
    """OK when the ratio is at most its target."""
    return OK if ratio <= target else OVER


@dataclass(frozen=True)
class Import:
    """One line of `python -X importtime`: a module, the microseconds its import took by itself
    and with the imports it made (cumulative), how deeply it is nested, and the module whose
    import made it (None for an import made outside any other: the handler module, or one the
    request made)."""

    module: str
    self_us: int
    cumulative_us: int
    depth: int
    importer: str | None


_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)\s*$")


def parse_importtime(stderr: str) -> list[Import]:
    """The imports `python -X importtime` reported on stderr, in its order.

    An import is listed after those it made, one level less indented: read from the bottom up,
    the importer of a line is the last line seen one level up.
    """
    lines = [match.groups() for match in map(_IMPORT_LINE.match, stderr.splitlines()) if match]
    latest: dict[int, str] = {}
    imports = []
    for self_us, cumulative_us, indent, module in reversed(lines):
        depth = len(indent) // 2
        latest[depth] = module
        imports.append(
            Import(module, int(self_us), int(cumulative_us), depth, latest.get(depth - 1))
        )
    return imports[::-1]


@dataclass(frozen=True)
class Added:
    """An import of a program, with the microseconds it costs that another program does not
    pay: its own and those of the imports it made, leaving out the modules the other imports."""

    entry: Import
    added_us: int


def added_imports(
    program: Iterable[Import], baseline_modules: Iterable[str], *, top: int = 15
) -> list[Added]:
    """The `top` imports of `program` by the time they add to a program that imports only
    `baseline_modules`.

    A module of both can still make imports the baseline does not (they count where they are
    made); a module of the program alone counts its own time and whatever it imports that the
    baseline does not (so nested imports count again at each level, as cumulative times do).
    """
    have = set(baseline_modules)
    # Listed after the imports it made: the sum of the added time of the lines one level deeper
    # since the last line at this level is what the lines it made add.
    made: dict[int, int] = {}
    ranked = []
    for entry in program:
        own = 0 if entry.module in have else entry.self_us
        added = own + made.pop(entry.depth + 1, 0)
        made[entry.depth] = made.get(entry.depth, 0) + added
        if entry.module not in have and added > 0:
            ranked.append(Added(entry, added))
    return sorted(ranked, key=lambda item: item.added_us, reverse=True)[:top]


def self_time_by_package(imports: Iterable[Import]) -> dict[str, int]:
    """Microseconds each top-level package's modules took by themselves, biggest first: each
    microsecond counted once, in the package whose module spent it."""
    totals: dict[str, int] = {}
    for entry in imports:
        package = entry.module.split(".", 1)[0]
        totals[package] = totals.get(package, 0) + entry.self_us
    return dict(sorted(totals.items(), key=lambda item: item[1], reverse=True))


@dataclass(frozen=True)
class Spread:
    """The median and 90th percentile of some timings, and how many there were."""

    median: float
    p90: float
    runs: int


def spread(values: Sequence[float]) -> Spread:
    """The median and the 90th percentile of `values` (interpolated between the two nearest, so
    it never lies outside them)."""
    if not values:
        raise ValueError("no runs to summarise")
    if len(values) == 1:
        return Spread(values[0], values[0], 1)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[8]
    return Spread(statistics.median(values), p90, len(values))


def per_attempt(times: Sequence[float], attempts: Sequence[int]) -> float:
    """The time of one attempt: all the time over all the attempts, so a solve that took many
    weighs as much as its attempts and a lucky one's fixed overhead little."""
    if not attempts or sum(attempts) <= 0:
        raise ValueError("no attempts")
    return sum(times) / sum(attempts)


def attempts_at_quantile(prefix_hex_digits: int, quantile: float) -> int:
    """The attempts within which that share of solves ends, when a solve is the first of
    independent attempts to give a key starting with a fixed prefix of that many hex digits
    (each attempt succeeds with chance 16**-digits: ALTCHA v2's probabilistic mode).

    The smallest n with 1 - (1 - p)**n >= quantile: 178 attempts for half the solves of a
    two-digit prefix (p = 1/256), 589 for nine in ten; 256 on average.
    """
    if not 0 < quantile < 1:
        raise ValueError("a quantile is between 0 and 1")
    chance = 16.0**-prefix_hex_digits
    return math.ceil(math.log1p(-quantile) / math.log1p(-chance))


def scaled_by_device(
    measured: float, device_seconds: Mapping[str, float], reference: str
) -> dict[str, float]:
    """`measured` on the `reference` device as it would be on each device, by the ratio of
    their times for the same work (a published benchmark): an estimate by relative speed."""
    base = device_seconds[reference]
    return {device: measured * seconds / base for device, seconds in device_seconds.items()}
