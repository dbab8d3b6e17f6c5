"""A load run's report: what it did, what it checked, and the text it prints."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newsroom_tools.load.drive import Drive, Outcome


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class LoadReport:
    """What a run did (`did`, `figures`) and what it checked (`checks`)."""

    run: str
    target: str
    did: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def render(self) -> str:
        lines = [f"newsroom load run {self.run} against {self.target}", "did:"]
        lines += [f"  {line}" for line in self.did]
        lines.append("checked:")
        for check in self.checks:
            lines.append(f"  [{'ok' if check.ok else 'FAILED'}] {check.name}: {check.detail}")
        failed = sum(1 for check in self.checks if not check.ok)
        lines.append(
            "result: every check holds" if self.ok else f"result: {failed} check(s) FAILED"
        )
        return "\n".join(lines)


def sample(items: Sequence[Any], limit: int = 5) -> str:
    shown = ", ".join(str(item) for item in list(items)[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def describe(report: LoadReport, drive: Drive, outcome: Outcome) -> None:
    """Add to `report` what the run did: its articles, commenters, posts, answers, reads,
    moderation and requests, then any link that did not do what it says; and its figures."""
    posted_in, elapsed, approvals = outcome.posted_in, outcome.elapsed, outcome.approvals
    follows = drive.follows
    roles = Counter(a.post.role for a in drive.answers)
    accepted = {
        str(a.accepted["id"]): a for a in drive.answers if a.accepted and a.post.role != "duplicate"
    }
    statuses = Counter(a.arrived for a in accepted.values())
    answers = Counter(
        f"{reply.status}" + (f" {reply.error_code}" if reply.error_code else "")
        for a in drive.answers
        for reply in a.replies
    )
    by_purpose = drive.traffic.by_purpose()
    reads = sum(by_purpose.get("read", Counter()).values())
    api_requests = drive.traffic.total(exclude=("outbox",))
    moderated = Counter(drive.moderated.values())
    report.did += [
        f"articles: {len(drive.plan.slugs)} of the run's own ("
        + ("kept" if drive.options.keep_articles else "deleted at the end")
        + f"); flood interval {drive.target.flood_interval} s; "
        f"{drive.options.writers} writers, {drive.options.readers} readers",
        f"commenters: {len(drive.plan.setup)} regulars (first comment approved through the "
        f"signed admin API: {sum(approvals)}), "
        f"{sum(1 for p in drive.plan.main if p.role in ('first', 'retry'))} first-timers",
        f"POST /articles/{{slug}}/comments: {sum(len(a.replies) for a in drive.answers)} sent "
        f"of {drive.plan.requests()} planned in {posted_in:.1f} s ("
        + ", ".join(f"{role} {n}" for role, n in sorted(roles.items()))
        + f"); {len(drive.skipped)} skipped (deadline or missing parent)",
        "answers: " + ", ".join(f"{k}: {n}" for k, n in sorted(answers.items())),
        f"comments accepted: {len(accepted)} (arrived approved {statuses['approved']}, "
        f"held {statuses['pending']})",
        f"reads meanwhile: {reads} (statuses "
        + ", ".join(f"{k}: {n}" for k, n in sorted(drive.read_statuses.items()))
        + ")",
        f"moderation through email links: {len(follows)} followed; after the run "
        + ", ".join(f"{status} {n}" for status, n in sorted(moderated.items())),
        f"requests: {api_requests} to the API in {elapsed:.1f} s "
        f"({api_requests / elapsed if elapsed else 0:.0f}/s), "
        f"{drive.traffic.total() - api_requests} to the outbox",
    ]
    report.did.extend(drive.notes)
    report.figures.update(
        comments_loaded=len(accepted),
        posts_sent=sum(len(a.replies) for a in drive.answers),
        posts_skipped=len(drive.skipped),
        requests=api_requests,
        reads=reads,
    )
