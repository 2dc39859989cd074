"""Shared fixtures: the real VGG19 and the device, loaded once; a Qt application and a Controller."""

import os
import sys

import pytest

from helpers import REPO, venv_python


@pytest.fixture(scope="session")
def vgg():
    """The real VGG19 from the bundled Caffe weights, loaded once for the session."""
    from backend import engine
    from backend.model import load_vgg19
    return load_vgg19(None, engine.ALL_LAYERS)


@pytest.fixture(scope="session")
def runtime():
    from backend import device
    return device.choose()


@pytest.fixture(scope="session")
def app():
    """The Qt application the plugin's objects run in (PyQt from pip, no Krita)."""
    from krita_nst.qt import QCoreApplication
    return QCoreApplication.instance() or QCoreApplication(sys.argv[:1])


@pytest.fixture
def controller(app, tmp_path):
    """A Controller with a local backend in a real QProcess; what it told the artist in `.messages`."""
    from krita_nst.controller import Controller
    from krita_nst.core import backends
    ctl = Controller(lambda: backends.local(venv_python(), REPO, os.getpid()), lambda: str(tmp_path / "backend.log"))
    messages = []
    ctl.message.connect(messages.append)
    ctl.messages = messages
    yield ctl
    ctl.shutdown()


@pytest.fixture
def backend():
    """A fresh backend child process (helpers.Backend), killed after the test."""
    from helpers import Backend
    b = Backend()
    yield b
    b.close()


def pytest_terminal_summary(terminalreporter):
    """Which Kritas the end-to-end tests ran in, with the versions they reported."""
    import krita_harness
    for asked, seen in sorted(krita_harness.SEEN.items()):
        terminalreporter.write_line("Krita %s (asked for %s): Qt %s, PyQt %s, Python %s" % (
            seen.get("krita"), asked, seen.get("qt"), seen.get("pyqt"), seen.get("python")))
