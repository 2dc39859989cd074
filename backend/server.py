"""`python -m backend serve`: a warm backend speaking the wire format over stdin/stdout.

The model loads once.  A reader thread takes messages off stdin so that a cancel reaches a running
job; jobs run one at a time on the main thread, at a low CPU priority.  The server exits when stdin
closes or when its parent (Krita) dies.  Logs go to stderr; stdout carries only wire messages.
"""

import gc
import logging
import os
import queue
import signal
import sys
import threading
import time
import traceback
from typing import Any, Optional, Set

import torch

from krita_nst.core import settings, wire
from krita_nst.core.version import VERSION

from . import animation_job, device, engine, housekeeping, jobs, warm
from .model import WeightsError, load_vgg19

log = logging.getLogger("krita_nst.backend")
# The backend runs beside a painting program: on a shared CPU, Krita's UI thread should win the cores
# whenever it wants them.  (Measured in live mode on 2 cores, 3 runs each: the plugin's worst block
# 7-13 ms at nice 10, 8-14 ms at nice 0; the worst UI gap 58-69 ms against 61-88 ms.)
NICE = 10


class Writer:
    """Serialises writes to the protocol stream (the reader thread may answer too)."""

    def __init__(self, stream):
        self._stream, self._lock = stream, threading.Lock()

    def send(self, type, **fields):
        data = wire.encode(type, **fields)
        with self._lock:
            self._stream.write(data)
            self._stream.flush()


class Timed:
    """stdin, read as bytes arrive (read1), noting when the last ones did: over ssh, a link that drops
    without closing looks like silence, and the plugin pings every few seconds to break it."""

    def __init__(self, stream):
        self._stream, self.last = stream, time.monotonic()

    def read(self, n):
        data = self._stream.read1(min(n, 1 << 20)) if n else b""
        self.last = time.monotonic()
        return data


class Inbox:
    """Messages from the plugin: queued jobs, and which job ids were cancelled."""

    def __init__(self, stream, writer):
        self.jobs: "queue.Queue[Optional[wire.Message]]" = queue.Queue()
        self.cancelled: Set[Any] = set()
        self.closed = threading.Event()
        self._stream, self._writer = Timed(stream), writer

    def exit_when_silent(self, seconds):
        """Exit (code 3) when no byte came for `seconds`: the plugin is gone without a word, e.g. its
        network dropped; sshd may hold the session for hours, this process must not."""
        def watch():
            while time.monotonic() - self._stream.last < seconds:
                time.sleep(1.0)
            log.warning("no input for %d s: the link to the plugin is gone; exiting", seconds)
            os._exit(3)
        threading.Thread(target=watch, name="link-watchdog", daemon=True).start()

    def read_forever(self):
        try:
            while True:
                try:
                    message = wire.read_message(self._stream, "the backend's stdin")
                except wire.BadMessage as exc:  # framing intact: only this message fails
                    log.warning("refused a message: %s", exc)
                    self._writer.send(wire.ERROR, id=exc.id if exc.type in (wire.JOB, wire.ANIMATE) else None,
                                      message=str(exc), detail="")
                    continue
                if message is None:
                    break
                if message.type in (wire.JOB, wire.ANIMATE):
                    self.jobs.put(message)
                elif message.type == wire.CANCEL:
                    self.cancelled.add(message.get("id"))
                elif message.type != wire.PING:
                    self._writer.send(wire.ERROR, id=None, message="the backend got an unexpected %r message"
                                      % message.type, detail="")
        except (wire.ProtocolError, OSError, ValueError) as exc:
            log.error("stopping: unreadable input: %s", exc)
            self._last_word("the backend got a garbled message and stops: %s" % exc)
        except Exception as exc:  # a bug here: say so rather than die without a word, as a thread does
            log.exception("stopping: the stdin reader failed")
            self._last_word("the backend's reader failed and stops: %r" % exc, traceback.format_exc())
        finally:
            self.closed.set()
            self.jobs.put(None)

    def _last_word(self, message, detail=""):
        try:
            self._writer.send(wire.ERROR, id=None, message=message, detail=detail)
        except OSError:
            pass


def die_with_parent(parent_pid):
    """Exit when Krita does, even if it is killed: a death signal on Linux, a watchdog elsewhere."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    if not parent_pid:
        return

    def alive():
        if sys.platform == "win32":
            import ctypes
            handle = ctypes.windll.kernel32.OpenProcess(0x00100000, False, parent_pid)  # SYNCHRONIZE
            if not handle:
                return False
            try:
                return ctypes.windll.kernel32.WaitForSingleObject(handle, 0) != 0  # not yet signalled
            finally:
                ctypes.windll.kernel32.CloseHandle(handle)
        return os.getppid() == parent_pid

    def watch():
        while alive():
            time.sleep(1.0)
        log.warning("parent process %d is gone; exiting", parent_pid)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


BELOW_NORMAL_PRIORITY_CLASS, IDLE_PRIORITY_CLASS = 0x4000, 0x40   # Windows' NICE, and the one lower still


def _lower_priority():
    """Below Krita's priority: nice NICE on POSIX, BELOW_NORMAL_PRIORITY_CLASS on Windows (already lower: left)."""
    try:
        if sys.platform == "win32":
            import ctypes
            kernel32 = device.windll("kernel32")
            kernel32.GetCurrentProcess.restype = ctypes.c_void_p
            kernel32.GetPriorityClass.argtypes = [ctypes.c_void_p]
            kernel32.SetPriorityClass.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
            process = kernel32.GetCurrentProcess()
            if kernel32.GetPriorityClass(process) in (BELOW_NORMAL_PRIORITY_CLASS, IDLE_PRIORITY_CLASS):
                return
            if not kernel32.SetPriorityClass(process, BELOW_NORMAL_PRIORITY_CLASS):
                raise OSError("SetPriorityClass failed (Windows error %d)" % device.last_windows_error())
        elif hasattr(os, "nice"):
            current = os.nice(0)
            if current < NICE:
                os.nice(NICE - current)
    except OSError as exc:
        log.warning("cannot lower the backend's priority: %s", exc)


LEAVE_FROM = 4   # cores; below this a core left idle halves the run, and the lower priority keeps Krita's brush


def _leave_a_core(environ):
    """torch's CPU threads: one fewer than it would take from LEAVE_FROM cores up, a core for Krita's brush;
    unless the person chose (KRITA_NST_THREADS, or OMP_NUM_THREADS / MKL_NUM_THREADS, which torch follows).
    Returns the count."""
    chosen = environ.get("KRITA_NST_THREADS", "").strip()
    if chosen:
        if chosen.isdigit() and int(chosen) >= 1:
            torch.set_num_threads(int(chosen))
            return int(chosen)
        log.warning("KRITA_NST_THREADS=%r is not a whole number of at least 1; ignored", chosen)
    if not any(environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")):
        cores = torch.get_num_threads()   # torch's own count: the physical cores
        if cores >= LEAVE_FROM:
            torch.set_num_threads(cores - 1)
    return torch.get_num_threads()


def _release_memory(runtime):
    gc.collect()
    if runtime.device.type == "cuda":
        torch.cuda.empty_cache()
    elif runtime.device.type in ("mps", "xpu"):
        getattr(torch, runtime.device.type).empty_cache()
    housekeeping.trim()   # the job's freed heap back to the system, not kept in glibc's arenas


def _run_job(message, model, runtime, inbox, writer, memory):
    job_id = message.get("id")
    stop = lambda: job_id in inbox.cancelled or inbox.closed.is_set()  # noqa: E731
    try:
        if message.type == wire.ANIMATE:   # an animation's frames: one `frame` message each (animation_job.py)
            animation_job.run(message, model, runtime, stop, writer)
            return
        content, styles, job_settings = jobs.from_message(message.fields)
        last_step = 0
        meter = device.MemoryMeter(runtime)
        for progress, image in jobs.run(model, runtime, content, styles, job_settings, stop,
                                        message.get("encoding", wire.RAW), key=message.get("key"),
                                        memory=memory, start=message.get("start")):
            last_step = progress.step
            if progress.done:
                writer.send(wire.RESULT, id=job_id, image=image, seconds=round(progress.seconds, 3),
                            steps=progress.step, losses=progress.losses, peak_memory_mib=meter.peak_mib,
                            warm=progress.warm, full_resolution=progress.full)
                log.info("job %s done in %.1f s (%s), peak memory %.0f MiB", job_id, progress.seconds,
                         "warm" if progress.warm else "cold", meter.peak_mib)
                return
            fields = dict(id=job_id, step=progress.step, total=progress.total, stage=progress.stage,
                          losses=progress.losses, seconds=round(progress.seconds, 3), warm=progress.warm,
                          fraction=round(progress.fraction, 4))
            if image is not None:
                fields["preview"] = image
            if progress.note:
                fields["note"] = progress.note
                log.info("job %s: %s", job_id, progress.note)
            writer.send(wire.PROGRESS, **fields)
        writer.send(wire.CANCELLED, id=job_id, step=last_step)
        log.info("job %s cancelled at step %d", job_id, last_step)
    except (ValueError, WeightsError) as exc:  # InputError and bad settings: the person's to fix
        writer.send(wire.ERROR, id=job_id, message=str(exc), detail="")
    except Exception as exc:  # keep serving: one bad job must not take the warm backend down
        if device.out_of_memory(exc):
            log.error("job %s: out of memory: %s", job_id, exc)
            writer.send(wire.ERROR, id=job_id, message="not enough memory for this job on %s; lower the size "
                        "setting" % runtime.device.type, detail=str(exc))
            return
        detail = traceback.format_exc()
        log.error("job %s failed:\n%s", job_id, detail)
        writer.send(wire.ERROR, id=job_id, message="the backend failed: %s" % exc, detail=detail)
    finally:
        inbox.cancelled.discard(job_id)
        _release_memory(runtime)


def serve(weights=None, device_name="auto", precision="auto", parent_pid=0, stdin=None, stdout=None,
          link_timeout=0):
    """Run until stdin closes (or is silent for link_timeout seconds, if not 0).  Returns the exit code."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the protocol stream
    die_with_parent(parent_pid)
    _lower_priority()
    threads = _leave_a_core(os.environ)
    writer = Writer(stdout)
    try:
        runtime = device.choose(device_name, precision)
        model = load_vgg19(weights, engine.ALL_LAYERS).to(runtime.device)
    except (WeightsError, ValueError, RuntimeError) as exc:
        log.error("cannot start: %s", exc)
        writer.send(wire.ERROR, id=None, message="the backend cannot start: %s" % exc, detail="")
        return 2
    writer.send(wire.HELLO, protocol=wire.PROTOCOL_VERSION, settings_schema=settings.fingerprint(),
                backend_version=VERSION, torch_version=torch.__version__, device=runtime.description)
    log.info("serving on %s (%s), %d CPU threads", runtime.description, runtime.why, threads)
    log.info("memory across jobs: %s", housekeeping.describe())
    inbox = Inbox(stdin, writer)
    if link_timeout:
        inbox.exit_when_silent(link_timeout)
    memory = warm.Memory()  # the last finished run per content thread (job field `key`)
    threading.Thread(target=inbox.read_forever, name="stdin-reader", daemon=True).start()
    while True:
        message = inbox.jobs.get()
        if message is None:
            break
        if message.get("id") in inbox.cancelled:
            inbox.cancelled.discard(message.get("id"))
            writer.send(wire.CANCELLED, id=message.get("id"), step=0)
            continue
        try:
            _run_job(message, model, runtime, inbox, writer, memory)
        except OSError as exc:  # the plugin closed its end of the pipe
            log.info("output closed (%s); exiting", exc)
            return 0
    log.info("stdin closed; exiting")
    return 0
