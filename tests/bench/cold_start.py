"""Cold-start benchmark (`make bench`): each function's first request as a whole process, as a
ratio to a bare boto3 handler making the same AWS calls.

A run is what Lambda does on a cold start: a fresh interpreter in the function's task root with
its environment (the template's variables, the ones Lambda sets, the emulator's endpoint) imports
the handler module and calls it once with a real event (tests/bench/lambda_runner.py), against
the AWS emulator this bench starts in its own process, on a free port. A run's time is from
spawning the process to the handler's return: the interpreter's start-up is part of a cold
start, its exit is not (Lambda never waits for the process to end). Its memory is the peak RSS
of the process (VmHWM) when the handler returned. Each answer is checked (its status; the
emails a batch sends), so a broken request cannot look fast.

The baseline of a case is a bare boto3 handler making the AWS calls the function's first
request made, in order, with the same parameters: recorded in a run of the function that is not
measured, and printed. The items those calls write are put back after each replay, so every
replay finds what the first request found; each run of a function sends a request of its own
(another reader, another comment). Bytecode is cached in a directory of the bench's own, and
each program runs once before it is measured, so no run compiles.

Runs alternate, baseline then function, `--runs` pairs per case (7 by default). The figure
judged is the median of the ratios of each function run to the baseline run right before it:
the machine's speed drifts while other work runs on it, and moves both runs of a pair alike.
The medians of the raw figures are printed beside it. The bench fails when a ratio passes its
target. The Powertools floor (a resolver with validation, Logger and Metrics, no Tracer, making
the article's calls) and the HTTP functions with Tracing on are printed without a target.

``--importtime`` prints instead, for each case, what its first request imports that the bare
handler does not (``python -X importtime``): the total, the part the Powertools floor does not
import either (ours to avoid or defer), and the imports that add most to it.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import logging
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.figures import (
    OK,
    Comparison,
    Import,
    Run,
    added_imports,
    compare,
    parse_importtime,
    self_time_by_package,
    verdict,
)
from tests.bench.replay import bare_handler_source, describe, floor_handler_source, restore

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("lambda_runner.py")
LAYER = ROOT / "shared"  # the layer's contents, /opt/python on Lambda
RUNS = 7
TARGETS = {"time": 1.7, "memory": 1.4}  # at most this many times the bare handler
# Where links in emails point (no server listens: the bench never follows them).
API_URL = "http://127.0.0.1:3000/v1"
GET_ARTICLE_EVENT = "get_article.json"
POST_COMMENT_EVENT = "post_comment.json"


class BenchError(Exception):
    """A program failed or answered wrongly: its figures would mean nothing."""


@dataclass(frozen=True)
class Program:
    """A handler to start cold: its task root (the handler module is there), environment and
    timeout."""

    label: str
    task_root: Path
    environment: dict[str, str]
    timeout_seconds: int
    handler: str = "app.lambda_handler"


@dataclass
class System:
    """The emulator with the template's tables, secret and demo articles, and the bench's
    scratch directory."""

    template: dict[str, Any]
    names: dict[str, str]  # what each `!Ref` stands for locally (tables are named as in it)
    db: Any
    emulator_environment: dict[str, str]  # points boto3 at the emulator
    workdir: Path

    @property
    def table_ids(self) -> dict[str, str]:
        """Local table name → the table's logical id, for printing calls."""
        from newsroom_tools.template import resources

        tables = resources(self.template, "AWS::DynamoDB::Table")
        return {self.names[logical_id]: logical_id for logical_id in tables}

    def lambda_environment(
        self, function: str, task_root: Path, *, tracing: bool
    ) -> dict[str, str]:
        """What a Lambda of `function` has in its environment, and nothing of this process's:
        the variables Lambda sets, the emulator's, the template's (as `newsroom invoke` resolves
        them), tracing as asked, and the task root then the layer on the path."""
        from newsroom_tools.functions import limits_of, new_log_stream_name
        from newsroom_tools.runner import environment_of
        from newsroom_tools.template import functions, resources

        spec = functions(self.template)[function]
        apis = resources(self.template, "AWS::Serverless::Api")
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(RUNNER.parent),
            "_HANDLER": spec.handler,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_NAME": function,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(limits_of(self.template, function).memory_mb),
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
            "AWS_LAMBDA_LOG_STREAM_NAME": new_log_stream_name(),
            # Nobody listens there: the X-Ray SDK sends its segments over UDP regardless.
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "_X_AMZN_TRACE_ID": (
                f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};"
                f"Parent={secrets.token_hex(8)};Sampled=1"
            ),
            **self.emulator_environment,
            **environment_of(spec, self.names, api_url=API_URL, apis=apis),
            "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
            "PYTHONPATH": os.pathsep.join([str(task_root), str(LAYER)]),
            "PYTHONPYCACHEPREFIX": str(self.workdir / "pycache"),
        }

    def function(self, function: str, *, tracing: bool = False) -> Program:
        """The template's function, as deployed: its folder is the task root."""
        from newsroom_tools.functions import limits_of
        from newsroom_tools.template import functions

        spec = functions(self.template)[function]
        label = function + (" (Tracing=on)" if tracing else "")
        return Program(
            label,
            spec.code_uri,
            self.lambda_environment(function, spec.code_uri, tracing=tracing),
            limits_of(self.template, function).timeout_seconds,
            spec.handler,
        )

    def handler_from_source(self, label: str, function: str, source: str) -> Program:
        """A program whose `app.py` is `source`, in a task root of its own, in the environment
        `function` has (tracing off)."""
        from newsroom_tools.functions import limits_of

        task_root = self.workdir / label.replace(" ", "-")
        task_root.mkdir()
        (task_root / "app.py").write_text(source, encoding="utf-8")
        return Program(
            label,
            task_root,
            self.lambda_environment(function, task_root, tracing=False),
            limits_of(self.template, function).timeout_seconds,
        )

    def launch(
        self, program: Program, event: Any, *, record: Path | None = None, importtime: bool = False
    ) -> tuple[Run, Any, str]:
        """Start `program` cold with `event`: its run, its handler's answer and its stderr.
        With `record`, the runner writes the AWS calls it made there (a run not to measure)."""
        job_path = self.workdir / f"job-{uuid.uuid4().hex[:8]}.json"
        result_path = job_path.with_suffix(".result.json")
        job = {
            "handler": program.handler,
            "event": event,
            "timeout_seconds": program.timeout_seconds,
            "result": str(result_path),
            "record": str(record) if record else None,
        }
        job_path.write_text(json.dumps(job), encoding="utf-8")
        command = [sys.executable, *(["-X", "importtime"] if importtime else []), str(RUNNER)]
        try:
            started_ns = time.monotonic_ns()
            done = subprocess.run(  # noqa: S603 - our own interpreter and runner
                [*command, str(job_path)],
                cwd=program.task_root,
                env=program.environment,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise BenchError(
                    f"{program.label} exited {done.returncode}:\n{done.stderr[-4000:]}"
                )
            result = json.loads(result_path.read_text(encoding="utf-8"))
        finally:
            job_path.unlink(missing_ok=True)
            result_path.unlink(missing_ok=True)
        seconds = (result["returned_ns"] - started_ns) / 1e9
        return Run(seconds, result["peak_rss_kib"]), result["answer"], done.stderr


@contextmanager
def local_system() -> Iterator[System]:
    """Start the emulator on a free port, create the template's tables, secret and SES
    identities there with the demo articles (as `newsroom invoke` does), and point this
    process at it with the functions' variables (the helpers that build events run here)."""
    import boto3

    from newsroom_tools import emulator as local_emulator
    from newsroom_tools.runner import (
        default_content,
        free_port,
        function_environment,
        prepare_tables,
    )
    from newsroom_tools.template import functions, load_template, resources

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    template = load_template()
    emulator = local_emulator.start(local_emulator.DEFAULT_HOST, free_port(), reuse=False)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="newsroom-bench-") as workdir,
            local_emulator.environment(emulator.environment()),
        ):
            db = boto3.client(
                "dynamodb", endpoint_url=emulator.endpoint_url, region_name=local_emulator.REGION
            )
            names, _ = prepare_tables(db, template, content=default_content())
            here = {
                **function_environment(
                    functions(template),
                    names,
                    api_url=API_URL,
                    apis=resources(template, "AWS::Serverless::Api"),
                ),
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
            with local_emulator.environment(here):
                yield System(template, names, db, emulator.environment(), Path(workdir))
    finally:
        emulator.stop()


# -- the cases ---------------------------------------------------------------------------------


def _event_file(name: str) -> dict[str, Any]:
    from tests.apigw import EVENTS_DIR

    loaded: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return loaded


def _answered(status: int) -> Callable[[Any], str | None]:
    def check(answer: Any) -> str | None:
        if isinstance(answer, dict) and answer.get("statusCode") == status:
            return None
        return f"answered {str(answer)[:500]}, not {status}"

    return check


@dataclass
class Case:
    """A function's first request: a new event for each run, and what a right answer is."""

    title: str
    function: str
    new_event: Callable[[], dict[str, Any]]
    check: Callable[[Any], str | None]
    http: bool = True
    # Set once the function's calls are recorded.
    calls: list[dict[str, Any]] = field(default_factory=list)
    before: list[dict[str, Any]] = field(default_factory=list)
    answer: Any = None
    event: dict[str, Any] = field(default_factory=dict)
    baseline: Program | None = None  # the bare handler making `calls`


def get_article_case() -> Case:
    """GET /articles/{slug} of the event file's article (a demo article)."""
    from tests.apigw import rest_event

    base = _event_file(GET_ARTICLE_EVENT)

    def new_event() -> dict[str, Any]:
        return rest_event(
            "GET", base["resource"], path_params=base["pathParameters"], base=GET_ARTICLE_EVENT
        )

    return Case(
        "ArticlesFunction GET /articles/{slug}", "ArticlesFunction", new_event, _answered(200)
    )


def post_comment_case(*, markdown: bool = False) -> Case:
    """POST /articles/{slug}/comments on the event file's article: each run a valid comment of
    another reader (address, email) with an idempotency key of its own, so neither flood
    control nor the duplicate check refuses it. The comment is prose (as most are), or with
    `markdown` has emphasis, which needs the Markdown parser (newsroom.rendering)."""
    from tests.apigw import rest_event
    from tests.integration.comments_api import form, fresh_ip

    base = _event_file(POST_COMMENT_EVENT)

    def new_event() -> dict[str, Any]:
        unique = uuid.uuid4().hex[:10]
        fields = (
            form(unique, body=f"A *thoughtful* remark ({unique}).") if markdown else form(unique)
        )
        return rest_event(
            "POST",
            base["resource"],
            path_params=base["pathParameters"],
            headers={"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())},
            body=json.dumps(fields),
            source_ip=fresh_ip(),
            base=POST_COMMENT_EVENT,
        )

    return Case(
        "CommentsFunction POST /articles/{slug}/comments" + (" with Markdown" if markdown else ""),
        "CommentsFunction",
        new_event,
        _answered(201),
    )


class NewCommentBatches:
    """The notifications function's first batch: the INSERT record of a new comment, posted
    for each run through the comments function in this process, as Lambda hands it over; done
    when no record failed and SES got as many emails as the recorded run sent."""

    def __init__(self, system: System) -> None:
        from newsroom_tools.outbox import Outbox

        self.table = system.names["ContentTable"]
        self.slug = _event_file(POST_COMMENT_EVENT)["pathParameters"]["slug"]
        self.outbox = Outbox.in_process()
        self.sent = len(self.outbox.emails())
        self.case = Case(
            "NotificationsFunction first batch (a new comment)",
            "NotificationsFunction",
            self.new_event,
            self.check,
            http=False,
        )

    def new_event(self) -> dict[str, Any]:
        from tests.integration.comments_api import form, post_comment
        from tests.integration.notifications_stream import batch, comment_item, stream_record

        with redirect_stdout(io.StringIO()):  # its EMF metrics, its logs
            posted = post_comment(self.slug, form(uuid.uuid4().hex[:10]))
        if posted.status != 201:
            raise BenchError(f"posting the batch's comment answered {posted.status}: {posted.body}")
        item = comment_item(self.table, self.slug, posted.body["id"])
        return batch(stream_record(self.table, item))

    def check(self, answer: Any) -> str | None:
        sent, self.sent = self.sent, len(self.outbox.emails())
        if answer != {"batchItemFailures": []}:
            return f"answered {str(answer)[:500]}"
        recorded = sum(call["operation"] == "SendEmail" for call in self.case.calls)
        if self.case.calls and self.sent - sent != recorded:
            return f"sent {self.sent - sent} emails, the recorded batch {recorded}"
        return None


# -- recording, measuring ----------------------------------------------------------------------


def record(system: System, case: Case) -> None:
    """Run the function once (not measured) recording its AWS calls; check its answer; put back
    what it wrote; make the bare handler that replays those calls."""
    path = system.workdir / f"{uuid.uuid4().hex[:8]}.calls"
    case.event = case.new_event()
    _, case.answer, _ = system.launch(system.function(case.function), case.event, record=path)
    problem = case.check(case.answer)
    if problem:
        raise BenchError(f"{case.title} (recording): {problem}")
    recorded = ast.literal_eval(path.read_text(encoding="utf-8"))
    case.calls, case.before = recorded["calls"], recorded["before"]
    restore(system.db, case.before)
    source = bare_handler_source(case.title, case.calls, case.answer)
    label = f"bare {case.function} {uuid.uuid4().hex[:8]}"  # a function may have two cases
    case.baseline = system.handler_from_source(label, case.function, source)


def floor(system: System, case: Case) -> Program:
    source = floor_handler_source(case.title, case.calls, case.event)
    return system.handler_from_source(f"floor {case.function}", case.function, source)


def measure(system: System, case: Case, program: Program, runs: int) -> Comparison:
    """`runs` pairs, the case's bare handler then `program`, after one unmeasured run of each
    (it fills the bench's bytecode cache and the page cache). Each bare run's writes are put
    back."""
    baseline = case.baseline
    if baseline is None:
        raise BenchError(f"{case.title} is not recorded yet")

    def one(which: Program) -> Run:
        run, answer, _ = system.launch(which, case.new_event())
        problem = case.check(answer)
        if problem:
            raise BenchError(f"{which.label}: {problem}")
        if which is baseline:
            restore(system.db, case.before)
        return run

    one(baseline)
    one(program)
    return compare([(one(baseline), one(program)) for _ in range(runs)])


# -- the report --------------------------------------------------------------------------------


def _figures(run: Run) -> str:
    return f"{run.seconds * 1000:6.0f} ms {run.peak_kib / 1024:5.1f} MiB"


LABEL_WIDTH = 61


def report_line(label: str, comparison: Comparison, *, judged: bool) -> tuple[str, bool]:
    """The printed line of one comparison, and whether a ratio passes its target; the time
    ratio's lowest and highest pair are in brackets."""
    low, high = comparison.time_ratio_range
    ratios = {
        "time": (comparison.time_ratio, f" [{low:.2f}-{high:.2f}]"),
        "memory": (comparison.memory_ratio, ""),
    }
    over = False
    said = []
    for name, (ratio, spread) in ratios.items():
        text = f"{name} x{ratio:.2f}{spread}"
        if judged:
            judgement = verdict(ratio, TARGETS[name])
            over |= judgement != OK
            text += f" (<= {TARGETS[name]}) {judgement:11}"
        said.append(text)
    line = (
        f"{label:{LABEL_WIDTH}} {_figures(comparison.baseline)}  {_figures(comparison.program)}   "
        + "   ".join(said)
    )
    return line.rstrip(), over


def print_calls(system: System, case: Case) -> None:
    print(f"  {case.title}:")
    for line in describe(case.calls, system.table_ids):
        print(f"    {line}")


def recorded_cases(system: System, *, with_markdown: bool = True) -> list[Case]:
    """The cases, each recorded, its calls printed; the last, unless not `with_markdown`, a
    comment with Markdown (judged without a target)."""
    cases = [get_article_case(), post_comment_case(), NewCommentBatches(system).case]
    if with_markdown:
        cases.append(post_comment_case(markdown=True))
    print(
        f"Python {platform.python_version()} here (Lambda: python3.13). A run: from spawning a "
        "fresh interpreter to the handler's return; its peak RSS (VmHWM)."
    )
    print("The bare handlers make the AWS calls each function's first request made, in order:")
    for case in cases:
        record(system, case)
        print_calls(system, case)
    print(flush=True)
    return cases


def bench(system: System, runs: int) -> int:
    """Measure every case against its bare handler; print; 1 when a ratio passes its target."""
    *cases, markdown_comment = recorded_cases(system)
    print(
        f"{'':{LABEL_WIDTH}} {'bare boto3 handler':>19}  {'program':>19}   "
        f"median of the ratios of {runs} pairs [lowest-highest]"
    )
    failed = False
    for case in cases:
        comparison = measure(system, case, system.function(case.function), runs)
        line, over = report_line(case.title, comparison, judged=True)
        failed |= over
        print(line, flush=True)
    print("Without a target:")
    articles = cases[0]
    comparison = measure(system, articles, floor(system, articles), runs)
    label = "Powertools floor: GET article's calls, no Tracer"
    print(report_line(label, comparison, judged=False)[0], flush=True)
    comparison = measure(system, markdown_comment, system.function(markdown_comment.function), runs)
    print(report_line(markdown_comment.title, comparison, judged=False)[0], flush=True)
    for case in cases:
        if case.http:
            comparison = measure(system, case, system.function(case.function, tracing=True), runs)
            print(report_line(f"{case.title} Tracing=on", comparison, judged=False)[0], flush=True)
    return 1 if failed else 0


def import_breakdown(system: System, top: int = 15) -> int:
    """For each case, what its first request imports that the bare handler does not (self
    times, by package), and the `top` imports that add most that neither the bare handler nor
    the Powertools floor makes: ours to avoid or defer (``python -X importtime``, after a run
    that fills the bytecode cache)."""
    cases = recorded_cases(system, with_markdown=False)

    def imports(program: Program, case: Case) -> list[Import]:
        stderr = ""
        for importtime in (False, True):  # the first fills the bytecode cache
            _, answer, stderr = system.launch(program, case.new_event(), importtime=importtime)
            problem = case.check(answer)
            if problem:
                raise BenchError(f"{program.label}: {problem}")
            if program is case.baseline:
                restore(system.db, case.before)
        return parse_importtime(stderr)

    def by_package(entries: list[Import], leave_out: set[str]) -> str:
        totals = self_time_by_package(entry for entry in entries if entry.module not in leave_out)
        listed = ", ".join(f"{name} {us / 1000:.0f}" for name, us in list(totals.items())[:8])
        return f"{sum(totals.values()) / 1000:.0f} ms ({listed} ...)"

    floor_modules = {entry.module for entry in imports(floor(system, cases[0]), cases[0])}
    for case in cases:
        if case.baseline is None:
            raise BenchError(f"{case.title} is not recorded")
        bare_modules = {entry.module for entry in imports(case.baseline, case)}
        imported = imports(system.function(case.function), case)
        print(f"{case.title}, imports by their own time, in ms:")
        print(f"  not in the bare handler: {by_package(imported, bare_modules)}")
        ours = bare_modules | floor_modules
        print(f"  nor in the Powertools floor: {by_package(imported, ours)}")
        print(f"  {'added':>8} {'self':>8}  module (imported by), neither bare nor floor")
        for item in added_imports(imported, ours, top=top):
            print(
                f"  {item.added_us / 1000:5.1f} ms {item.entry.self_us / 1000:5.1f} ms  "
                f"{item.entry.module} ({item.entry.importer or 'the first request'})"
            )
        print(flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="pairs per case (%(default)s)")
    parser.add_argument(
        "--importtime",
        action="store_true",
        help="print what each first request imports that the bare handler does not, instead",
    )
    args = parser.parse_args(argv)
    with local_system() as system:
        try:
            if args.importtime:
                return import_breakdown(system)
            return bench(system, args.runs)
        except BenchError as exc:
            print(f"make bench: {exc}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    raise SystemExit(main())
