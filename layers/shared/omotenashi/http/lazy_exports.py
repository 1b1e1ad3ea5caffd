"""Lazy re-exports for two Powertools packages the API imports from.

`aws_lambda_powertools.event_handler` and `aws_lambda_powertools.utilities.data_classes` have an
`__init__` that only re-exports names from their submodules, and so loads every one of them: the
AppSync, Bedrock, VPC Lattice, Lambda URL and HTTP resolvers (AppSync brings asyncio) and some 30
event classes (S3, Kinesis, CodePipeline...), none of which the API function uses (~15 ms of every
cold start). `install()` registers each package as a module whose names load on first use instead,
the way PEP 562 lazy packages work: a re-exported name imports just the submodule that defines it
(read from the package's own `__init__`), a submodule imports as usual, and any other name, or a
package whose `__init__` does anything but re-export, gets the package exactly as it is.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from typing import Any

PACKAGES = ("aws_lambda_powertools.event_handler", "aws_lambda_powertools.utilities.data_classes")


def install() -> None:
    """Before anything imports the packages (a package already imported is left as it is)."""
    for name in PACKAGES:
        if name not in sys.modules:
            _install(name)


def reexports(spec: ModuleSpec) -> dict[str, str] | None:
    """Name -> defining submodule, when the package's `__init__` holds nothing but a docstring,
    re-exports from its own submodules and `__all__`; None otherwise."""
    loader: Any = spec.loader
    source = loader.get_source(spec.name) if loader is not None and hasattr(loader, "get_source") else None
    if source is None:
        return None
    exports: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        if isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            continue
        if isinstance(node, ast.ImportFrom) and node.module and all(a.asname is None for a in node.names):
            module = importlib.util.resolve_name("." * node.level + node.module, spec.name)
            if module.startswith(spec.name + ".") and "*" not in {a.name for a in node.names}:
                exports.update({a.name: module for a in node.names})
                continue
        return None
    return exports


def _install(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    exports = reexports(spec)
    if exports is None:
        return
    package = importlib.util.module_from_spec(spec)
    loaded = False

    def load_attribute(attribute: str) -> Any:
        nonlocal loaded
        if attribute in exports:
            value = getattr(importlib.import_module(exports[attribute]), attribute)
            setattr(package, attribute, value)
            return value
        if not attribute.startswith("__") and importlib.util.find_spec(f"{name}.{attribute}") is not None:
            return importlib.import_module(f"{name}.{attribute}")
        if not loaded:  # anything else: the package as Powertools wrote it
            loaded = True
            spec.loader.exec_module(package)  # type: ignore[union-attr]
            return getattr(package, attribute)
        raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

    setattr(package, "__getattr__", load_attribute)  # noqa: B010 - the module-level hook (PEP 562)
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, package)
