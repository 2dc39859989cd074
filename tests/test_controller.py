"""The plugin's Controller and Job outside Krita: PyQt5 from pip, the real backend in a real QProcess.

The result target is in memory; in Krita it is `layers.ResultLayer`, exercised by the Krita tests.
"""

import math
import os
import signal
import sys
import textwrap
import time

import pytest

from backend import images
from helpers import REPO, sample, venv_python
from krita_nst import job as job_module
from krita_nst import pixels
from krita_nst.controller import Busy, Controller
from krita_nst.core import backends, wire
from krita_nst.core.version import VERSION
from krita_nst.job import CANCELLED, DONE, FAILED
from krita_nst.qt import QCoreApplication

SMALL = {"size": 64, "steps": 12, "preview_every": 3}
LONG = {"size": 128, "steps": 2000, "preview_every": 1}


class MemoryLayer:
    """A result target in memory: what a job wrote and how it was labelled."""

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


@pytest.fixture(scope="module")
def app():
    return QCoreApplication.instance() or QCoreApplication(sys.argv[:1])


@pytest.fixture
def controller(app, tmp_path):
    ctl = Controller(lambda: backends.local(venv_python(), REPO, os.getpid()), lambda: str(tmp_path / "backend.log"))
    messages = []
    ctl.message.connect(messages.append)
    ctl.messages = messages
    yield ctl
    ctl.shutdown()


def spin(app, condition, timeout=120, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        app.processEvents()
        time.sleep(0.005)


def job_images():
    content = images.load_file(sample("chelsea.png"))
    return content, [{"image": images.load_file(sample("starry_night_google.jpg")), "weight": 1.0}]


def submit(ctl, settings, target=None):
    content, styles = job_images()
    target = target or MemoryLayer()
    return ctl.submit(content, styles, dict(settings), target, "Content \u00d7 Style"), target


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_job_streams_previews_then_the_result_and_frees_the_controller(app, controller):
    started, finished = [], []
    controller.job_started.connect(started.append)
    job, layer = submit(controller, SMALL)
    job.finished.connect(finished.append)
    assert started == [job] and controller.busy() and controller.current_job() is job
    spin(app, lambda: not job.running(), what="the job to end")
    assert job.state == DONE and finished == [layer] and layer.marks == []
    assert len(layer.images) >= 3 and job.first_preview_s is not None
    result = layer.images[-1]
    assert (result.width, result.height) == (451, 300)
    assert not controller.busy() and controller.current_job() is None
    pid = controller.backend_pid()
    assert pid and pid_alive(pid)
    # Warm: the next job runs in the same process.
    job, _ = submit(controller, SMALL)
    spin(app, lambda: not job.running(), what="the second job")
    assert job.state == DONE and controller.backend_pid() == pid


def test_a_target_that_shows_no_previews_gets_only_the_result(app, controller):
    job, layer = submit(controller, SMALL, MemoryLayer(shows_previews=False))
    steps = []
    job.progress.connect(lambda step, total, losses: steps.append(step))
    spin(app, lambda: not job.running(), what="the job to end")
    assert job.state == DONE and len(steps) >= 3 and len(layer.images) == 1
    assert (layer.images[0].width, layer.images[0].height) == (451, 300)


def test_slow_preview_writes_are_spaced_so_they_hold_the_ui_a_tenth_of_the_time_at_most(app, controller):
    class SlowLayer(MemoryLayer):   # a big or deep document: each write holds the UI for 0.1 s
        def write(self, image):
            self.times.append(time.monotonic())
            time.sleep(0.1)
            super().write(image)
    layer = SlowLayer()
    layer.times = []
    job, _ = submit(controller, {"size": 64, "steps": 60, "preview_every": 1}, layer)
    steps = []
    job.progress.connect(lambda step, total, losses: steps.append(step))
    spin(app, lambda: not job.running(), what="the job to end")
    assert job.state == DONE and layer.images[-1].width == 451, "the result is always written"
    previews = layer.times[:-1]
    assert previews and len(previews) < len(steps) / 2
    assert all(b - a >= job_module.PREVIEW_SPACING * 0.1 for a, b in zip(previews, previews[1:]))


def test_busy_refusal_then_cancel_keeps_what_the_layer_has(app, controller):
    job, layer = submit(controller, LONG)
    spin(app, lambda: len(layer.images) >= 1, what="a first preview")
    second = MemoryLayer()
    with pytest.raises(Busy, match="Already stylising"):
        submit(controller, SMALL, second)
    assert second.discarded and controller.current_job() is job
    cancelled = []
    job.cancelled.connect(lambda: cancelled.append(True))
    asked = time.monotonic()
    controller.cancel()
    spin(app, lambda: not job.running(), 30, "the cancel")
    assert time.monotonic() - asked < 10
    assert job.state == CANCELLED and cancelled == [True] and layer.marks == ["cancelled"]
    assert not layer.discarded and not controller.busy()


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


def test_a_bad_setting_never_leaves_the_controller_busy(app, controller):
    for bad in ({"strength": math.nan}, {"strength": "nan"}, {"size": 10 ** 9}, {"colour": 1}):
        layer = MemoryLayer()
        with pytest.raises(ValueError):
            submit(controller, dict(SMALL, **bad), layer)
        assert layer.discarded and not controller.busy(), bad
    job, _ = submit(controller, SMALL)
    spin(app, lambda: not job.running(), what="a good job after bad ones")
    assert job.state == DONE


def test_a_layer_that_disappears_mid_run_cancels_the_job_at_once(app, controller):
    job, layer = submit(controller, LONG)
    spin(app, lambda: len(layer.images) >= 1, what="a first preview")
    layer.gone = True          # the artist deleted it, or closed its document
    spin(app, lambda: not job.running(), 30, "the job to notice")
    assert job.state == CANCELLED and not controller.busy() and layer.marks == ["cancelled"]
    job, _ = submit(controller, SMALL)   # the backend drops the old job and serves the new one
    spin(app, lambda: not job.running(), 60, "the next job")
    assert job.state == DONE


def test_a_backend_of_another_version_is_a_clear_message_before_any_job(app, tmp_path):
    fake = tmp_path / "fake"
    (fake / "backend").mkdir(parents=True)
    (fake / "backend" / "__main__.py").write_text(textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from krita_nst.core import wire
        sys.stdout.buffer.write(wire.encode(wire.HELLO, protocol=wire.PROTOCOL_VERSION, settings_schema="0ld",
                                            backend_version="0.0.1", device="cpu"))
        sys.stdout.buffer.flush()
        sys.stdin.buffer.read()
    """ % REPO))
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


def test_style_choices_are_per_document_and_dropped_when_it_closes(app, tmp_path):
    open_documents = {"a", "b"}
    ctl = Controller(lambda: backends.local(venv_python(), REPO, os.getpid()), lambda: str(tmp_path / "backend.log"),
                     is_open=lambda document: document in open_documents)
    changed = []
    ctl.style_changed.connect(lambda: changed.append(True))
    a, a2 = [{"layer": "style-a", "weight": 1.0}], [{"file": "/p/a2.png", "weight": 0.5}]
    b = [{"layer": "style-b1", "weight": 1.0}, {"layer": "style-b2", "weight": 2.0}]
    assert ctl.style_sources("a") is None
    ctl.set_style("a", a)
    ctl.set_style("b", b)
    ctl.set_style("a", a2)
    assert ctl.style_sources("a") == a2 and ctl.style_sources("b") == b
    assert len(changed) == 3
    open_documents.discard("b")
    ctl.forget_closed_documents()
    assert ctl.style_sources("b") is None and ctl.style_sources("a") == a2
    assert ctl.backend_pid() is None   # nothing started a backend


def test_over_a_png_link_images_travel_as_png_both_ways(app, tmp_path):
    """What an ssh backend gets (transfer=png), on a local pipe: the same job, PNG frames both ways."""
    where = backends.local(venv_python(), REPO, os.getpid())._replace(transfer="png")
    ctl = Controller(lambda: where, lambda: str(tmp_path / "backend.log"))
    try:
        job, layer = submit(ctl, SMALL)
        spin(app, lambda: not job.running(), what="the job over PNG")
        assert job.state == DONE and layer.images
        assert all(image.encoding == "png" for image in layer.images)
        result = layer.images[-1]
        assert (result.width, result.height) == (451, 300)
        assert len(pixels.fit_to(result, 451, 300)) == 451 * 300 * 4
    finally:
        ctl.shutdown()


def test_a_damaged_png_from_the_backend_fails_the_job_with_a_message(app, controller):
    job, layer = submit(controller, LONG)
    failures = []
    job.failed.connect(failures.append)
    layer.write = lambda image: pixels.fit_to(image, 8, 8)   # decode as ResultLayer does
    job.handle(wire.Message(wire.PROGRESS, {"id": job.id, "step": 1, "total": 2, "preview": wire.Image(
        8, 8, "RGBA8", b"\x89PNG broken", "png")}))
    assert job.state == FAILED and "damaged 8x8 PNG" in failures[0] and not controller.busy()


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
