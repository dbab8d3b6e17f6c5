"""Writes or checks shared/requirements.txt, the layer's requirements, from pyproject.toml."""

from __future__ import annotations

import argparse
import sys
import tomllib

from newsroom.local.template import PROJECT_ROOT

PYPROJECT = PROJECT_ROOT / "pyproject.toml"
REQUIREMENTS = PROJECT_ROOT / "shared" / "requirements.txt"
HEADER = (
    "# What `sam build` installs into the newsroom layer.\n"
    "# Generated from pyproject.toml [project].dependencies by `make requirements`; do not edit.\n"
)


def expected() -> str:
    with PYPROJECT.open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    return HEADER + "".join(f"{dep}\n" for dep in sorted(dependencies, key=str.lower))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    wanted = expected()
    current = REQUIREMENTS.read_text() if REQUIREMENTS.exists() else ""
    if args.check:
        if current != wanted:
            print(
                f"{REQUIREMENTS.relative_to(PROJECT_ROOT)} is out of step with pyproject.toml; "
                "run `make requirements`.",
                file=sys.stderr,
            )
            return 1
        return 0
    REQUIREMENTS.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
