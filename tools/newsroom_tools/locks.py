"""Writes or checks the lock files: uv.lock (pyproject.toml's dependencies, every package pinned
with the hashes of all its files), the requirements exported from it, and the tool locks.

- `uv.lock`: resolved by `uv lock` from pyproject.toml and tools/pyproject.toml (a uv
  workspace), for every platform and Python >= 3.11.
- `shared/requirements.txt`: what `sam build` installs into the layer, exported from uv.lock:
  the newsroom package's dependencies only (the hashes of the Lambda runtime's cp313 aarch64
  wheels among them).
- `requirements/dev.txt`: what `make install` installs into .venv (both packages' dependencies
  and the dev tools), exported the same way.
- `requirements/<tool>.txt`: compiled from `requirements/<tool>.in` (the SAM CLI, checkov, uv).

Standard library only (the Makefile runs it before any virtualenv exists); `--uv` names the uv
executable, which `make` installs from requirements/uv.txt.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS_DIR = PROJECT_ROOT / "requirements"
LAYER_REQUIREMENTS = PROJECT_ROOT / "shared" / "requirements.txt"
DEV_REQUIREMENTS = REQUIREMENTS_DIR / "dev.txt"

_EXPORT = [
    "export",
    "--frozen",
    "--no-emit-workspace",
    "--no-header",
    "--format",
    "requirements-txt",
]
_LAYER_HEADER = (
    "# What `sam build` installs into the newsroom layer: every package pinned, with the hashes\n"
    "# of all its files (the Lambda runtime's cp313 aarch64 wheels among them).\n"
    "# Exported from uv.lock by `make requirements` (`make lock` re-resolves it); do not edit.\n"
)
_DEV_HEADER = (
    "# What `make install` installs into .venv (the layer's packages and the dev tools), pinned\n"
    "# with hashes. Exported from uv.lock by `make requirements`; do not edit.\n"
)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)", re.MULTILINE)


@dataclass(frozen=True)
class ToolLock:
    """A tool's own virtualenv: the pins in `<name>.in`, compiled for `python` into `<name>.txt`."""

    name: str
    python: str  # the oldest Python the tool's virtualenv is made with

    @property
    def source(self) -> Path:
        return REQUIREMENTS_DIR / f"{self.name}.in"

    @property
    def lock(self) -> Path:
        return REQUIREMENTS_DIR / f"{self.name}.txt"


TOOLS = (
    ToolLock("sam", python="3.13"),  # sam build runs on the Lambda runtime's Python
    ToolLock("checkov", python="3.11"),
    ToolLock("uv", python="3.11"),
)


def _uv(uv: str, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - uv, as the Makefile installed it
        [uv, *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
    )
    if done.returncode != 0:
        raise LockError(f"uv {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


class LockError(Exception):
    """A lock file cannot be written, or is out of step; the message says which and why."""


def exported(uv: str) -> dict[Path, str]:
    """The requirements files as uv.lock gives them now."""
    return {
        LAYER_REQUIREMENTS: _LAYER_HEADER + _uv(uv, *_EXPORT, "--package", "newsroom"),
        DEV_REQUIREMENTS: _DEV_HEADER + _uv(uv, *_EXPORT, "--all-packages", "--extra", "dev"),
    }


def pins(text: str) -> dict[str, str]:
    """Normalised package name → pinned version, of every `name==version` in a requirements
    text."""
    return {normalise(name): version for name, _, version in _PIN.findall(text)}


def normalise(name: str) -> str:
    """A distribution's name as PEP 503 compares it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def write(uv: str, *, resolve: bool, upgrade: bool = False) -> None:
    """Export the requirements from uv.lock; with `resolve`, first re-resolve uv.lock and the
    tool locks (keeping every pin that still fits, unless `upgrade`)."""
    if resolve:
        _uv(uv, "lock", *(["--upgrade"] if upgrade else []))
        for tool in TOOLS:
            _uv(
                uv,
                "pip",
                "compile",
                "--quiet",
                "--universal",
                "--generate-hashes",
                "--python-version",
                tool.python,
                *(["--upgrade"] if upgrade else []),
                str(tool.source.relative_to(PROJECT_ROOT)),
                "-o",
                str(tool.lock.relative_to(PROJECT_ROOT)),
            )
    for path, text in exported(uv).items():
        path.write_text(text, encoding="utf-8")


def problems(uv: str) -> list[str]:
    """Where the lock files and their sources disagree (empty when all agree)."""
    found = []
    try:
        _uv(uv, "lock", "--check")
    except LockError as exc:
        found.append(f"uv.lock is out of step with pyproject.toml: {exc}")
    for path, text in exported(uv).items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            found.append(f"{path.relative_to(PROJECT_ROOT)} is not what uv.lock exports")
    for tool in TOOLS:
        wanted = pins(tool.source.read_text(encoding="utf-8"))
        locked = pins(tool.lock.read_text(encoding="utf-8")) if tool.lock.exists() else {}
        for name, version in sorted(wanted.items()):
            if locked.get(name) != version:
                found.append(
                    f"{tool.lock.relative_to(PROJECT_ROOT)} pins {name} "
                    f"{locked.get(name, 'not at all')}, {tool.source.name} wants {version}"
                )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uv", required=True, help="the uv executable")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="fail if a lock is out of step")
    action.add_argument(
        "--resolve", action="store_true", help="re-resolve uv.lock and the tool locks first"
    )
    parser.add_argument("--upgrade", action="store_true", help="with --resolve: newest versions")
    args = parser.parse_args(argv)
    try:
        if args.check:
            found = problems(args.uv)
            for problem in found:
                print(problem, file=sys.stderr)
            if found:
                print("Run `make lock` and commit the lock files.", file=sys.stderr)
            return 1 if found else 0
        write(args.uv, resolve=args.resolve, upgrade=args.upgrade)
    except LockError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
