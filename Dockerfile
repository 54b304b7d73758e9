# kgraph: serve a folder of Markdown articles as a GraphQL API.
#
#   docker build -t kgraph .
#   docker run --rm -p 8000:8000 kgraph                                  # the bundled demo corpus
#   docker run --rm -p 8000:8000 -v "$PWD/content:/corpus:ro" kgraph     # your articles
#
# Settings are KGRAPH_* environment variables (see `kgraph serve --help`);
# flags given to `kgraph serve` win over them. docker-compose.yml runs it
# with --watch and a persistent snapshot cache; tests/test_compose.py checks
# this file statically.

# The explorer's front-end libraries (KaTeX, Cytoscape.js, GraphiQL), from the npm packages that
# package-lock.json pins, bundled into kgraph/web/dist/ as `make web` does.
FROM node:22-slim AS web
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/ web/
RUN npm run --silent build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# A fixed unprivileged uid, so that ownership of mounted folders is predictable.
RUN groupadd --system --gid 10001 kgraph \
    && useradd --system --uid 10001 --gid kgraph --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin kgraph

# Only what the package build needs (pyproject.toml names README.md as its readme
# and LICENSE as its license file; seeds/ becomes the package's demo corpus).
WORKDIR /build
COPY pyproject.toml README.md LICENSE ./
COPY kgraph/ kgraph/
COPY --from=web /build/kgraph/web/dist/ kgraph/web/dist/
COPY seeds/ seeds/
RUN pip install --no-cache-dir . \
    && rm -rf /build

# The demo corpus: kept at /srv/kgraph/seeds, and also the default content of
# /corpus, so that a plain `docker run` serves it; a mount on /corpus replaces it.
# /cache holds graph snapshots for warm starts. kgraph refuses a snapshot folder
# that belongs to another user or that group/others can write: owned by kgraph, 0700.
COPY seeds/ /srv/kgraph/seeds/
RUN mkdir /corpus && cp -R /srv/kgraph/seeds/. /corpus/ \
    && install -d -o kgraph -g kgraph -m 0700 /cache
WORKDIR /srv/kgraph

ENV KGRAPH_HOST=0.0.0.0 \
    KGRAPH_PORT=8000 \
    KGRAPH_CORPUS=/corpus \
    KGRAPH_CACHE_DIR=/cache

USER kgraph
EXPOSE 8000

# Healthy once the graph is loaded: /readyz answers 503 while loading (or when
# loading failed) and 200 once ready. Slim images have no curl: Python's urllib
# raises on any non-2xx answer, and a failure exits 1 (unhealthy).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15m --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('KGRAPH_PORT', '8000'); sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=4).status != 200)"]

# uvicorn shuts down gracefully on SIGTERM (in-flight requests finish).
STOPSIGNAL SIGTERM
CMD ["kgraph", "serve"]
