"""Proves a built layer holds only aarch64 native extensions (Lambda arm64 cannot load x86-64),
and the data files its code reads (the API docs page's contract and Swagger UI)."""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

from newsroom.apidocs import LAYER_PATHS

_MACHINES = {0x3E: "x86-64", 0xB7: "aarch64", 0x03: "x86", 0x28: "arm"}
# Native extensions the functions import on every cold start; missing one means a broken build.
REQUIRED = ("pydantic_core",)


def elf_machine(path: Path) -> str:
    """The instruction set an ELF file is built for, from its header's e_machine field."""
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return "not-elf"
    byte_order = "<" if header[5] == 1 else ">"
    (machine,) = struct.unpack(byte_order + "H", header[18:20])
    return _MACHINES.get(machine, hex(machine))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("layer_dir", type=Path, help="e.g. .aws-sam/build/NewsroomLayer")
    args = parser.parse_args(argv)
    extensions = sorted(args.layer_dir.rglob("*.so"))
    found = {path: elf_machine(path) for path in extensions}
    for path, machine in found.items():
        print(f"{machine:8} {path.relative_to(args.layer_dir)}")
    wrong = [path for path, machine in found.items() if machine != "aarch64"]
    missing = [name for name in REQUIRED if not any(name in str(p) for p in found)]
    missing += [path for path in LAYER_PATHS if not (args.layer_dir / path).is_file()]
    if not found or wrong or missing:
        print(
            f"FAIL: {len(wrong)} non-aarch64 extension(s); missing: {missing or 'none'}",
            file=sys.stderr,
        )
        return 1
    print(
        f"OK: all {len(found)} native extensions in {args.layer_dir} are aarch64, "
        f"and its {len(LAYER_PATHS)} API docs files are there"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
