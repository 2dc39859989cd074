"""Test driver, loaded as a Krita plugin by tests/test_krita_e2e.py: runs one scenario, writes results, quits.

Scenarios (KRITA_NST_E2E_SCENARIO): "full" (action run, shortcut run, busy refusal, cancel),
"kill" (the backend dies mid-run, then a fresh one works), "quit" (Krita quits mid-run), "undo",
the release zip's "zip_import" then "zip_first_run", "one_run", and "timing" (the benchmark).
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import traceback

from krita import Extension, Krita


def _load_qt():
    """The plugin's own Qt module, from the checkout: the driver runs before the plugin is installed too."""
    import importlib.util
    path = os.path.join(os.environ["KRITA_NST_E2E_REPO"], "krita_nst", "qt.py")
    spec = importlib.util.spec_from_file_location("nst_e2e_qt", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


qt = _load_qt()
PYQT_VERSION, QT_VERSION, QApplication, QImage, QTimer = (qt.PYQT_VERSION, qt.QT_VERSION, qt.QApplication,
                                                         qt.QImage, qt.QTimer)

OUT = os.environ.get("KRITA_NST_E2E_OUT")
SAMPLES = os.environ.get("KRITA_NST_E2E_SAMPLES", "")
SCENARIO = os.environ.get("KRITA_NST_E2E_SCENARIO", "full")
results = {"scenario": SCENARIO, "log": [], "krita_pid": os.getpid(), "versions": {
    "krita": Krita.instance().version(), "qt": QT_VERSION, "pyqt": PYQT_VERSION, "python": sys.version.split()[0]}}


def log(text):
    results["log"].append("%.2f %s" % (time.monotonic(), text))


def save_results():
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


def digest(node):
    r = node.bounds()
    return hashlib.sha256(bytes(node.pixelData(r.x(), r.y(), r.width(), r.height()))).hexdigest()


def save_png(node, name):
    r = node.bounds()
    data = bytes(node.pixelData(r.x(), r.y(), r.width(), r.height()))
    QImage(data, r.width(), r.height(), r.width() * 4, QImage.Format.Format_ARGB32).save(os.path.join(OUT, name))


def layer_from_file(doc, name, path, width, height):
    image = QImage(path).scaled(width, height).convertToFormat(QImage.Format.Format_ARGB32)
    node = doc.createNode(name, "paintlayer")
    doc.rootNode().addChildNode(node, None)
    node.setPixelData(bytes(image.constBits().asstring(image.sizeInBytes())), 0, 0, width, height)
    return node


def wait(condition, timeout, what=""):
    """Yielded by a scenario: resume when condition() is true; fail the scenario after timeout seconds."""
    return (condition, time.monotonic() + timeout, what)


def api():
    from krita_nst import api as nst_api
    return nst_api


def names_above(doc):
    return [n.name() for n in doc.rootNode().childNodes()]


def style_label():
    from krita_nst import docker
    return [w.style_label.text() for w in QApplication.allWidgets() if isinstance(w, docker.StyleDocker)]


def message_boxes():
    return [w for w in QApplication.topLevelWidgets() if w.objectName() == "krita_nst_message" and w.isVisible()]


def watch(job, record):
    record.update(previews=[], state=None, started=time.monotonic())

    def on_preview(step):
        now = time.monotonic()
        record["previews"].append({"step": step, "t": now - record["started"], "at": now,
                                   "hash": digest(job.layer)})
    job.preview.connect(on_preview)


def start_document(content_file="chelsea.png", size=(451, 300)):
    app = Krita.instance()
    w, h = size
    doc = app.createDocument(w, h, "nst-e2e", "RGBA", "U8", "", 300.0)
    app.activeWindow().addView(doc)
    style = layer_from_file(doc, "Style", os.path.join(SAMPLES, "starry_night_google.jpg"), round(h * 1280 / 1014), h)
    content = layer_from_file(doc, "Content", os.path.join(SAMPLES, content_file), w, h)
    doc.refreshProjection()
    yield wait(lambda: app.activeWindow().activeView() is not None
               and app.activeWindow().activeView().document() == doc, 20, "the new document's view")
    app.setActiveDocument(doc)
    doc.waitForDone()
    return doc, content, style


def active(doc, node):
    """A wait condition that makes node the active layer (asked again each time: one call may not take)."""
    def condition():
        doc.setActiveNode(node)
        return doc.activeNode() is not None and doc.activeNode().name() == node.name()
    return condition


def run_job(doc, content, how, record):
    """Start stylising content by action or shortcut; yields until it ends."""
    app = Krita.instance()
    yield wait(active(doc, content), 10, "the content layer active")
    if how == "action":
        app.action("krita_nst_stylize").trigger()
    else:
        record["key_pressed"] = time.monotonic()
        window = app.activeWindow().qwindow()
        window.activateWindow()
        subprocess.Popen(["xdotool", "windowfocus", "--sync", str(int(window.winId())),
                          "key", "--clearmodifiers", "ctrl+alt+shift+n"])
    yield wait(lambda: api().current_job() is not None, 30, 'api().current_job() is not None')
    job = api().current_job()
    watch(job, record)
    record["layer_name_at_start"] = job.layer.name()
    yield wait(lambda: not job.running(), 600, 'not job.running()')
    record["ended_at"] = time.monotonic()   # within one 50 ms poll of the end
    record["state"] = job.state
    record["seconds"] = job.seconds
    record["first_preview_s"] = job.first_preview_s
    record["final_name"] = job.layer.name()
    record["layers"] = names_above(doc)
    record["result_index"] = record["layers"].index(job.layer.name()) if job.state == "done" else None
    record["content_index"] = record["layers"].index("Content")
    return job


def choose_style(doc, style):
    doc.setActiveNode(style)
    yield wait(lambda: doc.activeNode().name() == "Style", 10, "the style layer active")
    Krita.instance().action("krita_nst_set_style").trigger()


def start_until_preview(doc, content, record):
    """Stylise content by its action and return the job once its first preview is on the layer."""
    doc.setActiveNode(content)
    yield wait(lambda: doc.activeNode().name() == "Content", 10, "the content layer active")
    Krita.instance().action("krita_nst_stylize").trigger()
    yield wait(lambda: api().current_job() is not None, 30, "a job started")
    job = api().current_job()
    watch(job, record)
    yield wait(lambda: len(record["previews"]) >= 1, 120, "a first preview")
    return job


def scenario_full():
    doc, content, style = yield from start_document()
    before = {"content": digest(content), "style": digest(style)}
    app = Krita.instance()
    yield from choose_style(doc, style)
    results["style_label"] = style_label()
    for how in ("action", "shortcut"):
        record = results.setdefault(how, {})
        job = yield from run_job(doc, content, how, record)
        if job.state == "done":
            save_png(job.layer, "%s.png" % how)
            record["bounds_match"] = job.layer.bounds() == content.bounds()
    save_png(content, "content.png")
    save_png(style, "style.png")
    # A second stylise while one runs is refused with a message; cancel stops the first.
    record = results["cancel"] = {}
    job = yield from start_until_preview(doc, content, record)
    from krita_nst import docker
    record["docker_status"] = [w.status.text() for w in QApplication.allWidgets() if isinstance(w, docker.StyleDocker)]
    layers_before = len(doc.rootNode().childNodes())
    app.action("krita_nst_stylize").trigger()
    record["busy_message"] = [b.text() for b in message_boxes()]
    record["layers_added_by_second"] = len(doc.rootNode().childNodes()) - layers_before
    cancel_at = time.monotonic()
    app.action("krita_nst_cancel").trigger()
    yield wait(lambda: not job.running(), 60, 'not job.running()')
    record["cancel_seconds"] = time.monotonic() - cancel_at
    record["state"] = job.state
    record["final_name"] = job.layer.name()
    results["after"] = {"content": digest(content), "style": digest(style)}
    results["before"] = before
    results["backend_pid"] = api().backend_pid()
    from krita_nst import config
    with open(config.plugin_log_path(), encoding="utf-8") as f:
        results["plugin_log"] = f.read()
    from krita_nst import docker
    dockers = [w for w in QApplication.allWidgets() if isinstance(w, docker.StyleDocker)]
    results["backend_label"] = [w.device.text() for w in dockers]
    # A script changes kritarc: the panel follows (shown first: Krita 6's default layout hides it).
    for w in dockers:
        w.show()
    app.writeSetting("krita_nst", "strength", "72.5")
    app.writeSetting("krita_nst", "preserve_colors", "luminance")
    shown = lambda: [(w.editors["strength"].value(), w.editors["preserve_colors"].currentText())  # noqa: E731
                     for w in dockers]
    yield wait(lambda: shown() and all(v == (72.5, "luminance") for v in shown()), 10, "the docker to follow")
    results["docker_followed"] = shown()
    yield wait(lambda: all(w.estimate.text() for w in dockers), 5, "the estimate shown")
    results["docker_estimate"] = [w.estimate.text() for w in dockers]
    app.writeSetting("krita_nst", "strength", "50")
    app.writeSetting("krita_nst", "preserve_colors", "none")


def scenario_kill():
    doc, content, style = yield from start_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    record = results["killed"] = {}
    job = yield from start_until_preview(doc, content, record)
    pid = api().backend_pid()
    os.kill(pid, signal.SIGKILL)
    yield wait(lambda: not job.running(), 30, 'not job.running()')
    record.update(state=job.state, final_name=job.layer.name(), messages=[b.text() for b in message_boxes()],
                  killed_pid=pid)
    record = results["after_kill"] = {}
    yield from run_job(doc, content, "action", record)
    results["backend_pid"] = api().backend_pid()
    # An uninstalled backend: a message saying how to install it, and no new layer.
    from krita_nst import config
    os.rename(config.BACKEND_FILE, config.BACKEND_FILE + ".away")
    for box in message_boxes():
        box.close()
    layers_before = len(doc.rootNode().childNodes())
    app.action("krita_nst_stylize").trigger()
    results["missing"] = {"messages": [b.text() for b in message_boxes()],
                          "layers_added": len(doc.rootNode().childNodes()) - layers_before}
    os.rename(config.BACKEND_FILE + ".away", config.BACKEND_FILE)


def scenario_quit():
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    yield from start_until_preview(doc, content, results.setdefault("quit", {}))
    results["backend_pid"] = api().backend_pid()


def scenario_timing():
    """A 512 px layer with the artist's settings: shortcut to first preview and to result, warm backend."""
    doc, content, style = yield from start_document("astronaut.png", (512, 512))
    yield from choose_style(doc, style)
    warm = api().stylize(doc, content, [style], size=64, steps=2)   # start the backend, load the model
    yield wait(lambda: not warm.running(), 120, "warm-up job")
    warm.layer.remove()
    record = results["timing"] = {}
    yield from run_job(doc, content, "shortcut", record)
    record["first_preview_from_key_s"] = record["previews"][0]["at"] - record["key_pressed"]
    record["result_from_key_s"] = record["ended_at"] - record["key_pressed"]
    record["preview_count"] = len(record.pop("previews"))


def scenario_zip_import():
    """Krita's own importer (Tools > Scripts > Import Python Plugin from File...) on the release zip."""
    from plugin_importer.plugin_importer import PluginImporter
    app = Krita.instance()
    imported = PluginImporter(os.environ["KRITA_NST_E2E_ZIP"], app.getAppDataLocation(), lambda plugin: True)
    results["imported"] = [plugin["name"] for plugin in imported.import_all()]
    results["had_action_file"] = os.path.exists(os.path.join(app.getAppDataLocation(), "actions", "krita_nst.action"))
    app.writeSetting("python", "enable_krita_nst", "true")   # what the importer's "enable now?" answer does
    yield wait(lambda: True, 1)


def scenario_zip_first_run():
    """The imported plugin after a restart, with no backend yet: the shortcut says how to install one."""
    app = Krita.instance()
    results["loaded"] = app.action("krita_nst_stylize") is not None
    results["shortcut"] = app.action("krita_nst_stylize").shortcut().toString() if results["loaded"] else None
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    doc.setActiveNode(content)
    yield wait(lambda: doc.activeNode().name() == "Content", 10, "the content layer active")
    layers_before = len(doc.rootNode().childNodes())
    window = app.activeWindow().qwindow()
    window.activateWindow()
    subprocess.Popen(["xdotool", "windowfocus", "--sync", str(int(window.winId())),
                      "key", "--clearmodifiers", "ctrl+alt+shift+n"])
    yield wait(lambda: message_boxes(), 30, "a message")
    results["messages"] = [b.text() for b in message_boxes()]
    results["layers_added"] = len(doc.rootNode().childNodes()) - layers_before


def scenario_undo():
    """One undo step per run: Ctrl+Z removes the whole result, Ctrl+Shift+Z brings it back finished;
    undo during a run cancels it at once and frees the plugin."""
    doc, content, style = yield from start_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    record = results["finished"] = {"before": names_above(doc)}
    job = yield from run_job(doc, content, "action", record)
    final = digest(job.layer)
    app.action("edit_undo").trigger()
    yield wait(lambda: job.layer.name() not in names_above(doc), 10, "the undo")
    record["after_undo"] = names_above(doc)
    app.action("edit_redo").trigger()
    yield wait(lambda: job.layer.name() in names_above(doc), 10, "the redo")
    record["after_redo"] = names_above(doc)
    record["redo_pixels_are_final"] = digest(job.layer) == final
    app.action("edit_undo").trigger()     # leave the document as it was for the next run
    yield wait(lambda: job.layer.name() not in names_above(doc), 10, "the second undo")
    record = results["mid_run"] = {}
    job = yield from start_until_preview(doc, content, record)
    undo_at = time.monotonic()
    app.action("edit_undo").trigger()
    yield wait(lambda: not job.running(), 10, "the job to notice the undo")
    record.update(seconds=time.monotonic() - undo_at, state=job.state, busy=api().busy(), layers=names_above(doc))
    app.action("edit_redo").trigger()
    yield wait(lambda: any(n.startswith("Content \u00d7 Style") for n in names_above(doc)), 10, "the redo")
    record["after_redo"] = names_above(doc)
    record = results["next_run"] = {}
    yield from run_job(doc, content, "action", record)


def save_canvas(doc, node, name):
    """The node's pixels over the whole canvas (transparent where it has none), as a PNG."""
    w, h = doc.width(), doc.height()
    data = bytes(node.pixelData(0, 0, w, h))
    QImage(data, w, h, w * 4, QImage.Format.Format_ARGB32).save(os.path.join(OUT, name))


def scenario_selection():
    """A hard rectangular selection: the result is stylised inside, transparent outside, feathered."""
    from krita import Selection
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    selection = Selection()
    selection.select(120, 80, 200, 140, 255)
    doc.setSelection(selection)
    record = results["selected"] = {}
    job = yield from run_job(doc, content, "action", record)
    if job.state == "done":
        r = job.layer.bounds()
        record["bounds"] = [r.x(), r.y(), r.width(), r.height()]
        save_canvas(doc, job.layer, "selected.png")
        save_canvas(doc, content, "content.png")
    # A selection away from a small layer's pixels: a message, no layer.
    patch = doc.createNode("Patch", "paintlayer")
    doc.rootNode().addChildNode(patch, None)
    patch.setPixelData(b"\xff" * (40 * 40 * 4), 0, 0, 40, 40)
    far = Selection()
    far.select(350, 220, 60, 50, 255)
    doc.setSelection(far)
    doc.setActiveNode(patch)
    yield wait(lambda: doc.activeNode().name() == "Patch", 10, "the patch layer active")
    layers_before = len(doc.rootNode().childNodes())
    Krita.instance().action("krita_nst_stylize").trigger()
    results["missed"] = {"messages": [b.text() for b in message_boxes()],
                         "layers_added": len(doc.rootNode().childNodes()) - layers_before}


SPACES = (("RGBA", "U16", "sRGB-elle-V2-g10.icc"), ("RGBA", "F32", "sRGB-elle-V2-g10.icc"), ("CMYKA", "U8", ""),
          ("RGBA", "U8", "sRGB-elle-V2-g10.icc"))


def scenario_colour_models():
    """Documents in other colour models, depths and profiles: an 8-bit sRGB result layer that looks right."""
    for model, depth, profile in SPACES:
        record = results.setdefault("%s/%s/%s" % (model, depth, profile or "default"), {})
        doc, content, style = yield from start_document()
        record["converted"] = doc.setColorSpace(model, depth, profile)
        doc.waitForDone()
        record["doc_before"] = [doc.colorModel(), doc.colorDepth(), doc.colorProfile()]
        before = {"content": digest(content), "style": digest(style)}
        yield from choose_style(doc, style)
        job = yield from run_job(doc, content, "action", record)
        record["doc_after"] = [doc.colorModel(), doc.colorDepth(), doc.colorProfile()]
        record["originals_intact"] = before == {"content": digest(content), "style": digest(style)}
        record["result_space"] = [job.layer.colorModel(), job.layer.colorDepth(), job.layer.colorProfile()]
        if job.state == "done":
            name = "%s_%s" % (model, depth)
            save_png(job.layer, name + "_result.png")
            if (model, depth) == ("RGBA", "U16"):   # the content as Krita shows it, to compare with
                from krita_nst import layers
                image, rect = layers.export(content)
                QImage(image.data, rect.width(), rect.height(), rect.width() * 4,
                       QImage.Format.Format_ARGB32).save(os.path.join(OUT, "content_srgb.png"))
        doc.setModified(False)


class UiWatch:
    """How long Krita's UI thread went without running a 10 ms timer (the worst gap, in ms)."""

    def __init__(self):
        self.last, self.worst = time.monotonic(), 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(10)

    def tick(self):
        now = time.monotonic()
        self.worst, self.last = max(self.worst, (now - self.last) * 1000.0), now


def stroke(doc, node, x, y, w, h, bgra):
    node.setPixelData(bytes(bgra) * (w * h), x, y, w, h)
    doc.refreshProjection()
    return time.monotonic()


def scenario_live():
    doc, content, style = yield from start_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    doc.setActiveNode(content)
    yield wait(lambda: doc.activeNode().name() == "Content", 10, "the content layer active")
    record = results["live"] = {"shortcut": app.action("krita_nst_live").shortcut().toString()}
    ours = {app.action(n).shortcut().toString() for n in ("krita_nst_live", "krita_nst_stylize", "krita_nst_cancel",
                                                          "krita_nst_set_style")}
    record["clashes"] = [a.objectName() for a in app.actions() if a.shortcut().toString() in ours
                         and not a.objectName().startswith("krita_nst_")]
    app.action("krita_nst_live").trigger()   # checkable: on
    record["checked"] = app.action("krita_nst_live").isChecked()
    yield wait(lambda: api().controller().live is not None and api().controller().live.updates >= 1, 240,
               "the first live update")
    session = api().controller().live
    layer = session.layer.node
    record["name_on"], record["layers_on"] = layer.name(), names_above(doc)
    save_png(layer, "live_before.png")
    yield wait(lambda: not api().busy(), 60, "the live layer idle")
    watch_ui = UiWatch()
    done, painted_at = session.updates, stroke(doc, content, 330, 110, 100, 45, (0, 0, 255, 255))
    yield wait(lambda: session.updates > done, 120, "the live layer to follow the stroke")
    record["stroke_to_update_s"] = time.monotonic() - painted_at   # to within the driver's 50 ms tick
    record["session_latency_s"] = session.latencies[-1]
    save_png(layer, "live_after.png")
    record["content_after_strokes"] = digest(content)
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


def scenario_kinds():
    """Every kind of layer as content (read as it looks), hidden, offset and partly off the canvas."""
    doc, content, style = yield from start_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    root, made = doc.rootNode(), []
    hidden = layer_from_file(doc, "Hidden", os.path.join(SAMPLES, "coffee.png"), 300, 200)
    hidden.setVisible(False)
    offset = doc.createNode("Offset", "paintlayer")
    root.addChildNode(offset, None)
    offset.setPixelData(bytes(content.pixelData(0, 0, 200, 150)), 120, 90, 200, 150)
    off_canvas = doc.createNode("Off canvas", "paintlayer")
    root.addChildNode(off_canvas, None)
    off_canvas.setPixelData(bytes(content.pixelData(0, 0, 300, 200)), 300, 200, 300, 200)   # 151x100 px inside
    group = doc.createGroupLayer("Group")
    root.addChildNode(group, None)
    inner = layer_from_file(doc, "Inner", os.path.join(SAMPLES, "rocket.jpg"), 300, 200)
    inner.remove()
    group.addChildNode(inner, None)
    clone = doc.createCloneLayer("Clone", content)
    root.addChildNode(clone, None)
    file_layer = doc.createFileLayer("File", os.path.join(SAMPLES, "astronaut.png"), "None")
    root.addChildNode(file_layer, None)
    vector = doc.createVectorLayer("Vector")
    root.addChildNode(vector, None)
    vector.addShapesFromSvg('<svg xmlns="http://www.w3.org/2000/svg" width="451" height="300">'
                            '<circle cx="200" cy="150" r="90" fill="#2050c0" stroke="#f0c020" stroke-width="20"/>'
                            '<rect x="40" y="30" width="120" height="80" fill="#c03020"/></svg>')
    from krita import Selection
    everywhere = Selection()
    everywhere.select(0, 0, doc.width(), doc.height(), 255)
    blur = app.filter("blur")
    filter_layer = doc.createFilterLayer("Filter", blur, everywhere) if blur is not None else None
    if filter_layer is not None:
        root.addChildNode(filter_layer, None)
    made = [hidden, offset, off_canvas, group, clone, file_layer, vector] + ([filter_layer] if filter_layer else [])
    doc.refreshProjection()
    doc.waitForDone()
    yield wait(lambda: not file_layer.bounds().isEmpty() and not vector.bounds().isEmpty(), 30, "the layers drawn")
    results["kinds"] = {}
    for node in made:
        record = results["kinds"][node.name()] = {"type": node.type()}
        r = node.bounds()
        record["source_bounds"] = [r.x(), r.y(), r.width(), r.height()]
        yield wait(active(doc, node), 10, "layer %s active" % node.name())
        app.action("krita_nst_stylize").trigger()
        record["messages"] = [b.text() for b in message_boxes()]
        for box in message_boxes():
            box.close()
        if api().current_job() is None:
            continue
        job = api().current_job()
        yield wait(lambda job=job: not job.running(), 300, "the run on %s" % node.name())
        record["state"] = job.state
        if job.state == "done":
            r = job.layer.bounds()
            record["result_bounds"] = [r.x(), r.y(), r.width(), r.height()]
            record["above"] = names_above(doc).index(job.layer.name()) == names_above(doc).index(node.name()) + 1 \
                if node.parentNode() == root else True
    doc.setModified(False)


def scenario_one_run():
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    yield from run_job(doc, content, "action", results.setdefault("run", {}))


class Runner:
    def __init__(self, scenario):
        self.scenario, self.pending = scenario, None
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(50)

    def tick(self):
        try:
            if self.pending is not None:
                condition, deadline, what = self.pending
                if not condition():
                    if time.monotonic() > deadline:
                        raise TimeoutError("timed out waiting: %s" % (what or condition))
                    return
            self.pending = next(self.scenario)
        except StopIteration:
            self.finish(True)
        except Exception:
            results["error"] = traceback.format_exc()
            self.finish(False)

    def finish(self, ok):
        self.timer.stop()
        results["ok"] = ok
        window = Krita.instance().activeWindow()
        if window is not None:
            window.qwindow().grab().save(os.path.join(OUT, "screen.png"))
        save_results()
        for doc in Krita.instance().documents():
            doc.setModified(False)
        if SCENARIO != "quit":
            for doc in Krita.instance().documents():
                doc.close()
        log("quitting")
        save_results()
        Krita.instance().action("file_quit").trigger()


class Driver(Extension):
    def setup(self):
        Krita.instance().notifier().windowCreated.connect(self.start)

    def createActions(self, window):
        pass

    def start(self):
        if OUT:
            QTimer.singleShot(1500, lambda: setattr(self, "runner", Runner(globals()["scenario_" + SCENARIO]())))


Krita.instance().addExtension(Driver(Krita.instance()))
