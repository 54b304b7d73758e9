"""README's commands run as written, and docs/corpus.md gives the figures the tests check."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REFERENCE, REPO, SEED_ALONE, SEEDS

README = REPO / "README.md"


def shell_lines(markdown: str) -> list[str]:
    """The lines of the ```sh blocks, comments and blank lines left out."""
    lines = []
    for block in re.findall(r"^```sh\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL):
        lines += [
            line.strip()
            for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
    return lines


def test_readme_calls_kgraph_where_make_puts_it() -> None:
    # `make run` and `make test` put kgraph in .venv/bin, not on PATH.
    bare = [
        line
        for line in shell_lines(README.read_text(encoding="utf-8"))
        if line.startswith("kgraph ")
    ]
    assert bare == []


def test_readme_kgraph_commands_run_as_written(tmp_path: Path) -> None:
    """Each `.venv/bin/kgraph …` line, in a shell, from a folder with .venv and a corpus.

    ``DIR`` stands for a corpus folder: here ``content/``, a copy of the seeds.
    """
    commands = [
        line.replace(" DIR", " content/")
        for line in shell_lines(README.read_text(encoding="utf-8"))
        if line.startswith(".venv/bin/kgraph ")
    ]
    assert len(commands) >= 8, commands
    (tmp_path / ".venv").symlink_to(Path(sys.prefix))
    if not (tmp_path / ".venv" / "bin" / "kgraph").exists():
        pytest.fail(f"no kgraph in {sys.prefix}/bin: run the tests from make's .venv")
    shutil.copytree(SEEDS, tmp_path / "content")
    for command in commands:
        result = subprocess.run(
            ["bash", "-c", command],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
        # 1 only where --fail-on finds what it names (the seeds plant every finding).
        assert result.returncode == (1 if "--fail-on parse-errors,broken" in command else 0), (
            command,
            result.stderr,
        )
        assert "error" not in result.stderr, (command, result.stderr)
    assert (tmp_path / "biology.graphml").stat().st_size > 0
    assert (tmp_path / "check-baseline.json").stat().st_size > 0


def _table(markdown: str, column: int) -> dict[str, int]:
    """A figure → value mapping from the Markdown table rows of ``markdown``."""
    figures = {}
    for row in re.findall(r"^\| ([a-z][a-z ()+0-9-]*?) \|(.*)\|$", markdown, re.MULTILINE):
        cells = [cell.strip() for cell in row[1].split("|")]
        if len(cells) > column and re.fullmatch(r"[0-9,]+", cells[column]):
            figures[row[0]] = int(cells[column].replace(",", ""))
    return figures


def test_docs_corpus_gives_the_reference_figures() -> None:
    text = (REPO / "docs" / "corpus.md").read_text(encoding="utf-8")
    names = {key: key.replace("_", " ") for key in REFERENCE}
    names["duplicate_articles"] = "duplicate articles (ids in 2+ files)"
    names["references"] = "references (related entries)"
    names["links"] = "links (edges)"
    names["max_in_degree"] = "highest in-degree"
    for column, reference in ((0, REFERENCE), (1, SEED_ALONE)):
        table = _table(text, column)
        assert {key: table[names[key]] for key in reference} == reference
    for readme in (README, SEEDS / "README.md"):
        assert "](docs/corpus.md)" in readme.read_text(encoding="utf-8") or (
            "](../docs/corpus.md)" in readme.read_text(encoding="utf-8")
        ), readme
        assert "CORPUS.md" not in readme.read_text(encoding="utf-8"), (
            readme
        )  # not in the repository
