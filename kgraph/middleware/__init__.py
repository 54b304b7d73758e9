"""The HTTP middlewares of the app, one concern per module, as ``create_app`` stacks them.

From the outside in: security headers and CORS (:mod:`.headers`), request
ids, metrics and the access log (:mod:`.observe`), requests served at once
(:mod:`.admission`), the request guard of ``/graphql`` — body, deadline,
client gone (:mod:`.guard`) — and of its websockets (:mod:`.sockets`); on the
``/graphql`` route, 503 until a graph serves (:mod:`.ready`).
"""
