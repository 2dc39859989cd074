"""Scripting API, also used by the plugin's own actions and docker.

    from krita_nst import api
    job = api.stylize(doc, doc.activeNode(), [doc.nodeByName("Style")], size=384, steps=200)
    job.finished.connect(lambda layer: print("done:", layer.name()))

`stylize` creates one new paint layer right above the content layer and streams previews into it;
the content and style layers are only read.  One job runs at a time: a second `stylize` while
`busy()` raises `Busy`.
"""

import itertools
import time

from krita import Krita
from PyQt5.QtCore import QObject, pyqtSignal

from . import config, layers, wire
from .client import BackendClient
from .config import BackendMissing
from .layers import LayerError

__all__ = ["stylize", "busy", "current_job", "events", "Job", "Busy", "BackendMissing", "LayerError",
           "shutdown"]


class Busy(Exception):
    """A job is already running."""


class Events(QObject):
    """Module-wide notifications for panels."""

    job_started = pyqtSignal(object)   # Job
    style_changed = pyqtSignal()


events = Events()
_client = None
_current = None
_ids = itertools.count(1)


class Job(QObject):
    progress = pyqtSignal(int, int, dict)  # step, total, losses
    preview = pyqtSignal(int)              # step, after the layer shows it
    finished = pyqtSignal(object)          # the result layer (krita.Node)
    failed = pyqtSignal(str)               # a message for the artist
    cancelled = pyqtSignal()
    note = pyqtSignal(str)                 # something the artist should know, e.g. size lowered

    def __init__(self, job_id, document, layer, rect, name):
        super().__init__()
        self.id, self.document, self.layer, self.rect, self.name = job_id, document, layer, rect, name
        self.state = "running"     # running, done, failed, cancelled
        self.steps_total = 0
        self.previews = 0
        self.started = time.monotonic()
        self.first_preview_s = None
        self.seconds = None
        self.peak_memory_mib = None

    def running(self):
        return self.state == "running"

    def cancel(self):
        if self.running() and _client is not None:
            _client.send(wire.CANCEL, id=self.id)

    # Messages from the backend for this job.
    def _handle(self, message):
        if message.type == wire.PROGRESS:
            self.steps_total = message["total"]
            if message.get("note"):
                self.note.emit(message["note"])
            self.progress.emit(message["step"], message["total"], message.get("losses") or {})
            if message.get("preview") is not None and self._write(message["preview"]):
                self.previews += 1
                if self.first_preview_s is None:
                    self.first_preview_s = time.monotonic() - self.started
                self.preview.emit(message["step"])
        elif message.type == wire.RESULT:
            self.peak_memory_mib = message.get("peak_memory_mib")
            if self._write(message["image"]):
                self.previews += 1
            self._end("done")
            self.finished.emit(self.layer)
        elif message.type == wire.CANCELLED:
            self._end("cancelled", "cancelled")
            self.cancelled.emit()
        elif message.type == wire.ERROR:
            self._end("failed", "partial")
            self.failed.emit(message.get("message") or "the backend failed")

    def _write(self, image):
        if self.document not in Krita.instance().documents():  # closed mid-run: nothing to draw on
            self.cancel()
            return False
        layers.write(self.document, self.layer, image, self.rect)
        return True

    def _end(self, state, mark=None):
        global _current
        self.state, self.seconds = state, time.monotonic() - self.started
        if mark:
            if self.previews == 0 and self.document in Krita.instance().documents():
                self.layer.remove()   # our own empty layer: nothing worth keeping
                self.document.refreshProjection()
            else:
                self.layer.setName("%s [%s]" % (self.name, mark))
        if _current is self:
            _current = None


def busy():
    return _current is not None and _current.running()


def current_job():
    return _current if busy() else None


def _backend():
    global _client
    python, root = config.backend_location()  # BackendMissing says how to install it
    if _client is None:
        _client = BackendClient(python, root, config.log_path())
        _client.message.connect(_dispatch)
        _client.died.connect(_on_backend_died)
    _client.start()
    return _client


def _dispatch(message):
    if message.type == wire.ERROR and message.get("id") is None:
        if _current is not None:
            _current._handle(message)
        return
    if _current is not None and message.get("id") == _current.id:
        _current._handle(message)


def _on_backend_died(why):
    # The next job starts a fresh backend (BackendClient.start on send).
    if _current is not None and _current.running():
        _current._handle(wire.Message(wire.ERROR, {"id": _current.id, "message": why}))


def _style_list(style_nodes):
    """Nodes, or (node, weight) pairs."""
    out = []
    for item in style_nodes or []:
        node, weight = item if isinstance(item, tuple) else (item, 1.0)
        out.append((node, float(weight)))
    if not out:
        raise LayerError("No style layer chosen: select the style layer and use "
                         "\u201cUse Active Layer as Style\u201d (Ctrl+Alt+Shift+M) first.")
    return out


def stylize(document, content_node, style_nodes, **settings):
    """Start stylising content_node in the style of style_nodes; returns a Job.

    settings: any of wire.SETTINGS (size, steps, strength, ...); the rest come from kritarc.
    Raises Busy, LayerError, BackendMissing or ValueError (bad setting) with a readable message.
    """
    global _current
    if busy():
        raise Busy("Already stylising %s; cancel it (Ctrl+Alt+Shift+X) or wait for it to finish."
                   % _current.name)
    if document is None:
        raise LayerError("No document is open.")
    styles = _style_list(style_nodes)
    for node, _ in styles:
        if node.uniqueId() == content_node.uniqueId():
            raise LayerError("The style layer %s is the layer being stylised; pick another layer as the style."
                             % layers.describe(node))
    merged = wire.check_settings(dict(config.job_settings(), **settings))
    content, rect = layers.export(content_node)
    style_images = [{"image": layers.export(node)[0], "weight": weight} for node, weight in styles]
    client = _backend()
    name = "%s \u00d7 %s" % (content_node.name(), ", ".join(node.name() for node, _ in styles))
    layer = document.createNode(name, "paintlayer")
    content_node.parentNode().addChildNode(layer, content_node)
    job = Job(next(_ids), document, layer, rect, name)
    _current = job
    client.send(wire.JOB, id=job.id, content=content, styles=style_images, settings=merged)
    events.job_started.emit(job)
    return job


def shutdown():
    """Stop the backend (Krita is closing)."""
    global _client, _current
    if _current is not None:
        _current.state = "cancelled"   # documents are closing: leave their layers alone
    _current = None
    if _client is not None:
        _client.stop()
        _client = None
