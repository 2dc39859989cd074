"""krita_nst/client.py's BackendClient: the backend's hello checked against this plugin, its death
(killed mid-run) told with its log, a log that cannot be written (through a Controller), and the log's rotation."""

import os
import signal
import sys

from helpers import LONG, REPO, SMALL, fake_backend_main, spin, submit, venv_python
from krita_nst import client
from krita_nst.controller import Controller
from krita_nst.core import backends, settings
from krita_nst.core.version import VERSION
from krita_nst.job import DONE, FAILED


def test_backend_killed_mid_run_marks_partial_then_a_fresh_backend_works(app, controller):
    job, layer = submit(controller, LONG)
    spin(app, lambda: len(layer.images) >= 1, what="a first preview")
    failures = []
    job.failed.connect(failures.append)
    pid = controller.backend_pid()
    os.kill(pid, signal.SIGKILL)
    spin(app, lambda: not job.running(), 30, "the failure")
    assert job.state == FAILED and layer.marks == ["partial"]
    assert failures and "stopped unexpectedly (killed by signal 9)" in failures[0]
    job, _ = submit(controller, SMALL)
    spin(app, lambda: not job.running(), what="a job on a fresh backend")
    assert job.state == DONE and controller.backend_pid() not in (None, pid)


def test_a_backend_of_another_version_is_a_clear_message_before_any_job(app, tmp_path):
    fake = tmp_path / "fake"
    (fake / "backend").mkdir(parents=True)
    (fake / "backend" / "__main__.py").write_text(fake_backend_main(settings_schema="0ld", backend_version="0.0.1"))
    ctl = Controller(lambda: backends.local(sys.executable, str(fake)), lambda: str(tmp_path / "backend.log"))
    try:
        job, layer = submit(ctl, SMALL)
        failures = []
        job.failed.connect(failures.append)
        spin(app, lambda: not job.running(), 30, "the mismatch")
        assert job.state == FAILED and layer.discarded and layer.images == []
        assert "The backend is krita-nst 0.0.1" in failures[0]
        assert "this plugin is krita-nst %s" % VERSION in failures[0]
        assert "install.py" in failures[0]
    finally:
        ctl.shutdown()


def test_a_full_disk_for_the_log_changes_nothing_for_the_artist(app):
    """/dev/full: every write to the log fails with ENOSPC, as on a full disk."""
    ctl = Controller(lambda: backends.local(venv_python(), REPO, os.getpid()), lambda: "/dev/full")
    try:
        job, layer = submit(ctl, SMALL)
        spin(app, lambda: not job.running(), what="the job with a full disk")
        assert job.state == DONE and layer.images
        job, layer = submit(ctl, LONG)
        spin(app, lambda: len(layer.images) >= 1, what="a first preview")
        failures = []
        job.failed.connect(failures.append)
        os.kill(ctl.backend_pid(), signal.SIGKILL)
        spin(app, lambda: not job.running(), 30, "the failure")
        assert "stopped unexpectedly (killed by signal 9)" in failures[0] and "/dev/full" in failures[0]
    finally:
        ctl.shutdown()


def test_a_log_past_its_limit_is_moved_to_log_1_when_the_backend_starts(app, tmp_path):
    fake = tmp_path / "fake"
    (fake / "backend").mkdir(parents=True)
    says = "import sys\nsys.stderr.write('a fresh start\\n')\nsys.stderr.flush()\n"
    (fake / "backend" / "__main__.py").write_text(says + fake_backend_main(settings.fingerprint(), VERSION))
    log, old = tmp_path / "backend.log", tmp_path / "backend.log.1"
    log.write_bytes(b"x" * (client.LOG_LIMIT + 1))
    old.write_bytes(b"the older log")
    backend = client.BackendClient(backends.local(sys.executable, str(fake)), str(log))
    try:
        for start in range(2):   # the second start: under the limit, appended to
            backend.start()
            spin(app, lambda n=start + 1: log.read_bytes().endswith(b"a fresh start\n" * n), 30, "the log's line")
            backend.stop()
            assert old.stat().st_size == client.LOG_LIMIT + 1
    finally:
        backend.stop()
    assert log.read_bytes() == b"a fresh start\n" * 2 and "a fresh start" in backend.log_tail()
    client.rotate_log("/dev/full", 0)   # a device is never moved
    client.rotate_log(str(tmp_path / "absent"), 0)
