"""What the coverage checks of the storage contract read: the Store protocol's methods
(from storage.ports itself, never a copied list) and the store calls in test source."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from storage import ports

# Port members that are not the contract's to test, with the reason.
NOT_IN_CONTRACT = {
    "backup": "a SQLite-only tool (the sqlport helper takes it out of the port)",
}
# The names a contract test gives a Store it calls methods on.
STORE_NAMES = frozenset({"store", "other", "first", "second", "opened"})


def port_methods() -> set[str]:
    """Every method of the Store protocol and the role protocols it combines."""
    names: set[str] = set()
    for cls in ports.Store.__mro__:
        if cls.__module__ == ports.__name__:
            names |= {n for n, v in vars(cls).items()
                      if inspect.isfunction(v) and not n.startswith("_")}
    return names


def store_calls(tree: ast.AST) -> set[str]:
    """Names called as `store.<name>(...)` (or on another Store name) anywhere in `tree`."""
    return {node.func.attr for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id in STORE_NAMES}


def contract_classes(path: Path) -> list[ast.ClassDef]:
    """The classes of a module that run on every backend (derived from StoreContract)."""
    return [cls for cls in ast.walk(ast.parse(path.read_text(), str(path)))
            if isinstance(cls, ast.ClassDef) and (
                cls.name == "StoreContract"
                or any(isinstance(b, ast.Name) and b.id == "StoreContract"
                       for b in cls.bases))]


def function_source(path: Path, name: str) -> ast.AST:
    """The definition of the function or method `name` in one module."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
    raise LookupError(f"{name} is not defined in {path}")
