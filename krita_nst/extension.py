"""The actions (default shortcuts in krita_nst.action): stylise, choose the style, cancel.

Each action talks to the Controller (through `api`); any failure becomes a message for the artist.
"""

import logging
import logging.handlers
import traceback
from typing import Any, Callable

from krita import Extension, Krita

from . import actions, api, config, layers
from .core.version import VERSION
from .qt import PYQT_VERSION, QT_VERSION, QMessageBox, Qt

log = logging.getLogger("krita_nst")
TITLE = "Neural Style Transfer"


def notify(text: str) -> None:
    """A message that never blocks Krita (no modal loop, no traceback dialog)."""
    window = Krita.instance().activeWindow()
    log.warning("%s", text)
    if window is None:
        return
    box = QMessageBox(QMessageBox.Icon.Warning, TITLE, text, QMessageBox.StandardButton.Ok, window.qwindow())
    box.setObjectName("krita_nst_message")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)   # the main window owns it until it is closed
    box.setModal(False)
    box.show()
    view = window.activeView()
    if view is not None:
        view.showFloatingMessage(text.split("\n")[0], Krita.instance().icon("warning"), 4000, 1)


def guarded(function: Callable[[], Any]) -> Callable[..., None]:
    """Run an action; any failure becomes a message, never a Python traceback dialog."""
    def run(*_checked: Any) -> None:  # QAction.triggered passes `checked`; the actions take nothing
        try:
            function()
        except (api.Busy, api.LayerError, api.BackendMissing, ValueError) as exc:
            notify(str(exc))
        except Exception as exc:  # a bug: say so plainly, keep the details in the log
            log.error("krita-nst: %s", traceback.format_exc())
            notify("krita-nst hit an unexpected error: %s\nDetails are in %s" % (exc, config.plugin_log_path()))
    return run


def stylize_active() -> None:
    document = layers.active_document()
    if document is None:
        raise api.LayerError("Open a document first.")
    job = api.stylize(document, document.activeNode(), api.style_sources(document))
    job.failed.connect(notify)


def set_style_from_active() -> None:
    document = layers.active_document()
    if document is None or document.activeNode() is None:
        raise api.LayerError("Select the layer to use as the style first.")
    window = Krita.instance().activeWindow()
    view = window.activeView() if window is not None else None
    selected = list(view.selectedNodes()) if view is not None else []   # several: blended, weights in the docker
    api.set_style(document, selected if len(selected) > 1 else [document.activeNode()])


def toggle_live(on: bool) -> None:
    """Live mode on for the active layer (with this document's style), or off."""
    from .live import LiveSession
    ctl = api.controller()
    if ctl.live is not None:
        ctl.live.stop()
        ctl.live = None
    if not on:
        return
    document = layers.active_document()
    try:
        if document is None or document.activeNode() is None:
            raise api.LayerError("Select the layer to follow first.")
        session = LiveSession(document, document.activeNode(), api.style_sources(document))
    except BaseException:
        actions.set_checked(actions.LIVE, False)
        raise
    session.stopped.connect(_live_stopped)
    ctl.live = session


def _live_stopped(why: str) -> None:
    ctl = api.controller()
    ctl.live = None
    actions.set_checked(actions.LIVE, False)
    if why:
        notify("Live mode stopped: %s." % why.rstrip("."))   # a LayerError ends with its own full stop


def start_log() -> None:
    """The plugin's log file, beside the backend's (a few hundred KiB at most)."""
    handler = logging.handlers.RotatingFileHandler(config.plugin_log_path(), maxBytes=256 * 1024, backupCount=1,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.info("krita-nst %s in Krita %s (Qt %s, PyQt %s)", VERSION, Krita.instance().version(), QT_VERSION,
             PYQT_VERSION)


class StyleExtension(Extension):
    def setup(self) -> None:
        try:
            start_log()
        except OSError as exc:   # an unwritable folder must not stop the plugin
            log.warning("krita-nst: no log file: %s", exc)
        controller = api.controller()
        controller.message.connect(notify)
        notifier = Krita.instance().notifier()
        notifier.setActive(True)
        notifier.applicationClosing.connect(controller.shutdown)
        notifier.imageClosed.connect(lambda _name: controller.forget_closed_documents())

    def createActions(self, window: Any) -> None:
        for name, slot in ((actions.STYLIZE, stylize_active), (actions.SET_STYLE, set_style_from_active),
                           (actions.CANCEL, api.cancel)):
            action = window.createAction(name, actions.TEXTS[name], "tools/scripts")
            action.triggered.connect(guarded(slot))
        live = window.createAction(actions.LIVE, actions.TEXTS[actions.LIVE], "tools/scripts")
        live.setCheckable(True)
        live.toggled.connect(lambda on: guarded(lambda: toggle_live(on))())
