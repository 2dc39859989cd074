"""Paths and small helpers shared by the tests, the Krita harness and the benchmarks (no pytest needed)."""

import os
import queue
import subprocess
import sys
import threading
import time

from krita_nst.core import wire  # standard library only

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(os.path.dirname(REPO), "shared", "samples")


def sample(name: str) -> str:
    """The path of a public sample image in ../shared/samples; a clear failure when it is missing."""
    path = os.path.join(SAMPLES, name)
    if not os.path.exists(path):
        raise FileNotFoundError("sample image %s is missing: the tests need ../shared/samples beside the checkout"
                                % path)
    return path


def venv_python() -> str:
    return os.path.join(REPO, ".venv", "Scripts" if os.name == "nt" else "bin", "python")


def child_env() -> dict:
    """The environment for a backend child process, as the plugin makes it (no PYTHONPATH)."""
    from krita_nst.client import STRIPPED_ENV  # the plugin's own list (imports Qt: only when called)
    env = dict(os.environ)
    for name in STRIPPED_ENV:
        env.pop(name, None)
    return env


# --- The plugin outside Krita (tests/test_controller.py, test_job.py, test_client.py, test_ssh_backend.py) ---

# Job settings for a Controller: a quick job, and one long enough to cancel or kill mid-run.
SMALL = {"size": 64, "steps": 12, "preview_every": 3, "resolution": "working"}
LONG = {"size": 128, "steps": 2000, "preview_every": 1, "resolution": "working"}


class MemoryLayer:
    """A result target in memory: what a job wrote and how it was labelled (in Krita: layers.ResultLayer)."""

    def __init__(self, shows_previews=True):
        self.node, self.images, self.marks, self.discarded, self.gone = self, [], [], False, False
        self.shows_previews = shows_previews

    def alive(self):
        return not (self.gone or self.discarded)

    def write(self, image):
        assert self.alive(), "a job wrote into a layer that is gone"
        self.images.append(image)

    def label(self, mark):
        self.marks.append(mark)

    def discard(self):
        self.discarded = True


def spin(app, condition, timeout=120, what="the condition"):
    """Run the Qt event loop until `condition()` holds; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        app.processEvents()
        time.sleep(0.005)


def job_images():
    """The content (chelsea) and styles (Starry Night) of a Controller job, as the plugin reads them."""
    from backend import images
    content = images.load_file(sample("chelsea.png"))
    return content, [{"image": images.load_file(sample("starry_night_google.jpg")), "weight": 1.0}]


def submit(ctl, settings, target=None):
    """Submit a job to the Controller `ctl`: (the job, its target)."""
    content, styles = job_images()
    target = target or MemoryLayer()
    return ctl.submit(content, styles, dict(settings), target, "Content \u00d7 Style"), target


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def fake_backend_main(settings_schema="0ld", backend_version="0.0.1", protocol=None) -> str:
    """A backend/__main__.py that says hello as the given backend would, then waits for EOF."""
    protocol = wire.PROTOCOL_VERSION if protocol is None else protocol
    return ("import sys\nsys.path.insert(0, %r)\nfrom krita_nst.core import wire\n"
            "sys.stdout.buffer.write(wire.encode(wire.HELLO, protocol=%r, settings_schema=%r,"
            " backend_version=%r, device='cpu'))\nsys.stdout.buffer.flush()\nsys.stdin.buffer.read()\n"
            % (REPO, protocol, settings_schema, backend_version))


# --- The backend as a child process (tests/test_server.py, test_server_faults.py, test_ssh_backend.py) ---

class Backend:
    """The backend as a child process; its messages are read by a thread so that every wait has a timeout."""

    def __init__(self, *flags):
        self.proc = subprocess.Popen([sys.executable, "-m", "backend", "serve", *flags], cwd=REPO, env=child_env(),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr = []
        self.messages: "queue.Queue" = queue.Queue()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()
        threading.Thread(target=self._read_forever, daemon=True).start()

    def _read_forever(self):
        try:
            while True:
                message = wire.read_message(self.proc.stdout, "the backend's stdout")
                self.messages.put(message)
                if message is None:
                    return
        except Exception as exc:  # handed to the test that waits
            self.messages.put(exc)

    def log(self):
        return b"".join(self.stderr).decode(errors="replace")[-3000:]

    def send(self, type, **fields):
        self.write(wire.encode(type, **fields))

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read(self, timeout=120):
        """The next message, None at the end of the backend's stdout; fails after `timeout` seconds."""
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no message from the backend in %s s\n%s" % (timeout, self.log())) from None
        if isinstance(message, Exception):
            raise message
        return message

    def until(self, types, timeout=120):
        """Messages up to and including the first of one of `types`."""
        seen, deadline = [], time.monotonic() + timeout
        while True:
            message = self.read(max(0.1, deadline - time.monotonic()))
            assert message is not None, self.log()
            seen.append(message)
            if message.type in types:
                return seen

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def socket_inodes(pid):
    """The inodes of the sockets process `pid` holds (Linux: /proc/<pid>/fd)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def listening_inodes():
    """Inodes of listening sockets: TCP in LISTEN (0A), UDP bound and unconnected (07), unix with __SO_ACCEPTCON."""
    listening = set()
    for table, inode_column in (("tcp", 9), ("tcp6", 9), ("udp", 9), ("udp6", 9), ("unix", 6)):
        try:
            with open("/proc/net/" + table) as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except OSError:
            continue
        for row in rows:
            if len(row) <= inode_column:
                continue
            if table == "unix":
                if int(row[3], 16) & 0x10000:  # flags: __SO_ACCEPTCON, a listening unix socket
                    listening.add(row[inode_column])
            elif row[3] in ("0A", "07"):
                listening.add(row[inode_column])
    return listening


def proc_status_mib(pid, field):
    """A /proc/<pid>/status field in MiB (VmRSS, VmHWM); fails when the field is not there."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no %s for pid %d" % (field, pid))
