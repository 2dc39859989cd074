"""What every scenario uses: Qt from the plugin, paths, the results record, waits and layer helpers."""

import hashlib
import json
import os
import subprocess
import sys
import time

from krita import Krita


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

# The live and costs scenarios' document, "WIDTHxHEIGHT/DEPTH" (benchmarks/krita_live.py --canvas): big or deep.
DEFAULT_CANVAS = "451x300/U8"
CANVAS = os.environ.get("KRITA_NST_E2E_CANVAS", DEFAULT_CANVAS)

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
    # The result is the layer's last change: a short run's previews may be spaced out (job.PREVIEW_SPACING).
    job.finished.connect(lambda _node: record.update(result_hash=digest(job.layer)))

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

def canvas_document():
    """start_document at CANVAS's size, in its depth (sRGB, linear above 8 bits: Krita's default)."""
    size, depth = CANVAS.split("/")
    doc, content, style = yield from start_document(size=tuple(int(v) for v in size.split("x")))
    if depth != "U8":
        doc.setColorSpace("RGBA", depth, "sRGB-elle-V2-g10.icc")
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

def save_canvas(doc, node, name):
    """The node's pixels over the whole canvas (transparent where it has none), as a PNG."""
    w, h = doc.width(), doc.height()
    data = bytes(node.pixelData(0, 0, w, h))
    QImage(data, w, h, w * 4, QImage.Format.Format_ARGB32).save(os.path.join(OUT, name))

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
    pixel = bytes(bgra)
    if node.colorDepth() == "U16":   # 16 bits a channel, little-endian
        pixel = b"".join((v * 257).to_bytes(2, "little") for v in bgra)
    node.setPixelData(pixel * (w * h), x, y, w, h)
    doc.refreshProjection()
    return time.monotonic()
