"""The actions (default shortcuts in krita_nst.action): stylise, choose the style, cancel.

Each action talks to the Controller (through `api`); any failure becomes a message for the artist.
"""

import logging
import logging.handlers
import traceback
from typing import Any, Callable

from krita import Extension, Krita, Window

from . import actions, api, config, layers, setup_docker
from .controller import LiveMode
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


def finish_active() -> None:
    document = layers.active_document()
    if document is None:
        raise api.LayerError("Open a document first.")
    job = api.finish(document, document.activeNode())
    job.failed.connect(notify)


def stylize_animation_active() -> None:
    document = layers.active_document()
    if document is None:
        raise api.LayerError("Open a document first.")
    job = api.stylize_animation(document, document.activeNode(), api.style_sources(document))
    job.failed.connect(notify)


def set_style_from_active() -> None:
    document = layers.active_document()
    node = document.activeNode() if document is not None else None
    if document is None or node is None:
        raise api.LayerError("Select the layer to use as the style first.")
    window = Krita.instance().activeWindow()
    view = window.activeView() if window is not None else None
    selected = list(view.selectedNodes()) if view is not None else []   # several: blended, weights in the docker
    api.set_style(document, selected if len(selected) > 1 else [node])


def toggle_live(on: bool) -> None:
    """Live mode on for the active layer (with this document's style), or off: the controller owns it."""
    ctl = api.controller()
    if not on:
        ctl.stop_live()
        return
    ctl.start_live(_live_session)


def _live_session() -> LiveMode:
    from .live import LiveSession  # only once live mode is used
    document = layers.active_document()
    node = document.activeNode() if document is not None else None
    if document is None or node is None:
        raise api.LayerError("Select the layer to follow first.")
    return LiveSession(api.controller(), api.prepare, document, node, api.style_sources(document))


def _show_live(on: bool) -> None:
    actions.set_checked(actions.LIVE, on)   # the checkable action follows live mode, however it changed


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
        config.on_unreadable(notify)   # a kritarc value that cannot be used: told once, before its default is used
        controller.live_changed.connect(_show_live)
        notifier = Krita.instance().notifier()
        notifier.setActive(True)
        notifier.applicationClosing.connect(api.shutdown)
        notifier.imageClosed.connect(lambda _name: api.style_choice().forget_closed())
        notifier.windowCreated.connect(lambda: setup_docker.show_once(notify))   # Krita 6 hides a new docker

    def createActions(self, window: Window) -> None:
        for name, slot in ((actions.STYLIZE, stylize_active), (actions.SET_STYLE, set_style_from_active),
                           (actions.CANCEL, api.cancel), (actions.FINISH, finish_active),
                           (actions.STYLIZE_ANIMATION, stylize_animation_active)):
            action = window.createAction(name, actions.TEXTS[name], "tools/scripts")
            action.triggered.connect(guarded(slot))
        live = window.createAction(actions.LIVE, actions.TEXTS[actions.LIVE], "tools/scripts")
        live.setCheckable(True)
        live.toggled.connect(lambda on: guarded(lambda: toggle_live(on))())
