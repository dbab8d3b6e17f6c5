"""What the layer may hold, derived from the functions' imports, and what a built layer holds
beyond it.

Allowed are:
- the modules of the newsroom package that some function can reach: its handlers' imports,
  followed through the package (lazy imports inside functions count; `if TYPE_CHECKING:` blocks
  do not, they never run);
- the distributions that provide the other modules those imports name, and everything those
  distributions require on the Lambda runtime, with the extras the project asks for in
  pyproject.toml (`aws-lambda-powertools[tracer]` brings the X-Ray SDK the `Tracing` parameter
  turns on);
- the data files the layer's code reads (the API docs page's files).

Anything else in the layer (a module of the package no function reaches, a distribution nothing
requires) is a finding: it costs deploy size and blurs what a function may import.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from newsroom_tools.locks import normalise

# The package the layer exists for; its source lives in shared/.
PACKAGE = "newsroom"
# `sam build` copies the layer's requirements file next to what it installed.
BUILD_LEFTOVERS = frozenset({"requirements.txt"})


def imported_names(source: str) -> set[str]:
    """Dotted names an absolute import in `source` can load, outside `if TYPE_CHECKING:`.

    `from a.b import c` names both `a.b` and `a.b.c` (c may be a module); a literal
    `importlib.import_module("a.b")` counts too.
    """
    names: set[str] = set()
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return names


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in (child, *_runtime_nodes(child)))
            continue
        yield node
        yield from _runtime_nodes(node)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


@dataclass(frozen=True)
class Reach:
    """What the functions' code can import: modules of the package, and top-level names of
    everything else (the standard library left out)."""

    package_modules: frozenset[str]
    external: frozenset[str]


def reach(function_sources: Iterable[Path], package_root: Path) -> Reach:
    """Follow the functions' imports through the package found in `package_root` (shared/)."""
    pending = [name for path in function_sources for name in imported_names(path.read_text())]
    modules: set[str] = set()
    external: set[str] = set()
    while pending:
        name = pending.pop()
        top = name.partition(".")[0]
        if top != PACKAGE:
            if top not in sys.stdlib_module_names:
                external.add(top)
            continue
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            module = ".".join(parts[:depth])
            source = _module_file(package_root, module)
            if source is not None and module not in modules:
                modules.add(module)
                pending.extend(imported_names(source.read_text()))
    return Reach(frozenset(modules), frozenset(external))


def _module_file(package_root: Path, module: str) -> Path | None:
    base = package_root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Distribution:
    """One installed distribution in the layer: its name, the top-level entries of the layer's
    folder it owns (from its RECORD) and what it requires."""

    name: str
    entries: frozenset[str]
    requires: tuple[Requirement, ...]


def distributions(site: Path) -> dict[str, Distribution]:
    """Normalised name → distribution, for every `*.dist-info` in `site` (the layer's python/)."""
    found = {}
    for info in sorted(site.glob("*.dist-info")):
        metadata = (info / "METADATA").read_text(encoding="utf-8")
        name = normalise(_field(metadata, "Name")[0])
        record = (info / "RECORD").read_text(encoding="utf-8") if (info / "RECORD").exists() else ""
        entries = {
            line.split(",", 1)[0].split("/", 1)[0]
            for line in record.splitlines()
            if line and not line.startswith("..")
        }
        found[name] = Distribution(
            name,
            frozenset(entries | {info.name}),
            tuple(Requirement(text) for text in _field(metadata, "Requires-Dist")),
        )
    return found


def _field(metadata: str, key: str) -> list[str]:
    headers = metadata.split("\n\n", 1)[0]
    prefix = f"{key}: "
    return [
        line.removeprefix(prefix).strip()
        for line in headers.splitlines()
        if line.startswith(prefix)
    ]


def declared_extras(pyproject: Path) -> dict[str, frozenset[str]]:
    """Normalised name → extras the project's own requirements ask for."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {
        normalise(requirement.name): frozenset(requirement.extras)
        for requirement in map(Requirement, project.get("dependencies", []))
    }


def allowed_distributions(
    external: Iterable[str],
    installed: dict[str, Distribution],
    extras: dict[str, frozenset[str]],
    environment: dict[str, str],
) -> dict[str, str]:
    """Normalised name → why it is allowed, for every distribution the imports need: the ones
    providing an imported top-level name, and what they require on `environment`, closed."""
    owner = {entry: dist.name for dist in installed.values() for entry in dist.entries}
    reasons: dict[str, str] = {}
    pending: list[tuple[str, frozenset[str], str]] = []
    for top in sorted(external):
        for entry in (top, f"{top}.py"):
            if entry in owner:
                name = owner[entry]
                pending.append((name, extras.get(name, frozenset()), f"imports {top}"))
    while pending:
        name, wanted_extras, reason = pending.pop(0)
        dist = installed.get(name)
        if dist is None:
            continue
        seen = name in reasons
        reasons.setdefault(name, reason)
        if seen and not wanted_extras:
            continue
        for requirement in dist.requires:
            needed = requirement.marker is None or any(
                requirement.marker.evaluate({**environment, "extra": extra})
                for extra in ("", *wanted_extras)
            )
            required = normalise(requirement.name)
            if needed and required not in reasons:
                by = name
                if requirement.marker is not None and wanted_extras:
                    by += f"[{','.join(sorted(wanted_extras))}]"
                pending.append((required, frozenset(requirement.extras), f"required by {by}"))
    return reasons


@dataclass(frozen=True)
class Findings:
    """What a built layer holds beyond what is allowed."""

    distributions: tuple[str, ...]  # installed, but nothing the functions import needs them
    entries: tuple[str, ...]  # top-level files or folders no distribution owns
    package_files: tuple[str, ...]  # files of the package no function reaches

    def __bool__(self) -> bool:
        return bool(self.distributions or self.entries or self.package_files)


def findings(
    site: Path,
    reached: Reach,
    allowed: dict[str, str],
    installed: dict[str, Distribution],
    data_files: Iterable[str],
) -> Findings:
    """Compare the layer's folder `site` (python/) with what is allowed."""
    owned = {entry for dist in installed.values() for entry in dist.entries}
    extra_dists = tuple(sorted(set(installed) - set(allowed)))
    extra_entries = tuple(
        sorted(
            path.name
            for path in site.iterdir()
            if path.name not in owned
            and path.name != PACKAGE
            and path.name not in BUILD_LEFTOVERS
            and path.name != "__pycache__"
        )
    )
    data = set(data_files)
    stray = []
    for path in sorted((site / PACKAGE).rglob("*")):
        relative = path.relative_to(site).as_posix()
        if path.is_dir() or "__pycache__" in path.parts or relative in data:
            continue
        module = ".".join(path.relative_to(site).with_suffix("").parts).removesuffix(".__init__")
        if path.suffix != ".py" or module not in reached.package_modules:
            stray.append(relative)
    return Findings(extra_dists, extra_entries, tuple(stray))
