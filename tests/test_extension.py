"""krita_nst's registration and krita_nst/extension.py against the fake Krita: what the plugin adds to
Krita, and the live action following the controller, however live mode changed."""

import importlib
import logging

import pytest

import fake_krita  # installs itself as `krita`: first
import krita_nst
from krita_nst import actions, api, config, docker, extension, setup_docker
from krita_nst.qt import QObject, pyqtSignal

krita = fake_krita.krita   # the fixture


@pytest.fixture
def plugin(krita, app, monkeypatch):
    for name in ("_controller", "_style_choice", "_watcher"):
        monkeypatch.setattr(api, name, None)
    importlib.reload(krita_nst)   # the package registers itself when `krita` imports
    [ext] = krita.extensions
    ext.setup()
    ext.createActions(fake_krita.Window())
    yield ext
    api.shutdown()
    for handler in list(logging.getLogger("krita_nst").handlers):   # setup's log file
        logging.getLogger("krita_nst").removeHandler(handler)


def test_the_plugin_registers_its_extension_docker_and_actions(plugin, krita):
    assert isinstance(plugin, extension.StyleExtension)
    [factory] = krita.dockers
    assert (factory.id, factory.klass) == (docker.DOCKER_ID, docker.StyleDocker)
    assert set(krita.actions) == {actions.STYLIZE, actions.SET_STYLE, actions.CANCEL, actions.LIVE, actions.FINISH,
                                  actions.STYLIZE_ANIMATION}
    assert krita.actions[actions.LIVE].checkable and krita.notifier().active


def test_the_live_action_follows_the_controller(plugin, krita):
    action = krita.actions[actions.LIVE]
    action.trigger()   # no document: refused with a message, and the toggle goes back
    assert not action.isChecked() and api.controller().live is None
    session = _Session()
    api.controller().start_live(lambda: session)   # a script turned it on
    assert action.isChecked()
    session.stopped.emit("the layer is gone")   # it stopped by itself
    assert not action.isChecked() and api.controller().live is None


def test_style_from_the_active_layer_and_closing_a_document_drops_its_choice(plugin, krita):
    doc = krita.open()
    style = doc.add_layer("Style", (1, 2, 3, 255))
    doc.setActiveNode(style)
    krita.actions[actions.SET_STYLE].trigger()
    assert api.style_nodes(doc) == [style]
    doc.close()
    krita.notifier().imageClosed.emit("doc")
    assert api.style_choice()._chosen == []


class _Session(QObject):
    stopped = pyqtSignal(str)

    def stop(self, why="", quiet=False):
        pass


@pytest.fixture
def unreadable_before_setup(krita, monkeypatch):
    """A kritarc value that cannot be used, read before the plugin's setup listens (e.g. by another plugin)."""
    monkeypatch.setattr(config, "UNREADABLE", config.Unreadable())
    krita.writeSetting(config.GROUP, "strength", "nan")
    assert config.read("strength") == 50


def test_unreadable_kritarc_values_reach_the_artist_through_notify(unreadable_before_setup, plugin, krita, caplog):
    told = [r for r in caplog.get_records("setup") if "krita_nst setting" in r.getMessage()]
    assert len(told) == 1 and "strength=nan" in told[0].getMessage()   # waited for setup's listener, then told
    assert told[0].funcName == "notify"
    krita.writeSetting(config.GROUP, "size", "3")
    config.read("size")
    assert [r.funcName for r in caplog.records if "size=3" in r.getMessage()] == ["notify"]


def test_the_first_window_shows_the_docker(plugin, krita, monkeypatch):
    shown = []
    monkeypatch.setattr(setup_docker, "show_once", shown.append)
    krita.notifier().windowCreated.emit()
    assert shown == [extension.notify]
