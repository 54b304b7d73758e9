"""Settings of a kgraph server, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_CORPUS", "Settings"]

#: The demo corpus bundled at the top of the repository.
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True, slots=True)
class Settings:
    """How to serve: which corpus, where to listen."""

    corpus: Path = DEFAULT_CORPUS
    host: str = "127.0.0.1"
    port: int = 8000
    ide: bool = True  # GraphiQL when a browser opens /graphql
    workers: int | None = None  # processes reading the corpus; None: one per CPU
    cache: bool = True  # warm start from a snapshot of the graph while the corpus is unchanged
    cache_dir: Path | None = (
        None  # None: $KGRAPH_CACHE_DIR, $XDG_CACHE_HOME/kgraph, ~/.cache/kgraph
    )
