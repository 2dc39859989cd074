"""Memory across jobs (backend/housekeeping.py): the per-shape caches' caps reach the backend before torch
does and bound what new shapes keep; malloc_trim gives a job's freed heap back."""

import subprocess
import sys
import textwrap

import pytest

from backend import housekeeping
from helpers import REPO, child_env, venv_python
from krita_nst.core import backends, wire

LINUX = sys.platform.startswith("linux")


def test_configure_caps_the_caches_unless_the_person_chose():
    environ = {"LRU_CACHE_CAPACITY": "64"}
    assert housekeeping.configure(environ) == {"ONEDNN_PRIMITIVE_CACHE_CAPACITY": "256", "LRU_CACHE_CAPACITY": "64"}
    assert environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == str(housekeeping.CACHE_CAPACITY)


def test_the_served_backend_has_the_caps_before_torch():
    """`python -m backend serve`, started as the plugin starts it, from an environment without the knobs."""
    env = child_env()
    for name in housekeeping.CACHE_ENV:
        env.pop(name, None)
    argv = list(backends.local(venv_python(), REPO).argv)
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        hello = wire.read_message(proc.stdout, "the backend's stdout")
        assert hello is not None and hello.type == wire.HELLO
    finally:
        proc.stdin.close()
        log = proc.stderr.read().decode()
        proc.wait(timeout=30)
    line = next(line for line in log.splitlines() if "memory across jobs" in line)
    assert "ONEDNN_PRIMITIVE_CACHE_CAPACITY=256, LRU_CACHE_CAPACITY=256 (set before torch was imported)" in line
    assert ("malloc_trim after each job: yes" in line) == LINUX


GROWTH = """
import ctypes, sys
sys.path.insert(0, %r)
if sys.argv[1] == "capped":
    from backend import housekeeping
    housekeeping.configure()
import torch
libc = ctypes.CDLL("libc.so.6")
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t)
                for n in "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc.mallinfo2.restype = Info
def used():
    return libc.mallinfo2().uordblks / 2 ** 20
def grams(first, count):   # a Gram matrix's bmm (bf16 on the CPU: oneDNN's matmul), one new shape each
    for n in range(first, first + count):
        f = torch.rand(1, 64, n)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.bmm(f, f.transpose(1, 2))
grams(100, 300)
before = used()
grams(400, 400)
print(used() - before)
"""


@pytest.mark.skipif(not LINUX, reason="mallinfo2 is glibc's")
def test_the_caps_bound_what_new_shapes_keep():
    """Past the cap, 400 more shapes keep nothing more; without it, ~0.5 MB each (ideep's and oneDNN's caches)."""
    env = child_env()
    for name in housekeeping.CACHE_ENV:
        env.pop(name, None)

    def growth(mode):
        out = subprocess.run([venv_python(), "-c", textwrap.dedent(GROWTH % REPO), mode], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=600, check=True)
        return float(out.stdout.split()[-1])
    capped, uncapped = growth("capped"), growth("default")
    assert uncapped > 100, "the default caches no longer keep per shape: %.0f MiB" % uncapped
    assert capped < 20, "capped, 400 new shapes kept %.0f MiB (uncapped %.0f)" % (capped, uncapped)


TRIM = """
import ctypes, sys
sys.path.insert(0, %r)
from backend import housekeeping
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024
chunks = [libc.malloc(64 * 1024) for _ in range(3200)]   # 200 MiB below the mmap threshold: the heap
for c in chunks:
    ctypes.memset(c, 1, 64 * 1024)
pin = libc.malloc(64)            # above them: free() alone cannot shrink the heap
for c in chunks:
    libc.free(c)
held = rss()
gave = housekeeping.trim()
print(held - rss(), gave)
"""


@pytest.mark.skipif(not LINUX, reason="malloc_trim is glibc's")
def test_trim_gives_freed_heap_back():
    out = subprocess.run([venv_python(), "-c", textwrap.dedent(TRIM % REPO)], capture_output=True, text=True,
                         timeout=120, check=True, env=child_env(), cwd=REPO)
    returned, gave = out.stdout.split()
    assert float(returned) > 150, "trim returned only %s MiB of 200 freed" % returned
    assert gave == "True"


def test_trim_is_harmless_without_glibc(monkeypatch):
    monkeypatch.setattr(housekeeping, "_LIBC", None)
    assert housekeeping.trim() is False
    assert "not on this system" in housekeeping.describe()
