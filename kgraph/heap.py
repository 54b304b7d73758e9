"""How the C heap gives freed memory back: large blocks always mapped on their own,
one heap for every thread (glibc).

Every large buffer kgraph allocates (numpy and scipy arrays while indexes and
models are built, a load's pickled chunks) is freed once the result is made.
glibc maps a block of 128 kB or more on its own and unmaps it when freed, but
by default it raises that threshold to the size of the largest block freed
so far (up to 32 MB): after the first large array of a load is freed, the
next ones come from the ordinary heap, whose free space sits between live
objects and is not returned. On the dev corpus that kept 57 MB of freed
memory in a serving process (peak 285 MB with every report asked, 242 MB
with the threshold fixed); its effect grows with the corpus.

:func:`tune_heap` fixes the threshold at glibc's default through
``mallopt(3)``, the C library's documented call for it (the same as starting
the process with ``MALLOC_MMAP_THRESHOLD_=131072``). Elsewhere (musl, macOS)
it does nothing. The price: an array of 128 kB or more that a request makes
(search's scores past ~30,000 articles) is mapped and unmapped each time
rather than taken from the heap, a few page faults per request.

It also keeps every thread on the one heap (``M_ARENA_MAX`` 1, as
``MALLOC_ARENA_MAX=1``). A server loads in a thread of its own and answers in
others; glibc gives threads heaps (arenas) of their own, each with its own
free space between live blocks: at 200,000 generated articles a serving
process peaked 15 MB higher with them (1,007 MB against 992). Python takes
the heap's lock while it holds the interpreter anyway; numpy's large arrays
are mapped on their own. Processes
started by spawning (readers when the loader runs threads, the
overlapping-fields worker) keep glibc's default: they are small or short.
"""

from __future__ import annotations

import ctypes
import logging
import platform

__all__ = ["MMAP_THRESHOLD", "tune_heap"]

logger = logging.getLogger(__name__)

#: Blocks of this many bytes or more are mapped on their own (glibc's default).
MMAP_THRESHOLD = 128 * 1024
# mallopt's parameter numbers (malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_heap() -> bool:
    """Fix the C heap's mapping threshold at :data:`MMAP_THRESHOLD`, and its arenas at one;
    whether it could be.

    Called once, as a process starts (before its large allocations): the
    command line does it first thing. Harmless to call again.
    """
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        # The process's own symbols, glibc's among them (ctypes.util.find_library
        # would run ldconfig in a subprocess at every start).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = int(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) == 1
    done = int(mallopt(_M_ARENA_MAX, 1)) == 1 and done
    if not done:
        logger.debug("mallopt refused; the C heap keeps some of its defaults")
    return done
