"""Scenarios of style sources (blends, files, the gallery, memory) and live mode."""

import os
import time

from krita import Krita

from .common import (
    CANVAS,
    DEFAULT_CANVAS,
    OUT,
    SAMPLES,
    QApplication,
    UiWatch,
    active,
    api,
    canvas_document,
    choose_style,
    digest,
    layer_from_file,
    names_above,
    results,
    run_job,
    save_png,
    start_document,
    stroke,
    wait,
)


def scenario_live():
    doc, content, style = yield from canvas_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    doc.setActiveNode(content)
    yield wait(lambda: doc.activeNode().name() == "Content", 10, "the content layer active")
    record = results["live"] = {"shortcut": app.action("krita_nst_live").shortcut().toString()}
    ours = {a.shortcut().toString() for a in app.actions()
            if a.objectName().startswith("krita_nst_") and a.shortcut().toString()}
    record["ours"] = sorted(ours)
    record["clashes"] = [a.objectName() for a in app.actions() if a.shortcut().toString() in ours
                         and not a.objectName().startswith("krita_nst_")]
    slow = os.environ.get("KRITA_NST_E2E_SLOW_CPU")   # seconds per step and megapixel the runs so far learned
    if slow:
        ctl = api().controller()
        ctl.backend()
        yield wait(lambda: ctl.device, 120, "the backend's hello")
        ctl.speeds[ctl.device] = float(slow)
    app.action("krita_nst_live").trigger()   # checkable: on
    record["checked"] = app.action("krita_nst_live").isChecked()
    yield wait(lambda: api().controller().live is not None and api().controller().live.updates >= 1, 240,
               "the first live update")
    session = api().controller().live
    layer = session.layer.node
    record["name_on"], record["layers_on"] = layer.name(), names_above(doc)
    record["size"] = session.size
    if CANVAS == DEFAULT_CANVAS:   # the pictures the test compares
        save_png(layer, "live_before.png")
    yield wait(lambda: not api().busy(), 60, "the live layer idle")
    done, painted_at = session.updates, stroke(doc, content, 330, 110, 100, 45, (0, 0, 255, 255))
    watch_ui = UiWatch()   # after the driver's own stroke (and its refresh)
    yield wait(lambda: session.updates > done, 120, "the live layer to follow the stroke")
    record["stroke_to_update_s"] = time.monotonic() - painted_at   # to within the driver's 50 ms tick
    record["session_latency_s"] = session.latencies[-1]
    record["ui_gap_to_update_ms"] = watch_ui.worst   # before the driver's own reads below
    if CANVAS == DEFAULT_CANVAS:   # the pictures the test compares
        save_png(layer, "live_after.png")
    record["content_after_strokes"] = digest(content)
    # A new strength: an update, then one more from where it left off, then none while nothing changes.
    yield wait(lambda: not api().busy(), 60, "the live layer idle")
    done, shown = session.updates, []
    session.updated.connect(lambda _seconds: shown.append(digest(layer)))
    app.writeSetting("krita_nst", "strength", "65")
    yield wait(lambda: session.updates >= done + 2, 120, "an update and one more after a new strength")
    quiet_from = time.monotonic()
    yield wait(lambda: time.monotonic() - quiet_from > 3, 10, "3 s with nothing changed")
    record["new_strength"] = {"updates": session.updates - done, "distinct_layers": len(set(shown))}
    # A second stroke, and live mode turned off while its update runs: cancelled, a normal layer left.
    first_job = session.job
    stroke(doc, content, 40, 40, 80, 40, (255, 0, 0, 255))
    record["content_after_strokes"] = digest(content)
    yield wait(lambda: session.job is not first_job and session.job.running(), 60, "an update running")
    app.action("krita_nst_live").trigger()   # off
    off_at = time.monotonic()
    yield wait(lambda: not api().busy(), 30, "the update cancelled")
    record["off_seconds"] = time.monotonic() - off_at
    record["checked_after_off"] = app.action("krita_nst_live").isChecked()
    record["name_off"], record["live_after_off"] = layer.name(), api().controller().live is None
    record["content_at_end"] = digest(content)
    record["max_block_ms"], record["ui_worst_gap_ms"] = session.max_block_ms, watch_ui.worst
    record["blocks_ms"] = session.blocks_ms
    record["updates"] = session.updates

def scenario_styles():
    doc, content, style = yield from start_document()
    app = Krita.instance()
    from krita_nst import docker, styles
    scream = layer_from_file(doc, "Scream", os.path.join(SAMPLES, "the_scream.jpg"), 236, 300)
    for node in (style, scream):
        node.setVisible(False)   # hidden layers are fine style sources
    doc.refreshProjection()
    yield wait(active(doc, content), 10, "the content layer active")
    # Several layers selected in the Layers docker -> one blended style.
    app.action("select_invisible_layers").trigger()
    window = app.activeWindow()
    yield wait(lambda: len(window.activeView().selectedNodes()) == 2, 10, "two layers selected")
    app.action("krita_nst_set_style").trigger()
    record = results["blend"] = {"sources": api().style_sources(doc)}
    sources = [dict(s, weight=w) for s, w in zip(api().style_sources(doc), (1.0, 0.5))]
    api().set_style_sources(doc, sources)
    for w in QApplication.allWidgets():
        if isinstance(w, docker.StyleDocker):
            w.show()
            w.styles.refresh()
            record["docker_weights"] = [box.value() for box in w.styles.weights]
    record["active_after_select"] = doc.activeNode().name()
    yield from run_job(doc, content, "action", record)
    # A painting from the bundled gallery (a file): it becomes the remembered style_file too.
    wave = [p for _, p in styles.gallery() if p.endswith("great_wave.jpg")][0]
    api().set_style_sources(doc, [styles.from_file(wave)])
    record = results["file"] = {}
    yield from run_job(doc, content, "action", record)
    record["style_file"] = app.readSetting("krita_nst", "style_file", "")
    record["wave"] = wave
    # Remembered in the .kra: save, close, reopen.
    udnie = [p for _, p in styles.gallery() if p.endswith("udnie.jpg")][0]
    chosen = styles.from_layers([style], 0.7) + [styles.from_file(udnie)]
    api().set_style_sources(doc, chosen)
    path = os.path.join(OUT, "styled.kra")
    doc.setFileName(path)
    results["saved"] = bool(doc.save())
    doc.waitForDone()
    doc.close()
    reopened = app.openDocument(path)
    app.activeWindow().addView(reopened)
    yield wait(lambda: app.activeDocument() is not None, 20, "the reopened document")
    results["reopened"] = {"chosen": chosen, "sources": api().style_sources(reopened),
                           "nodes": [n.name() for n in api().style_nodes(reopened)]}
    # A new document with no style of its own starts with the last style file.
    fresh = app.createDocument(64, 64, "fresh", "RGBA", "U8", "", 72.0)
    results["fresh_sources"] = api().style_sources(fresh)
    fresh.close()
    reopened.setModified(False)
