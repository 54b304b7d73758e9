"""The command line, run in process through ``main(argv)``; a process only where one is tested."""

from __future__ import annotations

import gc
import io
import json
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REFERENCE, SEED_ALONE, SEED_FILE, SEEDS, WriteArticle
from kgraph.check import json_report
from kgraph.cli import ProgressBar, main
from kgraph.graph import KnowledgeGraph
from kgraph.graph.curation import suggest_every_wanted
from kgraph.graph.paths import StepVia
from kgraph.graph.snapshot import load_snapshot
from kgraph.graph.subgraphs import ReadingStep, reading_plan
from kgraph.settings import DEFAULT_CORPUS


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit code and what it wrote."""

    returncode: int
    stdout: str
    stderr: str


Run = Callable[..., Ran]


@pytest.fixture
def kgraph(capsys: pytest.CaptureFixture[str]) -> Run:
    """``kgraph ARGS`` in this process: ``main(argv)``, its output captured."""

    def run(*args: str | Path) -> Ran:
        capsys.readouterr()  # what came before is not this command's
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exit:  # argparse: bad usage, --help, --version
            code = exit.code if isinstance(exit.code, int) else 1
        finally:
            gc.unfreeze()  # a command freezes its graph: this process goes on
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


def test_check_json_on_the_seed_file_alone(tmp_path: Path, kgraph: Run) -> None:
    (tmp_path / "biology").mkdir()
    shutil.copy(SEED_FILE, tmp_path / "biology")
    result = kgraph("check", tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {key: report["summary"][key] for key in SEED_ALONE} == SEED_ALONE
    assert all(isinstance(value, int) for value in report["summary"].values())
    assert report["parse_errors"] == []
    assert {w["id"] for w in report["wanted_articles"]} == {168902, 168897, 168906, 168903}
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_check_json_on_the_dev_corpus(dev_corpus: Path, kgraph: Run) -> None:
    result = kgraph("check", dev_corpus, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert {key: summary[key] for key in REFERENCE} == REFERENCE
    # The full lists, each as long as its figure, every finding with its fix.
    for name in ("broken_links", "stale_links", "url_mismatches", "duplicate_links", "self_links"):
        assert len(report[name]) == summary[name], name
        assert all(entry["fix"].startswith(f"in {entry['path']}, ") for entry in report[name])
    for name in ("wanted_articles", "orphans", "dead_ends", "isolated", "duplicate_articles"):
        assert len(report[name]) == summary[name], name
    assert len(report["islands"]) == summary["components"] - 1
    wanted = {w["id"]: w for w in report["wanted_articles"]}
    assert all(len(w["suggestions"]) <= 3 for w in wanted.values())
    # Most articles the dev sample misses are in no file of it: nothing is
    # suggested for 1,596 of 3,084 (SVMs in healthcare are not "practical
    # applications of surveys"); what looks like them is suggested for the rest.
    unmatched = [w for w in wanted.values() if not w["suggestions"]]
    assert len(wanted) / 3 < len(unmatched) < len(wanted) * 2 / 3
    for entry in report["broken_links"]:
        # A broken link's suggestions are its wanted article's, less its own
        # article and those it links to already; the fix names the best one.
        meant = wanted[entry["stated_id"]]["suggestions"]
        assert entry["suggestions"] == [i for i in meant if i in entry["suggestions"]]
        assert entry["article"] not in entry["suggestions"]
        if entry["suggestions"]:
            assert entry["fix"].endswith(f"did you mean {entry['suggestions'][0]}?")
        else:
            assert entry["fix"].endswith("write the article or remove the entry")
    # Link suggestions cost milliseconds each: the first 100 candidates of all.
    assert len(report["link_suggestions"]) == 100
    assert report["link_suggestion_candidates"] == 19_041  # orphans, dead ends, islands
    assert [s["article"] for s in report["link_suggestions"]] == report["orphans"][:100]


def test_check_reports_unreadable_files_and_exits_1(tmp_path: Path, kgraph: Run) -> None:
    shutil.copytree(SEEDS, tmp_path / "corpus")
    broken = tmp_path / "corpus" / "biology" / "broken.md"
    broken.write_text("---\nid: 5\ntitle: Broken\nsubject: Biology\n  oops: [\n---\n")
    (tmp_path / "corpus" / "latin1.md").write_bytes(b"---\nid: 6\ntitle: caf\xe9\n---\n")
    result = kgraph("check", tmp_path / "corpus", "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["summary"]["parse_errors"] == 2
    assert report["summary"]["articles"] == 52  # everything else still loads
    errors = {e["path"]: e for e in report["parse_errors"]}
    assert errors["biology/broken.md"]["line"] == 5
    assert "mapping values are not allowed" in errors["biology/broken.md"]["message"]
    assert errors["latin1.md"] == {
        "path": "latin1.md",
        "line": 3,
        "message": "not UTF-8: byte 0xe9 at offset 20",
    }

    text = kgraph("check", tmp_path / "corpus")
    assert text.returncode == 1
    assert "biology/broken.md:5: invalid YAML front matter" in text.stdout


def test_check_text_lists_the_worst_offenders(kgraph: Run) -> None:
    result = kgraph("check", SEEDS)
    assert result.returncode == 0
    out = result.stdout
    assert "files    53 read in" in out
    assert "broken links           3  entries to 2 missing articles" in out
    assert "id 168999: 2 referrers, What is the role of mitochondria in apoptosis?" in out
    assert "related_article1: write id 168910 instead of 168899" in out
    assert "did you mean 168904 (What is the role of ATP in the sodium-potassium pump?)?" in out
    assert (
        "What is a red-black tree? (/learn/computer-science/questions/what-is-a-redblack-tree)\n"
        in out
    )
    assert "id -1 What is the scientific method?: link to 168902 (both linked with 168917)" in out
    report = json.loads(kgraph("check", SEEDS, "--format", "json").stdout)
    assert report["link_suggestion_candidates"] == len(report["link_suggestions"]) == 19
    first = report["link_suggestions"][0]
    assert first["article"] == -1
    assert first["suggested"][0]["common_neighbours"] == [168917]
    assert [s["shared_keywords"] for s in first["suggested"]][2] == ["physics"]
    assert "computer-science: 'Computer Science' x8, 'Computer science' x2" in out


def test_check_json_gives_suggestions_and_fixes(kgraph: Run) -> None:
    report = json.loads(kgraph("check", SEEDS, "--format", "json").stdout)
    wanted = {w["id"]: w["suggestions"] for w in report["wanted_articles"]}
    # Nothing in the seeds is a red-black tree; ATP pumps are what the
    # referrers of the mitochondria article link with.
    assert wanted == {168999: [168904], 52099: []}
    broken = {(b["article"], b["rank"]): b for b in report["broken_links"]}
    # 168911 names 168999: not itself, and it links to 168912, 168913, 168916 already.
    assert broken[168911, 3]["suggestions"] == [168904]
    assert broken[168911, 3]["fix"] == (
        "in biology/how-is-atp-produced-during-cellular-respiration.md, related_article3:"
        " id 168999 exists nowhere; did you mean 168904?"
    )
    # 52001 names 52099 ("red-black tree"): no seed is about one.
    assert broken[52001, 3]["suggestions"] == []
    assert broken[52001, 3]["fix"].endswith(
        "id 52099 exists nowhere; write the article or remove the entry"
    )
    for name in ("broken_links", "stale_links", "url_mismatches", "duplicate_links", "self_links"):
        assert all("fix" in entry for entry in report[name]), name
    (stale,) = report["stale_links"]
    assert stale["fix"].endswith("related_article1: write id 168910 instead of 168899")


def test_json_report_link_suggestions_limit(seeds_graph: KnowledgeGraph) -> None:
    limited = json_report(seeds_graph, "test", link_suggestions=2)
    everything = json_report(seeds_graph, "test", link_suggestions=None)
    assert limited["link_suggestion_candidates"] == everything["link_suggestion_candidates"] == 19
    assert len(limited["link_suggestions"]) == 2
    assert len(everything["link_suggestions"]) == 19
    assert everything["link_suggestions"][:2] == limited["link_suggestions"]
    assert len(json_report(seeds_graph, "test")["link_suggestions"]) == 19  # under the default 100


def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path, kgraph: Run) -> None:
    for args in (
        ("check", tmp_path / "missing"),
        ("check", tmp_path),  # a folder with no article
        ("check", SEED_FILE),  # a file, not a folder
        ("serve", "--corpus", tmp_path / "missing"),
        ("serve", "--corpus", tmp_path),  # a folder with no article
    ):
        result = kgraph(*args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("kgraph: error: "), result.stderr
        assert "Traceback" not in result.stderr
    unknown = kgraph("check", SEEDS, "--format", "xml")
    assert unknown.returncode == 2
    assert "invalid choice: 'xml'" in unknown.stderr


def test_version_from_python_dash_m() -> None:
    # A process: what is tested is that ``python -m kgraph`` runs the command line.
    result = subprocess.run(
        [sys.executable, "-m", "kgraph", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kgraph 0.")


def test_a_command_leaves_its_graph_and_heap_uncollected() -> None:
    # A process: the exit is what is tested. A command's graph is frozen once
    # loaded (no full collection walks it during the answer); the handler
    # registered first runs last, after the command's own: by then the whole
    # heap is frozen, so the interpreter's last collection does not walk it.
    script = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen at exit', gc.get_freeze_count() > 0))\n"
        "from kgraph.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('frozen before exit', gc.get_freeze_count() > 0)\n"
        "sys.exit(code)\n"
    )
    for command, frozen in ((["check", str(SEEDS), "--no-cache"], True), (["schema"], False)):
        result = subprocess.run(
            [sys.executable, "-c", script, *command],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode in (0, 1), result.stderr
        assert f"frozen at exit {frozen}" in result.stdout
        assert f"frozen before exit {frozen}" in result.stdout  # schema loads no graph


def test_an_interrupted_command_leaves_no_process_or_folder_behind(
    kgraph: Run, elsewhere_from_one: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the load: search's other process is ended and its folder removed."""
    from kgraph import check as check_module

    left: list[Path] = []

    def interrupted(*args: object, **kwargs: object) -> str:
        left.extend(elsewhere_from_one.iterdir())
        raise KeyboardInterrupt

    monkeypatch.setattr(check_module, "text_report", interrupted)
    result = kgraph("check", SEEDS, "--no-cache")
    assert result.returncode == 130
    assert left  # the other process's folder (its bridges, unread) when interrupted
    assert not list(elsewhere_from_one.iterdir())
    # Another test's processes may live on in this one: search's is named.
    assert not [p for p in multiprocessing.active_children() if p.name == "kgraph-search-index"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_only_on_a_terminal_after_its_delay() -> None:
    terminal, pipe = _Terminal(), io.StringIO()
    quiet = ProgressBar(terminal, "reading", delay=3600)
    quiet(5, 10)
    assert terminal.getvalue() == ""
    bar = ProgressBar(terminal, "reading", delay=0)
    bar(5, 10)
    assert "reading [###############...............] 5/10" in terminal.getvalue()
    bar.close()
    assert terminal.getvalue().endswith("\r\x1b[2K")
    piped = ProgressBar(pipe, "reading", delay=0)
    piped(5, 10)
    piped.close()
    assert pipe.getvalue() == ""


def _break_a_link(corpus: Path) -> Path:
    """Point rank 1 of the seed article at an article that exists nowhere."""
    seed = corpus / "biology" / SEED_FILE.name
    text = seed.read_text(encoding="utf-8")
    broken = text.replace("    id: 168902\n", "    id: 999001\n", 1).replace(
        "explain-the-process-of-exocytosis-and-its-role-in-cellular-waste-removal\nrelated_article2",
        "a-page-that-was-never-written\nrelated_article2",
        1,
    )
    assert broken != text
    seed.write_text(broken, encoding="utf-8")
    return seed


def test_fail_on_and_baseline_end_to_end(tmp_path: Path, kgraph: Run) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    baseline = tmp_path / "baseline.json"
    first = kgraph("check", corpus, "--format", "json")
    assert first.returncode == 0
    baseline.write_text(first.stdout)
    # The planted findings fail a strict CI, but nothing is new yet.
    strict = kgraph("check", corpus, "--fail-on", "broken,self-links")
    assert strict.returncode == 1
    assert strict.stderr == "kgraph check: failing on broken, self-links\n"
    assert kgraph("check", corpus, "--fail-on", "parse-errors").returncode == 0
    unchanged = kgraph("check", corpus, "--baseline", baseline, "--fail-on", "new")
    assert unchanged.returncode == 0, unchanged.stderr
    assert "nothing new, nothing fixed" in unchanged.stdout

    seed = _break_a_link(corpus)
    original = SEED_FILE.read_text(encoding="utf-8")
    broke = kgraph("check", corpus, "--format", "json", "--baseline", baseline, "--fail-on", "new")
    assert broke.returncode == 1
    assert broke.stderr == "kgraph check: failing on new\n"
    changes = json.loads(broke.stdout)["baseline"]
    path = "biology/what-is-the-role-of-atp-in-the-sodiumpotassium-pump.md"
    assert changes["new"]["broken_links"] == [f"{path}#1:999001"]
    assert changes["new"]["wanted_articles"] == ["999001"]
    text = kgraph("check", corpus, "--baseline", baseline, "--fail-on", "new")
    assert text.returncode == 1
    assert f"new broken links: 1: {path}#1:999001" in text.stdout

    # Fixed: the link restored, and a planted broken link mended too.
    seed.write_text(original, encoding="utf-8")
    etc = corpus / "computer-science" / "what-is-a-binary-search-tree.md"
    listing = etc.read_text(encoding="utf-8")
    mended_listing = listing[: listing.index("related_article3:")] + "---\n\n&nbsp;\n"
    etc.write_text(mended_listing, encoding="utf-8")
    mended = kgraph("check", corpus, "--format", "json", "--baseline", baseline, "--fail-on", "new")
    assert mended.returncode == 0, mended.stderr
    fixed = json.loads(mended.stdout)["baseline"]["fixed"]
    assert fixed["broken_links"] == ["computer-science/what-is-a-binary-search-tree.md#3:52099"]
    assert fixed["wanted_articles"] == ["52099"]


def test_fail_on_and_baseline_usage_errors(tmp_path: Path, kgraph: Run) -> None:
    not_json = tmp_path / "old.json"
    not_json.write_text("{oops")
    for args, message in (
        (("--fail-on", "new"), "--fail-on new needs --baseline OLD.json"),
        (("--baseline", not_json), "is not JSON"),
        (("--baseline", tmp_path / "missing.json"), "cannot read baseline"),
    ):
        result = kgraph("check", SEEDS, *args)
        assert result.returncode == 2, args
        assert message in result.stderr
        assert result.stderr.count("\n") == 1
    odd = tmp_path / "odd.json"
    for content in (
        '{"summary": {}, "orphans": ["x"]}',
        '{"summary": {}, "broken_links": [{"path": "a"}]}',
    ):
        odd.write_text(content)
        result = kgraph("check", SEEDS, "--baseline", odd, "--fail-on", "new")
        assert result.returncode == 2, result.stderr
        assert "not a `kgraph check --format json` report" in result.stderr
        assert "Traceback" not in result.stderr
    bogus = kgraph("check", SEEDS, "--fail-on", "broken,typos")
    assert bogus.returncode == 2
    assert "unknown report 'typos'" in bogus.stderr


def test_path_prints_the_steps_with_titles(kgraph: Run) -> None:
    result = kgraph("path", "168904", "168912", "--corpus", SEEDS, "--k", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "path 1: 3 hops, cost 3, weakest step 0.53"
    assert lines[1].split()[0] == "168904"
    assert lines[1].endswith("[start]")
    assert lines[4] == "    168912  What happens during glycolysis?  [link, rank 1]"
    assert "path 2:" in result.stdout
    bridged = kgraph("path", "168912", "84002", "--corpus", SEEDS, "--bridges", "--k", "1")
    assert bridged.returncode == 0
    assert bridged.stdout.splitlines()[0] == "path 1: 3 hops, cost 5.6, 1 bridge, weakest step 0.28"
    assert "[related 0.28: glycolysis, cellular respiration]" in bridged.stdout
    none = kgraph("path", "168918", "52001", "--corpus", SEEDS)
    assert (none.returncode, none.stderr) == (
        1,
        f"no path from 168918 to 52001 in {SEEDS} within 20 hops; try --undirected or --bridges\n",
    )
    # The hint offers what was not tried.
    assert kgraph("path", "168918", "52001", SEEDS, "--undirected").stderr.endswith(
        "; try --bridges\n"
    )
    assert kgraph("path", "168918", "52001", SEEDS, "--undirected", "--bridges").stderr == (
        f"no path from 168918 to 52001 in {SEEDS} within 20 hops\n"
    )
    # Fewer paths than asked: why, in the command's terms.
    fewer = kgraph("path", "168904", "168912", SEEDS, "--k", "10", "--max-hops", "4")
    assert fewer.returncode == 0
    assert fewer.stderr == (
        "kgraph path: 3 of 10 paths: no other path of links within 4 hops;"
        " perhaps more with --undirected or --bridges\n"
    )
    assert fewer.stdout.count("\npath ") + fewer.stdout.startswith("path ") == 3
    bridged = kgraph("path", "168912", "84002", SEEDS, "--bridges", "--k", "5")
    assert bridged.stderr.startswith("kgraph path: 2 of 5 paths: only 2 distinct paths with")
    unknown = kgraph("path", "1", "52001", "--corpus", SEEDS)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        f"kgraph: error: article 1 is not in the graph (corpus {SEEDS})\n",
    )


def test_path_lists_k_paths_whatever_the_process_warm_up(kgraph: Run) -> None:
    result = kgraph("path", "168904", "168912", "--k", "3", SEEDS)
    assert result.returncode == 0, result.stderr
    assert [
        line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("path")
    ] == [
        "path 1",
        "path 2",
        "path 3",
    ]


def test_path_format_json(kgraph: Run) -> None:
    result = kgraph("path", "168904", "168912", "--k", "2", "--format", "json", SEEDS)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["corpus"], report["from"], report["to"]) == (str(SEEDS), 168904, 168912)
    assert report["complete"] is True
    assert (report["shortfall"], report["explanation"]) == (None, None)
    assert [[step["article"] for step in path["steps"]] for path in report["paths"]] == [
        [168904, 168897, 168911, 168912],
        [168904, 168906, 168897, 168911, 168912],
    ]
    first = report["paths"][0]
    assert (first["hops"], first["cost"], first["bridges"], first["strength"]) == (
        3,
        3.0,
        0,
        0.5306,
    )
    assert first["steps"][0] == {
        "article": 168904,
        "title": "What is the role of ATP in the sodium-potassium pump?",
        "via": "start",
        "rank": None,
        "score": None,
        "shared_keywords": [],
        "shared_terms": [],
        "topic_change": False,
    }
    assert first["steps"][-1]["via"] == "link"
    assert first["steps"][-1]["rank"] == 1
    bridged = json.loads(
        kgraph("path", "168912", "84002", SEEDS, "--bridges", "--k", "1", "--format", "json").stdout
    )
    assert [(step["via"], step["score"]) for step in bridged["paths"][0]["steps"]][:2] == [
        ("start", None),
        ("related", 0.2781),
    ]
    none = kgraph("path", "168918", "52001", SEEDS, "--format", "json")
    assert none.returncode == 1
    assert json.loads(none.stdout)["paths"] == []
    assert "try --undirected or --bridges" in none.stderr


def test_export_writes_files_their_readers_load(tmp_path: Path, kgraph: Run) -> None:
    import networkx as nx

    for fmt in ("graphml", "gexf"):
        out = tmp_path / f"cs.{fmt}"
        result = kgraph(
            "export", "--format", fmt, "--topic", "computer-science", "--corpus", SEEDS, "-o", out
        )
        assert result.returncode == 0, result.stderr
        graph = nx.read_graphml(out) if fmt == "graphml" else nx.read_gexf(out)
        assert graph.number_of_nodes() == 10
        assert graph.number_of_edges() > 0
    cytoscape = json.loads(
        kgraph("export", "--format", "cytoscape", "--center", "168911", "--corpus", SEEDS).stdout
    )
    ids = {n["data"]["id"] for n in cytoscape["elements"]["nodes"]}
    assert {"168911", "168999"} <= ids  # the article, and the wanted article it names
    d3 = json.loads(
        kgraph(
            "export", "--format", "d3", "--center", "168904", "--depth", "2", "--corpus", SEEDS
        ).stdout
    )
    assert {link["source"] for link in d3["links"]} <= {node["id"] for node in d3["nodes"]}
    dot = kgraph("export", "--format", "dot", "--center", "168904", "--corpus", SEEDS).stdout
    assert dot.startswith("digraph")
    assert "168904" in dot
    bad = kgraph(
        "export", "--format", "dot", "--center", "168904", "--depth", "5", "--corpus", SEEDS
    )
    assert bad.returncode == 2
    assert "depth" in bad.stderr


def test_check_suggestions_option(kgraph: Run) -> None:
    def suggestions(*args: str) -> tuple[int, int]:
        report = json.loads(kgraph("check", SEEDS, "--format", "json", *args).stdout)
        return len(report["link_suggestions"]), report["link_suggestion_candidates"]

    everything = suggestions("--suggestions", "all")
    assert everything[0] == everything[1] > 2
    assert suggestions("--suggestions", "2") == (2, everything[1])
    bad = kgraph("check", SEEDS, "--suggestions", "-1")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "kgraph: error: argument --suggestions: not a count or 'all': '-1' (see `kgraph check --help`)"
    ]


def test_usage_errors_are_one_line(kgraph: Run) -> None:
    for args in (
        ("path", "1"),
        ("check", SEEDS, "--top", "x"),
        ("bogus",),
        ("serve", "--port", "x"),
        ("path", "1", "2", "--k", "0"),
        ("path", "1", "2", "--k", "11"),
        ("path", "1", "2", "--max-hops", "0"),
        ("export", "--format", "d3", "--topic", "biology", "--limit", "0"),
        ("export", "--format", "d3", "--topic", "biology", "--limit", "2001"),
        ("export", "--format", "d3", "--center", "168904", "--depth", "4"),
        ("export", "--format", "d3", "--center", "168904", "--limit", "many"),
    ):
        result = kgraph(*args)
        assert result.returncode == 2, args
        (line,) = result.stderr.splitlines()
        assert line.startswith("kgraph: error: "), line


def test_generate_writes_a_corpus_check_reads(tmp_path: Path, kgraph: Run) -> None:
    target = tmp_path / "made"
    made = kgraph("generate", "300", target, "--seed", "4")
    assert made.returncode == 0, made.stderr
    assert "300 articles" in made.stderr
    report = json.loads(kgraph("check", target, "--format", "json").stdout)["summary"]
    assert (report["articles"], report["parse_errors"]) == (300, 0)
    again = kgraph("generate", "300", target)
    assert again.returncode == 2
    assert again.stderr.startswith("kgraph: error: ")
    assert kgraph("generate", "0", tmp_path / "none").returncode == 2


def _one_article(tmp_path: Path) -> Path:
    """A corpus of the seed article alone: told apart from the seeds by its figures."""
    corpus = tmp_path / "alone"
    (corpus / "biology").mkdir(parents=True)
    shutil.copy(SEED_FILE, corpus / "biology")
    return corpus


def test_every_command_takes_the_corpus_the_same_way(
    tmp_path: Path, kgraph: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _one_article(tmp_path)

    def articles(*args: str | Path) -> int:
        result = kgraph("check", *args, "--format", "json")
        assert result.returncode == 0, result.stderr
        count: int = json.loads(result.stdout)["summary"]["articles"]
        return count

    def drawn(*args: str | Path) -> int:
        result = kgraph("export", "--format", "d3", "--topic", "biology", *args)
        assert result.returncode == 0, result.stderr
        return len(json.loads(result.stdout)["nodes"])

    def path(*args: str | Path) -> Ran:
        return kgraph("path", "168904", "168904", *args)

    monkeypatch.delenv("KGRAPH_CORPUS", raising=False)
    assert articles() == 52  # the bundled seeds
    assert articles(alone) == articles("--corpus", alone) == 1
    assert drawn() == 16
    assert drawn(alone) == drawn("--corpus", alone) == 1
    assert path().returncode == path(alone).returncode == path("--corpus", alone).returncode == 0
    assert "(corpus" not in path().stderr
    monkeypatch.setenv("KGRAPH_CORPUS", str(alone))
    assert articles() == 1
    assert drawn() == 1
    assert articles(SEEDS) == articles("--corpus", SEEDS) == 52  # a folder given wins
    assert kgraph("path", "168904", "168912").stderr == (
        f"kgraph: error: article 168912 is not in the graph (corpus {alone})\n"
    )
    assert kgraph("path", "168904", "168912", SEEDS).returncode == 0

    # serve reads it the same way: a missing folder, however given, is named.
    missing = tmp_path / "missing"
    empty = tmp_path / "empty"
    empty.mkdir()
    # A folder alone means serve it, as `kgraph` alone serves the default.
    assert (
        kgraph(empty).stderr == f"kgraph: error: no *.md article files in corpus folder: {empty}\n"
    )
    assert kgraph("--port", "1", empty).returncode == 2
    assert "invalid choice: 'bogus'" in kgraph("bogus").stderr  # not a folder: a typo
    for args, env in (
        (("serve", missing), None),
        (("serve", "--corpus", missing), None),
        (("serve",), str(missing)),
        (("check",), str(missing)),
        (("export", "--format", "dot", "--topic", "biology"), str(missing)),
        (("path", "1", "2"), str(missing)),
        (("path", "1", "2", missing), str(alone)),
    ):
        if env is not None:
            monkeypatch.setenv("KGRAPH_CORPUS", env)
        result = kgraph(*args)
        assert (result.returncode, result.stderr) == (
            2,
            f"kgraph: error: corpus folder not found: {missing}\n",
        ), args
    for command in (
        ("serve",),
        ("check",),
        ("path", "1", "2"),
        ("export", "--format", "d3", "--topic", "biology"),
    ):
        both = kgraph(*command, SEEDS, "--corpus", alone)
        assert both.returncode == 2, command
        assert both.stderr == (
            f"kgraph: error: two corpus folders given, {SEEDS} and --corpus {alone}: give one\n"
        )


def test_commands_name_the_corpus_in_their_errors(tmp_path: Path, kgraph: Run) -> None:
    alone = _one_article(tmp_path)
    for args, message in (
        (("path", "168904", "73001", alone), "article 73001 is not in the graph"),
        (
            ("export", "--format", "d3", "--center", "73001", alone),
            "article 73001 is not in the graph",
        ),
        (
            ("export", "--format", "d3", "--topic", "physics", alone),
            "topic 'physics' is not in the graph",
        ),
    ):
        result = kgraph(*args)
        assert (result.returncode, result.stderr) == (
            2,
            f"kgraph: error: {message} (corpus {alone})\n",
        ), args
    empty = tmp_path / "empty"
    empty.mkdir()
    assert kgraph("path", "1", "2", empty).stderr == (
        f"kgraph: error: no *.md article files in corpus folder: {empty}\n"
    )


def test_a_busy_port_is_one_line_and_exit_2(kgraph: Run) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = kgraph("serve", SEEDS, "--port", str(port))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"kgraph: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_export_limits_are_checked_documented_and_reported(kgraph: Run) -> None:
    for args, message in (
        (
            ("--topic", "biology", "--limit", "0"),
            "argument --limit: not a whole number from 1 to 2,000: '0'",
        ),
        (
            ("--center", "168904", "--depth", "0"),
            "argument --depth: not a whole number from 1 to 3: '0'",
        ),
        (("--topic", "biology", "--depth", "2"), "--depth goes with --center"),
    ):
        result = kgraph("export", "--format", "d3", *args, SEEDS)
        assert result.returncode == 2, args
        assert result.stderr.startswith(f"kgraph: error: {message}"), result.stderr
    helped = kgraph("export", "--help")
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())
    assert "most nodes, 1-2,000 (default: 200 around centers, 500 for a topic)" in text
    assert "links from the centers, 1-3 (default: 1)" in text
    assert "how many paths, 1-10 (default: 3)" in " ".join(kgraph("path", "--help").stdout.split())
    cut = kgraph("export", "--format", "d3", "--topic", "biology", "--limit", "3", SEEDS)
    assert cut.returncode == 0
    assert json.loads(cut.stdout)["graph"] == {"truncated": True, "omitted_nodes": 13}
    assert cut.stderr == "kgraph export: 13 more nodes left out by --limit\n"
    whole = kgraph("export", "--format", "d3", "--topic", "biology", SEEDS)
    assert json.loads(whole.stdout)["graph"] == {"truncated": False, "omitted_nodes": 0}
    assert whole.stderr == ""


def test_export_graphology(kgraph: Run) -> None:
    result = kgraph(
        "export", "--format", "graphology", "--topic", "biology", "--layout", "none", SEEDS
    )
    assert result.returncode == 0, result.stderr
    graph = json.loads(result.stdout)
    # graphology's serialised graph, as Graph.from(...) reads it.
    assert set(graph) == {"attributes", "options", "nodes", "edges"}
    assert graph["options"] == {"type": "directed", "multi": False, "allowSelfLoops": False}
    keys = {node["key"] for node in graph["nodes"]}
    assert len(keys) == 16
    assert "168904" in keys
    assert all(set(node) == {"key", "attributes"} for node in graph["nodes"])
    assert all(
        {"source", "target", "attributes"} <= set(edge) and {edge["source"], edge["target"]} <= keys
        for edge in graph["edges"]
    )
    assert graph["edges"]


def test_export_in_pixels(kgraph: Run) -> None:
    def positions(*options: str) -> dict[str, tuple[float, float]]:
        result = kgraph("export", "--format", "graphology", "--topic", "biology", *options, SEEDS)
        assert result.returncode == 0, result.stderr
        return {
            n["key"]: (n["attributes"]["x"], n["attributes"]["y"])
            for n in json.loads(result.stdout)["nodes"]
        }

    unit = positions()
    assert positions("--size", "1000") == {
        key: (round(x * 1000, 2), round(y * 1000, 2)) for key, (x, y) in unit.items()
    }
    dot = kgraph("export", "--format", "dot", "--topic", "biology", "--size", "1000", SEEDS)
    assert dot.returncode == 2
    assert "--size does not go with --format dot" in dot.stderr


def test_the_default_corpus_is_the_bundled_seeds() -> None:
    assert DEFAULT_CORPUS.resolve() == SEEDS.resolve()
    assert os.path.samefile(DEFAULT_CORPUS / "biology" / SEED_FILE.name, SEED_FILE)


def test_check_from_the_snapshot_reports_what_the_files_say(tmp_path: Path, kgraph: Run) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "biology" / "broken.md").write_text("---\nid: 5\ntitle: [oops\n---\n")
    cache = tmp_path / "cache"

    def report(*options: str) -> tuple[dict[str, object], str]:
        json_run = kgraph("check", corpus, "--format", "json", "--cache-dir", cache, *options)
        text_run = kgraph("check", corpus, "--cache-dir", cache, *options)
        assert json_run.returncode == text_run.returncode == 1  # the parse error
        figures = json.loads(json_run.stdout)
        del figures["load_seconds"]
        # "files 54 read in 0.0 s": the load's time, the one line that may differ.
        text = "\n".join(line for line in text_run.stdout.splitlines() if " read in " not in line)
        return figures, text

    cold = report("--no-cache")
    assert not cache.exists()  # --no-cache neither reads nor writes a snapshot
    assert report() == cold  # read from the files, its snapshot saved
    (snapshot,) = cache.iterdir()
    saved = snapshot.stat().st_mtime_ns
    assert report() == cold  # from the snapshot
    assert snapshot.stat().st_mtime_ns == saved  # read, not written again
    assert cold[0]["summary"]["parse_errors"] == 1  # type: ignore[index]
    # A changed file: the snapshot is not used.
    (corpus / "biology" / "broken.md").unlink()
    fixed = kgraph("check", corpus, "--format", "json", "--cache-dir", cache)
    assert fixed.returncode == 0
    assert json.loads(fixed.stdout)["summary"]["parse_errors"] == 0


def test_check_json_finds_its_suggestions_in_the_snapshot(tmp_path: Path, kgraph: Run) -> None:
    """Every wanted article's suggestions come with any snapshot: a JSON check reads them."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    cache = tmp_path / "cache"
    text = kgraph("check", corpus, "--cache-dir", cache, "--fail-on", "parse-errors")
    assert text.returncode == 0, text.stderr
    (snapshot,) = cache.iterdir()
    written = snapshot.stat().st_mtime_ns
    warm = load_snapshot(corpus, cache)
    assert warm is not None
    # Worked out with the rest of what the load prepares, before the snapshot was written.
    assert not suggest_every_wanted(warm)
    first = kgraph(
        "check", corpus, "--format", "json", "--cache-dir", cache, "--fail-on", "parse-errors"
    )
    second = kgraph(
        "check", corpus, "--format", "json", "--cache-dir", cache, "--fail-on", "parse-errors"
    )
    assert snapshot.stat().st_mtime_ns == written  # nothing new: read, never written again
    figures = [json.loads(run.stdout) for run in (first, second)]
    for report in figures:
        del report["load_seconds"]
    assert figures[0] == figures[1]
    assert any(w["suggestions"] for w in figures[0]["wanted_articles"])


def test_over_linked_is_a_z_score_threshold(seeds_graph: KnowledgeGraph, kgraph: Run) -> None:
    everything = json_report(seeds_graph, "test", over_linked_z=0.0)["over_linked"]
    for z in (0.0, 2.0, 3.0):
        report = json_report(seeds_graph, "test", over_linked_z=z)
        assert report["over_linked_min_z"] == z
        assert report["over_linked"] == [r for r in everything if r["z_score"] >= z]
    # The seeds' most linked article is 2.7 deviations above the mean: over-linked at 2, not 3.
    assert [r["id"] for r in json_report(seeds_graph, "test", over_linked_z=2.0)["over_linked"]][
        :1
    ] == [73001]
    assert json_report(seeds_graph, "test")["over_linked"] == []
    text = kgraph("check", SEEDS, "--over-linked-z", "2").stdout
    assert (
        "over-linked articles (in-degree 2 standard deviations or more above the mean) (4)" in text
    )
    assert "over-linked" not in kgraph("check", SEEDS).stdout
    refused = kgraph("check", SEEDS, "--over-linked-z", "many")
    assert refused.returncode == 2
    assert "not a number of standard deviations" in refused.stderr


def test_reading_order_prints_the_readers_plan(
    kgraph: Run, seeds_graph: KnowledgeGraph, tmp_path: Path
) -> None:
    plan = reading_plan(seeds_graph, "biology", first=5)
    text = kgraph("reading-order", "biology", SEEDS, "--first", "5")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert [int(line.split()[1]) for line in lines] == [step.id for step in plan]
    assert lines[0].endswith(f"{seeds_graph.articles[plan[0].id].title}  [foundational; start]")
    for line, step in zip(lines[1:], plan[1:], strict=True):
        assert line.endswith(f"; {_why(step)}]"), line
    started = kgraph("reading-order", "Biology", "--start", "168912", "--format", "json", SEEDS)
    report = json.loads(started.stdout)
    expected = reading_plan(seeds_graph, "biology", start=168912)
    assert (report["corpus"], report["topic"]) == (str(SEEDS), "biology")
    assert [(s["article"], s["via"], s["after"]) for s in report["steps"]] == [
        (step.id, step.via.value, step.after) for step in expected
    ]
    assert report["steps"][0]["title"] == "What happens during glycolysis?"
    assert kgraph("reading-order", "nope", SEEDS).stderr == (
        f"kgraph: error: topic 'nope' is not in the graph (corpus {SEEDS})\n"
    )
    outside = kgraph("reading-order", "biology", "--start", "61001", SEEDS)
    assert (outside.returncode, outside.stderr) == (
        2,
        f"kgraph: error: article 61001 is not in topic 'biology' (corpus {SEEDS})\n",
    )
    assert kgraph("reading-order", "biology", "--first", "0", SEEDS).returncode == 2


def _why(step: ReadingStep) -> str:
    if step.via is StepVia.START:
        return "a new start"
    if step.via is StepVia.RELATED:
        return f"related {step.score:.2f} to {step.after}"
    return f"{'linked from' if step.via is StepVia.LINK else 'links to'} {step.after}"


def test_reading_order_lists_near_duplicates_under_their_question(
    kgraph: Run, tmp_path: Path, write_article: WriteArticle
) -> None:
    # The same question told twice, among other articles (words on every article tell nothing).
    for article_id, title, keywords in (
        (1, "What is kinetic energy of a moving body?", "kinetic energy, mass, speed"),
        (2, "What is kinetic energy of a body in motion?", "kinetic energy, mass, speed"),
        (3, "What is torque?", "torque, lever, rotation"),
        (4, "How does a lens focus light?", "lens, focus, refraction"),
    ):
        path = write_article(
            f"physics/a{article_id}.md",
            article_id,
            title=title,
            subject="Physics",
            url=f"/learn/physics/questions/a{article_id}",
            related=[],
        )
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("one, two, three", keywords), encoding="utf-8")
    result = kgraph("reading-order", "physics", tmp_path / "corpus", "--no-cache", "--start", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].split() == [
        "2",
        "also:",
        *"What is kinetic energy of a body in motion?".split(),
    ]
