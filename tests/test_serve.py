"""``kgraph serve`` for real: settings from the environment, metrics, logs, CORS, production."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

import kgraph
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
        # Labelled by the root field the operation asks for, not by the client's name.
        assert metric(text, "kgraph_requests_total", operation="article", status="200") == 4
        assert metric(text, "kgraph_request_duration_seconds_count", operation="article") == 4
        assert metric(text, "kgraph_graphql_errors_total", operation="article") == 1
        assert metric(text, "kgraph_requests_total", operation="/healthz", status="200") == 1
        assert metric(text, "kgraph_graph_articles") == 52
        assert metric(text, "kgraph_graph_links") == 113
        assert metric(text, "kgraph_graph_version") == 1
        assert metric(text, "kgraph_graph_last_load_success") == 1
        assert metric(text, "kgraph_graph_loads_total", result="success") == 1
        assert metric(text, "kgraph_graph_last_load_seconds") > 0
        assert metric(text, "process_resident_memory_bytes") > 0
        assert metric(text, "process_start_time_seconds") > 0
        assert metric(text, "kgraph_build_info", version=kgraph.__version__) == 1
        assert metric(text, "python_info") == 1


def test_clients_cannot_grow_the_metrics() -> None:
    with kgraph_server("--corpus", str(SEEDS)) as server:
        for n in range(30):
            server.graphql(f"query Name{n} {{ stats {{ files }} }}")
            httpx.post(f"{server.base}/graphql", json={"query": f"{{ nope{n} }}"})
        server.graphql("{ __schema { queryType { name } } }")
        server.graphql("{ stats { files } topics { key } }")
        text = httpx.get(f"{server.base}/metrics").text
    labels = {
        sample.labels["operation"]
        for family in text_string_to_metric_families(text)
        if family.name == "kgraph_requests"
        for sample in family.samples
    }
    assert labels - {"/readyz"} == {"stats", "invalid", "introspection", "several"}


def test_json_logs_have_one_line_per_request() -> None:
    with kgraph_server("--corpus", str(SEEDS), "--log-format", "json") as server:
        server.graphql("query ArticlePage { article(id: 168904) { title } }")
        server.graphql("query ArticlePage { article(id: 168904) { title } }")
    records = [json.loads(line) for line in server.lines if line.startswith("{")]
    access = [
        r for r in records if r["log.logger"] == "kgraph.access" and r["url.path"] == "/graphql"
    ]
    assert len(access) == 2
    assert {
        (
            r["graphql.operation.name"],
            r["kgraph.operation"],
            r["http.response.status_code"],
            r["http.request.method"],
        )
        for r in access
    } == {("ArticlePage", "article", 200, "POST")}
    assert all(r["event.duration"] > 0 and r["log.level"] == "info" for r in access)
    assert all(r["ecs.version"] and r["@timestamp"] for r in records)
    # Each request its own id; uvicorn's coloured copy of its messages left out.
    assert len({r["http.request.id"] for r in access}) == 2
    assert not any("color_message" in r for r in records)
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
        refused = httpx.options(
            f"{server.base}/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert refused.json()["errors"][0]["message"] == "Disallowed CORS origin"


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
            '{ a: article(url: "/etc/passwd") { articleId } b: article(url: "../../../../etc/passwd") { articleId }'
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


def test_every_answer_carries_its_request_id() -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    with kgraph_server("--corpus", str(SEEDS), "--log-format", "json") as server:
        given = httpx.get(f"{server.base}/healthz", headers={"x-request-id": "from-nginx-1"})
        traced = httpx.post(
            f"{server.base}/graphql",
            json={"query": "{ stats { files } }"},
            headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
        )
        forged = httpx.get(f"{server.base}/nowhere", headers={"x-request-id": "a b\tc"})
        made = httpx.get(f"{server.base}/readyz")
    assert given.headers["x-request-id"] == "from-nginx-1"
    assert traced.headers["x-request-id"] == trace
    assert len(forged.headers["x-request-id"]) == 32  # refused: one of the server's own
    assert made.headers["x-request-id"] != forged.headers["x-request-id"]
    records = [json.loads(line) for line in server.lines if line.startswith("{")]
    logged = {
        r["url.path"]: r["http.request.id"] for r in records if r["log.logger"] == "kgraph.access"
    }
    assert logged["/healthz"] == "from-nginx-1"
    assert logged["/graphql"] == trace
    assert logged["/readyz"] == made.headers["x-request-id"]

    with kgraph_server("--corpus", str(SEEDS)) as server:
        httpx.get(f"{server.base}/healthz", headers={"x-request-id": "from-nginx-2"})
    assert any(
        "GET /healthz 200" in line and line.rstrip().endswith("request_id=from-nginx-2")
        for line in server.lines
    ), server.output
