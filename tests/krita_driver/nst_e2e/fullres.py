"""Full resolution in a real Krita: a 2048 px layer painted at its own size, pass by pass, cancelled in its last
pass (the layer keeps that pass and the plugin is free), then undone in one step; Finish at Full Resolution."""

import os
import time

from krita import Krita

from .common import SAMPLES, api, choose_style, digest, layer_from_file, names_above, results, save_png, wait

SIZE = (2048, 1536)


def scenario_fullres():
    app = Krita.instance()
    doc = app.createDocument(SIZE[0], SIZE[1], "nst-e2e-full", "RGBA", "U8", "", 300.0)
    app.activeWindow().addView(doc)
    style = layer_from_file(doc, "Style", os.path.join(SAMPLES, "starry_night_google.jpg"), 1280, 1014)
    content = layer_from_file(doc, "Content", os.path.join(SAMPLES, "coffee.png"), *SIZE)
    doc.refreshProjection()
    yield wait(lambda: app.activeWindow().activeView() is not None
               and app.activeWindow().activeView().document() == doc, 20, "the new document's view")
    app.setActiveDocument(doc)
    yield from choose_style(doc, style)
    record = results["fullres"] = {"before": names_above(doc), "content": digest(content), "stages": [],
                                   "previews": []}
    job = api().stylize(doc, content, [style], size=256, steps=12, resolution="full")
    started = time.monotonic()
    job.progress.connect(lambda step, total, info: record["stages"].append(
        (round(time.monotonic() - started, 1), info.get("stage"), info.get("fraction"))))
    job.preview.connect(lambda step: record["previews"].append(
        (round(time.monotonic() - started, 1), job.layer.bounds().width(), job.layer.bounds().height())))
    last = lambda: [s for s in record["stages"] if s[1] and "2048x1536" in s[1]]  # noqa: E731
    yield wait(lambda: len(last()) >= 1, 900, "a step of the last pass")
    shown = digest(job.layer)
    record["docker"] = _docker_status()
    cancel_at = time.monotonic()
    api().cancel()
    yield wait(lambda: not job.running(), 60, "the cancel")
    record.update(cancel_seconds=time.monotonic() - cancel_at, state=job.state, name=job.layer.name(),
                  busy=api().busy(), kept_last_preview=digest(job.layer) == shown,
                  bounds=[job.layer.bounds().width(), job.layer.bounds().height()], after=names_above(doc))
    save_png(job.layer, "fullres_cancelled.png")
    app.action("edit_undo").trigger()
    yield wait(lambda: job.layer.name() not in names_above(doc), 10, "the undo")
    record["after_undo"] = names_above(doc)
    record["content_untouched"] = digest(content) == record["content"]


def _docker_status():
    from krita_nst import docker

    from .common import QApplication
    return [w.status.text() for w in QApplication.allWidgets() if isinstance(w, docker.StyleDocker)]
