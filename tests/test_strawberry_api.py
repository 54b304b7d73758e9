"""kgraph uses strawberry through its public API only: no private module, name or attribute.

A private name can change in any release (kgraph was once pinned to one minor
version for them); the public API is what strawberry keeps working.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest
import strawberry

from conftest import REPO

KGRAPH = REPO / "kgraph"


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@cache
def strawberry_private_names() -> frozenset[str]:
    """Every ``_name`` strawberry defines: functions, methods, attributes, class fields."""
    names: set[str] = set()
    for path in Path(strawberry.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found = node.name
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                found = node.attr
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                found = node.id
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found = node.target.id
            else:
                continue
            if _private(found):
                names.add(found)
    return frozenset(names)


def private_uses(source: str) -> list[str]:
    """What ``source`` reaches of strawberry's private names, one line each."""
    private = strawberry_private_names()
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("strawberry"):
            module = node.module or ""
            if any(_private(part) for part in module.split(".")):
                found.append(f"{node.lineno}: from {module} import")
            found += [
                f"{node.lineno}: from {module} import {alias.name}"
                for alias in node.names
                if _private(alias.name)
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith("strawberry")
                and any(_private(part) for part in alias.name.split("."))
            ]
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in private
            # An object's own attributes are its own, whatever strawberry names its.
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
        ):
            found += [
                f"{node.lineno}: {node.func.id}(…, {argument.value!r})"
                for argument in node.args[1:2]
                if isinstance(argument, ast.Constant) and argument.value in private
            ]
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from strawberry.schema._graphql_core import execution_context_class_kwargs",
        "from strawberry.schema.schema import _impl",
        "import strawberry._internal",
        "def run(schema): return schema._schema",
        "def run(schema, errors): schema._process_errors(errors)",
        "def run(context): return getattr(context, '_provided_operation_name', None)",
        "def run(schema): return schema.schema_converter._get_field_exception_handlers",
    ],
)
def test_the_check_finds_private_names(source: str) -> None:
    assert private_uses(source), source


def test_the_check_lets_public_names_and_own_attributes_be() -> None:
    source = (
        "from strawberry.extensions import SchemaExtension\n"
        "class Cache(SchemaExtension):\n"
        "    def __init__(self): self._schema = None\n"
        "def run(context): return context.operation_name, context.__class__\n"
    )
    assert private_uses(source) == []


def test_kgraph_uses_no_private_strawberry_name() -> None:
    found = {
        str(path.relative_to(REPO)): uses
        for path in sorted(KGRAPH.rglob("*.py"))
        if (uses := private_uses(path.read_text(encoding="utf-8")))
    }
    assert found == {}
