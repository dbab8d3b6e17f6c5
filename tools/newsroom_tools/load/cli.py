"""The load run's command line: its options parsed and checked, the functions' own output kept
out of the report, the report printed, and the exit status."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tempfile
import warnings
from collections.abc import Sequence

from newsroom_tools import emulator as local_emulator
from newsroom_tools.load.options import (
    DEFAULT_ARTICLES,
    DEFAULT_FLOOD_INTERVAL,
    DEFAULT_POSTS,
    DEFAULT_READERS,
    DEFAULT_SECONDS,
    DEFAULT_WRITERS,
    LoadOptions,
    LoadSetupError,
    validate,
)
from newsroom_tools.load.run import run_load


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m newsroom_tools.load",
        description="Post and read concurrently through the local system for a fixed count "
        "and time, then check that nothing was lost, doubled or miscounted.",
    )
    parser.add_argument(
        "--posts", type=int, default=DEFAULT_POSTS, help="POST requests (%(default)s)"
    )
    parser.add_argument(
        "--readers", type=int, default=DEFAULT_READERS, help="reader threads (%(default)s)"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        help="most time spent posting (%(default)s)",
    )
    parser.add_argument(
        "--articles", type=int, default=DEFAULT_ARTICLES, help="articles (%(default)s)"
    )
    parser.add_argument(
        "--writers", type=int, default=DEFAULT_WRITERS, help="posting threads (%(default)s)"
    )
    parser.add_argument(
        "--flood-interval",
        type=int,
        default=None,
        metavar="S",
        help="FLOOD_INTERVAL_SECONDS for a system this command starts; with --api, the running "
        f"system's (default: {DEFAULT_FLOOD_INTERVAL})",
    )
    parser.add_argument(
        "--api", default=None, metavar="URL", help="a running `make run` (loopback) to load instead"
    )
    parser.add_argument(
        "--keep-articles",
        action="store_true",
        help="leave the run's articles on the site afterwards (default: delete them)",
    )
    local_emulator.add_port_argument(parser)
    parser.add_argument("--seed", type=int, default=None, help="seed for ids and addresses")
    parser.add_argument(
        "--log",
        default=None,
        metavar="PATH",
        help="where the functions' own output goes (default: a temporary file)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run from the command line: print the report; 0 when every check holds, 1 when one
    fails, 2 when the run cannot start."""
    args = _parser().parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    # Read-only requests publish no business metric; Powertools warns about each one.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    options = LoadOptions(
        posts=args.posts,
        readers=args.readers,
        seconds=args.seconds,
        articles=args.articles,
        writers=args.writers,
        api=args.api,
        emulator_port=int(args.emulator_port),
        flood_interval=args.flood_interval,
        keep_articles=args.keep_articles,
        seed=args.seed,
    )
    try:
        validate(options)
    except LoadSetupError as exc:
        print(f"newsroom load: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    with contextlib.ExitStack() as stack:
        if options.api is None:
            # The functions run here: Powertools' logs and metrics go to stdout, where the
            # report would drown in them.
            if args.log is None:
                handle, log_path = tempfile.mkstemp(prefix="newsroom-load-", suffix=".log")
                log = stack.enter_context(open(handle, "w", encoding="utf-8"))
            else:
                log_path = args.log
                log = stack.enter_context(open(log_path, "w", encoding="utf-8"))
            stack.enter_context(contextlib.redirect_stdout(log))
            print(f"the functions' output goes to {log_path}", file=sys.stderr, flush=True)
        try:
            report = run_load(options)
        except LoadSetupError as exc:
            print(f"newsroom load: {exc}", file=sys.stderr)
            return 2
    print(report.render(), file=out, flush=True)
    return 0 if report.ok else 1
