"""backend/server.py: the backend as a real child process speaking the wire format over its stdin/stdout.

The handshake, jobs (previews, result, warm starts), cancel, EOF, memory, priority, pipes only and the
link timeout; bad jobs and broken streams are in test_server_faults.py."""

import os
import socket
import sys
import threading
import time

import pytest
import torch

from backend import images, server
from helpers import Backend, listening_inodes, proc_status_mib, sample, socket_inodes
from krita_nst.core import settings, wire
from krita_nst.core.version import VERSION

SMALL = {"size": 128, "steps": 30, "preview_every": 5, "resolution": "working"}


def job_images():
    content = images.load_file(sample("chelsea.png"))
    content = wire.Image(content.width, content.height, "RGBA8", content.data)
    style = images.load_file(sample("starry_night_google.jpg"))
    return content, [{"image": style, "weight": 1.0}]


def test_handshake(backend, runtime):
    """The hello carries what the plugin's client compares (krita_nst/client.py: version, protocol, settings
    schema) with this checkout's values, and what it shows (torch, device)."""
    hello = backend.read()
    assert hello.type == wire.HELLO
    assert hello["protocol"] == wire.PROTOCOL_VERSION
    assert hello["backend_version"] == VERSION
    assert hello["settings_schema"] == settings.fingerprint()
    assert hello["torch_version"] == torch.__version__
    assert hello["device"] == runtime.description


def test_job_streams_previews_then_a_full_size_result_and_stays_warm(backend):
    assert backend.read().type == wire.HELLO
    content, styles = job_images()
    for job_id in (1, 2):  # the second job reuses the warm process
        backend.send(wire.JOB, id=job_id, content=content, styles=styles, settings=SMALL)
        messages = backend.until({wire.RESULT, wire.ERROR})
        result = messages[-1]
        assert result.type == wire.RESULT, result
        previews = [m for m in messages if m.type == wire.PROGRESS and m.get("preview") is not None]
        assert len(previews) >= 2
        assert all(m["id"] == job_id for m in messages)
        assert (result["image"].width, result["image"].height) == (content.width, content.height)
        assert result["image"].format == "RGBA8"
        assert max(previews[-1]["preview"].width, previews[-1]["preview"].height) == 128


def test_a_job_with_the_key_of_a_finished_one_starts_warm(backend):
    assert backend.read().type == wire.HELLO
    content, styles = job_images()
    other = [{"image": images.load_file(sample("the_scream.jpg")), "weight": 1.0}]
    jobs = [(1, "doc/layer", styles, False), (2, "doc/layer", styles, True),   # same key, same style
            (3, "doc/layer", other, False), (4, None, other, False), (5, "doc/layer", other, True)]
    for job_id, key, job_styles, warm in jobs:
        fields = dict(id=job_id, content=content, styles=job_styles, settings=SMALL)
        if key:
            fields["key"] = key
        backend.send(wire.JOB, **fields)
        messages = backend.until({wire.RESULT, wire.ERROR})
        assert messages[-1].type == wire.RESULT, messages[-1]
        assert all(m["warm"] is warm for m in messages), (job_id, [m.get("warm") for m in messages])
        if warm:
            assert messages[-1]["steps"] < SMALL["steps"] / 2
    backend.send(wire.JOB, id=6, content=content, styles=styles, settings=SMALL, key="x" * 201)
    assert "key must be" in backend.until({wire.RESULT, wire.ERROR})[-1]["message"]


def test_cancel_stops_within_a_few_steps(backend):
    assert backend.read().type == wire.HELLO
    content, styles = job_images()
    backend.send(wire.JOB, id=5, content=content, styles=styles, settings=dict(SMALL, steps=500))
    first = backend.until({wire.PROGRESS})[-1]
    backend.send(wire.CANCEL, id=5)
    messages = backend.until({wire.CANCELLED, wire.RESULT, wire.ERROR})
    assert messages[-1].type == wire.CANCELLED
    assert 0 <= messages[-1]["step"] - first["step"] < 10, (first["step"], messages[-1]["step"])


def test_exits_when_stdin_closes(backend):
    assert backend.read().type == wire.HELLO
    backend.proc.stdin.close()
    assert backend.proc.wait(timeout=30) == 0


# One scale at 1024 px: each L-BFGS step takes several seconds on a small CPU, so a stop that waited
# for the step to end would miss these limits.
BIG = {"size": 1024, "scales": 1, "steps": 200, "preview_every": 1000, "resolution": "working"}
PROMPT = 2.0  # seconds: a cancel or EOF takes effect within one VGG layer (forward or backward), not one step


def test_cancel_mid_step_at_size_1024_answers_promptly(backend):
    assert backend.read().type == wire.HELLO
    content, styles = job_images()
    backend.send(wire.JOB, id=6, content=content, styles=styles, settings=BIG)
    backend.until({wire.PROGRESS}, timeout=60)  # the next step has just begun
    start = time.monotonic()
    backend.send(wire.CANCEL, id=6)
    messages = backend.until({wire.CANCELLED, wire.RESULT, wire.ERROR}, timeout=60)
    latency = time.monotonic() - start
    assert messages[-1].type == wire.CANCELLED and messages[-1]["step"] == 1, messages
    assert latency < PROMPT, "cancel took %.1f s" % latency


def test_exits_when_stdin_closes_mid_job(backend):
    assert backend.read().type == wire.HELLO
    content, styles = job_images()
    backend.send(wire.JOB, id=1, content=content, styles=styles, settings=BIG)
    backend.until({wire.PROGRESS}, timeout=60)
    start = time.monotonic()
    backend.proc.stdin.close()
    assert backend.proc.wait(timeout=30) == 0
    assert time.monotonic() - start < PROMPT


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="samples /proc/<pid>/status")
def test_reported_peak_memory_is_the_jobs_true_peak(backend):
    assert backend.read().type == wire.HELLO
    content, styles = job_images()
    samples, done = [], threading.Event()

    def sample_rss():
        while not done.is_set():
            samples.append(proc_status_mib(backend.proc.pid, "VmRSS"))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample_rss)
    sampler.start()
    try:
        backend.send(wire.JOB, id=1, content=content, styles=styles, settings=dict(SMALL, size=384, scales=1, steps=3))
        result = backend.until({wire.RESULT, wire.ERROR})[-1]
    finally:
        done.set()
        sampler.join()
    assert result.type == wire.RESULT, result
    # The peak is read before the result is encoded, which allocates about one image more.
    slack = 2 * content.width * content.height * 4 / 2 ** 20
    assert result["peak_memory_mib"] + slack >= max(samples), (result["peak_memory_mib"], max(samples))
    # And no more than the kernel's own peak since the job began (VmHWM, reset at its start; 0.1 MiB rounding).
    assert result["peak_memory_mib"] <= proc_status_mib(backend.proc.pid, "VmHWM") + 0.1, result["peak_memory_mib"]


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX priorities")
def test_the_backend_yields_the_cpu_to_krita(backend):
    assert backend.read().type == wire.HELLO
    assert os.getpriority(os.PRIO_PROCESS, backend.proc.pid) == max(server.NICE, os.nice(0))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_socket_at_all_only_pipes(backend):
    assert backend.read().type == wire.HELLO
    content, styles = job_images()
    backend.send(wire.JOB, id=1, content=content, styles=styles, settings=dict(SMALL, steps=2))
    assert backend.until({wire.RESULT, wire.ERROR})[-1].type == wire.RESULT
    with socket.socket() as probe:   # the check itself sees a listening socket (this process's)
        probe.bind(("127.0.0.1", 0))
        probe.listen()
        assert str(os.fstat(probe.fileno()).st_ino) in listening_inodes()
    sockets = socket_inodes(backend.proc.pid)
    listening = sockets & listening_inodes()
    assert not listening, "the backend listens on sockets: %s" % sorted(listening)
    assert not sockets, "the backend holds sockets: %s" % sorted(sockets)
    for stream in ("0", "1"):
        assert os.readlink("/proc/%d/fd/%s" % (backend.proc.pid, stream)).startswith("pipe:[")


def test_a_silent_link_ends_the_backend_but_pings_keep_it():
    """Over ssh a dropped network is silence, not EOF: with --link-timeout the backend leaves by itself."""
    b = Backend("--link-timeout", "3")
    pinging = threading.Event()
    pinging.set()

    def ping():   # as the plugin does, every 0.5 s here
        while pinging.is_set() and b.proc.poll() is None:
            b.send(wire.PING)
            time.sleep(0.5)

    try:
        assert b.read().type == wire.HELLO
        threading.Thread(target=ping, daemon=True).start()
        time.sleep(4)
        assert b.proc.poll() is None, b.log()      # 4 s of pings: still there
        b.send(wire.JOB, id=1, content=images.load_file(sample("chelsea.png")), settings=dict(SMALL, steps=2),
               styles=[{"image": images.load_file(sample("starry_night_google.jpg")), "weight": 1.0}])
        assert b.until([wire.RESULT])[-1]["id"] == 1        # a ping is no job and no error
        pinging.clear()
        assert b.proc.wait(timeout=30) == 3        # then silence: gone within the timeout (+1 s of polling)
        assert "no input for 3 s" in b.log()
    finally:
        pinging.clear()
        b.close()
