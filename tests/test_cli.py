"""The command line, run as a user runs it: a real ``kgraph`` process."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REFERENCE, SEED_ALONE, SEED_FILE, SEEDS
from kgraph.check import json_report
from kgraph.cli import ProgressBar
from kgraph.graph import KnowledgeGraph


def kgraph(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kgraph", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_check_json_on_the_seed_file_alone(tmp_path: Path) -> None:
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


def test_check_json_on_the_dev_corpus(dev_corpus: Path) -> None:
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


def test_check_reports_unreadable_files_and_exits_1(tmp_path: Path) -> None:
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


def test_check_text_lists_the_worst_offenders() -> None:
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


def test_check_json_gives_suggestions_and_fixes() -> None:
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


def test_bad_usage_is_one_line_and_exit_2(tmp_path: Path) -> None:
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


def test_version() -> None:
    result = kgraph("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("kgraph 0.")


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


def test_fail_on_and_baseline_end_to_end(tmp_path: Path) -> None:
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


def test_fail_on_and_baseline_usage_errors(tmp_path: Path) -> None:
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


def test_path_prints_the_steps_with_titles() -> None:
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
    assert (none.returncode, none.stderr) == (1, "no path from 168918 to 52001\n")
    unknown = kgraph("path", "1", "52001", "--corpus", SEEDS)
    assert (unknown.returncode, unknown.stderr) == (
        2,
        "kgraph: error: article 1 is not in the graph\n",
    )


def test_export_writes_files_their_readers_load(tmp_path: Path) -> None:
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


def test_check_suggestions_option() -> None:
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


def test_usage_errors_are_one_line() -> None:
    for args in (("check",), ("check", SEEDS, "--top", "x"), ("bogus",), ("serve", "--port", "x")):
        result = kgraph(*args)
        assert result.returncode == 2, args
        (line,) = result.stderr.splitlines()
        assert line.startswith("kgraph: error: "), line


def test_generate_writes_a_corpus_check_reads(tmp_path: Path) -> None:
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
