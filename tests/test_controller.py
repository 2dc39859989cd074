"""krita_nst/controller.py's Controller outside Krita: PyQt5 from pip, the real backend in a real QProcess.

One job at a time (a busy refusal, cancel), bad settings, the per-document style choices, and the
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
