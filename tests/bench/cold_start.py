"""Cold-start benchmark: each function's import time and memory, as ratios to a floor.

The floor is the smallest function Powertools allows with the same tools as deployed by
default: a REST resolver with validation, Logger and Metrics and nothing else (tracing is the
template parameter `Tracing`, off by default, and then no Tracer is built). A ratio says what
our own code and models add on a cold start; the functions with tracing on are printed beside
them, for what X-Ray costs. Run with `make bench`; it prints the figures and fails when a ratio
passes its target. Median of several fresh interpreters, so one slow start does not decide.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 7
TARGETS = {"time": 1.4, "memory": 1.2}  # at most this many times the floor

FLOOR = """
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
app = APIGatewayRestResolver(enable_validation=True)
logger, metrics = Logger(), Metrics()
@app.get("/ping")
def ping() -> dict:
    return {}
"""
FUNCTIONS = {
    "ArticlesFunction": "import functions.articles.app",
    "CommentsFunction": "import functions.comments.app",
}
PROBE = """
import json, resource, sys, time
started = time.perf_counter()
exec(compile(sys.argv[1], "<function>", "exec"))
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed,
                  "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def probe(code: str, *, tracing: bool = False) -> tuple[float, float]:
    """Import seconds and peak RSS (KiB) of `code` in one fresh interpreter, with X-Ray
    tracing on or (the template's default) off."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "CONTENT_TABLE_NAME": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_METRICS_NAMESPACE": "Bench",
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", PROBE, code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    return result["seconds"], result["max_rss_kb"]


def compare(code: str, *, tracing: bool = False) -> tuple[float, float, float, float]:
    """Median seconds and KiB of `code`, and the median of its ratios to the floor measured
    right before each run: alternating, so a machine that slows down or speeds up meanwhile
    moves both sides of a ratio alike."""
    seconds, memory, time_ratios, memory_ratios = [], [], [], []
    for _ in range(RUNS):
        floor_seconds, floor_memory = probe(FLOOR)
        run_seconds, run_memory = probe(code, tracing=tracing)
        seconds.append(run_seconds)
        memory.append(run_memory)
        time_ratios.append(run_seconds / floor_seconds)
        memory_ratios.append(run_memory / floor_memory)
    return (
        statistics.median(seconds),
        statistics.median(memory),
        statistics.median(time_ratios),
        statistics.median(memory_ratios),
    )


def main() -> int:
    floor = [probe(FLOOR) for _ in range(RUNS)]
    floor_seconds = statistics.median(s for s, _ in floor)
    floor_memory = statistics.median(m for _, m in floor)
    print(
        f"{'floor (bare Powertools handler)':34} {floor_seconds * 1000:7.1f} ms "
        f"{floor_memory / 1024:6.1f} MiB   (ratios: to the floor run just before each run)"
    )
    failed = False
    for name, code in FUNCTIONS.items():
        seconds, memory, time_ratio, memory_ratio = compare(code)
        over = time_ratio > TARGETS["time"] or memory_ratio > TARGETS["memory"]
        failed |= over
        print(
            f"{name:34} {seconds * 1000:7.1f} ms {memory / 1024:6.1f} MiB   "
            f"time x{time_ratio:.2f} (target <= {TARGETS['time']})   "
            f"memory x{memory_ratio:.2f} (target <= {TARGETS['memory']})"
            + ("   OVER TARGET" if over else "")
        )
    for name, code in FUNCTIONS.items():
        seconds, memory, time_ratio, memory_ratio = compare(code, tracing=True)
        print(
            f"{name + ' (Tracing=on)':34} {seconds * 1000:7.1f} ms {memory / 1024:6.1f} MiB   "
            f"time x{time_ratio:.2f}   memory x{memory_ratio:.2f}"
            "   (no target: the operator's choice)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
