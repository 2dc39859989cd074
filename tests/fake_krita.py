"""A small fake of Krita's Python API (libkis), for the plugin's Krita-side modules outside Krita.

Importing it installs it as `krita` (the plugin's modules do `from krita import Krita`); the `krita`
fixture (tests/conftest-free: import it from here) gives each test a fresh Krita.instance().  It holds
what the plugin uses and no more: kritarc settings, documents of BGRA8 paint layers in memory, their
annotations and selection, actions, the notifier, and what the plugin registered.
"""

import sys

import pytest

from fake_krita_document import SRGB, Document, Node, Selection  # noqa: F401  (krita.Node, ...)
from krita_nst.qt import QRect  # noqa: F401  (the tests take QRect from here)


class Signal:
    """A signal without Qt: connect, emit (Notifier's and an action's)."""

    def __init__(self):
        self.slots = []

    def connect(self, slot):
        self.slots.append(slot)

    def emit(self, *args):
        for slot in list(self.slots):
            slot(*args)


class Action:
    def __init__(self, name):
        self.name, self.checked, self.checkable, self.blocked = name, False, False, False
        self.triggered, self.toggled = Signal(), Signal()

    def setCheckable(self, value):
        self.checkable = value

    def isChecked(self):
        return self.checked

    def setChecked(self, value):
        changed = value != self.checked
        self.checked = value
        if changed and not self.blocked:
            self.toggled.emit(value)

    def blockSignals(self, value):
        self.blocked = value

    def trigger(self):
        if self.checkable:
            self.setChecked(not self.checked)
        if not self.blocked:
            self.triggered.emit(self.checked)

    def shortcut(self):
        return type("Shortcut", (), {"toString": lambda self: ""})()


class Window:
    def createAction(self, name, text="", menu=""):
        return Krita.instance().actions.setdefault(name, Action(name))

    def activeView(self):
        return None

    def qwindow(self):
        return None


class Notifier:
    def __init__(self):
        self.active = False
        self.applicationClosing, self.imageClosed, self.windowCreated = Signal(), Signal(), Signal()

    def setActive(self, value):
        self.active = value


class Extension:
    def __init__(self, parent):
        self.parent = parent


class DockWidget:
    pass


class DockWidgetFactoryBase:
    DockRight = "right"


class DockWidgetFactory(DockWidgetFactoryBase):
    def __init__(self, ident, position, klass):
        self.id, self.position, self.klass = ident, position, klass


class Krita:
    _instance = None
    app_data = "/tmp"

    def __init__(self):
        self.settings, self.docs, self.actions = {}, [], {}
        self._notifier, self.extensions, self.dockers = Notifier(), [], []
        self.active = None

    @staticmethod
    def instance():
        if Krita._instance is None:
            Krita._instance = Krita()
        return Krita._instance

    @staticmethod
    def getAppDataLocation():
        return Krita.app_data

    def readSetting(self, group, name, default):
        return self.settings.get((group, name), default)

    def writeSetting(self, group, name, value):
        self.settings[(group, name)] = str(value)

    def action(self, name):
        return self.actions.get(name)

    def version(self):
        return "5.1.5-fake"

    def icon(self, name):
        return None

    def notifier(self):
        return self._notifier

    def documents(self):
        return list(self.docs)

    def activeDocument(self):
        return self.active

    def activeWindow(self):
        return None

    def createDocument(self, width, height, name, model, depth, profile, resolution):
        document = Document(width, height, name)
        self.docs.append(document)
        return document

    def open(self, width=64, height=48, name="doc"):
        """A test's helper: a new document, open and active."""
        self.active = self.createDocument(width, height, name, "RGBA", "U8", "", 72.0)
        return self.active

    def addExtension(self, extension):
        self.extensions.append(extension)

    def addDockWidgetFactory(self, factory):
        self.dockers.append(factory)


sys.modules.setdefault("krita", sys.modules[__name__])


@pytest.fixture
def krita(tmp_path):
    """A fresh Krita.instance() for one test (no settings, documents or actions)."""
    Krita._instance, Krita.app_data = None, str(tmp_path)
    yield Krita.instance()
    Krita._instance = None
