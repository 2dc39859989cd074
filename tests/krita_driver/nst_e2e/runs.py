"""Scenarios of runs: action and shortcut, cancel, the backend killed, Krita quitting, the zip, timing."""

import os
import signal
import subprocess
import time

from krita import Krita

from .common import (
    QApplication,
    api,
    choose_style,
    digest,
    message_boxes,
    results,
    run_job,
    save_png,
    start_document,
    start_until_preview,
    style_label,
    wait,
)


def scenario_full():
    doc, content, style = yield from start_document()
    before = {"content": digest(content), "style": digest(style)}
    app = Krita.instance()
    yield from choose_style(doc, style)
    results["style_label"] = style_label()
    for how in ("action", "shortcut"):
        record = results.setdefault(how, {})
        job = yield from run_job(doc, content, how, record)
        if job.state == "done":
            save_png(job.layer, "%s.png" % how)
            record["bounds_match"] = job.layer.bounds() == content.bounds()
    save_png(content, "content.png")
    save_png(style, "style.png")
    # A second stylise while one runs is refused with a message; cancel stops the first.
    record = results["cancel"] = {}
    job = yield from start_until_preview(doc, content, record)
    from krita_nst import docker
    record["docker_status"] = [w.status.text() for w in QApplication.allWidgets() if isinstance(w, docker.StyleDocker)]
    layers_before = len(doc.rootNode().childNodes())
    app.action("krita_nst_stylize").trigger()
    record["busy_message"] = [b.text() for b in message_boxes()]
    record["layers_added_by_second"] = len(doc.rootNode().childNodes()) - layers_before
    cancel_at = time.monotonic()
    app.action("krita_nst_cancel").trigger()
    yield wait(lambda: not job.running(), 60, 'not job.running()')
    record["cancel_seconds"] = time.monotonic() - cancel_at
    record["state"] = job.state
    record["final_name"] = job.layer.name()
    results["after"] = {"content": digest(content), "style": digest(style)}
    results["before"] = before
    results["backend_pid"] = api().backend_pid()
    from krita_nst import config
    with open(config.plugin_log_path(), encoding="utf-8") as f:
        results["plugin_log"] = f.read()
    from krita_nst import docker
    dockers = [w for w in QApplication.allWidgets() if isinstance(w, docker.StyleDocker)]
    results["backend_label"] = [w.device.text() for w in dockers]
    # A script changes kritarc: the panel follows (shown first: Krita 6's default layout hides it).
    for w in dockers:
        w.show()
    app.writeSetting("krita_nst", "strength", "72.5")
    app.writeSetting("krita_nst", "preserve_colors", "luminance")
    shown = lambda: [(w.editors["strength"].value(), w.editors["preserve_colors"].currentText())  # noqa: E731
                     for w in dockers]
    yield wait(lambda: shown() and all(v == (72.5, "luminance") for v in shown()), 10, "the docker to follow")
    results["docker_followed"] = shown()
    yield wait(lambda: all(w.estimate.text() for w in dockers), 5, "the estimate shown")
    results["docker_estimate"] = [w.estimate.text() for w in dockers]
    app.writeSetting("krita_nst", "strength", "50")
    app.writeSetting("krita_nst", "preserve_colors", "none")

def scenario_kill():
    doc, content, style = yield from start_document()
    app = Krita.instance()
    yield from choose_style(doc, style)
    record = results["killed"] = {}
    job = yield from start_until_preview(doc, content, record)
    pid = api().backend_pid()
    os.kill(pid, signal.SIGKILL)
    yield wait(lambda: not job.running(), 30, 'not job.running()')
    record.update(state=job.state, final_name=job.layer.name(), messages=[b.text() for b in message_boxes()],
                  killed_pid=pid)
    record = results["after_kill"] = {}
    yield from run_job(doc, content, "action", record)
    results["backend_pid"] = api().backend_pid()
    # An uninstalled backend: a message saying how to install it, and no new layer.
    from krita_nst import config
    os.rename(config.BACKEND_FILE, config.BACKEND_FILE + ".away")
    for box in message_boxes():
        box.close()
    layers_before = len(doc.rootNode().childNodes())
    app.action("krita_nst_stylize").trigger()
    results["missing"] = {"messages": [b.text() for b in message_boxes()],
                          "layers_added": len(doc.rootNode().childNodes()) - layers_before}
    os.rename(config.BACKEND_FILE + ".away", config.BACKEND_FILE)

def scenario_quit():
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    yield from start_until_preview(doc, content, results.setdefault("quit", {}))
    results["backend_pid"] = api().backend_pid()

def scenario_timing():
    """A 512 px layer with the artist's settings: shortcut to first preview and to result, warm backend."""
    doc, content, style = yield from start_document("astronaut.png", (512, 512))
    yield from choose_style(doc, style)
    warm = api().stylize(doc, content, [style], size=64, steps=2)   # start the backend, load the model
    yield wait(lambda: not warm.running(), 120, "warm-up job")
    warm.layer.remove()
    record = results["timing"] = {}
    yield from run_job(doc, content, "shortcut", record)
    record["first_preview_from_key_s"] = record["previews"][0]["at"] - record["key_pressed"]
    record["result_from_key_s"] = record["ended_at"] - record["key_pressed"]
    record["preview_count"] = len(record.pop("previews"))

def scenario_zip_import():
    """Krita's own importer (Tools > Scripts > Import Python Plugin from File...) on the release zip."""
    from plugin_importer.plugin_importer import PluginImporter
    app = Krita.instance()
    imported = PluginImporter(os.environ["KRITA_NST_E2E_ZIP"], app.getAppDataLocation(), lambda plugin: True)
    results["imported"] = [plugin["name"] for plugin in imported.import_all()]
    results["had_action_file"] = os.path.exists(os.path.join(app.getAppDataLocation(), "actions", "krita_nst.action"))
    app.writeSetting("python", "enable_krita_nst", "true")   # what the importer's "enable now?" answer does
    yield wait(lambda: True, 1)

def scenario_zip_first_run():
    """The imported plugin after a restart, with no backend yet: the shortcut says how to install one."""
    app = Krita.instance()
    results["loaded"] = app.action("krita_nst_stylize") is not None
    results["shortcut"] = app.action("krita_nst_stylize").shortcut().toString() if results["loaded"] else None
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    doc.setActiveNode(content)
    yield wait(lambda: doc.activeNode().name() == "Content", 10, "the content layer active")
    layers_before = len(doc.rootNode().childNodes())
    window = app.activeWindow().qwindow()
    window.activateWindow()
    subprocess.Popen(["xdotool", "windowfocus", "--sync", str(int(window.winId())),
                      "key", "--clearmodifiers", "ctrl+alt+shift+n"])
    yield wait(lambda: message_boxes(), 30, "a message")
    results["messages"] = [b.text() for b in message_boxes()]
    results["layers_added"] = len(doc.rootNode().childNodes()) - layers_before

def scenario_one_run():
    doc, content, style = yield from start_document()
    yield from choose_style(doc, style)
    yield from run_job(doc, content, "action", results.setdefault("run", {}))
