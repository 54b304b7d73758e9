"""``kgraph serve`` for real: settings from the environment, metrics, logs, CORS, production."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO, SEEDS, free_port, kgraph_server


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text ``text``."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    raise AssertionError(f"no sample {name} {labels}")


def test_settings_come_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = {"KGRAPH_CORPUS": str(SEEDS), "KGRAPH_PORT": str(port), "KGRAPH_IDE": "false"}
    with kgraph_server(env=env, port=port) as server:
        assert server.base.endswith(f":{port}")
        assert server.graphql("{ stats { articles corpus } }")["stats"] == {
            "articles": 52,
            "corpus": str(SEEDS),
        }
        assert (
            httpx.get(f"{server.base}/graphql", headers={"accept": "text/html"}).status_code == 404
        )
        assert f"serving {SEEDS} on http://127.0.0.1:{port}/" in server.output


def test_metrics_show_the_requests_just_made() -> None:
    with kgraph_server("--corpus", str(SEEDS)) as server:
        for _ in range(3):
            server.graphql("query ArticlePage { article(id: 168904) { title } }")
        bad = httpx.post(
            f"{server.base}/graphql",
            json={"query": "query Broken { article(id: 168904) { nope } }"},
        )
        assert bad.status_code == 200
        assert bad.json()["errors"]
        httpx.get(f"{server.base}/healthz")
        response = httpx.get(f"{server.base}/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        assert metric(text, "kgraph_requests_total", operation="ArticlePage", status="200") == 3
        assert metric(text, "kgraph_request_duration_seconds_count", operation="ArticlePage") == 3
        assert metric(text, "kgraph_graphql_errors_total", operation="Broken") == 1
        assert metric(text, "kgraph_requests_total", operation="/healthz", status="200") == 1
        assert metric(text, "kgraph_graph_articles") == 52
        assert metric(text, "kgraph_graph_links") == 113
        assert metric(text, "kgraph_graph_version") == 1
        assert metric(text, "kgraph_graph_last_load_success") == 1
        assert metric(text, "kgraph_graph_loads_total", result="success") == 1
        assert metric(text, "kgraph_graph_last_load_seconds") > 0


def test_json_logs_have_one_line_per_request() -> None:
    with kgraph_server("--corpus", str(SEEDS), "--log-format", "json") as server:
        server.graphql("query ArticlePage { article(id: 168904) { title } }")
        server.graphql("query ArticlePage { article(id: 168904) { title } }")
    records = [json.loads(line) for line in server.lines if line.startswith("{")]
    access = [r for r in records if r["logger"] == "kgraph.access" and r["path"] == "/graphql"]
    assert len(access) == 2
    assert {(r["operation"], r["status"], r["method"]) for r in access} == {
        ("ArticlePage", 200, "POST")
    }
    assert all(r["duration_ms"] > 0 and r["level"] == "info" for r in access)
    # Every line but the startup banner is JSON, uvicorn's included.
    others = [line for line in server.lines if not line.startswith("{")]
    assert others == [line for line in others if line.startswith("kgraph ")], others


def test_cors_is_off_unless_origins_are_configured() -> None:
    origin = {"origin": "https://app.example"}
    with kgraph_server("--corpus", str(SEEDS)) as server:
        plain = httpx.post(
            f"{server.base}/graphql", json={"query": "{ stats { files } }"}, headers=origin
        )
        assert "access-control-allow-origin" not in plain.headers
    with kgraph_server("--corpus", str(SEEDS), "--cors-origins", "https://app.example") as server:
        allowed = httpx.post(
            f"{server.base}/graphql", json={"query": "{ stats { files } }"}, headers=origin
        )
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        preflight = httpx.options(
            f"{server.base}/graphql",
            headers={
                **origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        other = httpx.post(
            f"{server.base}/graphql",
            json={"query": "{ stats { files } }"},
            headers={"origin": "https://evil.example"},
        )
        assert "access-control-allow-origin" not in other.headers


def test_production_refuses_introspection_and_the_ide() -> None:
    introspect = {"query": "{ __schema { queryType { name } } }"}
    with kgraph_server("--corpus", str(SEEDS)) as server:
        assert httpx.post(f"{server.base}/graphql", json=introspect).json()["data"]
    with kgraph_server("--corpus", str(SEEDS), "--production") as server:
        refused = httpx.post(f"{server.base}/graphql", json=introspect).json()
        assert "introspection" in refused["errors"][0]["message"].lower()
        assert (
            httpx.get(f"{server.base}/graphql", headers={"accept": "text/html"}).status_code == 404
        )
        assert server.graphql("{ stats { articles } }") == {"stats": {"articles": 52}}


def test_no_argument_reaches_a_file_outside_the_corpus() -> None:
    with kgraph_server("--corpus", str(SEEDS)) as server:
        found = server.graphql(
            '{ a: article(url: "/etc/passwd") { id } b: article(url: "../../../../etc/passwd") { id }'
            ' topic(key: "../../etc") { key } articles(filter: {search: "/etc/passwd root"}) { totalCount } }'
        )
        assert found == {"a": None, "b": None, "topic": None, "articles": {"totalCount": 0}}
    # The only files the server reads are the corpus's, read by kgraph/corpus/ at load
    # time (and snapshots in its cache): no module that answers requests opens a file.
    for module in [*(REPO / "kgraph" / "api").glob("*.py"), REPO / "kgraph" / "app.py"]:
        tree = ast.parse(module.read_text())
        calls = {
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }
        assert not calls & {"open", "read_text", "read_bytes", "FileResponse"}, module


def test_odd_requests_get_a_4xx_and_are_still_counted() -> None:
    with kgraph_server("--corpus", str(SEEDS)) as server:
        # Closing brackets inside a string do not hide a deep value behind them.
        deep = (
            '{"query": "{ stats { files } }", "a": "'
            + "}" * 2000
            + '", "b": '
            + "[" * 3000
            + "]" * 3000
            + "}"
        )
        refused = httpx.post(
            f"{server.base}/graphql", content=deep, headers={"content-type": "application/json"}
        )
        assert refused.status_code == 400
        assert "over 32 deep" in refused.json()["errors"][0]["message"]
        long_get = httpx.get(
            f"{server.base}/graphql", params={"query": "{ stats { files } }", "x": "a" * 20_000}
        )
        assert long_get.status_code == 414
        odd_name = httpx.post(
            f"{server.base}/graphql", json={"query": "{ stats { files } }", "operationName": 5}
        )
        assert odd_name.status_code == 400
        text = httpx.get(f"{server.base}/metrics").text
        # The deep body and the numeric operation name: both answered 400, both counted.
        assert metric(text, "kgraph_requests_total", operation="/graphql", status="400") == 2
        assert metric(text, "kgraph_requests_total", operation="/graphql", status="414") == 1
    assert "Traceback" not in server.output
