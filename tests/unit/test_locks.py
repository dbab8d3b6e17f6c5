"""The builds are reproducible: the layer, the dev install and the tools are installed from
locks, every package pinned with the hashes of its files, including the wheels of the Lambda
runtime (python3.13 on arm64), which is not this machine."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from newsroom_tools.check_layer import locked_for_lambda
from newsroom_tools.locks import (
    DEV_REQUIREMENTS,
    LAYER_REQUIREMENTS,
    PROJECT_ROOT,
    TOOLS,
    ToolLock,
    pins,
)

UV_LOCK = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text(encoding="utf-8"))


def requirement_lines(text: str) -> list[str]:
    """One line per requirement, its `--hash` continuation lines joined to it."""
    joined = text.replace("\\\n", " ")
    return [
        line for line in joined.splitlines() if line.strip() and not line.startswith(("#", " "))
    ]


def hashes_of(line: str) -> set[str]:
    return {part.removeprefix("--hash=") for part in line.split() if part.startswith("--hash=")}


def linux_cp313_tags(machine: str) -> set[Tag]:
    """What pip on Python 3.13 installs on Linux: glibc up to the Lambda runtime's 2.34."""
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(34, 16, -1)]
    platforms += [f"manylinux2014_{machine}", f"linux_{machine}"]
    return set(cpython_tags((3, 13), platforms=platforms)) | set(
        compatible_tags((3, 13), platforms=platforms)
    )


@pytest.mark.parametrize("path", [LAYER_REQUIREMENTS, DEV_REQUIREMENTS], ids=lambda p: p.name)
def test_every_requirement_is_pinned_with_hashes(path: Path) -> None:
    lines = requirement_lines(path.read_text())

    assert lines
    unpinned = [line.split()[0] for line in lines if "==" not in line.split()[0]]
    unhashed = [line.split()[0] for line in lines if not hashes_of(line)]
    assert (unpinned, unhashed) == ([], [])


@pytest.mark.parametrize("machine", ["aarch64", "x86_64"])
def test_layer_requirements_hash_a_wheel_for_python_3_13_on_linux(machine: str) -> None:
    # Given the layer's requirements, and the wheels uv.lock knows for each pinned package
    wheels = {
        (canonicalize_name(package["name"]), package["version"]): package.get("wheels", [])
        for package in UV_LOCK["package"]
    }
    tags = linux_cp313_tags(machine)
    lines = {
        canonicalize_name(Requirement(line.split(" --hash", 1)[0]).name): line
        for line in requirement_lines(LAYER_REQUIREMENTS.read_text())
    }

    # When a package of the Lambda runtime (aarch64) or of sam build's first download, on this
    # kind of machine (x86_64), is looked for among the wheels the requirements hash
    missing = []
    for name, version in locked_for_lambda(LAYER_REQUIREMENTS.read_text()).items():
        usable = {
            wheel["hash"]
            for wheel in wheels[(name, version)]
            if tags & set(parse_wheel_filename(wheel["url"].rsplit("/", 1)[1])[3])
        }
        if not usable & hashes_of(lines[name]):
            missing.append(f"{name}=={version}")

    # Then every one has a wheel pip will take, in hash-checking mode
    assert missing == []


def test_native_packages_of_the_layer_are_among_those_checked() -> None:
    locked = locked_for_lambda(LAYER_REQUIREMENTS.read_text())

    assert {"pydantic-core", "nh3", "wrapt"} <= set(locked)


def test_the_layer_lock_holds_none_of_the_tools_dependencies() -> None:
    locked = locked_for_lambda(LAYER_REQUIREMENTS.read_text())

    assert {"moto", "pyyaml"}.isdisjoint(locked)
    assert {"moto", "pyyaml"} <= set(pins(DEV_REQUIREMENTS.read_text()))


def test_moto_is_bounded_below_its_next_minor_release() -> None:
    # The emulator patches moto internals (newsroom_tools/emulator.py).
    tools = tomllib.loads((PROJECT_ROOT / "tools" / "pyproject.toml").read_text())["project"]
    (moto,) = [
        Requirement(text) for text in tools["dependencies"] if Requirement(text).name == "moto"
    ]

    upper = [spec for spec in moto.specifier if spec.operator == "<"]
    assert upper, f"{moto} has no upper bound"
    assert pins(DEV_REQUIREMENTS.read_text())["moto"] in moto.specifier


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_each_tool_is_pinned_to_one_version_and_locked(tool: ToolLock) -> None:
    wanted = [
        line for line in tool.source.read_text().splitlines() if line and not line.startswith("#")
    ]
    assert wanted
    assert all("==" in line for line in wanted), wanted
    locked = pins(tool.lock.read_text())
    assert pins("\n".join(wanted)).items() <= locked.items()
    assert all(hashes_of(line) for line in requirement_lines(tool.lock.read_text()))


def test_the_sam_cli_is_one_of_the_locked_tools() -> None:
    assert "aws-sam-cli" in pins(next(t for t in TOOLS if t.name == "sam").source.read_text())


def test_layer_sizes_count_every_file_and_its_zip(tmp_path: Path) -> None:
    from newsroom_tools.check_layer import sizes

    (tmp_path / "python" / "pkg").mkdir(parents=True)
    (tmp_path / "python" / "pkg" / "a.py").write_text("x = 1\n" * 1000)
    (tmp_path / "python" / "b.bin").write_bytes(bytes(range(256)) * 4)

    unzipped, zipped = sizes(tmp_path)

    assert unzipped == 6000 + 1024
    assert 0 < zipped < unzipped  # the repeated text compresses
