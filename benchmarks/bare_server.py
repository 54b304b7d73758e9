"""The kgraph app plus one bare Starlette JSON route, for comparing the two in one process.

``python benchmarks/bare_server.py CORPUS PORT [CACHE_DIR]`` serves the corpus as
``kgraph serve`` does (same app, logging and uvicorn options) and adds
``GET /bare/article/{id}``: the fields of the GraphQL ``article`` query of the
benchmark, read from the same graph, without GraphQL. Benchmarks only; never
part of the package.
"""

from __future__ import annotations

import sys
from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kgraph.app import create_app
from kgraph.cli import run_server
from kgraph.logs import configure_logging
from kgraph.settings import Settings


async def bare_article(request: Request) -> JSONResponse:
    kg = request.app.state.kgraph.graph
    # Ids may be negative, which Starlette's ``int`` converter does not match.
    try:
        article_id = int(request.path_params["id"])
    except ValueError:
        return JSONResponse({"article": None}, status_code=404)
    article = kg.articles.get(article_id) if kg is not None else None
    if article is None:
        return JSONResponse({"article": None})
    return JSONResponse(
        {
            "article": {
                "id": article.id,
                "title": article.title,
                "url": article.url,
                "inDegree": kg.graph.in_degree(article.id),
            }
        }
    )


def main() -> None:
    corpus, port = Path(sys.argv[1]), int(sys.argv[2])
    cache_dir = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    settings = Settings(corpus=corpus, port=port, ide=False, cache_dir=cache_dir)
    configure_logging(settings.log_format)
    app = create_app(settings)
    # After kgraph's routes: the bare route is matched as late as /graphql is.
    app.router.routes.append(Route("/bare/article/{id}", bare_article))
    run_server(app, settings)


if __name__ == "__main__":
    main()
