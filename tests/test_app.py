"""The HTTP app, end to end: a real ``kgraph serve`` process on a free port of 127.0.0.1."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from conftest import SEEDS
from kgraph.app import create_app
from kgraph.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kgraph", "serve", "--corpus", str(SEEDS), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "kgraph serve exited early"
            time.sleep(0.1)
        else:
            pytest.fail("kgraph serve did not become ready in 30 s")
        yield base
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=15)
        # uvicorn shuts down gracefully, then re-raises the signal it got.
        assert process.returncode in (0, -signal.SIGTERM), output
        assert "Application shutdown complete" in output
        assert "52 articles, 113 links, 0 parse errors" in output
        assert f"serving {SEEDS} on http://127.0.0.1:{port}/" in output


def test_healthz(server: str) -> None:
    response = httpx.get(f"{server}/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_has_the_counts(server: str) -> None:
    body = httpx.get(f"{server}/readyz").json()
    assert body["status"] == "ready"
    assert (body["files"], body["articles"], body["links"], body["parse_errors"]) == (
        53,
        52,
        113,
        0,
    )


def test_index_serves_the_summary(server: str) -> None:
    body = httpx.get(f"{server}/").json()
    assert body["summary"]["articles"] == 52
    assert body["corpus"] == str(SEEDS)


def test_readyz_is_503_while_loading_and_when_loading_fails(tmp_path: Path) -> None:
    corpus = tmp_path / "vanishing"
    corpus.mkdir()
    app = create_app(Settings(corpus=corpus))

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://kgraph") as client,
        ):
            first = await client.get("/readyz")
            assert first.status_code == 503
            assert first.json()["status"] in ("loading", "failed")
            with anyio.fail_after(10):
                while (response := await client.get("/readyz")).json()["status"] == "loading":
                    await anyio.sleep(0.02)
            assert response.status_code == 503
            assert response.json() == {
                "status": "failed",
                "error": f"no *.md article files in corpus folder: {corpus}",
            }
            assert (await client.get("/healthz")).status_code == 200

    anyio.run(scenario)
