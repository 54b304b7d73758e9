"""Shared fixtures: the bundled seeds, the real dev corpus, and tiny corpora on tmp_path."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# Imported at collection, as in a full run: imported first at the terminal
# summary (a run of modules that do not use it), its entry point for trio
# (which selenium brings) warns, and the warning, an error here, ends the run.
import hypothesis  # noqa: F401
import pytest

from kgraph.graph import KnowledgeGraph, load_graph
from kgraph.graph.load import load_corpus
from kgraph.graph.snapshot import save_snapshot

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
SEED_FILE = SEEDS / "biology" / "what-is-the-role-of-atp-in-the-sodiumpotassium-pump.md"
DEV_TARBALL = Path(
    os.environ.get(
        "KGRAPH_DEV_CORPUS", REPO.parent / "shared" / "corpora" / "quicktakes-dev.tar.xz"
    )
)

#: CORPUS.md's reference figures for the seed file alone and for the dev sample.
SEED_ALONE = {
    "files": 1, "parse_errors": 0, "articles": 1, "duplicate_articles": 0,
    "references": 5, "links": 0, "broken_links": 5, "wanted_articles": 4,
    "stale_links": 0, "url_mismatches": 0, "duplicate_links": 1, "self_links": 0,
    "orphans": 1, "dead_ends": 1, "isolated": 1, "topics": 1, "max_in_degree": 0,
}  # fmt: skip

REFERENCE = {
    "files": 20_702, "parse_errors": 0, "articles": 19_962, "duplicate_articles": 733,
    "references": 55_648, "links": 44_752, "broken_links": 5_953, "wanted_articles": 3_084,
    "stale_links": 2_497, "url_mismatches": 1_479, "duplicate_links": 4_646, "self_links": 3,
    "orphans": 7_480, "dead_ends": 7_128, "isolated": 6_715, "topics": 18, "max_in_degree": 83,
}  # fmt: skip

Related = tuple[int, int | None, str | None]  # rank, id, url
WriteArticle = Callable[..., Path]


def article_text(
    article_id: int | str,
    title: str = "A title?",
    subject: str = "Biology",
    url: str | None = None,
    related: Sequence[Related] = (),
    extra: str = "",
) -> str:
    """The text of an article file in the corpus format."""
    lines = [
        "---",
        f"id: {article_id}",
        "date: 2025-01-02",
        f"title: {title}",
        "seo:",
        "  page_description: A description.",
        "  page_keywords: one, two, three",
        f"question: {title}",
        "answer: An answer.\\nOn two lines.",
        f"subject: {subject}",
    ]
    if url is not None:
        lines.append(f"url: {url}")
    lines.append("score: -1.0")
    for rank, target, target_url in related:
        lines.append(f"related_article{rank}:")
        if target is not None:
            lines.append(f"    id: {target}")
        lines.append(f"    title: Article {target}")
        lines.append(f"    subject: {subject}")
        if target_url is not None:
            lines.append(f"    url: {target_url}")
    return "\n".join(lines) + "\n" + extra + "---\n\n&nbsp;\n"


@pytest.fixture
def write_article(tmp_path: Path) -> WriteArticle:
    """Write an article under ``tmp_path/corpus``: ``write_article("bio/a.md", 1, ...)``."""

    def write(path: str, article_id: int | str, **fields: object) -> Path:
        target = tmp_path / "corpus" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(article_text(article_id, **fields), encoding="utf-8")  # type: ignore[arg-type]
        return target

    return write


@pytest.fixture(scope="session", autouse=True)
def _snapshot_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Snapshots of this session's servers and commands go to a temp folder, not ~/.cache."""
    previous = os.environ.get("KGRAPH_CACHE_DIR")
    os.environ["KGRAPH_CACHE_DIR"] = str(tmp_path_factory.mktemp("snapshots"))
    yield
    if previous is None:
        del os.environ["KGRAPH_CACHE_DIR"]
    else:
        os.environ["KGRAPH_CACHE_DIR"] = previous


@pytest.fixture(scope="session", autouse=True)
def _one_serving_process() -> Iterator[None]:
    """This session's servers run as one process (``--processes 1``) unless a test says otherwise.

    One per core would fork each server into a master and two serving
    processes on this machine: the suite's figures (counts, timings, memory) are
    of one process; tests/test_processes.py tests the master and its processes.
    ``KGRAPH_PROCESSES=2 pytest tests/test_reload.py`` runs a file's servers as several.
    """
    previous = os.environ.get("KGRAPH_PROCESSES")
    os.environ.setdefault("KGRAPH_PROCESSES", "1")
    yield
    if previous is None:
        del os.environ["KGRAPH_PROCESSES"]


def load_cached(root: str | os.PathLike[str], cache: str | os.PathLike[str]) -> KnowledgeGraph:
    """The graph of ``root`` through the loader: from its snapshot in ``cache`` when the
    corpus is unchanged, else read from the files and its snapshot written.

    The snapshot holds the graph alone (nothing prepared: seconds less on the dev
    corpus), which is what the snapshot tests compare.
    """
    loaded = load_corpus(root, cache_dir=cache, prepared=False)
    if loaded.unsaved:
        save_snapshot(loaded.graph, root, fingerprint=loaded.fingerprint, cache_dir=cache)
    return loaded.graph


@pytest.fixture(scope="session")
def seeds_graph() -> KnowledgeGraph:
    """The bundled demo corpus, loaded once."""
    return load_graph(SEEDS)


@pytest.fixture(scope="session")
def dev_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real dev corpus (20,702 articles), unpacked once into a temp folder.

    Skipped when the archive is absent, except in CI (``CI=true``), where the
    conformance tests must run.
    """
    if not DEV_TARBALL.is_file():
        message = f"the dev corpus archive is missing: {DEV_TARBALL} (set KGRAPH_DEV_CORPUS)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    destination = tmp_path_factory.mktemp("quicktakes-dev")
    with tarfile.open(DEV_TARBALL) as archive:
        archive.extractall(destination, filter="data")
    return destination


@pytest.fixture(scope="session")
def dev_graph(dev_corpus: Path) -> KnowledgeGraph:
    """The dev corpus read into its graph, once per test session."""
    return load_graph(dev_corpus)


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    """A ``kgraph serve`` process: its base url, the process, and what it printed so far."""

    base: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def graphql(self, query: str, **variables: object) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base}/graphql", json={"query": query, "variables": variables}, timeout=30
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    @property
    def output(self) -> str:
        return "".join(self.lines)


@contextmanager
def kgraph_server(
    *options: str,
    env: dict[str, str] | None = None,
    port: int | None = None,
    cwd: Path | None = None,
    command: Sequence[str | Path] = (sys.executable, "-m", "kgraph"),
) -> Iterator[RunningServer]:
    """Run ``kgraph serve OPTIONS`` on 127.0.0.1 until ready, then until the block ends.

    ``command`` runs kgraph: this checkout's, unless another installed one is named.

    On a free port given as ``--port``, or, when ``port`` is given, on that one
    with no flag (for ``KGRAPH_PORT`` in ``env`` to say it).

    Its output is collected as it comes (``lines``); at the end it must have
    shut down gracefully, with no traceback.
    """
    port_flag = [] if port is not None else ["--port", str(port := free_port())]
    process = subprocess.Popen(
        [*map(str, command), "serve", *port_flag, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    server = RunningServer(base=f"http://127.0.0.1:{port}", process=process)
    assert process.stdout is not None
    reader = threading.Thread(target=server.lines.extend, args=(process.stdout,), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{server.base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, f"kgraph serve exited early:\n{server.output}"
            time.sleep(0.05)
        else:
            pytest.fail(f"kgraph serve did not become ready in 90 s:\n{server.output}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a hung server behind
            process.wait()
        reader.join(timeout=10)
        process.stdout.close()
    # uvicorn shuts down gracefully, then re-raises the signal it got.
    assert process.returncode in (0, -signal.SIGTERM), server.output
    assert "Application shutdown complete" in server.output
    assert "Traceback" not in server.output, server.output


@pytest.fixture
def elsewhere_from_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every graph's index worth building elsewhere; the other process's folder under tmp_path."""
    from kgraph.graph import search

    monkeypatch.setattr(search, "ELSEWHERE_FROM", 1)
    folders = tmp_path / "tmp"
    folders.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folders))
    return folders
