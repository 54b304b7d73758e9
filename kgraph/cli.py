"""The command line: ``kgraph [serve] | check | path | export | generate | schema``.

Domain errors become one-line messages and exit codes, never tracebacks:
0 all good, 1 ``check`` found what ``--fail-on`` names (by default: unreadable
files), 2 bad usage.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import inspect
import json
import os
import socket
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from kgraph import __version__
from kgraph.errors import CorpusError, QueryError, SettingsError
from kgraph.heap import tune_heap
from kgraph.settings import OPTIONS, Option, Settings, corpus_folder, setting

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

    from kgraph.graph import KnowledgeGraph, paths
    from kgraph.graph.load import Loaded

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


def _parser() -> tuple[argparse.ArgumentParser, Mapping[str, argparse.ArgumentParser]]:
    """The command line's parser, and each command's."""
    from kgraph.check import FAIL_ON
    from kgraph.graph import paths, subgraphs

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
    _corpus_argument(serve)
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
        epilog=_CORPUS_EPILOG,
    )
    _corpus_argument(check)
    _corpus_flag(check)
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
        "--over-linked-z",
        metavar="Z",
        type=_z_score,
        default=3.0,
        help="an article is over-linked when its in-degree is Z standard deviations or more"
        " above the mean (default: 3)",
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
        epilog=_CORPUS_EPILOG,
    )
    path.add_argument("source", metavar="FROM", type=int, help="the article to start from")
    path.add_argument("target", metavar="TO", type=int, help="the article to reach")
    _corpus_argument(path)
    _corpus_flag(path)
    path.add_argument(
        "--k",
        type=_whole("--k", 1, paths.MAX_PATHS),
        default=_default(paths.find_learning_paths, "k"),
        help=f"how many paths, 1-{paths.MAX_PATHS}"
        f" (default: {_default(paths.find_learning_paths, 'k')})",
    )
    path.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: steps with titles (default); json: every path and step with its fields",
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
        "--max-hops",
        type=_whole("--max-hops", 1, paths.MAX_HOPS),
        default=paths.PathOptions().max_hops,
        help=f"longer paths count as none, 1-{paths.MAX_HOPS}"
        f" (default: {paths.PathOptions().max_hops})",
    )
    path.add_argument(
        "--bridges",
        action="store_true",
        help="step between related articles (bridges) where links cannot reach",
    )

    reading = commands.add_parser(
        "reading-order",
        help="print an order to read a topic in, foundations first",
        description="Print an order to read TOPIC in, as the API's readingPlan and the"
        " explorer give it: foundations first, each next article linked or closely related"
        " (a bridge) to one read before, with the other tellings of its question under it."
        " Exit 2 for bad usage (unknown topic…).",
        epilog=_CORPUS_EPILOG,
    )
    reading.add_argument("topic", metavar="TOPIC", help="a topic key (or subject spelling)")
    _corpus_argument(reading)
    _corpus_flag(reading)
    reading.add_argument(
        "--start", type=int, metavar="ID", help="begin at this article of the topic"
    )
    reading.add_argument(
        "--first",
        type=_whole("--first", 1, subgraphs.MAX_READING),
        default=_default(subgraphs.reading_plan, "first"),
        help=f"how many articles, 1-{subgraphs.MAX_READING}"
        f" (default: {_default(subgraphs.reading_plan, 'first')})",
    )
    reading.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: numbered titles with why each comes next (default); json: every step",
    )

    export = commands.add_parser(
        "export",
        help="write a subgraph (a topic, or a neighbourhood) for drawing tools",
        description="Write a topic's graph or an article's neighbourhood as GraphML, GEXF,"
        " Cytoscape.js JSON, d3-force JSON, graphology JSON or Graphviz DOT. When --limit"
        " leaves nodes out, the output says so (truncated, omitted_nodes) and so does a"
        " line on standard error.",
        epilog=_CORPUS_EPILOG,
    )
    _corpus_argument(export)
    export.add_argument(
        "--format",
        choices=("graphml", "gexf", "cytoscape", "d3", "graphology", "dot"),
        required=True,
    )
    scope = export.add_mutually_exclusive_group(required=True)
    scope.add_argument("--topic", metavar="KEY", help="a topic key (or subject spelling)")
    scope.add_argument("--center", metavar="ID", type=_ids, help="comma-separated article ids")
    depth = _default(subgraphs.subgraph, "depth")
    export.add_argument(
        "--depth",
        type=_whole("--depth", 1, subgraphs.MAX_DEPTH),
        help=f"with --center: links from the centers, 1-{subgraphs.MAX_DEPTH} (default: {depth})",
    )
    export.add_argument(
        "--limit",
        type=_whole("--limit", 1, subgraphs.MAX_LIMIT),
        help=f"most nodes, 1-{subgraphs.MAX_LIMIT:,} (default:"
        f" {_default(subgraphs.subgraph, 'limit')} around centers,"
        f" {_default(subgraphs.topic_graph, 'limit')} for a topic)",
    )
    export.add_argument(
        "--layout",
        choices=("none", "spring", "kamada_kawai", "circular"),
        default="spring",
        help="server-side layout written with the nodes (default: spring)",
    )
    export.add_argument(
        "--size",
        metavar="PX",
        type=_whole("--size", subgraphs.MIN_PIXELS, subgraphs.MAX_PIXELS),
        help="positions in pixels, 0 to PX (e.g. 1000): what Cytoscape.js and sigma.js draw"
        " without rescaling; not with --format dot (default: the layout's 0 to 1)",
    )
    _corpus_flag(export)
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
    return parser, commands.choices


def _setting(option: Option) -> Callable[[str], object]:
    def parse(text: str) -> object:
        try:
            return option.parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = option.name  # argparse names the type in some messages
    return parse


_CORPUS_EPILOG = (
    "The corpus is the folder DIR, or --corpus DIR, else $KGRAPH_CORPUS, else the bundled"
    " demo corpus (seeds/), as for every command."
)


def _corpus_argument(parser: argparse.ArgumentParser) -> None:
    """The corpus as an optional positional folder, as every command takes it."""
    parser.add_argument(
        "folder",
        metavar="DIR",
        nargs="?",
        type=Path,
        help="folder of Markdown articles (default: --corpus, else $KGRAPH_CORPUS,"
        " else the bundled seeds/)",
    )


def _corpus_flag(parser: argparse.ArgumentParser) -> None:
    """``--corpus DIR`` and the snapshot's options, which ``serve`` has among its settings."""
    parser.add_argument(
        "--corpus", metavar="DIR", type=Path, help="the same as the folder DIR [env KGRAPH_CORPUS]"
    )
    parser.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="start from the graph's snapshot while the corpus is unchanged, else read the"
        " files and save one (default: on; --no-cache: always read the files) [env KGRAPH_CACHE]",
    )
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        type=Path,
        help="folder of graph snapshots (default: $XDG_CACHE_HOME/kgraph, else"
        " ~/.cache/kgraph) [env KGRAPH_CACHE_DIR]",
    )


def _given_corpus(args: argparse.Namespace) -> Path | None:
    """The corpus folder given on the command line (as DIR or ``--corpus``), if any."""
    folder: Path | None = args.folder
    flag: Path | None = args.corpus
    if folder is not None and flag is not None and folder != flag:
        raise UsageError(f"two corpus folders given, {folder} and --corpus {flag}: give one")
    return folder if folder is not None else flag


def _default(function: Callable[..., object], name: str) -> object:
    """The default of ``function``'s parameter ``name``: said once, there."""
    return inspect.signature(function).parameters[name].default


def _whole(name: str, low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = low - 1
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(
                f"not a whole number from {low} to {high:,}: {value!r}"
            )
        return number

    parse.__name__ = name  # argparse names the type in some messages
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


def _load_quietly(args: argparse.Namespace, *, searched: bool = False) -> KnowledgeGraph:
    """The graph of the command's corpus, a progress bar on a terminal while it is read.

    Loaded as the server loads (:func:`kgraph.graph.load.load_corpus`): from its
    snapshot when the corpus is unchanged; with ``--no-cache`` (or
    ``KGRAPH_CACHE=off``) always from the files. A graph read from the files is
    saved as a snapshot once the command is done (:func:`_save_snapshot`), with
    what the command derived from it and what the server builds before serving.
    ``searched``: the answer needs search's index, built meanwhile from the files
    (see :func:`_searched`).
    """
    from kgraph.graph.load import load_corpus

    progress = ProgressBar(sys.stderr, "reading")
    try:
        loaded = load_corpus(
            args.corpus_read,
            cache=setting("cache", args.cache, os.environ),
            cache_dir=setting("cache_dir", args.cache_dir, os.environ),
            # Prepared before the snapshot is written, after the command's answer.
            prepared=False,
            progress=progress,
            searched=searched,
        )
    finally:
        progress.close()
    # A command's graph lives until the process ends: frozen now, the cyclic
    # collector never walks it, where its first full collection came during
    # the command's answer (0.13 s of `kgraph check` on the dev corpus, in the
    # midst of its report). What the command makes next is collected as usual.
    gc.freeze()
    args.snapshot = _Snapshot(loaded)
    return loaded.graph


@dataclass
class _Snapshot:
    """The graph a command loaded, its snapshot to be written when the command is done.

    Due when the graph was read from the files with snapshots on; ``rewrite``:
    a command that derived what the snapshot lacked and is worth keeping (every
    wanted article's suggestions) asks for it to be written again.
    """

    loaded: Loaded
    rewrite: bool = False


def _searched(args: argparse.Namespace) -> None:
    """Wait for the search index the command's load builds (``_load_quietly(searched=True)``)."""
    due: _Snapshot | None = getattr(args, "snapshot", None)
    if due is not None:
        due.loaded.searched()


def _save_snapshot(args: argparse.Namespace) -> None:
    """Write the snapshot a command's load left due (see :class:`_Snapshot`), quietly.

    After the command's output: its user has the answer; the next command of the
    unchanged corpus starts warm, with what this one derived. Then what the load
    left running (search's index built elsewhere) is ended.
    """
    due: _Snapshot | None = getattr(args, "snapshot", None)
    if due is None:
        return
    try:
        if due.loaded.unsaved or due.rewrite:
            sys.stdout.flush()
            # The answer is out: the graph thawed (frozen once loaded), what the save
            # prepares goes to the oldest generation as a load's objects do.
            gc.unfreeze()
            due.loaded.save()
    finally:
        due.loaded.close()


def _close_load(args: argparse.Namespace) -> None:
    """End what a command's load left running (search's index built in another process,
    its folder of texts in the temporary folder), writing no snapshot."""
    due: _Snapshot | None = getattr(args, "snapshot", None)
    if due is not None:
        due.loaded.close()


#: Seconds ``kgraph path`` may list paths for. The API bounds its listing at half a
#: second; a command has time, and a fresh process's first searches are slow (1.2 s
#: on the full corpus, as issue 18 measured), so that a bound that low printed one
#: path of three.
PATH_SECONDS = 30.0


def _path(args: argparse.Namespace) -> int:
    from kgraph.graph import paths

    kg = _load_quietly(args)
    options = paths.PathOptions(
        directed=not args.undirected,
        weight=paths.PathWeight.RANK if args.rank else paths.PathWeight.HOPS,
        same_topic=args.same_topic,
        avoid=args.avoid,
        max_hops=args.max_hops,
        bridges=args.bridges,
    )
    found = paths.find_learning_paths(
        kg, args.source, args.target, args.k, options, time_budget=PATH_SECONDS
    )
    if args.format == "json":
        json.dump(_paths_json(kg, args, found), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print_paths(kg, found)
    untried = [
        flag
        for flag, given in (("--undirected", args.undirected), ("--bridges", args.bridges))
        if not given
    ]
    hint = f"; try {' or '.join(untried)}" if untried else ""
    if found.shortfall is paths.Shortfall.TIME_BOUND:
        print(
            f"kgraph path: {len(found.paths)} of {args.k} paths: listing stopped after"
            f" {PATH_SECONDS:g} s; there may be more paths",
            file=sys.stderr,
        )
    elif found.shortfall is paths.Shortfall.NO_MORE:
        if args.source == args.target or any(path.bridges for path in found.paths):
            why = str(found.explanation)
        else:  # in the command's own terms
            more = "" if args.bridges else hint.replace("; try", "; perhaps more with")
            why = f"no other path of links within {args.max_hops} hops{more}"
        print(f"kgraph path: {len(found.paths)} of {args.k} paths: {why}", file=sys.stderr)
    if not found.paths:
        print(
            f"no path from {args.source} to {args.target} in {args.corpus_read}"
            f" within {args.max_hops} hops{hint}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


def _reading_order(args: argparse.Namespace) -> int:
    from kgraph.corpus import topic_key
    from kgraph.graph import paths, prerequisites, subgraphs

    kg = _load_quietly(args)
    plan = subgraphs.reading_plan(kg, topic_key(args.topic), args.start, args.first)
    if args.format == "json":
        report = {
            "corpus": str(args.corpus_read),
            "topic": topic_key(args.topic),
            "steps": [
                {
                    "article": step.id,
                    "title": kg.articles[step.id].title,
                    "level": prerequisites.level(kg, step.id).value,
                    "via": step.via.value,
                    "after": step.after,
                    "score": None if step.score is None else round(step.score, 4),
                    "near_duplicates": [
                        {"article": i, "title": kg.articles[i].title} for i in step.near_duplicates
                    ],
                }
                for step in plan
            ],
        }
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return EXIT_OK
    width = len(str(len(plan)))
    for number, step in enumerate(plan, 1):
        if step.via is paths.StepVia.START:
            why = "start" if number == 1 else "a new start"
        elif step.via is paths.StepVia.RELATED:
            why = f"related {step.score:.2f} to {step.after}"
        elif step.via is paths.StepVia.LINK:
            why = f"linked from {step.after}"
        else:
            why = f"links to {step.after}"
        level = prerequisites.level(kg, step.id).value
        print(f"{number:>{width}}. {step.id:>8}  {kg.articles[step.id].title}  [{level}; {why}]")
        for other in step.near_duplicates:
            print(f"{'':>{width}}  {other:>8}    also: {kg.articles[other].title}")
    return EXIT_OK


def _print_paths(kg: KnowledgeGraph, found: paths.LearningPaths) -> None:
    from kgraph.graph import paths

    for number, path in enumerate(found.paths, 1):
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


def _paths_json(
    kg: KnowledgeGraph, args: argparse.Namespace, found: paths.LearningPaths
) -> dict[str, Any]:
    return {
        "corpus": str(args.corpus_read),
        "from": args.source,
        "to": args.target,
        "complete": found.complete,
        "shortfall": None if found.shortfall is None else found.shortfall.value,
        "explanation": found.explanation,
        "paths": [
            {
                "hops": path.hops,
                "cost": path.cost,
                "bridges": path.bridges,
                "strength": path.strength,
                "steps": [
                    {
                        "article": step.article,
                        "title": kg.articles[step.article].title,
                        "via": step.via.value,
                        "rank": step.rank,
                        "score": step.score,
                        "shared_keywords": list(step.shared_keywords),
                        "shared_terms": list(step.shared_terms),
                        "topic_change": step.topic_change,
                    }
                    for step in path.steps
                ],
            }
            for path in found.paths
        ],
    }


def _export(args: argparse.Namespace) -> int:
    import tempfile

    from kgraph.corpus import topic_key
    from kgraph.graph import export, subgraphs
    from kgraph.graph.queries import Direction

    if args.topic is not None and args.depth is not None:
        raise UsageError("--depth goes with --center (a topic is drawn whole, up to --limit)")
    if args.size is not None and args.format == "dot":
        raise UsageError("--size does not go with --format dot (its pos is in inches)")
    if args.output is not None and not args.output.parent.is_dir():
        raise UsageError(f"cannot write {args.output}: no folder {args.output.parent}")
    kg = _load_quietly(args)
    layout = subgraphs.Layout(args.layout)
    # Not given: the functions' own defaults.
    limit = {} if args.limit is None else {"limit": args.limit}
    if args.topic is not None:
        drawn = subgraphs.topic_graph(kg, topic_key(args.topic), layout=layout, **limit)
    else:
        depth = {} if args.depth is None else {"depth": args.depth}
        drawn = subgraphs.subgraph(
            kg, sorted(args.center), direction=Direction.BOTH, layout=layout, **depth, **limit
        )
    if args.size is not None:
        drawn = subgraphs.in_pixels(drawn, args.size)
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
            shape = {
                "cytoscape": export.to_cytoscape,
                "d3": export.to_d3,
                "graphology": export.to_graphology,
            }[args.format](drawn)
            text = json.dumps(shape, indent=2, ensure_ascii=False) + "\n"
        if args.output is not None:
            args.output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    left_out = f"{drawn.omitted_nodes:,} more nodes left out by --limit" if drawn.truncated else ""
    if args.output is not None:
        print(
            f"wrote {args.output}: {len(drawn.nodes)} nodes, {len(drawn.edges)} edges"
            + (f" ({left_out})" if left_out else ""),
            file=sys.stderr,
        )
    elif left_out:
        print(f"kgraph export: {left_out}", file=sys.stderr)
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
    from kgraph.check import FAIL_ON

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


def _z_score(text: str) -> float:
    """A ``--over-linked-z`` value: a number, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(
            f"not a number of standard deviations, 0 or more: {text!r}"
        )
    return value


def _check(args: argparse.Namespace) -> int:
    from kgraph.check import compare, failing, json_report, text_report
    from kgraph.graph.curation import curation_report, suggest_every_wanted

    if "new" in args.fail_on and args.baseline is None:
        raise UsageError("--fail-on new needs --baseline OLD.json")
    baseline = _load_baseline(args.baseline) if args.baseline is not None else None
    # From the snapshot, like the server: it is used only while every file is as
    # it was (listed and stat-ed), and gives the same report as the files (tested).
    # From the files, search's index (for wanted articles' suggestions) is built
    # in another process meanwhile.
    kg = _load_quietly(args, searched=True)
    json_out = args.format == "json"
    if json_out:
        curation_report(kg)  # while search's index is built: the report needs none of it
        _searched(args)  # every wanted article's suggestions
    if json_out and suggest_every_wanted(kg):
        args.snapshot.rewrite = True  # seconds of work: the next check has them at once
    report = json_report(
        kg,
        __version__,
        link_suggestions=args.suggestions if json_out else 0,
        over_linked_z=args.over_linked_z,
        suggestions=json_out,  # the text report computes the few it shows
    )
    if baseline is not None:
        try:
            report["baseline"] = {"path": str(args.baseline), **compare(report, baseline)}
        except ValueError as err:
            raise UsageError(f"baseline {args.baseline}: {err}") from err
    if args.format == "json":
        write_report_json(report, sys.stdout)
    else:
        _searched(args)  # the suggestions of the wanted articles shown
        sys.stdout.write(
            text_report(
                kg,
                top=max(args.top, 0),
                changes=report.get("baseline"),
                over_linked_z=args.over_linked_z,
            )
        )
    failed = failing(report, args.fail_on)
    if failed:
        print(f"kgraph check: failing on {', '.join(failed)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def write_report_json(report: Mapping[str, Any], out: TextIO) -> None:
    """``report`` as indented JSON, each entry of a list on a line of its own.

    One finding a line reads and diffs well (``grep``, a CI log), and each line
    is written by json's C encoder: an ``indent`` anywhere sends the whole of a
    report of tens of thousands of entries through its pure-Python one (half a
    second of ``kgraph check --format json`` on the dev corpus).

    >>> import io
    >>> written = io.StringIO()
    >>> report = {"n": 1, "s": {"a": 2}, "rows": [{"id": 1}, {"id": 2}], "none": []}
    >>> write_report_json(report, written)
    >>> print(written.getvalue(), end="")
    {
      "n": 1,
      "s": {
        "a": 2
      },
      "rows": [
        {"id": 1},
        {"id": 2}
      ],
      "none": []
    }
    """
    fields = []
    for key, value in report.items():
        name = json.dumps(key, ensure_ascii=False)
        if isinstance(value, list) and value:
            rows = ",\n".join(f"    {json.dumps(row, ensure_ascii=False)}" for row in value)
            fields.append(f"  {name}: [\n{rows}\n  ]")
        else:
            text = json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")
            fields.append(f"  {name}: {text}")
    out.write("{\n" + ",\n".join(fields) + "\n}\n")


def _serve(args: argparse.Namespace) -> int:
    flags = {option.name: getattr(args, option.name) for option in OPTIONS}
    settings = Settings.resolve({**flags, "corpus": _given_corpus(args)}, os.environ)
    if settings.processes == 1:
        return _serve_in(settings)
    import shutil
    import tempfile

    # Every serving process's metrics, in files the master removes: named before
    # prometheus-client is imported (not even through kgraph.middleware.observe),
    # which chooses where values live at its import.
    shared = tempfile.mkdtemp(prefix="kgraph-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
    try:
        return _serve_in(settings)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _serve_in(settings: Settings) -> int:
    from kgraph.corpus import list_corpus
    from kgraph.errors import EmptyCorpus
    from kgraph.snapshot_files import fingerprint_ahead

    # Refuse a corpus that cannot serve, and a port that is taken, before loading.
    # Its first file is enough: the first load lists the folder.
    if not list_corpus(settings.corpus, first=True).files:
        raise EmptyCorpus(str(settings.corpus))
    listener = listen(settings.host, settings.port)
    # A warm start of a large corpus: the folder listed and stat-ed by a child
    # process from now on, through the imports below (0.6 s) and the snapshot's
    # unpickling, rather than by the load first; the snapshot checksummed by a
    # thread meanwhile (kgraph.snapshot_files.JudgedAhead).
    fingerprinting = (
        fingerprint_ahead(settings.corpus, settings.cache_dir) if settings.cache else None
    )
    try:
        from kgraph.app import create_app
        from kgraph.logs import configure_logging

        configure_logging(settings.log_format)
        port = listener.getsockname()[1]  # the one given, or the one the system chose for 0
        print(
            f"kgraph {__version__} serving {settings.corpus} on http://{settings.host}:{port}/",
            flush=True,
        )
        if settings.processes == 1:
            run_server(create_app(settings, fingerprinting=fingerprinting), settings, listener)
            return EXIT_OK
        from kgraph.processes import serve_processes

        serve_processes(
            settings,
            listener,
            fingerprinting=fingerprinting,
            backlog=BACKLOG,
            server=lambda app: uvicorn_server(app, settings),
        )
        return EXIT_OK
    finally:
        if fingerprinting is not None:
            fingerprinting.close()  # the first load's, unless it never came


#: Connections waiting to be accepted (uvicorn's default).
BACKLOG = 2048
#: The largest websocket message accepted (uvicorn closes the socket with 1009 past it).
WS_MAX_BYTES = 64 * 1024


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` for the server, as uvicorn binds one.

    Raises
    ------
    UsageError
        When it cannot be bound (the port is taken, the host is not this
        machine's…), in one line.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    return sock


def run_server(app: ASGIApp, settings: Settings, listener: socket.socket | None = None) -> None:
    """Serve ``app`` with uvicorn as ``kgraph serve`` does, until it is stopped.

    On ``listener`` when given (see :func:`listen`), else on the settings' host and port.
    """
    uvicorn_server(app, settings).run(sockets=None if listener is None else [listener])


def uvicorn_server(app: ASGIApp, settings: Settings) -> uvicorn.Server:
    """The uvicorn server of ``app`` as ``kgraph serve`` configures it (not yet running)."""
    import uvicorn

    from kgraph.connections import ConnectionLimits, protocol_class

    limits = ConnectionLimits(
        header_timeout=settings.header_timeout, per_client=settings.client_connections
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,  # kgraph logs one line per request itself
        # Requests at once are counted by the app (kgraph.middleware.admission), which
        # answers health probes whatever the load; uvicorn's own limit counts
        # idle connections too and turns the probes away.
        limit_concurrency=None,
        http=protocol_class(limits),
        # A GraphQL message is a query of at most 64 KiB, as over HTTP.
        ws_max_size=WS_MAX_BYTES,
        timeout_graceful_shutdown=10,
        backlog=BACKLOG,
    )
    return uvicorn.Server(config)


def _no_last_collection() -> None:
    """Leave the heap to the exit: a command's graph is not walked once more as it ends.

    As the interpreter exits it collects every object the collector tracks,
    the graph's among them: 0.15 s after `kgraph check` of the dev corpus
    (0.3 s after a script's bare load), for memory the exit gives back
    anyway. Frozen objects are left out, so the heap is frozen once every
    other exit handler has run (handlers run last registered first; this one
    is registered once). Output and files are closed by then: the commands
    close theirs as they answer, and the interpreter flushes stdout and
    stderr after the collection.
    """
    if not getattr(_no_last_collection, "registered", False):
        atexit.register(gc.freeze)
        _no_last_collection.registered = True  # type: ignore[attr-defined]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    tune_heap()  # before a load's first large allocation
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser, commands = _parser()
    # ``kgraph`` alone, with serve's options only, or with a folder that is not a
    # command's name (``kgraph content/``), means ``kgraph serve``.
    first = arguments[0] if arguments else None
    if (
        first is None
        or (first.startswith("-") and first not in ("-h", "--help", "--version"))
        or (first not in commands and Path(first).is_dir())
    ):
        arguments.insert(0, "serve")
    command = commands.get(arguments[0]) if arguments else None
    if command is None:  # --help, --version, or not a command: an error
        args = parser.parse_args(arguments)
    else:
        # Intermixed: the corpus folder may come after options (`path 1 2 --k 3 DIR`).
        args = command.parse_intermixed_args(arguments[1:])
        args.command = arguments[0]
    try:
        reading = {
            "check": _check,
            "path": _path,
            "export": _export,
            "reading-order": _reading_order,
        }
        if args.command in reading:
            args.corpus_read = corpus_folder(_given_corpus(args), os.environ)
            try:
                code = reading[args.command](args)
            except (QueryError, UsageError):
                _save_snapshot(args)  # the graph is good; the question was not
                raise
            except BaseException:
                _close_load(args)  # interrupted or failed: no snapshot, nothing left running
                raise
            _save_snapshot(args)
            _no_last_collection()
            return code
        if args.command == "schema":
            return _schema()
        if args.command == "generate":
            return _generate(args)
        return _serve(args)
    except QueryError as err:
        # "article 66699 is not in the graph": of which corpus.
        corpus = getattr(args, "corpus_read", None)
        print(f"kgraph: error: {err}" + (f" (corpus {corpus})" if corpus else ""), file=sys.stderr)
        return EXIT_USAGE
    except (CorpusError, UsageError, SettingsError) as err:
        print(f"kgraph: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # ``kgraph check … | head``: the reader left; nothing more to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
