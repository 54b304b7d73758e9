"""Find and read the article files of a corpus folder (the I/O side of ``corpus/``)."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from kgraph.corpus.fast import parse_article_fast
from kgraph.corpus.parse import MAX_FILE_BYTES, parse_article
from kgraph.errors import ArticleParseError, CorpusNotFound, EmptyCorpus
from kgraph.model import ArticleFile, Diagnostic

__all__ = ["CorpusReading", "Progress", "discover", "read_corpus", "read_file"]

logger = logging.getLogger(__name__)

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
    comes first. A folder that cannot be listed is skipped;
    :func:`read_corpus` reports it.

    Raises
    ------
    CorpusNotFound
        When ``root`` is not a folder.
    """
    paths, _ = _discover(root)
    return paths


def _discover(root: str | os.PathLike[str]) -> tuple[tuple[str, ...], tuple[Diagnostic, ...]]:
    """The ``*.md`` files of :func:`discover`, and a diagnostic per folder it could not list."""
    base = Path(root)
    if not base.is_dir():
        raise CorpusNotFound(str(root))
    found: list[str] = []
    unlisted: list[Diagnostic] = []

    def cannot_list(err: OSError) -> None:
        # The folder's files are missing from the corpus: as much a failure to
        # read as a file that cannot be parsed, so never silent.
        path = Path(err.filename or base).relative_to(base).as_posix()
        unlisted.append(
            Diagnostic(path=path, line=None, message=f"cannot list folder: {err.strerror or err}")
        )

    top = os.fspath(base)
    for folder, subfolders, names in os.walk(top, onerror=cannot_list):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        # Plain string work per file (pathlib took half of a 200k-file listing).
        relative = os.path.relpath(folder, top)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        found.extend(
            prefix + name
            for name in names
            if name.endswith(".md") and name.lower() != "readme.md" and not name.startswith(".")
        )
    return tuple(sorted(found)), tuple(sorted(unlisted, key=lambda d: d.path))


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


def _bootstrapping() -> bool:
    """Tell whether this is a spawned child still importing its parent's main module."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _read_all(
    root: str, paths: Sequence[str], workers: int | None
) -> Iterable[list[ArticleFile | Diagnostic]]:
    if workers is None:
        workers = (os.cpu_count() or 1) if len(paths) >= _PARALLEL_FROM else 1
    # Several chunks per worker keep both busy to the end; a chunk is large
    # enough that sending it costs little next to reading it.
    size = max(1, min(_CHUNK, -(-len(paths) // (workers * 4))))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    done = 0
    if workers > 1 and len(chunks) > 1:
        try:
            # spawn, not fork: a server loads its corpus from a thread, and
            # forking a threaded process can copy a held lock into the child.
            context = multiprocessing.get_context(_START_METHOD)
            with ProcessPoolExecutor(
                max_workers=min(workers, len(chunks)), mp_context=context
            ) as pool:
                for results in pool.map(_read_chunk, [root] * len(chunks), chunks):
                    yield results
                    done += 1
        except RuntimeError as err:
            # A spawned child first re-imports the main module: in a script
            # without an ``if __name__ == "__main__":`` guard it loads the
            # corpus again, and multiprocessing refuses it a pool of its own.
            # That child must not read on (the rest of the script would run in
            # it too): it dies, and its parent, seeing a broken pool, reads on
            # alone. ``_inheriting`` is how multiprocessing itself tells.
            if not isinstance(err, BrokenProcessPool) and _bootstrapping():
                raise
            logger.warning(
                "the process pool failed (%s: %s); reading the remaining %s files in this "
                "process (a script that loads a corpus needs an "
                '`if __name__ == "__main__":` guard to read in parallel)',
                type(err).__name__,
                " ".join(str(err).split()),
                f"{sum(map(len, chunks[done:])):,}",
            )
    for chunk in chunks[done:]:
        yield _read_chunk(root, chunk)


def read_corpus(
    root: str | os.PathLike[str],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> CorpusReading:
    """Read every article file below ``root``.

    A file that cannot be read, or a folder that cannot be listed, becomes a
    :class:`~kgraph.model.Diagnostic`; all the others still load. Files are
    read in parallel processes when there are many of them; when the process
    pool fails, the rest is read in this process (a warning is logged).

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
        When it holds no ``*.md`` file (and every folder could be listed).
    """
    paths, unlisted = _discover(root)
    if not paths and not unlisted:
        raise EmptyCorpus(str(root))
    folder = os.fspath(root)
    articles: list[ArticleFile] = []
    diagnostics: list[Diagnostic] = list(unlisted)
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
    # In path order, a folder's diagnostic before those of files inside it.
    diagnostics.sort(key=lambda d: d.path)
    return CorpusReading(
        root=folder, files=paths, articles=tuple(articles), diagnostics=tuple(diagnostics)
    )
