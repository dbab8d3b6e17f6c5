"""The layer check's rules: what the functions' imports allow, what a built layer holds beyond
it (newsroom_tools.layer_contents), and bytecode Lambda can use (newsroom_tools.check_layer)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from newsroom_tools.check_layer import (
    LAMBDA_ENVIRONMENT,
    PYTHON_313_MAGIC,
    only_what_functions_import,
    without_bytecode,
)
from newsroom_tools.layer_contents import (
    allowed_distributions,
    declared_extras,
    distributions,
    findings,
    imported_names,
    reach,
)
from newsroom_tools.locks import PROJECT_ROOT


def test_imports_inside_functions_count_and_type_checking_blocks_do_not() -> None:
    source = """
from typing import TYPE_CHECKING
import json
from newsroom.models import comments
if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient
else:
    import runtime_only
def later():
    import email_validator
    return importlib.import_module("newsroom.pages")
from . import sibling
"""

    names = imported_names(source)

    assert {"json", "newsroom.models", "newsroom.models.comments", "email_validator"} <= names
    assert {"runtime_only", "newsroom.pages"} <= names
    assert not any(name.startswith("mypy_boto3") for name in names)
    assert "sibling" not in names


def test_the_functions_reach_the_runtime_modules_and_no_tool() -> None:
    reached = reach(sorted((PROJECT_ROOT / "functions").rglob("*.py")), PROJECT_ROOT / "shared")

    assert {"newsroom.models.comments", "newsroom.data.dynamo", "newsroom.secrets"} <= set(
        reached.package_modules
    )
    assert {"pydantic", "boto3", "aws_lambda_powertools", "email_validator"} <= reached.external
    assert "yaml" not in reached.external
    assert "moto" not in reached.external
    assert "json" not in reached.external  # the standard library is the runtime's


def _dist(site: Path, name: str, entries: list[str], requires: tuple[str, ...] = ()) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    headers = [f"Name: {name}", "Version: 1.0", *(f"Requires-Dist: {r}" for r in requires)]
    (info / "METADATA").write_text("\n".join(headers) + "\n\nlong description\n")
    (info / "RECORD").write_text("".join(f"{entry},,\n" for entry in entries))
    for entry in entries:
        path = site / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


def _project(root: Path, dependencies: list[str]) -> None:
    (root / "functions" / "one").mkdir(parents=True)
    (root / "functions" / "one" / "app.py").write_text("import newsroom.app\nimport good\n")
    (root / "shared" / "newsroom").mkdir(parents=True)
    (root / "shared" / "newsroom" / "__init__.py").write_text("")
    (root / "shared" / "newsroom" / "app.py").write_text("def f():\n    import lazy\n")
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (root / "pyproject.toml").write_text(f'[project]\nname = "x"\ndependencies = [{deps}]\n')


def _layer(root: Path) -> Path:
    site = root / "layer" / "python"
    (site / "newsroom").mkdir(parents=True)
    (site / "newsroom" / "__init__.py").write_text("")
    (site / "newsroom" / "app.py").write_text("")
    (site / "requirements.txt").write_text("")
    _dist(site, "good", ["good/__init__.py"], ("helper", "tracing; extra == 'trace'"))
    _dist(site, "helper", ["helper.py"])
    _dist(site, "lazy", ["lazy/__init__.py"])
    _dist(site, "tracing", ["tracing/__init__.py"])
    return site


def test_a_layer_with_only_what_the_functions_import_passes(tmp_path: Path) -> None:
    _project(tmp_path, ["good[trace]", "lazy"])
    _layer(tmp_path)

    assert only_what_functions_import(tmp_path / "layer", tmp_path)


def test_a_module_distribution_or_file_nothing_imports_is_found(tmp_path: Path) -> None:
    _project(tmp_path, ["good", "lazy"])  # no [trace]: the tracing distribution is not needed
    site = _layer(tmp_path)
    (site / "newsroom" / "tools").mkdir()
    (site / "newsroom" / "tools" / "__init__.py").write_text("")
    (site / "newsroom" / "notes.txt").write_text("")
    (site / "loose.py").write_text("")
    _dist(site, "pyyaml", ["yaml/__init__.py", "_yaml/__init__.py"])
    reached = reach([tmp_path / "functions" / "one" / "app.py"], tmp_path / "shared")
    installed = distributions(site)

    allowed = allowed_distributions(
        reached.external,
        installed,
        declared_extras(tmp_path / "pyproject.toml"),
        LAMBDA_ENVIRONMENT,
    )
    found = findings(site, reached, allowed, installed, data_files=[])

    assert set(allowed) == {"good", "helper", "lazy"}
    assert found.distributions == ("pyyaml", "tracing")
    assert found.entries == ("loose.py",)
    assert found.package_files == ("newsroom/notes.txt", "newsroom/tools/__init__.py")
    assert not only_what_functions_import(tmp_path / "layer", tmp_path)


def test_data_files_the_code_reads_are_allowed(tmp_path: Path) -> None:
    _project(tmp_path, ["good", "lazy", "tracing"])
    site = _layer(tmp_path)
    (site / "newsroom" / "page.html").write_text("")
    reached = reach([tmp_path / "functions" / "one" / "app.py"], tmp_path / "shared")
    installed = distributions(site)
    allowed = allowed_distributions(reached.external, installed, {}, LAMBDA_ENVIRONMENT)

    found = findings(site, reached, allowed, installed, data_files=["newsroom/page.html"])

    assert found.package_files == ()


def _module_with_bytecode(layer: Path, magic: bytes, flags: int) -> None:
    package = layer / "python" / "pkg"
    (package / "__pycache__").mkdir(parents=True)
    (package / "mod.py").write_text("x = 1\n")
    header = magic + flags.to_bytes(4, "little") + bytes(8)
    (package / "__pycache__" / "mod.cpython-313.pyc").write_bytes(header + b"code")


def test_a_module_with_python_3_13_unchecked_hash_bytecode_passes(tmp_path: Path) -> None:
    _module_with_bytecode(tmp_path, PYTHON_313_MAGIC, flags=0b01)

    assert without_bytecode(tmp_path) == []


@pytest.mark.parametrize(
    ("magic", "flags"),
    [
        (PYTHON_313_MAGIC, 0b00),  # checked against the source's timestamp
        (PYTHON_313_MAGIC, 0b11),  # checked against the source's hash
        (importlib.util.MAGIC_NUMBER, 0b01),  # another Python's bytecode
    ],
    ids=["timestamp", "checked-hash", "other-python"],
)
def test_a_module_lambda_would_compile_on_each_cold_start_is_found(
    tmp_path: Path, magic: bytes, flags: int
) -> None:
    _module_with_bytecode(tmp_path, magic, flags)

    assert without_bytecode(tmp_path) == [Path("python/pkg/mod.py")]


def test_a_module_without_bytecode_is_found(tmp_path: Path) -> None:
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "loose.py").write_text("")

    assert without_bytecode(tmp_path) == [Path("python/loose.py")]
