"""Validation of large documents: the pairwise rule in a worker process, the rest here."""

from __future__ import annotations

import asyncio
from typing import Any

from kgraph.api import Context, create_schema
from kgraph.api.validation import INLINE_FIELDS
from kgraph.graph import KnowledgeGraph

# Over INLINE_FIELDS fields (two a repeat), then one that cannot merge with them.
REPEATS = INLINE_FIELDS
LARGE = "{ " + "stats { files } " * REPEATS + "}"
CONFLICT = "{ " + "stats { files } " * REPEATS + "stats: topics { key } }"


def test_large_documents_validate_in_a_worker_process_as_they_would_here(
    seeds_graph: KnowledgeGraph,
) -> None:
    schema = create_schema()
    try:

        def run(query: str) -> Any:
            context = Context(graph=seeds_graph)
            return asyncio.run(schema.execute(query, context_value=context))

        assert run(LARGE).data == {"stats": {"files": 53}}
        assert schema.validator.overlaps is not None
        assert schema.validator.overlaps.started, "no worker process was used"

        found = run(CONFLICT).errors
        # The same document validated in this thread, with every rule (execute_sync).
        expected = schema.execute_sync(CONFLICT, context_value=Context(graph=seeds_graph)).errors
        assert found
        assert expected
        assert [(e.message, e.locations) for e in found] == [
            (e.message, e.locations) for e in expected
        ]
        assert "Fields 'stats' conflict" in found[0].message
        # Closed (the server stopping): the rule is checked in a thread, as the rest.
        schema.validator.close()
        again = create_schema()
        again.validator.close()
        context = Context(graph=seeds_graph)
        closed = asyncio.run(again.execute(CONFLICT, context_value=context)).errors
        assert closed
        assert [(e.message, e.locations) for e in closed] == [
            (e.message, e.locations) for e in expected
        ]
        assert again.validator.overlaps is not None
        assert not again.validator.overlaps.started
    finally:
        schema.validator.close()
    assert not schema.validator.overlaps.started
