"""ALTCHA's cost benchmark (`make bench-altcha`): what a proof of work costs a reader's browser
and the server, at the default cost, with the reader's time estimated for ALTCHA's own
benchmark devices.

Server: `--runs` challenges issued by `newsroom.proof_of_work.issue` (timed), each solved by the
`altcha` package's `solve_challenge` (CPython; its time per derivation is printed) and checked by
`newsroom.proof_of_work.accept` with a spend that records nothing (timed: the conditional write
it stands for is one DynamoDB PutItem, not measured here).

Reader: `--solves` fresh challenges solved one after another in headless Chromium by the
widget's own solver, functions/articles/embed/altcha.js, served with a blank page from
http://127.0.0.1 on a free port (a secure context, which `crypto.subtle` needs). A solve's time
is the page's, from calling `window.newsroomAltcha` to its payload; each payload is then
accepted by the server, so a broken solver cannot look fast.

A solve is a run of PBKDF2 derivations until one gives a key starting with the challenge's
prefix ("00": one in 256 does), so its time is mostly luck: half the solves need 178
derivations or fewer, one in ten more than 589. The machine's speed is the time of one
derivation (all the solves' time over all their derivations); the expected median and 90th
percentile are that time times 178 and 589, steadier than the medians of a few solves, which
are printed beside them.

The devices: ALTCHA's published times to solve its v1 (SHA-256) challenge of complexity
100,000 (https://altcha.org/docs/complexity/, "Performance Benchmarks"), read as relative
speeds. This machine is an AMD EPYC like the AWS EC2 c6a.xlarge of that table, so each device's
estimate is our time times its time over the c6a.xlarge's. An estimate by relative speed only:
the work differs (PBKDF2, v2) and the machine is shared with other work.

Judged: the Galaxy A14 (a mid-range phone of 2023) estimate of the 90th percentile, nine
readers in ten, against `PHONE_TARGET_SECONDS`; the bench exits 1 when it is over.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import secrets
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from newsroom.comment_settings import CommentsSettings
from newsroom.errors import ChallengeSolutionError
from newsroom.proof_of_work import accept, issue
from newsroom.secrets import Keyring
from tests.bench.figures import (
    OK,
    Spread,
    attempts_at_quantile,
    per_attempt,
    scaled_by_device,
    spread,
    verdict,
)
from tests.browser.chromium import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
SOLVER = ROOT / "functions" / "articles" / "embed" / "altcha.js"
DEFAULT_COST = int(CommentsSettings.model_fields["altcha_cost"].default)
RUNS = 30
SOLVES = 15
# ALTCHA's "Performance Benchmarks": seconds to solve complexity 100,000 (v1, SHA-256).
ALTCHA_BENCHMARK_URL = "https://altcha.org/docs/complexity/"
DEVICES = {
    "MacBook Pro M3-Pro (2023)": 0.33,
    "iPhone 12 mini (2020)": 0.83,
    "AWS EC2 c6a.xlarge": 1.0,
    "Samsung Galaxy A14 (2023)": 2.5,
    "AWS Lambda (1 GB)": 8.0,
}
REFERENCE = "AWS EC2 c6a.xlarge"  # this machine's kind (AMD EPYC)
PHONE = "Samsung Galaxy A14 (2023)"
LAMBDA = "AWS Lambda (1 GB)"
# The solve starts when the reader first focuses the form (form.js), so it runs while they type.
PHONE_TARGET_SECONDS = 3.0
PAGE = b"""<!doctype html><meta charset="utf-8"><title>ALTCHA bench</title>
<script src="/altcha.js"></script>
"""
SOLVE_SCRIPT = """
async (challenge) => {
  const started = performance.now();
  const payload = await window.newsroomAltcha(challenge);
  return { payload, ms: performance.now() - started };
}
"""


class BenchError(Exception):
    """A solution was refused or no browser was found: the figures would mean nothing."""


@dataclass(frozen=True)
class Solves:
    """Solving some challenges one after another: each one's milliseconds and derivations."""

    ms: list[float]
    derivations: list[int]

    @property
    def ms_per_derivation(self) -> float:
        return per_attempt(self.ms, self.derivations)


def _no_spend(signature: str, expires_at: int) -> bool:
    return True


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, (time.perf_counter() - started) * 1000


def _derivations(payload: str) -> int:
    """How many derivations a solution took: its counter counts from 0."""
    solution = json.loads(base64.b64decode(payload))["solution"]
    return int(solution["counter"]) + 1


def server_side(keys: Keyring, cost: int, runs: int) -> tuple[list[float], list[float], Solves]:
    """Milliseconds to issue each of `runs` challenges and to accept its solution, and the
    `altcha` package's solves of them."""
    from altcha import Challenge, Payload, solve_challenge

    issue_ms, accept_ms, solve_ms, derivations = [], [], [], []
    # One of each first, not counted: the first call imports the altcha package.
    warm = issue(keys, cost=1, now=datetime.now(UTC))
    warm_parsed = Challenge.from_dict(warm)
    warm_solution = solve_challenge(warm_parsed)
    assert warm_solution is not None
    warm_payload = Payload(warm_parsed, warm_solution).to_base64()
    accept(keys, warm_payload, now=datetime.now(UTC), spend=_no_spend)
    for _ in range(runs):
        challenge, ms = _timed(lambda: issue(keys, cost=cost, now=datetime.now(UTC)))
        issue_ms.append(ms)
        parsed = Challenge.from_dict(challenge)
        solution, ms = _timed(lambda: solve_challenge(parsed))  # noqa: B023 (called at once)
        if solution is None:
            raise BenchError("the altcha package found no solution in its 90 s")
        solve_ms.append(ms)
        derivations.append(solution.counter + 1)
        payload = Payload(parsed, solution).to_base64()
        _, ms = _timed(lambda: accept(keys, payload, now=datetime.now(UTC), spend=_no_spend))  # noqa: B023
        accept_ms.append(ms)
    return issue_ms, accept_ms, Solves(solve_ms, derivations)


class _SolverPage(BaseHTTPRequestHandler):
    """A blank page that loads the widget's solver, and the solver."""

    def do_GET(self) -> None:
        if self.path == "/":
            body, kind = PAGE, "text/html; charset=utf-8"
        elif self.path == "/altcha.js":
            body, kind = SOLVER.read_bytes(), "text/javascript; charset=utf-8"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the bench prints its own figures."""


@contextmanager
def solver_page() -> Iterator[str]:
    """The page's URL, served from a thread while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SolverPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chromium() -> str:
    """The machine's Chromium ($NEWSROOM_CHROMIUM, chromium, chromium-browser)."""
    for name in (os.environ.get("NEWSROOM_CHROMIUM"), "chromium", "chromium-browser"):
        found = shutil.which(name) if name else None
        if found:
            return found
    raise BenchError("no Chromium: apt-get install chromium, or set NEWSROOM_CHROMIUM")


def reader_side(keys: Keyring, cost: int, solves: int) -> Solves:
    """`solves` fresh challenges solved one after another by altcha.js in headless Chromium,
    each solution accepted by the server."""
    from playwright.sync_api import sync_playwright

    ms, derivations = [], []
    with solver_page() as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            page.goto(url)
            page.wait_for_function("typeof window.newsroomAltcha === 'function'")
            if not page.evaluate("window.isSecureContext"):
                raise BenchError(f"{url} is not a secure context: crypto.subtle is missing")
            # One solve first, not counted: the page's first derivations warm its crypto.
            page.evaluate(SOLVE_SCRIPT, issue(keys, cost=cost, now=datetime.now(UTC)))
            for _ in range(solves):
                solved = page.evaluate(SOLVE_SCRIPT, issue(keys, cost=cost, now=datetime.now(UTC)))
                try:
                    accept(keys, solved["payload"], now=datetime.now(UTC), spend=_no_spend)
                except ChallengeSolutionError as exc:
                    raise BenchError(f"the server refused altcha.js's solution: {exc}") from exc
                ms.append(float(solved["ms"]))
                derivations.append(_derivations(solved["payload"]))
        finally:
            browser.close()
    return Solves(ms, derivations)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _row(name: str, figures: Spread, unit: str = "ms", note: str = "") -> str:
    numbers = f"{figures.median:>8.2f} {unit:<2} {figures.p90:>8.2f} {unit:<2} {figures.runs:>4}"
    return f"  {name:<48} {numbers}  {note}".rstrip()


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.2f} s"


def report(
    cost: int, issue_ms: list[float], accept_ms: list[float], python: Solves, reader: Solves
) -> int:
    """Print the figures; 1 when the phone's estimate is over its target."""
    prefix_digits = 2  # ALTCHA's default key prefix, "00"
    half = attempts_at_quantile(prefix_digits, 0.5)
    nine_in_ten = attempts_at_quantile(prefix_digits, 0.9)
    issued, accepted = spread(issue_ms), spread(accept_ms)
    solved, derived = spread(reader.ms), spread([float(n) for n in reader.derivations])
    per_derivation = reader.ms_per_derivation
    print(
        f"ALTCHA's cost at cost {cost:,}: PBKDF2/SHA-256 of {cost:,} iterations a derivation, key "
        f'prefix "00":\n256 derivations a solve on average, half the solves within {half}, nine '
        f"in ten within {nine_in_ten}.\nThis machine: {_cpu()}, {os.cpu_count()} cores, shared "
        f"with other work; Python {platform.python_version()}."
    )
    print()
    print(f"  {'':<48} {'median':>8} {'':<2} {'p90':>8} {'':<2} {'runs':>4}")
    print(_row("server: issue a challenge", issued))
    print(_row("server: verify a solution (accept)", accepted, note="+ one PutItem, not timed"))
    print(
        _row(
            "server: a solve by the altcha package (CPython)",
            spread(python.ms),
            note=f"{python.ms_per_derivation:.2f} ms a derivation",
        )
    )
    print(
        _row(
            "reader: a solve in Chromium (altcha.js)",
            solved,
            note=f"{per_derivation:.2f} ms a derivation",
        )
    )
    print(_row("reader: derivations a solve took", derived, unit=""))
    print(
        f"  reader: expected from the time of a derivation: median {per_derivation * half:.0f} ms "
        f"({half} derivations), p90 {per_derivation * nine_in_ten:.0f} ms ({nine_in_ten})"
    )
    print()
    print(
        f"The reader's time on the devices of ALTCHA's benchmark ({ALTCHA_BENCHMARK_URL}),\n"
        f"an estimate by relative speed: our time times the device's over the {REFERENCE}'s\n"
        "(this machine's kind). Not a measurement: ALTCHA timed its v1 SHA-256 challenge, ours\n"
        "is PBKDF2 (v2), and this machine is shared."
    )
    estimates = {
        "solves' median": scaled_by_device(solved.median, DEVICES, REFERENCE),
        "solves' p90": scaled_by_device(solved.p90, DEVICES, REFERENCE),
        "expected median": scaled_by_device(per_derivation * half, DEVICES, REFERENCE),
        "expected p90": scaled_by_device(per_derivation * nine_in_ten, DEVICES, REFERENCE),
    }
    print(f"  {'device':<28} {'x':>5}  " + "".join(f"{name:>17}" for name in estimates))
    for device, seconds in DEVICES.items():
        figures = "".join(f"{_seconds(column[device]):>17}" for column in estimates.values())
        print(f"  {device:<28} {seconds / DEVICES[REFERENCE]:>5.2f}  {figures}")
    lambda_factor = DEVICES[LAMBDA] / DEVICES[REFERENCE]
    server_ms = issued.median + accepted.median
    print(
        f"  The server's issue + verify ({server_ms:.2f} ms here) on {LAMBDA} by the same ratio "
        f"(x{lambda_factor:.0f}): {server_ms * lambda_factor:.1f} ms"
    )
    print()
    phone = estimates["expected p90"][PHONE] / 1000
    phone_ratio = phone / PHONE_TARGET_SECONDS
    judged = verdict(phone_ratio, 1.0)
    print("Ratios")
    print(f"  reader's solve / server's verify, medians: {solved.median / accepted.median:.0f}")
    print(
        f"  {PHONE}, expected p90 (nine readers in ten): {phone:.2f} s / target "
        f"{PHONE_TARGET_SECONDS:.0f} s = {phone_ratio:.2f}  {judged}"
    )
    return 0 if judged == OK else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cost",
        type=int,
        default=DEFAULT_COST,
        help="PBKDF2 iterations (%(default)s: the default)",
    )
    parser.add_argument("--runs", type=int, default=RUNS, help="server challenges (%(default)s)")
    parser.add_argument("--solves", type=int, default=SOLVES, help="browser solves (%(default)s)")
    args = parser.parse_args(argv)
    keys = Keyring(current=secrets.token_bytes(32))
    started = time.monotonic()
    try:
        issue_ms, accept_ms, python = server_side(keys, args.cost, args.runs)
        reader = reader_side(keys, args.cost, args.solves)
    except BenchError as exc:
        print(f"bench-altcha: {exc}", file=sys.stderr)
        return 2
    status = report(args.cost, issue_ms, accept_ms, python, reader)
    print(f"({time.monotonic() - started:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
