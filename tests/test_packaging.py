"""The package as a user gets it: a wheel built from the checkout, installed outside it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import httpx
import pytest

from conftest import REPO, SEED_FILE, SEEDS, kgraph_server


@dataclass(frozen=True)
class Installed:
    """A wheel of kgraph and the fresh virtual environment it is installed in."""

    wheel: Path
    venv: Path
    outside: Path  # a working folder outside the checkout

    @property
    def kgraph(self) -> Path:
        return self.venv / "bin" / "kgraph"

    def run(self, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        """``kgraph ARGS`` of the installed package, from outside the checkout."""
        return subprocess.run(
            [self.kgraph, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            cwd=self.outside,
            env={**os.environ, **env},
        )


def _run(*command: str | Path, cwd: Path | None = None) -> None:
    result = subprocess.run(
        [*map(str, command)], capture_output=True, text=True, timeout=600, check=False, cwd=cwd
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the wheel from what the build needs of the checkout, install it into a new venv.

    The build runs offline with this environment's setuptools (a dev
    dependency). The new venv gets the wheel alone (``--no-deps --no-index``);
    kgraph's dependencies, which a user's pip would download, are this
    environment's installed ones, reached through a ``.pth`` line: no network at
    test time, and nothing of the checkout on the new venv's path.
    """
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    source.mkdir()
    # What the Dockerfile copies to build: the rest of the checkout is not needed.
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "kgraph", source / "kgraph", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(SEEDS, source / "seeds")
    wheels = work / "wheels"
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--quiet", "--wheel-dir", wheels, source,
    )  # fmt: skip
    (wheel,) = wheels.glob("kgraph-*.whl")

    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    venv_python = venv / "bin" / "python"
    purelib = subprocess.run(
        [venv_python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = sysconfig.get_paths()
    (Path(purelib) / "kgraph_test_dependencies.pth").write_text(
        "\n".join(sorted({ours["purelib"], ours["platlib"]})) + "\n", encoding="utf-8"
    )
    _run(
        sys.executable, "-m", "pip", "--python", venv_python, "install", "--no-deps",
        "--no-index", "--quiet", wheel,
    )  # fmt: skip
    outside = work / "elsewhere"
    outside.mkdir()
    return Installed(wheel, venv, outside)


def test_the_wheel_holds_the_package_its_data_and_its_license(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = Parser().parsestr(
            wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        )
        seed = wheel.read(f"kgraph/seeds/biology/{SEED_FILE.name}")
    modules = {p.relative_to(REPO).as_posix() for p in (REPO / "kgraph").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert {"kgraph/py.typed", "kgraph/web/index.html", "kgraph/seeds/README.md"} <= names
    # The front-end bundles `make web` builds (the explorer and GraphiQL use no CDN).
    bundles = {"explorer.js", "explorer.css", "graphiql.js", "graphiql.css"}
    assert {f"kgraph/web/dist/{name}" for name in bundles} <= names, sorted(names)
    assert "kgraph/web/dist/fonts/KaTeX_Main-Regular.woff2" in names
    # The explorer's chunks (Cytoscape.js, KaTeX), which its module imports when needed.
    chunks = {n.removeprefix("kgraph/web/dist/chunks/") for n in names if "/dist/chunks/" in n}
    assert {c.split("-")[0] for c in chunks if c.endswith(".js")} == {"drawing", "maths"}, chunks
    articles = {p.relative_to(SEEDS).as_posix() for p in SEEDS.rglob("*.md")} - {"README.md"}
    assert {n.removeprefix("kgraph/seeds/") for n in names if n.startswith("kgraph/seeds/")} == {
        *articles,
        "README.md",
    }
    assert seed == SEED_FILE.read_bytes()  # the seed article, byte for byte
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.11"
    requires = metadata.get_all("Requires-Dist") or []
    assert any(r.startswith("graphql-core") for r in requires), requires
    assert any(r.startswith("uvicorn[standard]") for r in requires), requires
    assert not any(r.startswith("uvloop") for r in requires), "uvloop through uvicorn[standard]"
    # Only the runtime comes without an extra: the dev tools are an extra.
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert len([r for r in requires if "extra ==" not in r]) == len(project["dependencies"])


def test_the_installed_package_is_not_the_checkout(installed: Installed) -> None:
    where = subprocess.run(
        [installed.venv / "bin" / "python", "-c", "import kgraph; print(kgraph.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=installed.outside,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed.venv), where
    version = installed.run("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("kgraph 0.")


def test_serve_with_no_corpus_serves_the_bundled_seeds(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KGRAPH_CORPUS", raising=False)
    with kgraph_server(command=[installed.kgraph], cwd=installed.outside) as server:
        ready = httpx.get(f"{server.base}/readyz", timeout=10)
        assert ready.status_code == 200
        assert (ready.json()["files"], ready.json()["articles"]) == (53, 52)
        # The front-end bundles come from the package too (no CDN, no checkout).
        for asset in (
            "dist/explorer.js",
            "dist/explorer.css",
            "dist/fonts/KaTeX_Main-Regular.woff2",
            "dist/graphiql.js",
        ):
            assert httpx.get(f"{server.base}/static/{asset}", timeout=10).status_code == 200
    assert str(installed.venv) in server.output  # "serving …/site-packages/kgraph/seeds"


def test_path_and_export_from_the_installed_package(
    installed: Installed, dev_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KGRAPH_CORPUS", raising=False)
    # The bundled seeds, with no corpus named; then the dev corpus through KGRAPH_CORPUS,
    # between two articles 13 links apart there (168904 reaches no 168912 in dev):
    # three paths, though the first searches of a fresh process are slow.
    for pair, env in (
        (("168904", "168912"), {}),
        (("73461", "40880"), {"KGRAPH_CORPUS": str(dev_corpus)}),
    ):
        found = installed.run("path", *pair, "--k", "3", "--format", "json", **env)
        assert found.returncode == 0, found.stderr
        report = json.loads(found.stdout)
        assert len(report["paths"]) == 3, report
        assert report["complete"] is True
        assert Path(report["corpus"]).is_relative_to(env.get("KGRAPH_CORPUS", installed.venv))
    text = installed.run("path", "168904", "168912", "--k", "3")
    assert [line for line in text.stdout.splitlines() if line.startswith("path ")] == [
        "path 1: 3 hops, cost 3, weakest step 0.53",
        "path 2: 4 hops, cost 4, weakest step 0.53",
        "path 3: 4 hops, cost 4, weakest step 0.54",
    ]
    exported = installed.run("export", "--format", "graphology", "--topic", "biology")
    assert exported.returncode == 0, exported.stderr
    graph = json.loads(exported.stdout)
    assert set(graph) == {"attributes", "options", "nodes", "edges"}
    assert len(graph["nodes"]) == 16
    assert all({"key", "attributes"} == set(node) for node in graph["nodes"])
