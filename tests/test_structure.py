"""The package's shape: a small public surface, private modules behind it, data flowing one way.

- The public modules export exactly what they are meant to (as httpx pins its surface); every
  other module is private (a leading underscore somewhere in its path).
- The pure readers (`_read`) import nothing of OpenTelemetry and nothing of the package above
  them, and `_diagnostics` takes values, never a call: neither imports the call layer.
- No two modules import each other, even only for type checking; no module grows past ~300 lines.
- The one table of environment variables (`_config.ENVIRONMENT`) is the configuration table users read.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import anthropic_otel
from anthropic_otel._config import ENVIRONMENT

PACKAGE = Path(anthropic_otel.__file__).parent
ROOT = PACKAGE.parent.parent

PUBLIC = {
    "anthropic_otel": ["AnthropicInstrumentor", "__version__", "conversation", "route"],
    "anthropic_otel.openai_compat": ["DEFAULT_HOSTS", "HOSTS_ENV", "OpenAICompatInstrumentor"],
    "anthropic_otel.testing": ["ErrorReply", "FakeClaudeAPI", "Fault", "MessageReply", "RecordedRequest", "ToolUse"],
    "anthropic_otel.cli": ["main", "parse_duration", "print_report"],
}
# The entry points of `python -m`: public by being run, exporting nothing.
RUN_ONLY = {"anthropic_otel.testing.__main__"}


def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    found = {"anthropic_otel": PACKAGE / "__init__.py"}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_a_public_module_exports_exactly_its_surface(module: str) -> None:
    assert sorted(importlib.import_module(module).__all__) == PUBLIC[module]


def test_every_other_module_is_private() -> None:
    public = set(PUBLIC) | RUN_ONLY
    exposed = [name for name in modules() if name not in public and not any(p.startswith("_") for p in name.split("."))]
    assert exposed == []


def imports_of(path: Path) -> set[str]:
    """The modules `path` imports (type-checking imports included), absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules_imported(path: Path, names: dict[str, Path]) -> set[str]:
    """The package's modules `path` imports: `from pkg import module` imports the module, not the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(names)
            found |= submodules or ({node.module} & set(names))
    return found


def package_imports() -> dict[str, set[str]]:
    """For each module, the modules of the package it imports."""
    names = modules()
    return {name: _modules_imported(path, names) - {name} for name, path in names.items()}


def test_the_pure_readers_import_no_opentelemetry_and_nothing_above_them() -> None:
    for name, path in modules().items():
        if not name.startswith("anthropic_otel._read"):
            continue
        imported = imports_of(path)
        assert not any(module.startswith("opentelemetry") for module in imported), name
        ours = {module for module in imported if module.startswith("anthropic_otel")}
        assert all(module.startswith("anthropic_otel._read") for module in ours), (name, ours)


def test_diagnostics_never_import_the_call_layer() -> None:
    for name, imported in package_imports().items():
        if name.startswith("anthropic_otel._diagnostics"):
            assert not any(module.startswith("anthropic_otel._call") for module in imported), (name, imported)


def test_no_two_modules_import_each_other() -> None:
    graph = package_imports()
    # A package's `__init__` that only hands names on is not a module in the loop: import its parts.
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        for imported in graph.get(name, ()):
            if imported in path:
                cycles.append([*path[path.index(imported) :], imported])
            elif len(path) < 12:
                visit(imported, [*path, imported])

    for start in graph:
        visit(start, [start])
    assert cycles == []


def test_no_module_is_much_over_300_lines() -> None:
    long = {name: len(path.read_text().splitlines()) for name, path in modules().items()}
    assert {name: lines for name, lines in long.items() if lines > 320} == {}


def test_the_configuration_table_is_the_one_the_code_reads() -> None:
    """Every row of the README's (or a docs page's) configuration table, exactly the variables `ENVIRONMENT` lists."""
    row = re.compile(r"^\| `([A-Z_]+)` \|([^|]*)\|", re.MULTILINE)
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    rows = {
        name: default.strip().strip("`")
        for document in documents
        if document.exists()
        for name, default in row.findall(document.read_text(encoding="utf-8"))
        if name in {variable.name for variable in ENVIRONMENT} or name.startswith("ANTHROPIC_OTEL_")
    }
    assert rows == {variable.name: variable.default for variable in ENVIRONMENT}


def test_every_variable_the_package_names_is_in_the_table() -> None:
    names = {variable.name for variable in ENVIRONMENT}
    spelled = set()
    for path in modules().values():
        spelled.update(re.findall(r"\bANTHROPIC_OTEL_[A-Z_]+\b", path.read_text(encoding="utf-8")))
    assert spelled <= names, spelled - names


def test_every_module_is_importable() -> None:
    for info in pkgutil.walk_packages([str(PACKAGE)], "anthropic_otel."):
        if info.name.startswith("anthropic_otel.openai_compat") or info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
