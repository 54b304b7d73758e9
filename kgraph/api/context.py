"""What every resolver reads: the graph this request was given."""

from __future__ import annotations

from dataclasses import dataclass

from kgraph.errors import GraphNotReady
from kgraph.graph import KnowledgeGraph

__all__ = ["Context"]


@dataclass(frozen=True, slots=True)
class Context:
    """The per-request context.

    The graph is taken once when the request starts, so one request sees one
    graph from start to end, even if a newer one is swapped in meanwhile.
    """

    graph: KnowledgeGraph | None
    load_error: str | None = None

    @property
    def kg(self) -> KnowledgeGraph:
        """The graph, or an error the client can act on when there is none yet."""
        if self.graph is None:
            if self.load_error:
                raise GraphNotReady(f"the graph failed to load: {self.load_error}")
            raise GraphNotReady("the graph is still loading: retry when /readyz answers 200")
        return self.graph
