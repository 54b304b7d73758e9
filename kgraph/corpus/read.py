"""Find and read the article files of a corpus folder (the I/O side of ``corpus/``)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kgraph.corpus.fast import parse_article_fast
from kgraph.corpus.parse import MAX_FILE_BYTES, parse_article
from kgraph.errors import ArticleParseError, CorpusNotFound, EmptyCorpus
from kgraph.model import ArticleFile, Diagnostic

__all__ = ["CorpusReading", "Progress", "discover", "read_corpus", "read_file"]

#: Called as ``progress(files_done, files_total)`` while a corpus is read.
Progress = Callable[[int, int], None]

# Below this many files a process pool costs more than it saves.
_PARALLEL_FROM = 2_000
_CHUNK = 500
_START_METHOD = "spawn"


@dataclass(frozen=True, slots=True)
class CorpusReading:
    """What reading a corpus folder gave: every file, read or not."""

    root: str
    files: tuple[str, ...]
    articles: tuple[ArticleFile, ...]
    diagnostics: tuple[Diagnostic, ...]


def discover(root: str | os.PathLike[str]) -> tuple[str, ...]:
    """List the ``*.md`` files below ``root`` (recursively), relative and sorted.

    ``README.md`` files document a folder and are not articles. Paths use ``/``
    and are sorted as strings, the order that decides which copy of an article
    comes first.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.
    """
    base = Path(root)
    if not base.is_dir():
        raise CorpusNotFound(str(root))
    found: list[str] = []
    for folder, subfolders, names in os.walk(base):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        relative = Path(folder).relative_to(base)
        for name in names:
            if name.endswith(".md") and name.lower() != "readme.md" and not name.startswith("."):
                found.append((relative / name).as_posix())
    return tuple(sorted(found))


def read_file(root: str | os.PathLike[str], path: str) -> ArticleFile | Diagnostic:
    """Read and parse one file of the corpus; any failure becomes a diagnostic."""
    try:
        with open(Path(root, path), "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return Diagnostic(
                    path=path,
                    line=None,
                    message=f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit",
                )
            data = handle.read(MAX_FILE_BYTES + 1)
        # The line reader takes files shaped like the format (all of the real
        # corpus) in a seventh of the time; anything else goes to YAML.
        return parse_article_fast(data, path) or parse_article(data, path)
    except ArticleParseError as err:
        return Diagnostic(path=err.path, line=err.line, message=err.reason)
    except OSError as err:
        return Diagnostic(path=path, line=None, message=f"cannot read file: {err.strerror or err}")


def _read_chunk(root: str, paths: Sequence[str]) -> list[ArticleFile | Diagnostic]:
    return [read_file(root, path) for path in paths]


def _read_all(
    root: str, paths: Sequence[str], workers: int | None
) -> Iterable[list[ArticleFile | Diagnostic]]:
    if workers is None:
        workers = (os.cpu_count() or 1) if len(paths) >= _PARALLEL_FROM else 1
    # Several chunks per worker keep both busy to the end; a chunk is large
    # enough that sending it costs little next to reading it.
    size = max(1, min(_CHUNK, -(-len(paths) // (workers * 4))))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    if workers <= 1 or len(chunks) == 1:
        for chunk in chunks:
            yield _read_chunk(root, chunk)
        return
    # spawn, not fork: a server loads its corpus from a thread, and forking
    # a threaded process can copy a held lock into the child.
    context = multiprocessing.get_context(_START_METHOD)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        yield from pool.map(_read_chunk, [root] * len(chunks), chunks)


def read_corpus(
    root: str | os.PathLike[str],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> CorpusReading:
    """Read every article file below ``root``.

    A file that cannot be read becomes a :class:`~kgraph.model.Diagnostic`;
    all the others still load. Files are read in parallel processes when
    there are many of them.

    Parameters
    ----------
    root : path
        The corpus folder.
    workers : int, optional
        Processes to read with; by default one per CPU for large corpora and
        none (this process) for small ones.
    progress : callable, optional
        Called with ``(files_done, files_total)`` after each batch of files.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.
    EmptyCorpus
        When it holds no ``*.md`` file.
    """
    paths = discover(root)
    if not paths:
        raise EmptyCorpus(str(root))
    folder = os.fspath(root)
    articles: list[ArticleFile] = []
    diagnostics: list[Diagnostic] = []
    done = 0
    for results in _read_all(folder, paths, workers):
        for result in results:
            if isinstance(result, Diagnostic):
                diagnostics.append(result)
            else:
                articles.append(result)
        done += len(results)
        if progress is not None:
            progress(done, len(paths))
    return CorpusReading(
        root=folder, files=paths, articles=tuple(articles), diagnostics=tuple(diagnostics)
    )
