"""The GraphQL API: strawberry types and thin resolvers over ``kgraph.graph``."""

from kgraph.api.context import Context
from kgraph.api.schema import create_schema

__all__ = ["Context", "create_schema"]
