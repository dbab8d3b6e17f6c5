"""A load run's report: what it did, what it checked, and the text it prints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


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
