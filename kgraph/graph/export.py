"""Serialise a drawable subgraph for frontends (Cytoscape.js, d3, graphology) and tools."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import networkx as nx

from kgraph.budget import checkpoint
from kgraph.graph.subgraphs import Edge, Node, Subgraph

__all__ = [
    "KEYWORD_SEPARATOR",
    "to_cytoscape",
    "to_d3",
    "to_dot",
    "to_graphology",
    "to_networkx",
    "write_gexf",
    "write_graphml",
]

JSON = dict[str, Any]
T = TypeVar("T")

# How many nodes or edges are written between two looks at the request's budget.
_CLOCK_EVERY = 256

#: How GraphML, GEXF and DOT, which hold no lists, join a node's keywords.
KEYWORD_SEPARATOR = "; "


def _checked(items: Sequence[T]) -> Iterator[T]:
    """``items``, the request's budget checked every :data:`_CLOCK_EVERY` of them."""
    for done, item in enumerate(items):
        if done % _CLOCK_EVERY == 0:
            checkpoint()
        yield item


def _node_attributes(node: Node) -> JSON:
    """A node's fields but its id and position, without ``None`` values; keywords a list."""
    data: JSON = {
        "label": node.label,
        "topic": node.topic,
        "in_degree": node.in_degree,
        "out_degree": node.out_degree,
        "wanted": node.wanted,
        "weight": node.weight,
        "keywords": list(node.keywords),
        "internal_links": node.internal_links,
    }
    return {key: value for key, value in data.items() if value is not None}


def _flat_attributes(node: Node) -> JSON:
    """:func:`_node_attributes` with keywords joined, and left out when there are none."""
    data = _node_attributes(node)
    keywords = data.pop("keywords")
    if keywords:
        data["keywords"] = KEYWORD_SEPARATOR.join(keywords)
    return data


def _edge_attributes(edge: Edge) -> JSON:
    return {"rank": edge.rank, "weight": edge.weight}


def _laid_out(node: Node) -> bool:
    return node.x is not None and node.y is not None


def _meta(sg: Subgraph) -> JSON:
    return {"truncated": sg.truncated, "omitted_nodes": sg.omitted_nodes}


def to_cytoscape(sg: Subgraph) -> JSON:
    """Cytoscape.js JSON: ``{"data", "elements": {"nodes", "edges"}}`` with string ids.

    Give it to ``cy.json(...)`` or take ``elements`` for ``cytoscape({elements})``.
    A node has ``position`` only when the subgraph was laid out.

    >>> sg = Subgraph((Node(1, "A?", None, 0, 1, False, 0.0, 1.0),), (), False, 0)
    >>> to_cytoscape(sg)["elements"]["nodes"][0]["position"]
    {'x': 0.0, 'y': 1.0}
    """
    nodes = []
    for node in _checked(sg.nodes):
        element: JSON = {"data": {"id": str(node.id), **_node_attributes(node)}}
        if _laid_out(node):
            element["position"] = {"x": node.x, "y": node.y}
        nodes.append(element)
    edges = [
        {
            "data": {
                "id": edge.id,
                "source": str(edge.source),
                "target": str(edge.target),
                **_edge_attributes(edge),
            }
        }
        for edge in _checked(sg.edges)
    ]
    return {"data": _meta(sg), "elements": {"nodes": nodes, "edges": edges}}


def to_d3(sg: Subgraph) -> JSON:
    """d3-force node-link JSON: ``{"nodes": [{"id", ...}], "links": [{"source", "target", ...}]}``.

    Ids are strings (use ``d3.forceLink().id(d => d.id)``); laid-out nodes
    carry ``x`` and ``y`` as starting positions. The shape is also networkx's
    node-link format: ``nx.node_link_graph(data, edges="links")`` reads it.
    """
    nodes = []
    for node in _checked(sg.nodes):
        item: JSON = {"id": str(node.id), **_node_attributes(node)}
        if _laid_out(node):
            item["x"], item["y"] = node.x, node.y
        nodes.append(item)
    links = [
        {
            "id": edge.id,
            "source": str(edge.source),
            "target": str(edge.target),
            **_edge_attributes(edge),
        }
        for edge in _checked(sg.edges)
    ]
    return {
        "directed": True,
        "multigraph": False,
        "graph": _meta(sg),
        "nodes": nodes,
        "links": links,
    }


def to_graphology(sg: Subgraph) -> JSON:
    """graphology's serialised graph, for ``Graph.from(data)`` or ``graph.import(data)``.

    Keys are strings; ``x`` and ``y`` are node attributes when laid out (as
    sigma.js reads them). Self-loops (a topic's inner links in the topic map)
    switch ``allowSelfLoops`` on.
    """
    nodes = []
    for node in _checked(sg.nodes):
        attributes = _node_attributes(node)
        if _laid_out(node):
            attributes["x"], attributes["y"] = node.x, node.y
        nodes.append({"key": str(node.id), "attributes": attributes})
    edges = [
        {
            "key": edge.id,
            "source": str(edge.source),
            "target": str(edge.target),
            "attributes": _edge_attributes(edge),
        }
        for edge in _checked(sg.edges)
    ]
    loops = any(edge.source == edge.target for edge in sg.edges)
    return {
        "options": {"type": "directed", "multi": False, "allowSelfLoops": loops},
        "attributes": _meta(sg),
        "nodes": nodes,
        "edges": edges,
    }


def to_networkx(sg: Subgraph) -> nx.DiGraph[int]:
    """A DiGraph of int node ids whose attributes GraphML and GEXF can hold.

    Values are str, int, float or bool; ``None`` (no topic, no position) is
    left out, and keywords are joined with :data:`KEYWORD_SEPARATOR` (left
    out when there are none). Edges keep their string ``id``.

    >>> sg = Subgraph((Node(1, "A?", None, 0, 0, False, keywords=("ATP", "pump")),), (), False, 0)
    >>> to_networkx(sg).nodes[1]["keywords"]
    'ATP; pump'
    """
    graph: nx.DiGraph[int] = nx.DiGraph(**_meta(sg))
    for node in _checked(sg.nodes):
        attributes = _flat_attributes(node)
        if _laid_out(node):
            attributes["x"], attributes["y"] = node.x, node.y
        graph.add_node(node.id, **attributes)
    for edge in _checked(sg.edges):
        graph.add_edge(edge.source, edge.target, id=edge.id, **_edge_attributes(edge))
    return graph


def write_graphml(sg: Subgraph, path: str | os.PathLike[str]) -> None:
    """Write the subgraph as GraphML; ``nx.read_graphml(path, node_type=int)`` reads it."""
    nx.write_graphml(to_networkx(sg), path)


def write_gexf(sg: Subgraph, path: str | os.PathLike[str]) -> None:
    """Write the subgraph as GEXF for Gephi; positions also go to ``viz:position``.

    GEXF has no graph attributes: whether ``limit`` left nodes out is said in
    its ``meta`` element's ``description`` (``truncated: true; omitted_nodes: 13``).
    """
    graph = to_networkx(sg)
    for node in _checked(sg.nodes):
        if _laid_out(node):
            graph.nodes[node.id]["viz"] = {"position": {"x": node.x, "y": node.y, "z": 0.0}}
    text = "\n".join(nx.generate_gexf(graph))
    meta = _meta(sg)
    description = "; ".join(f"{key}: {json.dumps(value)}" for key, value in meta.items())
    # networkx writes <meta> (its creator) first, before any node's escaped text.
    text = text.replace("</meta>", f"<description>{description}</description></meta>", 1)
    with open(path, "w", encoding="utf-8") as out:
        out.write(f"<?xml version='1.0' encoding='utf-8'?>\n{text}\n")


def _quoted(text: str) -> str:
    """A DOT double-quoted string: backslashes, quotes and line breaks escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


def to_dot(sg: Subgraph) -> str:
    """Graphviz DOT text; wanted articles dashed, positions (if any) as ``pos`` in tenths of inches.

    Every id and text is a quoted string; keywords are joined as in
    :func:`to_networkx`.

    >>> print(to_dot(Subgraph((Node(1, 'Say "hi"', None, 0, 0, False),), (), False, 0)))
    digraph kgraph {
      "1" [label="Say \\"hi\\""];
    }
    """
    lines = ["digraph kgraph {"]
    for node in _checked(sg.nodes):
        attributes = [f"label={_quoted(node.label)}"]
        if node.topic is not None:
            attributes.append(f"topic={_quoted(node.topic)}")
        if node.keywords:
            attributes.append(f"keywords={_quoted(KEYWORD_SEPARATOR.join(node.keywords))}")
        if node.internal_links is not None:
            attributes.append(f"internal_links={node.internal_links}")
        if node.wanted:
            attributes.append("style=dashed")
        if node.x is not None and node.y is not None:
            attributes.append(f'pos="{node.x * 10:g},{node.y * 10:g}!"')
        lines.append(f"  {_quoted(str(node.id))} [{', '.join(attributes)}];")
    for edge in _checked(sg.edges):
        source, target = _quoted(str(edge.source)), _quoted(str(edge.target))
        lines.append(f"  {source} -> {target} [rank={edge.rank}, weight={edge.weight}];")
    lines.append("}")
    return "\n".join(lines)
