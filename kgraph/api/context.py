"""What every resolver reads: the graph this request was given, and how it is served."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from kgraph.api.events import GraphEvents
from kgraph.errors import GraphNotReady
from kgraph.graph import KnowledgeGraph

__all__ = ["Context"]


@dataclass(frozen=True, slots=True)
class Context:
    """The per-request context.

    The graph is taken once when the request starts, so one request sees one
    graph from start to end, even if a newer one is swapped in meanwhile;
    ``graph_version`` is that graph's version (1 for the first load, one more
    per reload) and ``graph_id`` names it among every server's graphs (see
    :attr:`kgraph.serving.Served.identity`: cursors carry it). ``reload_error``
    says why the last reload failed, while the older graph keeps serving.
    ``scope`` is the request's ASGI scope, where the schema notes the operation
    for metrics and logs. ``corpus`` is the corpus folder as the client may see
    it (its name alone in production; ``None``: the graph's own path).
    """

    graph: KnowledgeGraph | None
    load_error: str | None = None
    graph_version: int = 0
    graph_id: str = ""
    reload_error: str | None = None
    events: GraphEvents = field(default_factory=GraphEvents)
    scope: MutableMapping[str, Any] = field(default_factory=dict)
    corpus: str | None = None

    @property
    def kg(self) -> KnowledgeGraph:
        """The graph, or an error the client can act on when there is none yet."""
        if self.graph is None:
            if self.load_error:
                raise GraphNotReady(f"the graph failed to load: {self.load_error}")
            raise GraphNotReady("the graph is still loading: retry when /readyz answers 200")
        return self.graph
