"""krita_nst/controller.py's Controller outside Krita: PyQt5 from pip, the real backend in a real QProcess.

One job at a time (a busy refusal, cancel), bad settings, live mode's on and off, and the
image encoding it asks for over the link.  The result target is in memory (helpers.MemoryLayer); in
Krita it is `layers.ResultLayer`, exercised by the Krita tests.
"""

import math
import os
import time

import pytest

from helpers import LONG, REPO, SMALL, MemoryLayer, pid_alive, spin, submit, venv_python
from krita_nst import pixels
from krita_nst.controller import Busy, Controller
from krita_nst.core import backends
from krita_nst.job import CANCELLED, DONE
from krita_nst.qt import QObject, pyqtSignal


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


def test_a_bad_setting_never_leaves_the_controller_busy(app, controller):
    for bad in ({"strength": math.nan}, {"strength": "nan"}, {"size": 10 ** 9}, {"colour": 1}):
        layer = MemoryLayer()
        with pytest.raises(ValueError):
            submit(controller, dict(SMALL, **bad), layer)
        assert layer.discarded and not controller.busy(), bad
    job, _ = submit(controller, SMALL)
    spin(app, lambda: not job.running(), what="a good job after bad ones")
    assert job.state == DONE


class FakeLive(QObject):
    """A live session as the controller sees it (live.LiveSession: tests/test_live.py)."""
    stopped = pyqtSignal(str)

    def __init__(self):
        super().__init__()
        self.stops = []

    def stop(self, why="", quiet=False):
        self.stops.append(quiet)


def test_live_mode_is_owned_by_the_controller_and_says_when_it_changes(app, tmp_path):
    ctl = Controller(lambda: backends.local(venv_python(), REPO, os.getpid()), lambda: str(tmp_path / "backend.log"))
    seen, messages = [], []
    ctl.live_changed.connect(seen.append)
    ctl.message.connect(messages.append)
    first, second = FakeLive(), FakeLive()
    ctl.start_live(lambda: first)
    assert ctl.live is first and seen == [True]
    ctl.start_live(lambda: second)   # a new session turns the last one off first
    assert first.stops == [False] and ctl.live is second and seen == [True, False, True]
    second.stopped.emit("the live layer is gone.")   # it stopped by itself
    assert ctl.live is None and seen[-1] is False and messages == ["Live mode stopped: the live layer is gone."]
    before = len(seen)
    with pytest.raises(ValueError):
        ctl.start_live(lambda: (_ for _ in ()).throw(ValueError("no layer")))
    assert ctl.live is None and seen[before:] == [False]   # said anyway: a pressed toggle goes back
    third = FakeLive()
    ctl.start_live(lambda: third)
    ctl.stop_live()
    assert third.stops == [False] and ctl.live is None and seen[-1] is False
    ctl.stop_live()   # already off: nothing to say
    assert seen.count(False) == 4
    fourth = FakeLive()
    ctl.start_live(lambda: fourth)
    ctl.shutdown()   # Krita closing: stopped quietly
    assert fourth.stops == [True] and ctl.live is None
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
