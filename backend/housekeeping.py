"""Memory across jobs: what a warm backend keeps per image shape, bounded (issue 25).

Every new image size (and every tile shape of a full-resolution pass) makes new oneDNN work for
the VGG's convolutions and the Gram matrices' matmul (bf16 on a CPU).  Two caches keep it, keyed
by shape, up to 1024 entries each by default:
- oneDNN's primitive cache (ONEDNN_PRIMITIVE_CACHE_CAPACITY): the created primitives;
- ideep's cache of primitive descriptors (LRU_CACHE_CAPACITY), the one capping oneDNN's missed: a
  brgemm matmul's descriptor is big.
Measured with jemalloc's heap profiler over jobs 5-12 of the varying-size soak: of the 93 MB the
heap grew, 48 MB were oneDNN's primitive cache and 43 MB ideep's (34 MB of it the bmm's matmul
descriptors); nothing else grew by more than 1 MB.  Capped here to CACHE_CAPACITY each, enough for
a job's own shapes (a job re-uses its shapes every step), so the caches' memory stops growing.
What the jobs free is then returned to the system after each (malloc_trim): glibc keeps freed
chunks of many sizes in its arenas otherwise.  docs/benchmark.md, "Memory across jobs".
"""

import ctypes
import ctypes.util
import os
import sys
from typing import Dict, MutableMapping, Optional

CACHE_CAPACITY = 256
CACHE_ENV = {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": str(CACHE_CAPACITY), "LRU_CACHE_CAPACITY": str(CACHE_CAPACITY)}


_torch_first = False   # whether torch was already imported when configure() ran (then too late)


def configure(environ: Optional[MutableMapping[str, str]] = None) -> Dict[str, str]:
    """Set the caches' capacities, unless the person chose; call before torch is imported (both caches
    read them once).  Returns the values in effect."""
    global _torch_first
    if environ is None:
        environ, _torch_first = os.environ, "torch" in sys.modules
    for name, value in CACHE_ENV.items():
        environ.setdefault(name, value)
    return {name: environ[name] for name in CACHE_ENV}


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None   # not glibc: musl has none


_LIBC = _libc()


def trim() -> bool:
    """Give the heap's free pages back to the system (glibc's malloc_trim).  Whether any were given back;
    False where there is no malloc_trim (macOS, Windows and musl return freed memory their own way)."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))


def describe() -> str:
    """A line for the log: the caps in effect and whether the heap is trimmed after each job."""
    caps = ", ".join("%s=%s" % (name, os.environ.get(name, "default")) for name in CACHE_ENV)
    when = "set after torch was imported: too late" if _torch_first else "set before torch was imported"
    return "%s (%s); malloc_trim after each job: %s" % (caps, when, "yes" if _LIBC is not None else
                                                         "not on this system")
