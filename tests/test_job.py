"""krita_nst/job.py's Job: what a running job writes into its target and how it ends (done, cancelled,
failed), driven by the real backend through a Controller (PyQt5 from pip, a real QProcess)."""

import time

from helpers import LONG, SMALL, MemoryLayer, spin, submit
from krita_nst import job as job_module
from krita_nst import pixels
from krita_nst.core import wire
from krita_nst.job import CANCELLED, DONE, FAILED


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
    job, _ = submit(controller, {"size": 64, "steps": 60, "preview_every": 1, "resolution": "working"}, layer)
    steps = []
    job.progress.connect(lambda step, total, losses: steps.append(step))
    spin(app, lambda: not job.running(), what="the job to end")
    assert job.state == DONE and layer.images[-1].width == 451, "the result is always written"
    previews = layer.times[:-1]
    assert previews and len(previews) < len(steps) / 2
    assert all(b - a >= job_module.PREVIEW_SPACING * 0.1 for a, b in zip(previews, previews[1:]))


def test_a_layer_that_disappears_mid_run_cancels_the_job_at_once(app, controller):
    job, layer = submit(controller, LONG)
    spin(app, lambda: len(layer.images) >= 1, what="a first preview")
    layer.gone = True          # the artist deleted it, or closed its document
    spin(app, lambda: not job.running(), 30, "the job to notice")
    assert job.state == CANCELLED and not controller.busy() and layer.marks == ["cancelled"]
    job, _ = submit(controller, SMALL)   # the backend drops the old job and serves the new one
    spin(app, lambda: not job.running(), 60, "the next job")
    assert job.state == DONE


def test_a_damaged_png_from_the_backend_fails_the_job_with_a_message(app, controller):
    job, layer = submit(controller, LONG)
    failures = []
    job.failed.connect(failures.append)
    layer.write = lambda image: pixels.fit_to(image, 8, 8)   # decode as ResultLayer does
    job.handle(wire.Message(wire.PROGRESS, {"id": job.id, "step": 1, "total": 2, "preview": wire.Image(
        8, 8, "RGBA8", b"\x89PNG broken", "png")}))
    assert job.state == FAILED and "damaged 8x8 PNG" in failures[0] and not controller.busy()
