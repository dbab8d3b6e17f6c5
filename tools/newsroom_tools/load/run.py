"""One load run against one target: its articles put up, the drive, the report of what it did
and the reconciliation, then its articles taken down."""

from __future__ import annotations

import random

from newsroom_tools.load.drive import Drive
from newsroom_tools.load.options import LoadOptions, validate
from newsroom_tools.load.plan import make_plan
from newsroom_tools.load.reconcile import reconcile
from newsroom_tools.load.report import LoadReport, describe
from newsroom_tools.load.target import (
    Target,
    create_articles,
    dead_letters,
    own_system,
    running_system,
    take_down_articles,
)


class LoadRun:
    """One run against one target; `execute` does it all and returns the report."""

    def __init__(self, target: Target, options: LoadOptions) -> None:
        self.target = target
        self.options = options
        rng = random.Random(options.seed)  # noqa: S311 - addresses and ids, not secrets
        self.run = f"{rng.getrandbits(32):08x}"
        self.plan = make_plan(self.run, posts=options.posts, articles=options.articles)
        self.drive = Drive(target, options, self.plan, rng)
        self.report = LoadReport(self.run, target.api_url)

    def execute(self) -> LoadReport:
        """Load, moderate, reconcile; then take the run's articles down (unless kept), so the
        site's article list is as it was."""
        create_articles(self.target, self.plan)
        try:
            return self._execute()
        finally:
            self.drive.stop_reading()
            if not self.options.keep_articles:
                take_down_articles(self.target, self.plan)

    def _execute(self) -> LoadReport:
        dead_before = dead_letters(self.target)
        given_up_before = self.target.given_up
        outcome = self.drive.run()
        describe(self.report, self.drive, outcome)
        reconcile(
            self.report,
            self.drive,
            outcome,
            dead=dead_letters(self.target) - dead_before,
            given_up=self.target.given_up - given_up_before,
        )
        return self.report


def run_load(options: LoadOptions) -> LoadReport:
    """Run the load against a system of its own, or the running one at `options.api`.

    Raises
    ------
    LoadSetupError
        When an option is out of range, or the running system is not there.
    """
    validate(options)
    if options.api is not None:
        target = running_system(options.api, options.emulator_port, options.flood_interval)
        report = LoadRun(target, options).execute()
        report.target = f"{target.api_url} (a running local system)"
        return report
    with own_system(options.flood_interval) as target:
        report = LoadRun(target, options).execute()
        report.target = f"{target.api_url} (a local system of its own, on free ports)"
        return report
