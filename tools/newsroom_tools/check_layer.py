"""Proves a built layer is the lock's (exactly the packages and versions its requirements pin for
the Lambda runtime), holds only aarch64 native extensions (Lambda arm64 cannot load x86-64),
the data files its code reads (the API docs page's contract and Swagger UI), and nothing no
function can import (newsroom_tools.layer_contents), every module compiled to Python 3.13
bytecode (Lambda cannot write it into the read-only /opt); prints its size."""

from __future__ import annotations

import argparse
import io
import struct
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement

from newsroom.apidocs import LAYER_PATHS
from newsroom_tools import layer_contents
from newsroom_tools.locks import PROJECT_ROOT, pins

_MACHINES = {0x3E: "x86-64", 0xB7: "aarch64", 0x03: "x86", 0x28: "arm"}
# Native extensions the functions import on every cold start; missing one means a broken build.
REQUIRED = ("pydantic_core",)
# What environment markers see on the Lambda runtime (python3.13, arm64).
LAMBDA_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


def locked_for_lambda(requirements: str) -> dict[str, str]:
    """Package → version the requirements pin for the Lambda runtime (markers evaluated)."""
    wanted: dict[str, str] = {}
    for line in _logical_lines(requirements):
        requirement = Requirement(line.split(" --hash", 1)[0].strip())
        if requirement.marker is None or requirement.marker.evaluate(LAMBDA_ENVIRONMENT):
            wanted |= pins(str(requirement).split(";", 1)[0])
    return wanted


def _logical_lines(text: str) -> list[str]:
    joined = text.replace("\\\n", " ")
    return [
        line for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]


def installed(layer_dir: Path) -> dict[str, str]:
    """Package → version of every distribution in the built layer (its dist-info folders)."""
    found: dict[str, str] = {}
    for metadata in layer_dir.glob("python/*.dist-info/METADATA"):
        fields = dict(
            line.split(": ", 1) for line in metadata.read_text().splitlines() if ": " in line
        )
        found |= pins(f"{fields['Name']}=={fields['Version']}")
    return found


def elf_machine(path: Path) -> str:
    """The instruction set an ELF file is built for, from its header's e_machine field."""
    header = path.read_bytes()[:20]
    if header[:4] != b"\x7fELF":
        return "not-elf"
    byte_order = "<" if header[5] == 1 else ">"
    (machine,) = struct.unpack(byte_order + "H", header[18:20])
    return _MACHINES.get(machine, hex(machine))


# Lambda's quotas (Lambda developer guide, "Lambda quotas"): a function and its layers at most
# 250 MB unzipped; a zip uploaded directly at most 50 MB.
UNZIPPED_QUOTA_BYTES = 250 * 1024 * 1024
ZIPPED_UPLOAD_QUOTA_BYTES = 50 * 1024 * 1024


def sizes(layer_dir: Path) -> tuple[int, int]:
    """(unzipped, zipped) bytes of the layer's files, zipped with deflate as `sam deploy` does."""
    files = sorted(path for path in layer_dir.rglob("*") if path.is_file())
    unzipped = sum(path.stat().st_size for path in files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(layer_dir))
    return unzipped, buffer.tell()


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


# Bytecode as Python 3.13 writes it (importlib.util.MAGIC_NUMBER there), hash-based and not
# checked against its source (PEP 552 flags: bit 0 hash-based, bit 1 check the source).
PYTHON_313_MAGIC = (3571).to_bytes(2, "little") + b"\r\n"
UNCHECKED_HASH_FLAGS = 0b01


def without_bytecode(layer_dir: Path) -> list[Path]:
    """The layer's modules that Lambda would compile on each cold start: no Python 3.13
    bytecode beside them, or bytecode it checks against a source timestamp."""
    missing = []
    for source in sorted((layer_dir / "python").rglob("*.py")):
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        header = cached.read_bytes()[:8] if cached.is_file() else b""
        flags = int.from_bytes(header[4:8], "little") if len(header) == 8 else None
        if header[:4] != PYTHON_313_MAGIC or flags != UNCHECKED_HASH_FLAGS:
            missing.append(source.relative_to(layer_dir))
    return missing


def only_what_functions_import(layer_dir: Path, project_root: Path = PROJECT_ROOT) -> bool:
    """Print what the functions' imports allow in the layer and whatever else it holds; true
    when it holds nothing else."""
    site = layer_dir / "python"
    reached = layer_contents.reach(
        sorted((project_root / "functions").rglob("*.py")), project_root / "shared"
    )
    installed = layer_contents.distributions(site)
    allowed = layer_contents.allowed_distributions(
        reached.external,
        installed,
        layer_contents.declared_extras(project_root / "pyproject.toml"),
        LAMBDA_ENVIRONMENT,
    )
    data_files = [path.removeprefix("python/") for path in LAYER_PATHS]
    found = layer_contents.findings(site, reached, allowed, installed, data_files)
    print(
        f"allowed: {len(reached.package_modules)} modules of newsroom (what the functions reach)"
        f" and {len(allowed)} distributions:"
    )
    for name, reason in sorted(allowed.items()):
        print(f"  {name:24} {reason}")
    for name in found.distributions:
        print(f"FAIL: the layer holds {name}, which no function imports", file=sys.stderr)
    for entry in found.entries:
        print(f"FAIL: the layer holds {entry}, which no distribution owns", file=sys.stderr)
    for path in found.package_files:
        print(f"FAIL: the layer holds {path}, which no function imports", file=sys.stderr)
    if found:
        return False
    print("OK: the layer holds only what the functions import")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("layer_dir", type=Path, help="e.g. .aws-sam/build/NewsroomLayer")
    parser.add_argument("requirements", type=Path, help="what it was built from, locked")
    args = parser.parse_args(argv)
    locked = locked_for_lambda(args.requirements.read_text())
    built = installed(args.layer_dir)
    if built != locked:
        for name in sorted(set(built) | set(locked)):
            if built.get(name) != locked.get(name):
                in_layer, in_lock = built.get(name, "absent"), locked.get(name, "absent")
                print(
                    f"FAIL: {name} is {in_layer} in the layer but {in_lock} in the lock",
                    file=sys.stderr,
                )
        return 1
    print(f"OK: the layer holds the {len(built)} packages of {args.requirements}, as pinned")
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
    if not only_what_functions_import(args.layer_dir):
        return 1
    uncompiled = without_bytecode(args.layer_dir)
    if uncompiled:
        print(
            f"FAIL: {len(uncompiled)} module(s) without Python 3.13 unchecked-hash bytecode "
            f"(Lambda's /opt is read-only: each cold start would compile them), e.g. "
            f"{', '.join(map(str, uncompiled[:5]))}",
            file=sys.stderr,
        )
        return 1
    print("OK: every module has Python 3.13 bytecode, used without a source check")
    unzipped, zipped = sizes(args.layer_dir)
    print(
        f"size: {_mib(unzipped)} unzipped (Lambda allows {_mib(UNZIPPED_QUOTA_BYTES)} for a "
        f"function and its layers), {_mib(zipped)} zipped"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
