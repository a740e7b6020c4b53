"""Names a package exports but imports only when first used (PEP 562), so that a command's
start-up pays only for the modules it uses (``bazgasht metrics`` needs no HTTP client).

Each package lists its lazy names once per module here and imports the same names under
``TYPE_CHECKING`` for mypy; tests/test_layers.py checks every exported name resolves."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, modules: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """The module-level ``__getattr__`` of ``package``: a name of ``modules`` (module → the
    names it provides) is imported on first use and kept in the package, so that the next
    use is an ordinary attribute."""
    origin = {name: module for module, names in modules.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = origin.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__


__all__ = ["lazy_exports"]
