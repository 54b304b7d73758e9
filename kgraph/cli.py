"""The command line: ``kgraph [serve] | check | path | export | generate | schema``.

Domain errors become one-line messages and exit codes, never tracebacks:
0 all good, 1 ``check`` found what ``--fail-on`` names (by default: unreadable
files), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from kgraph import __version__
from kgraph.check import FAIL_ON
from kgraph.errors import CorpusError, QueryError, SettingsError
from kgraph.settings import DEFAULT_CORPUS, OPTIONS, Option, Settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from kgraph.graph import KnowledgeGraph

__all__ = ["main", "run_server"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad usage the parser cannot see (a baseline that cannot be read…): exit 2."""


class ProgressBar:
    """A progress bar on a terminal, shown only once work has run over a second."""

    def __init__(self, stream: TextIO, label: str, *, delay: float = 1.0) -> None:
        self.stream = stream
        self.label = label
        self.started = time.monotonic()
        self.delay = delay
        self.enabled = stream.isatty()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < self.delay:
            return
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "." * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done:,}/{total:,}")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """Clear the bar's line, if it was drawn."""
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


class _Parser(argparse.ArgumentParser):
    """argparse, with bad usage as one line (``kgraph: error: …``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"kgraph: error: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kgraph",
        description="A GraphQL knowledge-graph service for folders of Q&A learning articles.",
    )
    parser.add_argument("--version", action="version", version=f"kgraph {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    serve = commands.add_parser(
        "serve",
        help="serve a corpus over HTTP (the default command)",
        description="Load a corpus folder and serve it on HTTP: GraphQL at /graphql, "
        "/healthz, /readyz, /metrics.",
        epilog="Every option can also be set by its environment variable, named in its "
        "help; a flag given wins over its variable. Reload the graph by hand with SIGHUP.",
    )
    for option in OPTIONS:
        help_text = f"{option.help} [env {option.variable}]"
        if option.metavar is None:
            serve.add_argument(
                option.flag, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        else:
            serve.add_argument(
                option.flag,
                type=_setting(option),
                metavar=option.metavar,
                default=None,
                help=help_text,
            )

    check = commands.add_parser(
        "check",
        help="read a corpus and report what it holds and what is wrong with it",
        description=(
            "Read every *.md article below DIR into the graph and report its figures "
            "and findings. Exit 1 when a report named by --fail-on is non-empty (by "
            "default: when any file could not be read), 0 otherwise, 2 for bad usage."
        ),
    )
    check.add_argument("corpus", metavar="DIR", type=Path, help="folder of Markdown articles")
    check.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: a readable summary (default); json: every figure and list",
    )
    check.add_argument(
        "--top", type=int, default=5, help="offenders listed per finding in text (default: 5)"
    )
    check.add_argument(
        "--fail-on",
        metavar="REPORTS",
        type=_fail_on,
        default=["parse-errors"],
        help="exit 1 when any of these comma-separated reports is non-empty: "
        + ", ".join(FAIL_ON)
        + ", or new (anything not in --baseline); default: parse-errors",
    )
    check.add_argument(
        "--suggestions",
        metavar="N",
        type=_count,
        default=100,
        help="link suggestions in the JSON report: the first N candidates, or all "
        "(each costs some milliseconds; default: 100)",
    )
    check.add_argument(
        "--baseline",
        metavar="OLD.json",
        type=Path,
        help="an earlier `kgraph check --format json` report: list what is new and what was fixed",
    )
    path = commands.add_parser(
        "path",
        help="print learning paths between two articles",
        description="Print up to K learning paths from article FROM to article TO, with titles."
        " Exit 1 when there is none, 2 for bad usage (unknown id…).",
    )
    path.add_argument("source", metavar="FROM", type=int, help="the article to start from")
    path.add_argument("target", metavar="TO", type=int, help="the article to reach")
    path.add_argument("--k", type=int, default=3, help="how many paths, 1-10 (default: 3)")
    path.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (default: seeds/)"
    )
    path.add_argument(
        "--rank", action="store_true", help="cheapest by rank (a rank-r link costs r), not by hops"
    )
    path.add_argument("--undirected", action="store_true", help="follow links either way")
    path.add_argument(
        "--same-topic", action="store_true", help="keep every step in the start's topics"
    )
    path.add_argument(
        "--avoid",
        type=_ids,
        default=frozenset(),
        metavar="IDS",
        help="comma-separated ids never to pass",
    )
    path.add_argument(
        "--max-hops", type=int, default=20, help="longer paths count as none (default: 20)"
    )
    path.add_argument(
        "--bridges",
        action="store_true",
        help="step between related articles (bridges) where links cannot reach",
    )

    export = commands.add_parser(
        "export",
        help="write a subgraph (a topic, or a neighbourhood) for drawing tools",
        description="Write a topic's graph or an article's neighbourhood as GraphML, GEXF,"
        " Cytoscape.js JSON, d3-force JSON or Graphviz DOT.",
    )
    export.add_argument(
        "--format", choices=("graphml", "gexf", "cytoscape", "d3", "dot"), required=True
    )
    scope = export.add_mutually_exclusive_group(required=True)
    scope.add_argument("--topic", metavar="KEY", help="a topic key (or subject spelling)")
    scope.add_argument("--center", metavar="ID", type=_ids, help="comma-separated article ids")
    export.add_argument(
        "--depth", type=int, default=1, help="links from the centers, 1-3 (default: 1)"
    )
    export.add_argument(
        "--limit", type=int, help="most nodes (default: 200 around centers, 500 for a topic)"
    )
    export.add_argument(
        "--layout",
        choices=("none", "spring", "kamada_kawai", "circular"),
        default="spring",
        help="server-side layout written with the nodes (default: spring)",
    )
    export.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (default: seeds/)"
    )
    export.add_argument(
        "--output", "-o", type=Path, help="file to write (default: standard output)"
    )

    generate = commands.add_parser(
        "generate",
        help="write a synthetic corpus shaped like the real one",
        description="Write N made-up articles in the corpus format into DIR (created; it must"
        " be empty), shaped like the real corpus: subjects of very different sizes, small"
        " link clusters, stale, broken and duplicate entries, copies in two folders. The"
        " same N and --seed always write the same bytes.",
    )
    generate.add_argument("count", metavar="N", type=int, help="distinct articles to write")
    generate.add_argument("folder", metavar="DIR", type=Path, help="folder to write into")
    generate.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")

    commands.add_parser(
        "schema",
        help="print the GraphQL schema (SDL)",
        description="Print the GraphQL schema in SDL, as schema/schema.graphql holds it.",
    )
    return parser


def _setting(option: Option) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return option.parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = option.name  # argparse names the type in some messages
    return parse


def _count(value: str) -> int | None:
    if value == "all":
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"not a count or 'all': {value!r}")
    return number


def _ids(value: str) -> frozenset[int]:
    try:
        return frozenset(int(part) for part in value.split(",") if part.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of ids: {value!r}") from err


def _load_quietly(corpus: Path, *, cached: bool = True) -> KnowledgeGraph:
    """The graph of ``corpus``, a progress bar on a terminal while it is read.

    ``cached``: from its snapshot when the corpus is unchanged (and saved for
    next time); else always read from the files.
    """
    from kgraph.graph import load_graph
    from kgraph.graph.snapshot import load_graph_cached

    progress = ProgressBar(sys.stderr, "reading")
    try:
        if cached:
            return load_graph_cached(corpus, progress=progress)
        return load_graph(corpus, progress=progress)
    finally:
        progress.close()


def _path(args: argparse.Namespace) -> int:
    from kgraph.graph import paths

    kg = _load_quietly(args.corpus)
    options = paths.PathOptions(
        directed=not args.undirected,
        weight=paths.PathWeight.RANK if args.rank else paths.PathWeight.HOPS,
        same_topic=args.same_topic,
        avoid=args.avoid,
        max_hops=args.max_hops,
        bridges=args.bridges,
    )
    found = paths.learning_paths(kg, args.source, args.target, args.k, options)
    if not found:
        print(f"no path from {args.source} to {args.target}", file=sys.stderr)
        return EXIT_FAILED
    for number, path in enumerate(found, 1):
        plural = "s" if path.bridges > 1 else ""
        bridges = f", {path.bridges} bridge{plural}" if path.bridges else ""
        weakest = "" if path.strength is None else f", weakest step {path.strength:.2f}"
        print(f"path {number}: {path.hops} hops, cost {path.cost:g}{bridges}{weakest}")
        for step in path.steps:
            title = kg.articles[step.article].title
            if step.via is paths.StepVia.START:
                how = "start"
            elif step.via is paths.StepVia.RELATED:
                shared = step.shared_keywords[:2] or step.shared_terms[:3]
                how = f"related {step.score:.2f}: " + ", ".join(shared)
            else:
                how = f"{step.via.value}, rank {step.rank}"
            topic = " (new topic)" if step.topic_change else ""
            print(f"  {step.article:>8}  {title}  [{how}]{topic}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    import tempfile

    from kgraph.corpus import topic_key
    from kgraph.graph import export, subgraphs
    from kgraph.graph.queries import Direction

    kg = _load_quietly(args.corpus)
    layout = subgraphs.Layout(args.layout)
    if args.topic is not None:
        drawn = subgraphs.topic_graph(kg, topic_key(args.topic), args.limit or 500, layout)
    else:
        drawn = subgraphs.subgraph(
            kg, sorted(args.center), args.depth, Direction.BOTH, args.limit or 200, layout
        )
    if args.output is not None and not args.output.parent.is_dir():
        raise UsageError(f"cannot write {args.output}: no folder {args.output.parent}")
    if args.format in ("graphml", "gexf"):
        writer = export.write_graphml if args.format == "graphml" else export.write_gexf
        if args.output is not None:
            writer(drawn, args.output)
        else:
            with tempfile.TemporaryDirectory() as scratch:
                written = Path(scratch) / f"graph.{args.format}"
                writer(drawn, written)
                sys.stdout.write(written.read_text(encoding="utf-8"))
    else:
        if args.format == "dot":
            text = export.to_dot(drawn)
        else:
            shape = (
                export.to_cytoscape(drawn) if args.format == "cytoscape" else export.to_d3(drawn)
            )
            text = json.dumps(shape, indent=2, ensure_ascii=False) + "\n"
        if args.output is not None:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if args.output is not None:
        print(
            f"wrote {args.output}: {len(drawn.nodes)} nodes, {len(drawn.edges)} edges"
            + (f" ({drawn.omitted_nodes} more left out by --limit)" if drawn.truncated else ""),
            file=sys.stderr,
        )
    return EXIT_OK


def _generate(args: argparse.Namespace) -> int:
    from kgraph.corpus.generate import generate_corpus

    if args.count < 1:
        raise UsageError(f"N must be at least 1, not {args.count}")
    started = time.perf_counter()
    try:
        made = generate_corpus(args.count, args.folder, seed=args.seed)
    except ValueError as err:
        raise UsageError(str(err)) from None
    print(
        f"wrote {made.files:,} files ({made.articles:,} articles, {made.bytes / 1e6:,.1f} MB)"
        f" in {made.subjects} subject folders of {args.folder} in"
        f" {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return EXIT_OK


def _schema() -> int:
    from kgraph.api import create_schema

    sys.stdout.write(str(create_schema()) + "\n")
    return EXIT_OK


def _fail_on(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name != "new" and name not in FAIL_ON]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown report {', '.join(map(repr, unknown)) or repr(value)}: choose from "
            + ", ".join([*FAIL_ON, "new"])
        )
    return names


def _load_baseline(path: Path) -> dict[str, Any]:
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read baseline {path}: {err.strerror or err}") from err
    except ValueError as err:
        raise UsageError(f"baseline {path} is not JSON: {err}") from err
    if not isinstance(baseline, dict):
        raise UsageError(f"baseline {path} is not a `kgraph check --format json` report")
    return baseline


def _check(args: argparse.Namespace) -> int:
    from kgraph.check import compare, failing, json_report, text_report

    if "new" in args.fail_on and args.baseline is None:
        raise UsageError("--fail-on new needs --baseline OLD.json")
    baseline = _load_baseline(args.baseline) if args.baseline is not None else None
    # A check reads the files themselves: what CI judges is the corpus, not a cache.
    kg = _load_quietly(args.corpus, cached=False)
    report = json_report(kg, __version__, link_suggestions=args.suggestions)
    if baseline is not None:
        try:
            report["baseline"] = {"path": str(args.baseline), **compare(report, baseline)}
        except ValueError as err:
            raise UsageError(f"baseline {args.baseline}: {err}") from err
    if args.format == "json":
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(text_report(kg, top=max(args.top, 0), changes=report.get("baseline")))
    failed = failing(report, args.fail_on)
    if failed:
        print(f"kgraph check: failing on {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from kgraph.app import create_app
    from kgraph.corpus import discover
    from kgraph.errors import EmptyCorpus
    from kgraph.logs import configure_logging

    settings = Settings.resolve(
        {option.name: getattr(args, option.name) for option in OPTIONS}, os.environ
    )
    configure_logging(settings.log_format)
    # Refuse a corpus that cannot serve before binding the port.
    if not discover(settings.corpus):
        raise EmptyCorpus(str(settings.corpus))
    print(
        f"kgraph {__version__} serving {settings.corpus} on http://{settings.host}:{settings.port}/",
        flush=True,
    )
    run_server(create_app(settings), settings)
    return EXIT_OK


#: The largest websocket message accepted (uvicorn closes the socket with 1009 past it).
WS_MAX_BYTES = 64 * 1024


def run_server(app: Starlette, settings: Settings) -> None:
    """Serve ``app`` with uvicorn as ``kgraph serve`` does, until it is stopped."""
    import uvicorn

    from kgraph.connections import ConnectionLimits, protocol_class

    limits = ConnectionLimits(
        header_timeout=settings.header_timeout, per_client=settings.client_connections
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # kgraph logs one line per request itself
        # Requests at once are counted by the app (kgraph.admission), which
        # answers health probes whatever the load; uvicorn's own limit counts
        # idle connections too and turns the probes away.
        limit_concurrency=None,
        http=protocol_class(limits),
        # A GraphQL message is a query of at most 64 KiB, as over HTTP.
        ws_max_size=WS_MAX_BYTES,
        timeout_graceful_shutdown=10,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # ``kgraph`` alone, or with serve's options only, means ``kgraph serve``.
    if not arguments or (
        arguments[0].startswith("-") and arguments[0] not in ("-h", "--help", "--version")
    ):
        arguments.insert(0, "serve")
    args = _parser().parse_args(arguments)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "schema":
            return _schema()
        if args.command == "path":
            return _path(args)
        if args.command == "export":
            return _export(args)
        if args.command == "generate":
            return _generate(args)
        return _serve(args)
    except (CorpusError, UsageError, QueryError, SettingsError) as err:
        print(f"kgraph: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # ``kgraph check … | head``: the reader left; nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
