"""krita_nst/setup_docker.py against the fake Krita and a real QMainWindow: the docker shown on first use (Krita 6's
default layout hides it), once, or a message saying where it is."""

import os
import sys

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
import fake_krita  # noqa: E402  (installs itself as `krita`: before the plugin)
from helpers import spin  # noqa: E402
from krita_nst import config, setup_docker  # noqa: E402
from krita_nst.qt import QApplication, QCoreApplication, QDockWidget, Qt, QtWidgets  # noqa: E402

krita = fake_krita.krita   # the fixture
GUI = QCoreApplication.instance() or QApplication(sys.argv[:1])   # widgets: made at collection (see test_setup.py)


class Window:
    def __init__(self, qwindow):
        self._qwindow = qwindow

    def qwindow(self):
        return self._qwindow


@pytest.fixture
def main_window(krita, monkeypatch):
    window = QtWidgets.QMainWindow()
    monkeypatch.setattr(krita, "activeWindow", lambda: Window(window))
    yield window
    window.close()
    window.deleteLater()


def test_the_docker_is_shown_on_first_use_once(krita, main_window):
    dock = QDockWidget("Neural Style Transfer", main_window)
    dock.setObjectName(setup_docker.DOCKER_ID)
    main_window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()   # Krita 6's default layout
    told = []
    setup_docker.show_once(told.append)   # the window is not on screen yet: tried again later
    assert krita.readSetting(config.GROUP, setup_docker.FLAG, "") == ""
    main_window.show()
    spin(GUI, lambda: dock.isVisible(), 5, "the docker shown")
    assert told == [] and krita.readSetting(config.GROUP, setup_docker.FLAG, "") == "true"
    dock.hide()   # the artist closed it: it stays closed
    setup_docker.show_once(told.append)
    assert not dock.isVisible() and told == []


def test_without_the_docker_a_message_says_where_it_is(krita, main_window):
    main_window.show()
    told = []
    setup_docker.show_once(told.append)
    assert told == ["The Neural Style Transfer panel is in Settings \u25b8 Dockers \u25b8 Neural Style Transfer."]
