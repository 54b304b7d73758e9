"""The one loader: a corpus folder listed once, its graph from a snapshot or its files, prepared.

The server's first load, its reloads and every command load through
:func:`load_corpus`::

    list_corpus ─┬─ fingerprint ── load_snapshot ─────────────┬─ prepare ── Loaded
                 └──────────────── load_graph (cold start) ───┘               │
                                                                   Loaded.save: save_snapshot

The folder is walked once per load (a walk of the full corpus's folders
costs as much as stat-ing its files): the listing is fingerprinted and, when
no snapshot of it can be trusted, read. What is read is therefore exactly
what the fingerprint describes. (A snapshot is unpickled while the files
are stat-ed, and trusted once their stats agree.) A warm start of a corpus
that had 20,000 files or more has a child process list and stat it while the
snapshot is unpickled (:class:`~kgraph.corpus.fingerprint.FingerprintElsewhere`):
the load lists nothing itself, unless the snapshot proves stale; then it lists
the folder for the cold load, a second walk. Writing the snapshot is the caller's last
step (:meth:`Loaded.save`): the server writes it once serving, a command once
it has answered. :func:`kgraph.graph.load_graph` remains the plain read and
build (no snapshot, nothing prepared) for scripts and tests.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kgraph.corpus import CorpusListing, CorpusReading, Progress, list_corpus
from kgraph.corpus.fingerprint import FingerprintElsewhere, Fingerprinting
from kgraph.corpus.read import Cancelled
from kgraph.graph.build import collector_paused, load_graph
from kgraph.graph.knowledge import KnowledgeGraph, LazyIndex
from kgraph.graph.snapshot import load_snapshot, save_snapshot
from kgraph.model import Article
from kgraph.snapshot_files import fingerprint_ahead

if TYPE_CHECKING:  # imported when used: numpy and scipy (see prepare)
    from kgraph.graph.search import SearchElsewhere

__all__ = ["Loaded", "load_corpus", "prepare"]

logger = logging.getLogger(__name__)


def prepare(
    kg: KnowledgeGraph,
    cancelled: Cancelled | None = None,
    searching: SearchElsewhere | None = None,
) -> None:
    """Build the curation report and the indexes and models that queries share.

    What the first queries of a graph would otherwise wait for: the index of
    search, the indexes of broken links' suggestions (the first report took 8 s
    on dev without), the relatedness model of ``similar`` and the bridges of
    learning paths (0.6 s on dev, for every ``kgraph path`` that started from a
    snapshot without them), and the keyword index, which the load leaves to
    its first use (the words of titles, questions and keywords are search's).
    Kept in the snapshot, so a warm start finds them.
    Every wanted article's suggestions are not here: worked out all at once
    they are still seconds (3 s of CPU on dev, 90 s at 200,000 articles, most of
    an hour at a million), which a server spends once it is serving and its
    snapshot is written (:meth:`Loaded.save`); those of the reports' first pages
    are worked out here.

    A large graph's search index, bridges and keyword index are built in
    another process (:class:`~kgraph.graph.search.SearchElsewhere`) while this
    one builds the curation report, which needs none of them; what follows
    takes each as it is handed over. ``searching``: that process, started by
    the load already; else it is started here (when the graph has no index
    yet). ``cancelled`` is asked while waiting for it.

    Raises
    ------
    LoadCancelled
        When ``cancelled`` said so.
    """
    # Imported here: numpy and scipy are a quarter of a second of a cold
    # process's start, and a load needs neither (nor does `kgraph check`'s
    # text report before the suggestions it shows).
    from kgraph.graph.bridges import prepare_bridges
    from kgraph.graph.curation import curation_report, prepare_suggestions, suggest_first_pages
    from kgraph.graph.relatedness import prepare_relatedness
    from kgraph.graph.search import indexed, search_elsewhere

    steps: list[tuple[str, Callable[[KnowledgeGraph], object]]] = [
        ("curation report", curation_report)
    ]
    with ExitStack() as stack:
        stack.enter_context(collector_paused())
        if searching is None:
            searching = stack.enter_context(search_elsewhere(kg.articles, process=not indexed(kg)))
        waiting = searching
        steps += [
            ("search index", lambda kg: waiting.wait(kg, cancelled)),
            ("suggestions' indexes", prepare_suggestions),
            ("relatedness model", prepare_relatedness),
            ("first pages' suggestions", suggest_first_pages),
            ("bridges", lambda kg: prepare_bridges(kg, lambda: waiting.bridges(kg, cancelled))),
            # Last: none of the above reads it, and their work arrays (search's
            # index the largest) then come and go before its 15 MB at 200,000
            # generated articles are held, not on top.
            ("keyword index", lambda kg: _keyword_index(kg, waiting, cancelled)),
        ]
        for name, step in steps:
            started = time.perf_counter()
            step(kg)
            logger.debug("prepared: %s in %.2f s", name, time.perf_counter() - started)


def _keyword_index(
    kg: KnowledgeGraph, searching: SearchElsewhere, cancelled: Cancelled | None
) -> None:
    """Build ``kg``'s keyword index: made by the process that built search's index, if any."""
    if isinstance(kg.by_keyword, LazyIndex):
        kg.by_keyword.build_with(lambda: searching.keywords(kg, cancelled))
    else:  # a graph made by hand: its own index
        searching.close()
        len(kg.by_keyword)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A graph as :func:`load_corpus` loaded it, and what its snapshot needs."""

    graph: KnowledgeGraph
    root: str | os.PathLike[str]
    #: Read from a snapshot (a warm start) rather than from the files.
    warm: bool
    #: The fingerprint of the corpus as listed for this load; ``None`` with snapshots off.
    fingerprint: str | None
    cache_dir: str | os.PathLike[str] | None = None
    #: Search's index being built in another process since the articles were known
    #: (``load_corpus(searched=True)``), until :meth:`searched` takes it.
    searching: SearchElsewhere | None = field(default=None, compare=False)

    def searched(self, cancelled: Cancelled | None = None) -> None:
        """Give the graph the search index the load started building, once it is built.

        For a command about to ask what needs it (the suggestions of wanted
        articles, bridges): it was built meanwhile, rather than then, in this
        process. The process stays until :meth:`close`, or until both the
        keyword index (taken on its first use) and the bridges (which
        :meth:`save` prepares) came from it too.
        """
        from kgraph.graph.search import indexed

        if self.searching is not None and not indexed(self.graph):
            self.searching.wait(self.graph, cancelled)

    def close(self) -> None:
        """End the process building search's index, if any (and remove its folder)."""
        if self.searching is not None:
            self.searching.close()

    @property
    def unsaved(self) -> bool:
        """Whether the graph's snapshot is due: read from the files with snapshots on, or
        from a snapshot written before every wanted article's suggestions were (see
        :meth:`save`)."""
        from kgraph.graph.curation import every_wanted_suggested

        if self.fingerprint is None:
            return False
        return not self.warm or not every_wanted_suggested(self.graph)

    def save(self, *, early: bool = False) -> Path | None:
        """Write the graph's snapshot, prepared first, under the fingerprint of its listing.

        Prepared, and every wanted article's suggestions worked out: a warm
        start has them all. ``early``: the prepared graph's snapshot is written
        before those suggestions too (they take seconds on dev, 90 s at 200,000
        articles, most of an hour at a million, while the graph is written in
        seconds), then again with them: a server's next start is warm meanwhile,
        and one that starts from the early snapshot works them out and writes
        it again. The fingerprint taken before the files were read: a file
        changed since leaves a snapshot that the next start finds stale, never
        a wrong one. Returns its path; ``None`` with snapshots off or when it
        could not be written (never raises on I/O, see :func:`save_snapshot`).
        """
        from kgraph.graph.curation import suggest_every_wanted

        if self.fingerprint is None:
            return None
        prepare(self.graph, searching=self.searching)
        written: Path | None = None
        if early and not self.warm:
            written = save_snapshot(
                self.graph, self.root, fingerprint=self.fingerprint, cache_dir=self.cache_dir
            )
        if suggest_every_wanted(self.graph) or written is None:
            written = save_snapshot(
                self.graph, self.root, fingerprint=self.fingerprint, cache_dir=self.cache_dir
            )
        return written


def load_corpus(
    root: str | os.PathLike[str],
    *,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    warm: bool = True,
    prepared: bool = True,
    workers: int | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    listing: CorpusListing | None = None,
    fingerprinting: FingerprintElsewhere | None = None,
    searched: bool = False,
) -> Loaded:
    """Load the graph of the corpus folder ``root``, listing the folder once (see above).

    Parameters
    ----------
    cache : bool
        Use graph snapshots: fingerprint the corpus, read its snapshot when
        ``warm`` and one matches, and leave the snapshot due otherwise
        (:meth:`Loaded.save`). Off: the files are read, nothing is fingerprinted.
    cache_dir : path, optional
        The folder of snapshots (see :func:`kgraph.graph.snapshot.snapshot_path`).
    warm : bool
        Whether a snapshot may be read; a reload reads the files it was asked to.
    prepared : bool
        :func:`prepare` the graph before returning it; a command leaves it to
        :meth:`Loaded.save`, after its answer.
    workers, progress, cancelled
        As :func:`kgraph.corpus.read_corpus` takes them.
    listing : CorpusListing, optional
        ``root`` listed already: it is not listed again.
    fingerprinting : FingerprintElsewhere, optional
        The fingerprint of ``root`` being taken already, by a child process
        (:func:`kgraph.snapshot_files.fingerprint_ahead`: ``kgraph serve``
        starts it before its imports), for a warm load; closed here. Without
        it, a warm load of a corpus that had 20,000 files or more starts one.
    searched : bool
        Not ``prepared``, but the answer will need search's index (a command's
        suggestions): from the files, it is built in another process from when
        the articles are known, as a prepared load builds it, and handed over
        (:meth:`Loaded.searched`; the caller closes the ``Loaded``). The keyword
        index is made there next and taken on its first use: for a command,
        which asks from one thread.

    Raises
    ------
    CorpusNotFound, EmptyCorpus, LoadCancelled
        As :func:`kgraph.corpus.read_corpus`.

    Examples
    --------
    >>> loaded = load_corpus("seeds", cache=False)
    >>> len(loaded.graph.articles), loaded.warm, loaded.fingerprint
    (52, False, None)
    """
    started = time.perf_counter()
    kg: KnowledgeGraph | None = None
    print_: str | None = None
    taking: Fingerprinting | None = None
    tried = False
    if cache and warm and listing is None and fingerprinting is None:
        # A large corpus with a snapshot: listed and stat-ed by a child process
        # while this one unpickles the snapshot, rather than listed first.
        fingerprinting = fingerprint_ahead(root, cache_dir)
    if fingerprinting is not None:
        with fingerprinting:
            if cache and warm:
                tried = True
                kg = load_snapshot(root, cache_dir, fingerprint=fingerprinting)
                if kg is not None:
                    print_ = fingerprinting.result()
    if kg is None:
        if listing is None:
            listing = list_corpus(root)
        if cache:
            # The files are stat-ed while the snapshot is read (a child process
            # stats them, past 20,000 files). A cold load does not wait for that:
            # its reading stats each file as it opens it, before reading it
            # (Fingerprinting.read), unless the listing refused files, which it
            # does not open: then the load waits for the stats, so that what it
            # reads is never newer than what they describe.
            # No child to stat the files unless a snapshot is to be judged by them.
            judging = warm and not tried
            with Fingerprinting(root, listing=listing, elsewhere=judging) as taking:
                if judging:
                    kg = load_snapshot(root, cache_dir, fingerprint=taking)
                if kg is not None or taking.taken or listing.refused:
                    print_ = taking.result()
    from_snapshot = kg is not None

    def read(reading: CorpusReading) -> None:
        nonlocal print_
        if print_ is None and taking is not None and reading.facts is not None:
            print_ = taking.read(reading.facts)

    with ExitStack() as stack:
        # A cold load to be prepared starts search's index in another process
        # as soon as the articles are known (see prepare).
        searching: list[SearchElsewhere] = []

        def articles_ready(articles: Mapping[int, Article]) -> None:
            from kgraph.graph.search import search_elsewhere

            # A command's answer weighs shared keywords and finds no bridges.
            searching.append(
                stack.enter_context(search_elsewhere(articles, keywords_first=not prepared))
            )

        if kg is None:
            kg = load_graph(
                root,
                workers=workers,
                progress=progress,
                cancelled=cancelled,
                listing=listing,
                articles_ready=articles_ready if prepared or searched else None,
                read=read,
            )
        # Listing and fingerprint included: what the load cost, warm or cold.
        kg = replace(kg, load_seconds=time.perf_counter() - started)
        if from_snapshot:
            logger.info("graph of %s loaded from its snapshot in %.2fs", root, kg.load_seconds)
        if prepared:
            prepare(kg, cancelled, searching[0] if searching else None)
        handed = searching[0] if searching and not prepared else None
        if handed is not None:
            stack.pop_all()  # left running: the Loaded's, until it is closed
            if isinstance(kg.by_keyword, LazyIndex):  # made there, if asked for
                built = kg
                kg.by_keyword.built_first_from(lambda: handed.keywords(built, cancelled))
    return Loaded(
        graph=kg,
        root=root,
        warm=from_snapshot,
        fingerprint=print_,
        cache_dir=cache_dir,
        searching=handed,
    )
