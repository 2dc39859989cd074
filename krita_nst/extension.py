"""The actions (with default shortcuts from krita_nst.action): stylise, choose the style, cancel."""

import logging
import traceback

from krita import Extension, Krita
from PyQt5.QtWidgets import QMessageBox

from . import api, config

log = logging.getLogger("krita_nst")

STYLIZE, SET_STYLE, CANCEL = "krita_nst_stylize", "krita_nst_set_style", "krita_nst_cancel"
_style_sources = []   # [(Document, [layer uuid text])]: the style per open document
_boxes = []           # keep non-modal message boxes alive


def notify(text, title="Neural Style Transfer"):
    """A message that never blocks Krita (no modal loop, no traceback dialog)."""
    window = Krita.instance().activeWindow()
    box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, window.qwindow() if window else None)
    box.setObjectName("krita_nst_message")
    box.setModal(False)
    box.finished.connect(lambda _: _boxes.remove(box) if box in _boxes else None)
    _boxes.append(box)
    box.show()
    view = window.activeView() if window else None
    if view is not None:
        view.showFloatingMessage(text.split("\n")[0], Krita.instance().icon("warning"), 4000, 1)


def guarded(function):
    """Run an action; any failure becomes a message, never a Python traceback dialog."""
    def run(*_checked):  # QAction.triggered passes `checked`; the actions take nothing
        try:
            function()
        except (api.Busy, api.LayerError, api.BackendMissing, ValueError) as exc:
            notify(str(exc))
        except Exception as exc:  # a bug: say so plainly, keep the details in the log
            log.error("krita-nst: %s", traceback.format_exc())
            notify("krita-nst hit an unexpected error: %s\nDetails are in %s" % (exc, config.log_path()))
    return run


def style_nodes(document):
    """The layers chosen as this document's style, still present, in order."""
    for doc, ids in _style_sources:
        if doc == document:
            found = {}

            def walk(node):
                for child in node.childNodes():
                    found[child.uniqueId().toString()] = child
                    walk(child)
            walk(document.rootNode())
            return [found[i] for i in ids if i in found]
    return []


def set_style(document, nodes):
    _style_sources[:] = [(d, ids) for d, ids in _style_sources if d != document]
    _style_sources.append((document, [n.uniqueId().toString() for n in nodes]))
    api.events.style_changed.emit()


def stylize_active():
    document = Krita.instance().activeDocument()
    if document is None:
        raise api.LayerError("Open a document first.")
    job = api.stylize(document, document.activeNode(), style_nodes(document))
    job.failed.connect(notify)
    return job


def set_style_from_active():
    document = Krita.instance().activeDocument()
    if document is None or document.activeNode() is None:
        raise api.LayerError("Select the layer to use as the style first.")
    set_style(document, [document.activeNode()])


def cancel():
    job = api.current_job()
    if job is not None:
        job.cancel()


class StyleExtension(Extension):
    def __init__(self, parent):
        super().__init__(parent)

    def setup(self):
        Krita.instance().notifier().applicationClosing.connect(api.shutdown)

    def createActions(self, window):
        for name, text, slot in ((STYLIZE, "Stylize Layer", stylize_active),
                                 (SET_STYLE, "Use Active Layer as Style", set_style_from_active),
                                 (CANCEL, "Cancel Stylize", cancel)):
            action = window.createAction(name, text, "tools/scripts")
            action.triggered.connect(guarded(slot))
