"""Imports point one way (SPEC §2, docs/architecture.md): the entry points (cli, server) →
app → loyalty → connector. The server reaches the rest only through app's public names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "connector": {"loyalty", "app", "server", "cli", "samplestore"},
    "loyalty": {"app", "server", "cli", "samplestore"},
    "app": {"server", "cli", "samplestore"},
    "server": {"cli", "loyalty", "connector", "samplestore"},
    # The sample store is a WooCommerce of its own: it shares no code with the product.
    "samplestore": {"connector", "loyalty", "app", "server", "cli"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_upper_ones(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
        if imported_packages(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def private_imports(path: Path, package: str) -> set[str]:
    """Modules of ``package`` imported by their private name (``package._x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == package and any(part.startswith("_") for part in parts[1:]):
                found.add(name)
    return found


def test_the_server_uses_only_the_application_layers_public_names() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(private_imports(path, "app"))
        for path in (ROOT / "server").rglob("*.py")
        if private_imports(path, "app")
    }
    assert offenders == {}


def test_the_cli_reaches_the_application_layer_by_its_public_names() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(private_imports(path, "app"))
        for path in (ROOT / "cli").rglob("*.py")
        if private_imports(path, "app")
    }
    assert offenders == {}
