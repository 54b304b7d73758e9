"""Where, in a request's ASGI scope, kgraph's layers leave facts for one another.

The middlewares (:mod:`kgraph.middleware`) and the GraphQL layer
(:mod:`kgraph.api`) share these keys without importing each other, as
starlette's modules share ``starlette.types``.
"""

__all__ = ["BODY_KEY", "PARTIAL_KEY", "SCOPE_KEY"]

#: Where the guard leaves the JSON object of a body it checked.
BODY_KEY = "kgraph.body"
#: Where the work notes that its answer depends on the moment (a search cut by
#: its time bound, a deadline): the response cache keeps none such.
PARTIAL_KEY = "kgraph.partial"
#: Where the GraphQL layer notes ``operation`` and ``errors`` for metrics and logs.
SCOPE_KEY = "kgraph.graphql"
