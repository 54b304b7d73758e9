"""The GraphQL API: strawberry types and thin resolvers over ``kgraph.graph``.

Its names are imported on first use, so that the process validating documents
for the server (:mod:`kgraph.api.overlaps`) does not import strawberry.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Context", "create_schema"]

_HOMES = {"Context": "kgraph.api.context", "create_schema": "kgraph.api.schema"}

if TYPE_CHECKING:
    from kgraph.api.context import Context
    from kgraph.api.schema import create_schema


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kgraph.api' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
