"""The C heap gives large freed blocks back to the system once tuned (glibc, Linux)."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# After one large block is freed (a load's first big array), blocks of 256 kB
# are allocated and freed under a small live one: how much memory the process
# keeps of them, in MB.
_KEPT = """
import sys
from kgraph.heap import tune_heap
if sys.argv[1] == "tuned":
    assert tune_heap()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
big = bytearray(8 << 20)
del big
before = rss()
blocks = [bytearray(256 << 10) for _ in range(200)]
pin = bytearray(64 << 10)
del blocks
print(rss() - before)
"""


def _kept(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _KEPT, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the threshold is glibc's (kgraph's image and CI run on glibc Linux)",
)
def test_freed_large_blocks_go_back_to_the_system_once_tuned() -> None:
    # Untuned, glibc raises its threshold to the 8 MB block freed first and the
    # 50 MB of smaller blocks stay with the process when freed.
    assert _kept("plain") >= 40
    assert _kept("tuned") <= 5


# A thread allocates while the main thread holds a block: glibc's statistics
# (malloc_stats, on standard error) list the heaps (arenas) in use.
_ARENAS = """
import ctypes, sys, threading
from kgraph.heap import tune_heap
if sys.argv[1] == "tuned":
    assert tune_heap()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
held = libc.malloc(1000)
def work():
    global other
    other = libc.malloc(1000)
thread = threading.Thread(target=work)
thread.start()
thread.join()
libc.malloc_stats()
"""


def _arenas(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _ARENAS, mode], capture_output=True, text=True, check=True
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="arenas are glibc's (kgraph's image and CI run on glibc Linux)",
)
def test_threads_share_the_one_heap_once_tuned() -> None:
    # Untuned, the thread's allocation opens a second arena.
    assert _arenas("plain") >= 2
    assert _arenas("tuned") == 1
