"""The docker on first use: Krita 6's default layout (or a workspace saved before the plugin came) hides a new
docker, so the first window shows it once; where it cannot be found a message says where it is.  Once per
kritarc (the `docker_shown` entry): an artist who closes it later keeps it closed."""

from typing import Any, Callable, Optional

from krita import Krita

from . import config
from .docker import DOCKER_ID, StyleDocker
from .qt import QDockWidget, QTimer

FLAG = "docker_shown"
WHERE = "Settings \u25b8 Dockers \u25b8 Neural Style Transfer"
WAIT_MS, TRIES = 250, 40   # the new window is shown a moment after Krita says it exists: up to 10 s


def find(qwindow: Any) -> Optional[Any]:
    """The plugin's docker in a main window (Krita names each docker after its factory's id)."""
    if qwindow is None:
        return None
    for dock in qwindow.findChildren(QDockWidget):
        if dock.objectName() == DOCKER_ID or isinstance(dock, StyleDocker):
            return dock
    return None


def show_once(notify: Callable[[str], None], tries: int = TRIES) -> None:
    """Show the docker in the active window the first time; retried until that window is on screen."""
    app = Krita.instance()
    if app.readSetting(config.GROUP, FLAG, "") == "true":
        return
    window = app.activeWindow()
    qwindow = window.qwindow() if window is not None else None
    if qwindow is None or not qwindow.isVisible():
        if tries > 0:
            QTimer.singleShot(WAIT_MS, lambda: show_once(notify, tries - 1))
        return
    app.writeSetting(config.GROUP, FLAG, "true")
    dock = find(qwindow)
    if dock is None:
        notify("The Neural Style Transfer panel is in %s." % WHERE)
        return
    if not dock.isVisible():
        dock.setVisible(True)
        dock.raise_()
    if not dock.isVisible():
        notify("The Neural Style Transfer panel could not be shown: it is in %s." % WHERE)
