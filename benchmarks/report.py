# ruff: noqa: RUF001  (the tables write the multiplication sign, as the README does)
"""Print the README's benchmark tables from ``benchmarks/results.json``.

``python benchmarks/report.py [RESULTS]`` writes Markdown to stdout: one table
per section of the suite, then the targets of the performance issue with each
verdict computed from the figures (never typed by hand).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _m(figure: dict[str, Any]) -> float:
    return float(figure["median"])


def _pm(figure: dict[str, Any], digits: int = 2) -> str:
    return f"{figure['median']:,.{digits}f} ± {figure['spread']:,.{digits}f}"


def _verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def ingest(r: dict[str, Any]) -> list[str]:
    seconds = r["seconds"]
    if "ratios" not in r:  # the layout before issue 17: kgraph against its own YAML reader
        return [f"| cold ingest (old layout) | {r['ratio_naive_over_kgraph']:.2f}× |", "|---|---|"]
    base = _m(next(iter(seconds.values())))
    cpu = r.get("cpu_seconds", {})
    lines = [
        f"| dev corpus ({r['files']:,} files), whole processes | median s | spread s"
        " | naive / this | CPU s (with readers) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {f['median']:.2f} | {f['spread']:.2f} | {base / f['median']:.2f}× |"
        f" {_pm(cpu[name]) if name in cpu else '–'} |"
        for name, f in seconds.items()
    ]
    lines.append(
        f"| same graph (nodes; edges with ranks) | {r['identical_graph']} |"
        f" `check` cold = warm | {r['same_check_report']} | |"
    )
    scale = r.get("scale")
    if scale:
        lines += [
            "",
            "| cold load at scale, whole processes | files | naive s | kgraph cold load s"
            " | naive / kgraph | same graph |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {row['files']:,} | {_pm(row['naive_s'], 1)} | {_pm(row['cold_load_s'], 1)}"
            f" | {row['naive_over_cold_load']:.2f}× | {row['identical_graph']} |"
            for name, row in scale.items()
        ]
    return lines


def start(r: dict[str, Any]) -> list[str]:
    lines = [
        "| server start until `/readyz` is 200 | cold s | warm s (snapshot) | warm / cold |"
        " cold peak MB | warm peak MB | files read before, s |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in r.items():
        # Runs before the page cache was warmed before each start have no pre-read.
        pre_read = f"{_m(s['pre_read_s']):.1f}" if "pre_read_s" in s else "not read"
        lines.append(
            f"| {name} | {_pm(s['cold_ready_s'])} | {_pm(s['warm_ready_s'])} |"
            f" {s['ratio_warm_over_cold']:.3f} | {_m(s['cold_peak_rss_mb']):,.0f} |"
            f" {_m(s['warm_peak_rss_mb']):,.0f} | {pre_read} |"
        )
    for name, s in r.items():
        for refusal in s.get("refused", ()):
            lines.append(f"\n{name}: a query after the start was refused: {refusal}")
    return lines


def memory(r: dict[str, Any]) -> list[str]:
    lines = [
        "| peak RSS of a serving process (cold start) | articles | peak MB | kB / article | ready s |",
        "|---|---|---|---|---|",
    ]
    for name, m in r.items():
        lines.append(
            f"| {name} | {m['articles']:,} | {_m(m['peak_rss_mb']):,.0f} |"
            f" {m['kb_per_article']:.1f} | {_m(m['ready_s']):.1f} |"
        )
    return lines


def load(r: dict[str, Any]) -> list[str]:
    lines = [
        f"| load: {r['tool']}, {r['duration_s']:g} s × {r['rounds']}, dev"
        " | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, q in r["queries"].items():
        lines.append(
            f"| {name} | {_pm(q['requests_per_s'], 0)} | {_m(q['p50_ms']):.2f} |"
            f" {_m(q['p95_ms']):.2f} | {_m(q['p99_ms']):.2f} | {q['errors']} |"
        )
    rounds = ", ".join(f"{ratio:.2f}" for ratio in r.get("ratios_by_round", ()))
    lines.append(
        f"| **GraphQL `article` / bare route** |"
        f" **{r['ratio_graphql_article_over_bare_throughput']:.2f}×** |"
        f" {f'rounds: {rounds}' if rounds else ''} | | | |"
    )
    return lines


def soak(r: dict[str, Any]) -> list[str]:
    return [
        f"Soak: {r['duration_s']:g} s of {r['tool']} on mixed `article`, `neighbours` and"
        f" `learningPath` queries with {r['reloads_during_load']} reloads (SIGHUP) during the"
        f" load: {r['requests']:,} requests, **{r['errors']} errors**,"
        f" {r['requests_per_s']:,} req/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms;"
        f" graph version {r['final_graph_version']} at the end."
    ]


def hostile(r: dict[str, Any]) -> list[str]:
    heavy = r["heavy_queries"]
    return [
        f"Hostile soak: {r['duration_s']:g} s of {r['tool']}. Ordinary queries:"
        f" {r['mix']['requests'] + r['article']['requests']:,} requests, **{r['errors']} errors**;"
        f" `article` {r['article']['requests_per_s']:,.0f} req/s, p50 {r['article']['p50_ms']:.1f} ms,"
        f" **p99 {r['article']['p99_ms']:.1f} ms**; the mix (neighbours, learningPath) p99"
        f" {r['mix']['p99_ms']:.0f} ms. Heavy query ({r['heavy_query_ms']:.0f} ms alone):"
        f" {heavy['abandoned']} abandoned, {heavy['finished']} finished, {heavy['failed']} failed;"
        f" {r['idle_sockets_opened']:,} idle sockets opened (closed by the server after its"
        f" header timeout, opened again). RSS {r['rss_mb_before']:.0f} → {r['rss_mb_after']:.0f} MB"
        f" (**{r['rss_growth']:+.1%}**)."
    ]


def latency(r: dict[str, Any]) -> list[str]:
    rounds = len(next(iter(r.values()))["p50_ms"]["runs"])
    requests = next(iter(r.values()))["requests_per_round"]
    lines = [
        f"| sequential, one keep-alive connection, {requests:,} requests × {rounds}, dev"
        " | p50 ms | spread | p95 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for name, q in r.items():
        lines.append(
            f"| {name} | {_m(q['p50_ms']):.2f} | {q['p50_ms']['spread']:.2f} |"
            f" {_m(q['p95_ms']):.2f} | {_m(q['p99_ms']):.2f} |"
        )
    return lines


def paths(r: dict[str, Any]) -> list[str]:
    return [
        "`learningPath` over HTTP vs `nx.shortest_path` in process on the same 500 pairs:"
        f" p50 {_m(r['server_http_p50_ms']):.2f} ms vs {_m(r['networkx_p50_ms']):.4f} ms,"
        f" p95 {_m(r['server_http_p95_ms']):.2f} ms vs {_m(r['networkx_p95_ms']):.4f} ms"
        f" ({r['ratio_server_over_networkx_p50']:.1f}× at the median: HTTP, GraphQL and the"
        " explained steps cost what the search does not)."
    ]


def commands(r: dict[str, Any]) -> list[str]:
    lines = [
        "| command, dev corpus (a process each) | from the files s | from the snapshot s |"
        " same output |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `kgraph {name}` | {_pm(c['cold_s'])} | {_pm(c['warm_s'])} | {c['same_output']} |"
        for name, c in r.items()
    ]
    return lines


def processes(r: dict[str, Any]) -> list[str]:
    lines = [
        f"| `article`, wrk -t2 -c32 on the same {r['cpus']} CPUs, {r['duration_s']:g} s ×"
        f" {r['rounds']}, dev | req/s | p50 ms | p99 ms | errors | RSS MB | PSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in r["servers"].items():
        lines.append(
            f"| `{name}`{' (master + children)' if name.endswith('2') else ''} |"
            f" {_pm(row['requests_per_s'], 0)} | {_m(row['p50_ms']):.2f} |"
            f" {_m(row['p99_ms']):.2f} | {row['errors']} | {_m(row['rss_mb']):,.0f} |"
            f" {_m(row['pss_mb']):,.0f} |"
        )
    lines.append(
        f"| **2 / 1** | **{r['ratio_throughput_2_over_1']:.2f}×** | | | |"
        f" PSS of 2 / RSS of 1: **{r['ratio_pss_2_over_rss_1']:.2f}×** | |"
    )
    return lines


def targets(r: dict[str, Any]) -> list[str]:
    """The issue's targets, each with what was measured and whether it holds."""
    lines = ["| figure | target | measured | |", "|---|---|---|---|"]
    if "ingest" in r:
        ratio = r["ingest"]["ratio_naive_over_kgraph"]
        same = r["ingest"]["identical_graph"]
        check = r["ingest"].get("ratios", {}).get("naive_over_check_cold", float("nan"))
        if (
            "ratios" not in r["ingest"]
        ):  # measured before issue 17, against kgraph's own YAML reader
            lines.append(
                f"| cold ingest vs kgraph's own YAML reader (old layout) | – | {ratio:.2f}× | |"
            )
        else:
            lines.append(
                f"| cold ingest vs naive plain reading (whole processes) | ≥ 5×, same graph |"
                f" {ratio:.2f}×, same: {same} | {_verdict(ratio >= 5 and same)} |"
            )
            lines.append(
                f"| `kgraph check --no-cache` vs naive plain reading | ≥ 3× | {check:.2f}× |"
                f" {_verdict(check >= 3)} |"
            )
    if "start" in r:
        dev = _m(r["start"]["dev"]["warm_ready_s"])
        big = r["start"].get("generated 200,000")
        big_ratio = big["ratio_warm_over_cold"] if big else float("nan")
        lines.append(
            f"| warm start, server ready | ≤ 1.5 s dev; ≤ 0.1× cold at 200k |"
            f" {dev:.2f} s; {big_ratio:.3f}× | {_verdict(dev <= 1.5)}; {_verdict(big_ratio <= 0.1)} |"
        )
        top = r["start"].get("generated 1,000,000")
        if top is not None:
            cold, warm = _m(top["cold_ready_s"]), _m(top["warm_ready_s"])
            lines.append(
                f"| 1M articles ready, cold and warm (issue 17) | ≤ 150 s; ≤ 20 s |"
                f" {cold:.0f} s; {warm:.1f} s | {_verdict(cold <= 150)}; {_verdict(warm <= 20)} |"
            )
    if "memory" in r:
        mem = r["memory"]
        dev_mb = _m(mem["dev"]["peak_rss_mb"])
        mid = mem.get("generated 200,000")
        top = mem.get("generated 1,000,000")
        mid_mb = _m(mid["peak_rss_mb"]) if mid else float("nan")
        top_mb = _m(top["peak_rss_mb"]) if top else float("nan")
        top_text = f"{top_mb:,.0f} MB" if top else "not run"
        lines.append(
            f"| peak RSS serving, every report asked (issue 17) | ≤ 250 MB dev; ≤ 1.0 GB at 200k;"
            f" ≤ 4 GB at 1M | {dev_mb:,.0f} MB; {mid_mb:,.0f} MB; {top_text} |"
            f" {_verdict(dev_mb <= 250)}; {_verdict(mid_mb <= 1000)}; {_verdict(top_mb <= 4000)} |"
        )
    if "curation" in r:
        dev = r["curation"].get("dev")
        big = next((v for k, v in r["curation"].items() if k != "dev"), None)
        if dev is not None and big is not None:
            worst_dev = max(_m(dev["first_fixes_ms"]), _m(dev["first_fixes_after_reload_ms"]))
            worst_big = max(_m(big["first_fixes_ms"]), _m(big["first_fixes_after_reload_ms"]))
            lines.append(
                f"| first `brokenLinks {{ fix }}` after ready and after a reload (issue 17) |"
                f" ≤ 300 ms dev; ≤ 2 s at 200k | {worst_dev:,.0f} ms; {worst_big:,.0f} ms |"
                f" {_verdict(worst_dev <= 300)}; {_verdict(worst_big <= 2000)} |"
            )
    if "latency" in r and "load" in r:
        p50 = _m(r["latency"]["article"]["p50_ms"])
        ratio = r["load"]["ratio_graphql_article_over_bare_throughput"]
        lines.append(
            f"| `article` over HTTP | p50 ≤ 3 ms; ≥ 0.5× the bare route's throughput |"
            f" {p50:.2f} ms; {ratio:.2f}× | {_verdict(p50 <= 3)}; {_verdict(ratio >= 0.5)} |"
        )
    if "latency" in r:
        n1 = _m(r["latency"]["neighbours depth 1"]["p50_ms"])
        lp = _m(r["latency"]["learningPath"]["p95_ms"])
        lines.append(
            f"| `neighbours` depth 1 / `learningPath` | p50 ≤ 5 ms / p95 ≤ 50 ms |"
            f" {n1:.2f} ms / {lp:.2f} ms | {_verdict(n1 <= 5 and lp <= 50)} |"
        )
    if "load" in r:
        article = r["load"]["queries"]["article"]
        rps = _m(article["requests_per_s"])
        lines.append(
            f"| throughput, 2 threads, 32 connections | ≥ 1,000 `article` req/s, 0 errors |"
            f" {rps:,.0f} req/s, {article['errors']} errors |"
            f" {_verdict(rps >= 1000 and article['errors'] == 0)} |"
        )
    if "hostile" in r:
        h = r["hostile"]
        p99 = h["article"]["p99_ms"]
        growth = h["rss_growth"]
        lines.append(
            f"| hostile soak: 32 clients, 300 idle sockets, 2 abandoned heavy queries |"
            f" 0 errors; `article` p99 ≤ 100 ms; RSS growth ≤ 10 % |"
            f" {h['errors']} errors; {p99:.1f} ms; {growth:+.1%} |"
            f" {_verdict(h['errors'] == 0)}; {_verdict(p99 <= 100)}; {_verdict(growth <= 0.10)} |"
        )
    if "processes" in r:
        p = r["processes"]
        speed, size = p["ratio_throughput_2_over_1"], p["ratio_pss_2_over_rss_1"]
        lines.append(
            f"| `--processes 2` vs 1 (issue 17) | ≥ 1.6× `article` throughput; PSS ≤ 1.4× one"
            f" RSS | {speed:.2f}×; {size:.2f}× | {_verdict(speed >= 1.6)}; {_verdict(size <= 1.4)} |"
        )
    if "commands" in r:
        warm = {name: _m(c["warm_s"]) for name, c in r["commands"].items()}
        same = all(c["same_output"] for c in r["commands"].values())
        measured = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in warm.items())
        lines.append(
            f"| `kgraph path`, `export`, `check` from a warm snapshot (issue 18) |"
            f" ≤ 2 s wall each; `check` as from the files | {measured}; same: {same} |"
            f" {_verdict(max(warm.values()) <= 2 and same)} |"
        )
    return lines


def curation(r: dict[str, Any]) -> list[str]:
    lines = [
        "| cold `kgraph serve`, then the curator's reports | ready s | first page of"
        " broken-link fixes ms | every report ms | peak MB | SIGHUP reload s |"
        " fixes after it ms | peak MB after it |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, c in r.items():
        lines.append(
            f"| {name} | {_pm(c['ready_s'], 1)} | {_pm(c['first_fixes_ms'], 0)} |"
            f" {_pm(c['every_report_ms'], 0)} | {_m(c['peak_rss_mb']):,.0f} |"
            f" {_pm(c['reload_s'], 1)} | {_pm(c['first_fixes_after_reload_ms'], 0)} |"
            f" {_m(c['peak_rss_after_reload_mb']):,.0f} |"
        )
    return lines


SECTIONS = {
    "ingest": ingest,
    "start": start,
    "memory": memory,
    "load": load,
    "soak": soak,
    "hostile": hostile,
    "latency": latency,
    "paths": paths,
    "commands": commands,
    "processes": processes,
    "curation": curation,
}


def report(results: dict[str, Any]) -> str:
    machine = results["machine"]
    measured = results.get("commits", {})
    commits = ", ".join(
        f"{name} at {measured.get(name, 'an earlier commit')}"
        for name in SECTIONS
        if name in results
    )
    blocks = [
        f"Machine: {machine['cpus']} cores, {machine['memory_gb']} GiB, Python"
        f" {machine['python']}, {machine['platform']}. Sections measured: {commits}."
    ]
    blocks += [
        "\n".join(render(results[name])) for name, render in SECTIONS.items() if name in results
    ]
    blocks.append(
        "Against the targets of the performance issue (dev corpus unless named):\n\n"
        + "\n".join(targets(results))
    )
    return "\n\n".join(blocks) + "\n"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results.json"
    sys.stdout.write(report(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
